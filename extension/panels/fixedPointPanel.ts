// Fixed-Point Debugging panels: the webview host side. The inspection runs in a trainer child
// process (`reclab inspect`, onnxruntime-node), never in the extension host; the host reads the
// JSON report it writes and forwards it. A panel is restored after a reload from its report file.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { checkInspectReport, fixedPointPanelViewType, fixedPointStateOf, parseFromFixedPointMessage, type FromFixedPointMessage, type ToFixedPointMessage } from '../../protocol/fixedPointMessages';
import { inspectArgs, parsePuzzleList, puzzlesFileText, reportPathOf, restoredTarget, targetOfOnnxFile, type InspectTarget } from './inspectTarget';
import { showWebviewBundle, webviewPanelOptions } from './panelHtml';
import type { RunEntry, RunRegistry } from '../runs/runRegistry';
import { readReport, ReportJob } from './reportJob';
import { PanelSet } from './panelSet';

export class FixedPointPanels implements vscode.WebviewPanelSerializer, vscode.Disposable {
  private readonly panels = new PanelSet<FixedPointPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly registry: RunRegistry,
    private readonly log: vscode.LogOutputChannel,
    private readonly workspaceState: vscode.Memento,
  ) {}

  /** "Recursion Lab: Inspect Fixed Points…": from a run (tree), an .onnx file (explorer), or a pick. */
  async command(arg?: unknown): Promise<void> {
    const target = await this.resolveTarget(arg);
    if (!target) return;
    const title = `Fixed Points: ${target.kind === 'run' ? (this.registry.get(target.dir)?.name ?? target.dir) : target.file.split(/[\\/]/).pop()}`;
    const panel = vscode.window.createWebviewPanel(fixedPointPanelViewType, title, vscode.ViewColumn.Active, webviewPanelOptions(this.extensionUri));
    this.attach(panel, target, false);
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    panel.webview.options = webviewPanelOptions(this.extensionUri);
    const s = fixedPointStateOf(state);
    const target = restoredTarget(s.target, (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath));
    if ('refused' in target) {
      this.log.warn(`Fixed-Point panel not restored: ${target.refused}`);
      panel.dispose();
      return;
    }
    this.attach(panel, target, true);
  }

  dispose(): void {
    this.panels.dispose();
  }

  private attach(panel: vscode.WebviewPanel, target: InspectTarget, restored: boolean): void {
    const p = new FixedPointPanel(panel, target, this.extensionUri, this.log, restored ? reportPathOf(target) : undefined);
    this.panels.add(panel, p);
  }

  private async resolveTarget(arg: unknown): Promise<InspectTarget | undefined> {
    if (arg instanceof vscode.Uri) return this.onnxTarget(arg.fsPath);
    if (arg && typeof arg === 'object' && typeof (arg as RunEntry).key === 'string') return { kind: 'run', dir: (arg as RunEntry).key };
    await this.registry.poll();
    type Item = vscode.QuickPickItem & { run?: RunEntry; browse?: boolean };
    const items: Item[] = [
      ...this.registry.runs.map((r) => ({ label: r.name, description: `${r.status}${r.preset ? ` · ${r.preset}` : ''}`, detail: r.key, run: r })),
      { label: '$(file) Choose an .onnx file…', browse: true },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: 'Recursion Lab: Inspect Fixed Points', placeHolder: 'A run (exported first if needed) or any .onnx model honouring the step contract' });
    if (!pick) return undefined;
    if (pick.run) return { kind: 'run', dir: pick.run.key };
    const files = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'ONNX model': ['onnx'] }, title: 'Inspect Fixed Points: ONNX model' });
    return files?.[0] ? this.onnxTarget(files[0].fsPath) : undefined;
  }

  private async onnxTarget(file: string): Promise<InspectTarget | undefined> {
    const asRun = targetOfOnnxFile(file);
    if (asRun) return asRun;
    const key = 'reclab.inspectPuzzles';
    const text = await vscode.window.showInputBox({
      title: 'Inspect Fixed Points: puzzles', prompt: 'Sudoku puzzles (16 or 81 characters, "." for blanks; optional ":SOLUTION"), separated by spaces',
      value: this.workspaceState.get<string>(key, ''), validateInput: (v) => parsePuzzleList(v).error,
    });
    if (!text) return undefined;
    await this.workspaceState.update(key, text);
    return { kind: 'onnx', file, puzzles: parsePuzzleList(text).puzzles };
  }
}

class FixedPointPanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly job: ReportJob;
  private disposed = false;
  private lastMessage: ToFixedPointMessage | undefined;

  constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly target: InspectTarget,
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    restoreFrom: string | undefined,
  ) {
    this.job = new ReportJob(extensionUri, log, 'inspect');
    showWebviewBundle(panel, extensionUri, 'Fixed-Point Debugging', 'fixedpoint');
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const parsed = parseFromFixedPointMessage(raw);
        if (!parsed.ok) {
          this.log.warn(`Fixed-Point panel: message rejected (${parsed.error})`);
          return;
        }
        void this.handle(parsed.message).catch((e: unknown) => this.log.error(`Fixed-Point panel: ${(e as Error).message}`));
      }),
      panel.onDidDispose(() => this.dispose()),
    );
    if (restoreFrom && existsSync(restoreFrom)) void this.sendReport(restoreFrom);
    else void this.run();
  }

  private get targetPath(): string {
    return this.target.kind === 'run' ? this.target.dir : this.target.file;
  }

  private post(m: ToFixedPointMessage): void {
    this.lastMessage = m;
    if (!this.disposed) void this.panel.webview.postMessage(m);
  }

  private async handle(m: FromFixedPointMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        if (this.lastMessage) void this.panel.webview.postMessage(this.lastMessage);
        return;
      case 'rerun':
        if (this.target.kind === 'onnx' && this.target.puzzles.length === 0) {
          void vscode.window.showInformationMessage('Open the .onnx file again with "Inspect Fixed Points…" to give its puzzles.');
          return;
        }
        await this.run();
        return;
      case 'openReport':
        await vscode.window.showTextDocument(vscode.Uri.file(reportPathOf(this.target)), { preview: true, viewColumn: vscode.ViewColumn.Beside });
        return;
    }
  }

  /** `reclab inspect` in a trainer child process; the report is read from the file it writes. */
  private async run(): Promise<void> {
    if (this.job.running) return;
    // Pasted puzzles go in a file, never on the command line (inspectTarget.ts says why).
    let puzzlesDir: string | undefined;
    if (this.target.kind === 'onnx') {
      puzzlesDir = await mkdtemp(join(tmpdir(), 'reclab-inspect-'));
      await writeFile(join(puzzlesDir, 'puzzles.txt'), puzzlesFileText(this.target));
    }
    const args = inspectArgs(this.target, puzzlesDir && join(puzzlesDir, 'puzzles.txt'));
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(this.targetPath))?.uri.fsPath ?? process.cwd();
    this.post({ type: 'inspecting', target: this.targetPath });
    const error = await this.job.run(args, folder);
    if (puzzlesDir) await rm(puzzlesDir, { recursive: true, force: true });
    if (this.disposed) return;
    if (error === null) await this.sendReport(reportPathOf(this.target));
    else this.post({ type: 'failed', target: this.targetPath, message: error });
  }

  private async sendReport(path: string): Promise<void> {
    const r = await readReport(path, checkInspectReport);
    this.post('report' in r ? { type: 'report', target: this.targetPath, reportPath: path, report: r.report } : { type: 'failed', target: this.targetPath, message: r.error });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.job.stop();
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}
