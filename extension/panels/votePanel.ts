// The Test-Time Scaling panel (Augmented HRM's voting): the webview host side. The vote runs in a
// trainer child process (`reclab vote`, onnxruntime-node), never in the extension host; the host
// reads the report it writes and forwards it. A panel is restored after a reload from its report.
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { isObj } from '../../protocol/messageGuards';
import { parseFromVoteMessage, checkVoteReport, votePanelViewType, type FromVoteMessage, type ToVoteMessage } from '../../protocol/voteMessages';
import { showWebviewBundle, webviewPanelOptions } from './panelHtml';
import type { RunEntry, RunRegistry } from '../runs/runRegistry';
import { readReport, ReportJob } from './reportJob';
import { restoredVoteTarget, voteArgs, voteReportPath, type VoteTarget } from './voteTarget';
import { PanelSet } from './panelSet';

/** The runs to vote with: one picked, or several ticked (each a seed) from "Several runs…". */
async function pickRuns(all: readonly RunEntry[]): Promise<RunEntry[]> {
  const items = all.map((r) => ({ label: r.name, description: `${r.status}${r.preset ? ` · ${r.preset}` : ''}`, detail: r.key, run: r }));
  const several = { label: '$(checklist) Several runs (model bootstrapping over seeds)…', run: undefined };
  const one = await vscode.window.showQuickPick<vscode.QuickPickItem & { run: RunEntry | undefined }>([...items, several], { title: 'Test-Time Scaling: the run to vote with' });
  if (!one) return [];
  if (one.run) return [one.run];
  const many = await vscode.window.showQuickPick(items, { title: 'Test-Time Scaling: runs to vote with (each a seed)', canPickMany: true });
  return many?.map((i) => i.run) ?? [];
}

export class VotePanels implements vscode.WebviewPanelSerializer, vscode.Disposable {
  private readonly panels = new PanelSet<VotePanel>();

  constructor(private readonly extensionUri: vscode.Uri, private readonly registry: RunRegistry, private readonly log: vscode.LogOutputChannel) {}

  /** "Recursion Lab: Test-Time Scaling (Vote)…": the run of a tree row, or runs picked (each a seed). */
  async command(arg?: unknown): Promise<void> {
    let runs: string[];
    if (arg && typeof arg === 'object' && typeof (arg as RunEntry).key === 'string') runs = [(arg as RunEntry).key];
    else {
      await this.registry.poll();
      const picked = await pickRuns(this.registry.runs);
      if (!picked.length) return;
      runs = picked.map((r) => r.key);
    }
    const k = await vscode.window.showQuickPick([1, 2, 4, 8].map((n) => ({
      label: n === 1 ? 'newest checkpoint' : `newest ${n} checkpoints`, description: n === 1 ? 'one model per run' : 'model bootstrapping over checkpoints', n,
    })), { title: 'Test-Time Scaling: checkpoints of each run' });
    if (!k) return;
    const target: VoteTarget = { runs, checkpoints: k.n };
    const name = this.registry.get(runs[0]!)?.name ?? runs[0]!;
    const panel = vscode.window.createWebviewPanel(votePanelViewType, `Test-Time Scaling: ${name}${runs.length > 1 ? ` +${runs.length - 1}` : ''}`, vscode.ViewColumn.Active, webviewPanelOptions(this.extensionUri));
    this.attach(panel, target, false);
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    panel.webview.options = webviewPanelOptions(this.extensionUri);
    const target = restoredVoteTarget(isObj(state) ? state['target'] : undefined, (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath));
    if ('refused' in target) {
      this.log.warn(`Test-Time Scaling panel not restored: ${target.refused}`);
      panel.dispose();
      return;
    }
    this.attach(panel, target, true);
  }

  dispose(): void {
    this.panels.dispose();
  }

  private attach(panel: vscode.WebviewPanel, target: VoteTarget, restored: boolean): void {
    const p = new VotePanel(panel, target, this.extensionUri, this.log, restored);
    this.panels.add(panel, p);
  }
}

class VotePanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly job: ReportJob;
  private disposed = false;
  private lastMessage: ToVoteMessage | undefined;

  constructor(private readonly panel: vscode.WebviewPanel, private readonly target: VoteTarget, private readonly extensionUri: vscode.Uri, private readonly log: vscode.LogOutputChannel, restored: boolean) {
    this.job = new ReportJob(extensionUri, log, 'vote');
    showWebviewBundle(panel, extensionUri, 'Test-Time Scaling', 'vote');
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const parsed = parseFromVoteMessage(raw);
        if (!parsed.ok) {
          this.log.warn(`Test-Time Scaling panel: message rejected (${parsed.error})`);
          return;
        }
        void this.handle(parsed.message).catch((e: unknown) => this.log.error(`Test-Time Scaling panel: ${(e as Error).message}`));
      }),
      panel.onDidDispose(() => this.dispose()),
    );
    if (restored && existsSync(voteReportPath(target))) void this.sendReport();
    else void this.run();
  }

  private get label(): string {
    return this.target.runs.join(', ');
  }

  private post(m: ToVoteMessage): void {
    this.lastMessage = m;
    if (!this.disposed) void this.panel.webview.postMessage(m);
  }

  private async handle(m: FromVoteMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        if (this.lastMessage) void this.panel.webview.postMessage(this.lastMessage);
        // The webview keeps the target in its state so a reload can restore the panel.
        void this.panel.webview.postMessage({ type: 'target', target: this.target } satisfies ToVoteMessage);
        return;
      case 'rerun':
        await this.run();
        return;
      case 'openReport':
        await vscode.window.showTextDocument(vscode.Uri.file(voteReportPath(this.target)), { preview: true, viewColumn: vscode.ViewColumn.Beside });
        return;
    }
  }

  private async run(): Promise<void> {
    if (this.job.running) return;
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(this.target.runs[0]!))?.uri.fsPath ?? process.cwd();
    this.post({ type: 'voting', target: this.label });
    const error = await this.job.run(voteArgs(this.target), folder);
    if (this.disposed) return;
    if (error === null) await this.sendReport();
    else this.post({ type: 'failed', target: this.label, message: error });
  }

  private async sendReport(): Promise<void> {
    const path = voteReportPath(this.target);
    const r = await readReport(path, checkVoteReport);
    this.post('report' in r ? { type: 'report', target: this.label, reportPath: path, report: r.report } : { type: 'failed', target: this.label, message: r.error });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.job.stop();
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}
