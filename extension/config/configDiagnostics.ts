// Config files in the editor: the problems the trainer would refuse a `*.reclab.json` for
// (protocol/configDiagnostics.ts — JSON syntax, unknown fields with "did you mean", ill-typed
// values, an unknown preset) shown as errors while the file is edited, so editor and trainer agree.
import * as vscode from 'vscode';
import { checkConfigText, type ConfigProblem } from '../../protocol/configDiagnostics';

export const isConfigFile = (path: string): boolean => path.endsWith('.reclab.json');

export function problemRange(doc: vscode.TextDocument, p: ConfigProblem): vscode.Range {
  return new vscode.Range(doc.positionAt(p.offset), doc.positionAt(p.offset + p.length));
}

export class ConfigDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('reclab-config');
  private readonly subscriptions: vscode.Disposable[];

  constructor() {
    this.subscriptions = [
      vscode.workspace.onDidOpenTextDocument((d) => this.update(d)),
      vscode.workspace.onDidChangeTextDocument((e) => this.update(e.document)),
      vscode.workspace.onDidCloseTextDocument((d) => this.collection.delete(d.uri)),
    ];
    for (const d of vscode.workspace.textDocuments) this.update(d);
  }

  private update(doc: vscode.TextDocument): void {
    if (!isConfigFile(doc.uri.path)) return;
    this.collection.set(doc.uri, checkConfigText(doc.getText()).map((p) => {
      const d = new vscode.Diagnostic(problemRange(doc, p), p.message, vscode.DiagnosticSeverity.Error);
      d.source = 'Recursion Lab';
      return d;
    }));
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.collection.dispose();
  }
}
