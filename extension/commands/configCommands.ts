// The config files Start Training offers (not those an ablation sweep wrote for its runs) and the
// check a picked file passes before a trainer is started for it.
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { checkConfigText } from '../../protocol/configDiagnostics';
import { problemRange } from '../config/configDiagnostics';

/** A config file with problems is not started: the error, with Open Config at the first problem. */
export async function configAccepted(file: vscode.Uri): Promise<boolean> {
  const doc = await vscode.workspace.openTextDocument(file);
  const problems = checkConfigText(doc.getText());
  if (problems.length === 0) return true;
  const first = problems[0]!;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  const a = await vscode.window.showErrorMessage(`${basename(file.fsPath)}:${first.line}:${first.column}: ${first.message}${more}`, 'Open Config');
  if (a) await vscode.window.showTextDocument(doc, { selection: problemRange(doc, first) });
  return false;
}

/** A config an ablation sweep wrote for one of its runs (`<sweep>/configs/*.reclab.json`). */
export function isSweepConfig(path: string): boolean {
  const sweep = dirname(dirname(path));
  return basename(dirname(path)) === 'configs' && ['ablation.json', 'sweep.json'].some((f) => existsSync(join(sweep, f)));
}
