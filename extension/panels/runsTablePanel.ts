// The Runs Table panel, host side: the rows of every run of the workspace, or of one sweep folder,
// kept current as runs change (debounced), and the selection the webview sends overlaid in the
// Live Training panel. Restored after a reload from the webview's state (its scope).
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { parseFromRunsTableMessage, runsTablePanelViewType, runsTableStateOf, type FromRunsTableMessage, type RowsMessage } from '../../protocol/runsTableMessages';
import { showWebviewBundle, webviewPanelOptions } from './panelHtml';
import type { TrainingPanels } from './trainingPanel';
import type { RunEntry, RunRegistry } from '../runs/runRegistry';
import { runTableRows } from '../runs/runTableRows';
import { PanelSet } from './panelSet';

const REFRESH_MS = 1000;

export class RunsTablePanels implements vscode.WebviewPanelSerializer, vscode.Disposable {
  private readonly panels = new PanelSet<RunsTablePanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly registry: RunRegistry,
    private readonly trainingPanels: TrainingPanels,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Opens (or reveals) the table of the runs of sweep folder `scope`, or of every run. */
  async open(scope?: string): Promise<void> {
    const existing = this.panels.find((p) => p.scope === scope);
    if (existing) {
      existing.reveal();
      return;
    }
    const title = scope ? `Runs: ${basename(scope)}` : 'Runs Table';
    const panel = vscode.window.createWebviewPanel(runsTablePanelViewType, title, vscode.ViewColumn.Active, this.webviewOptions());
    await this.attach(panel, scope);
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    panel.webview.options = this.webviewOptions();
    await this.attach(panel, runsTableStateOf(state).scope);
  }

  dispose(): void {
    this.panels.dispose();
  }

  private webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return webviewPanelOptions(this.extensionUri);
  }

  private async attach(panel: vscode.WebviewPanel, scope: string | undefined): Promise<void> {
    const p = new RunsTablePanel(panel, scope, this.extensionUri, this.registry, this.trainingPanels, this.log);
    this.panels.add(panel, p);
    await this.registry.poll();
    p.refresh();
  }
}

class RunsTablePanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly unsubscribe: () => void;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private last: RowsMessage | undefined;
  private disposed = false;

  constructor(
    private readonly panel: vscode.WebviewPanel,
    readonly scope: string | undefined,
    extensionUri: vscode.Uri,
    private readonly registry: RunRegistry,
    private readonly trainingPanels: TrainingPanels,
    private readonly log: vscode.LogOutputChannel,
  ) {
    showWebviewBundle(panel, extensionUri, 'Runs Table', 'runs-table');
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const parsed = parseFromRunsTableMessage(raw);
        if (!parsed.ok) {
          log.warn(`Runs table: message rejected (${parsed.error})`);
          return;
        }
        void this.handle(parsed.message).catch((e: unknown) => log.error(`Runs table: ${(e as Error).message}`));
      }),
      panel.onDidDispose(() => this.dispose()),
    );
    // Status, step and figures change while runs train: rebuild the rows, at most once a second.
    this.unsubscribe = registry.onDidChange(() => this.schedule());
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  private get runs(): RunEntry[] {
    const all = this.registry.runs;
    return this.scope ? all.filter((r) => r.group === this.scope) : all;
  }

  private schedule(): void {
    if (this.timer || this.disposed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refresh();
    }, REFRESH_MS);
  }

  refresh(): void {
    void runTableRows(this.runs).then(({ fields, rows, problems }) => {
      if (this.disposed) return;
      for (const p of problems) this.log.warn(`Runs table: ${p}`);
      const title = this.scope ? `Sweep ${basename(this.scope)}: ${rows.length} runs` : `${rows.length} runs`;
      const m: RowsMessage = { type: 'rows', title, fields, rows };
      if (this.scope) m.scope = this.scope;
      if (this.last && JSON.stringify(this.last) === JSON.stringify(m)) return;
      this.last = m;
      void this.panel.webview.postMessage(m);
    });
  }

  private async handle(m: FromRunsTableMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        if (this.last) void this.panel.webview.postMessage(this.last);
        else this.refresh();
        return;
      case 'overlay': {
        const runs = m.keys.map((k) => this.registry.get(k)).filter((r): r is RunEntry => !!r);
        if (runs.length) await this.trainingPanels.showExactly(runs);
        return;
      }
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.unsubscribe();
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}
