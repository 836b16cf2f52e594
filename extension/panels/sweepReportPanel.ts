// The Sweep Report panel, host side: a sweep folder's ablation.json, checked, rendered with the
// code that writes ablation.html (its table and plots) and shown themed; buttons open the sweep's
// Runs table and overlay its runs in the Live Training panel. Restored after a reload.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { parseFromSweepReportMessage, sweepReportPanelViewType, sweepReportStateOf, type FromSweepReportMessage } from '../../protocol/sweepReportMessages';
import { showWebviewBundle, webviewPanelOptions } from './panelHtml';
import type { RunsTablePanels } from './runsTablePanel';
import type { TrainingPanels } from './trainingPanel';
import type { RunEntry, RunRegistry } from '../runs/runRegistry';
import { sweepReportMessage } from '../runs/sweepReportFile';

export class SweepReportPanels implements vscode.WebviewPanelSerializer, vscode.Disposable {
  private readonly panels = new Map<string, vscode.WebviewPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly registry: RunRegistry,
    private readonly trainingPanels: TrainingPanels,
    private readonly runsTables: RunsTablePanels,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async open(sweepDir: string): Promise<void> {
    const existing = this.panels.get(sweepDir);
    if (existing) {
      existing.reveal(undefined, false);
      await this.send(existing, sweepDir);
      return;
    }
    const panel = vscode.window.createWebviewPanel(sweepReportPanelViewType, `Sweep Report: ${basename(sweepDir)}`, vscode.ViewColumn.Active, this.webviewOptions());
    await this.attach(panel, sweepDir);
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const key = sweepReportStateOf(state).sweepKey;
    if (!key) {
      panel.dispose();
      return;
    }
    panel.webview.options = this.webviewOptions();
    await this.attach(panel, key);
  }

  dispose(): void {
    for (const p of [...this.panels.values()]) p.dispose();
  }

  private webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return webviewPanelOptions(this.extensionUri);
  }

  private async attach(panel: vscode.WebviewPanel, sweepDir: string): Promise<void> {
    this.panels.set(sweepDir, panel);
    showWebviewBundle(panel, this.extensionUri, 'Sweep Report', 'sweep-report');
    const sub = panel.webview.onDidReceiveMessage((raw: unknown) => {
      const parsed = parseFromSweepReportMessage(raw);
      if (!parsed.ok) {
        this.log.warn(`Sweep report: message rejected (${parsed.error})`);
        return;
      }
      void this.handle(panel, sweepDir, parsed.message).catch((e: unknown) => this.log.error(`Sweep report: ${(e as Error).message}`));
    });
    panel.onDidDispose(() => {
      sub.dispose();
      if (this.panels.get(sweepDir) === panel) this.panels.delete(sweepDir);
    });
  }

  private async send(panel: vscode.WebviewPanel, sweepDir: string): Promise<void> {
    const m = await sweepReportMessage(sweepDir);
    if (m.type === 'missing') this.log.warn(`Sweep report: ${m.message}`);
    await panel.webview.postMessage(m);
  }

  private async handle(panel: vscode.WebviewPanel, sweepDir: string, m: FromSweepReportMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        await this.send(panel, sweepDir);
        return;
      case 'openRunsTable':
        await this.runsTables.open(sweepDir);
        return;
      case 'overlaySweep': {
        await this.registry.poll();
        const runs = this.registry.runs.filter((r) => r.group === sweepDir).sort((a, b) => a.key.localeCompare(b.key)) as RunEntry[];
        if (runs.length) await this.trainingPanels.showExactly(runs);
        return;
      }
    }
  }
}
