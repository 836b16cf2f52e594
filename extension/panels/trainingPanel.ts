// Live Training panels: the webview host side. A panel shows a set of runs; it is restored with
// them after a window reload (the serializer); every message from it is parsed before use.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { panelIdOfState, parseFromWebviewMessage, runKeysOfState, trainingPanelViewType, type FromWebviewMessage } from '../../protocol/webviewMessages';
import { runsToCsv } from './csvExport';
import { PanelFeed } from './panelFeed';
import { showWebviewBundle } from './panelHtml';
import type { PanelMemory } from './panelMemory';
import type { RunEntry, RunRegistry } from '../runs/runRegistry';
import { PanelSet } from './panelSet';

export class TrainingPanels implements vscode.WebviewPanelSerializer, vscode.Disposable {
  private readonly panels = new PanelSet<TrainingPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly registry: RunRegistry,
    private readonly log: vscode.LogOutputChannel,
    private readonly memory: PanelMemory,
  ) {}

  /** Shows `runs` in the active panel (or a new one). */
  async open(runs: RunEntry[]): Promise<void> {
    const existing = this.panels.find((p) => p.active) ?? this.panels.first();
    if (existing) {
      existing.reveal();
      await existing.addRuns(runs.map((r) => r.key));
      return;
    }
    const panel = vscode.window.createWebviewPanel(trainingPanelViewType, 'Live Training', vscode.ViewColumn.Active, this.webviewOptions());
    await this.attach(panel, randomBytes(9).toString('base64url'), runs.map((r) => r.key));
  }

  /** Shows exactly `runs` (overlaid) in the active panel (or a new one): the Runs table's selection. */
  async showExactly(runs: RunEntry[]): Promise<void> {
    const existing = this.panels.find((p) => p.active) ?? this.panels.first();
    if (!existing) return this.open(runs);
    existing.reveal();
    await existing.setRuns(runs.map((r) => r.key));
  }

  /** After a window reload: the panel's runs from the host's memory, else from the webview's saved state. */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    panel.webview.options = this.webviewOptions();
    const id = panelIdOfState(state) ?? randomBytes(9).toString('base64url');
    const remembered = this.memory.get(id);
    const keys = remembered ?? runKeysOfState(state);
    this.log.info(`Live Training panel restored with ${keys.length} run(s)${remembered ? '' : ' (from the webview state)'}`);
    await this.attach(panel, id, keys);
  }

  dispose(): void {
    this.panels.dispose();
  }

  private webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: true, // a live chart keeps its data and zoom while in a background tab
      // Only the webview bundles and the icons: no workspace file, no node_modules.
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private async attach(panel: vscode.WebviewPanel, id: string, keys: string[]): Promise<void> {
    const p = new TrainingPanel(panel, id, this.extensionUri, this.registry, this.log, (k) => this.memory.set(id, k));
    this.panels.add(panel, p);
    await p.addRuns(keys);
  }
}

class TrainingPanel implements vscode.Disposable {
  private readonly feed: PanelFeed;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly unsubscribe: (() => void)[] = [];
  private disposed = false;

  constructor(
    private readonly panel: vscode.WebviewPanel,
    id: string,
    extensionUri: vscode.Uri,
    private readonly registry: RunRegistry,
    private readonly log: vscode.LogOutputChannel,
    private readonly remember: (keys: string[]) => void,
  ) {
    showWebviewBundle(panel, extensionUri, 'Live Training', 'training');
    this.feed = new PanelFeed((m) => panel.webview.postMessage(m), id);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const parsed = parseFromWebviewMessage(raw);
        if (!parsed.ok) {
          this.log.warn(`Live Training panel: message rejected (${parsed.error})`);
          return;
        }
        void this.handle(parsed.message).catch((e: unknown) => this.log.error(`Live Training panel: ${(e as Error).message}`));
      }),
      panel.onDidDispose(() => this.dispose()),
    );
    this.unsubscribe.push(
      registry.onDidChangeData((e) => this.feed.changed(e.key)),
      registry.onDidChange((e) => {
        if (e) this.feed.changed(e.key);
        else for (const k of this.feed.keys) this.feed.changed(k);
        this.updateTitle();
      }),
    );
  }

  get active(): boolean {
    return this.panel.active;
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  async addRuns(keys: string[]): Promise<void> {
    for (const key of keys) {
      if (this.feed.has(key) || this.disposed) continue;
      try {
        const entry = await this.registry.retain(key);
        if (this.disposed) {
          this.registry.release(key);
          return;
        }
        this.feed.add(entry);
      } catch (e) {
        this.log.warn(`Live Training panel: cannot show ${key}: ${(e as Error).message}`);
      }
    }
    this.remember(this.feed.keys);
    this.updateTitle();
  }

  /** Shows exactly `keys`: the others are removed, the missing ones added. */
  async setRuns(keys: string[]): Promise<void> {
    const wanted = new Set(keys);
    for (const k of this.feed.keys) if (!wanted.has(k)) this.removeRun(k);
    await this.addRuns(keys);
  }

  private removeRun(key: string): void {
    if (!this.feed.has(key)) return;
    this.feed.remove(key);
    this.registry.release(key);
    this.remember(this.feed.keys);
    this.updateTitle();
  }

  private updateTitle(): void {
    if (this.disposed) return;
    const names = this.feed.keys.map((k) => this.registry.get(k)?.name ?? k);
    const title = names.length === 1 ? `Live Training: ${names[0]}` : names.length ? `Live Training (${names.length} runs)` : 'Live Training';
    if (this.panel.title !== title) this.panel.title = title;
  }

  private async handle(m: FromWebviewMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.feed.resend();
        return;
      case 'removeRun':
        this.removeRun(m.key);
        return;
      case 'addRuns': {
        const items = this.registry.runs.filter((r) => !this.feed.has(r.key)).map((r) => ({ label: r.name, description: `${r.status}${r.preset ? ` · ${r.preset}` : ''}`, detail: r.key, key: r.key }));
        const picked = await vscode.window.showQuickPick(items, { canPickMany: true, title: 'Add runs to the Live Training panel', placeHolder: items.length ? 'Runs to overlay' : 'No other runs in this workspace' });
        if (picked?.length) await this.addRuns(picked.map((p) => p.key));
        await this.panel.webview.postMessage({ type: 'reply', inReplyTo: m.requestId, ok: true, message: picked?.length ? `added ${picked.length} run(s)` : '' });
        return;
      }
      case 'exportCsv': {
        const runs = this.feed.keys.map((k) => this.registry.get(k)).filter((r): r is RunEntry => !!r?.series);
        const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
        const target = await vscode.window.showSaveDialog({
          title: 'Export runs as CSV', filters: { CSV: ['csv'] },
          defaultUri: folder && vscode.Uri.joinPath(folder, `${runs.length === 1 ? runs[0]!.runId : 'runs'}.csv`),
        });
        let reply = { ok: false, message: 'export cancelled' };
        if (target) {
          await vscode.workspace.fs.writeFile(target, Buffer.from(runsToCsv(runs.map((r) => ({ runId: r.runId, series: r.series! }))), 'utf8'));
          reply = { ok: true, message: `exported to ${target.fsPath}` };
          this.log.info(`CSV export: ${target.fsPath}`);
        }
        await this.panel.webview.postMessage({ type: 'reply', inReplyTo: m.requestId, ...reply });
        return;
      }
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const k of this.feed.keys) this.registry.release(k);
    this.feed.dispose();
    for (const u of this.unsubscribe) u();
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}
