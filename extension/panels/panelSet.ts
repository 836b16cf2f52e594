// The open panels of one kind: a panel leaves the set when its webview closes, and the whole set
// is disposed with the extension. Each panel host (training, refinement, runs table, fixed points,
// vote) keeps one.
import type * as vscode from 'vscode';

export class PanelSet<P extends vscode.Disposable> implements vscode.Disposable {
  private readonly panels = new Set<P>();

  /** Adds `panel`, shown in `webview`; returns it. */
  add(webview: vscode.WebviewPanel, panel: P): P {
    this.panels.add(panel);
    webview.onDidDispose(() => this.panels.delete(panel));
    return panel;
  }

  find(predicate: (p: P) => boolean): P | undefined {
    for (const p of this.panels) if (predicate(p)) return p;
    return undefined;
  }

  first(): P | undefined {
    return this.panels.values().next().value;
  }

  dispose(): void {
    for (const p of [...this.panels]) p.dispose();
  }
}
