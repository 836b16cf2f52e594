// Puzzle Refinement panels: the webview host side. A live panel follows one run: it keeps the run's
// events read (the run registry's tail of events.jsonl) and forwards its latest `refinement`
// snapshot whenever a new one arrives. A trace panel shows `reclab trace` of one puzzle through the
// run's latest checkpoint, run in a trainer child process (never in the extension host); the host
// reads the file the trace writes and forwards it. Panels are restored after a reload.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import type { RefinementEvent } from '../../protocol/events';
import {
  checkTraceFile, checkTrajectory, parseFromRefinementMessage, refinementPanelViewType, refinementStateOf,
  type FromRefinementMessage, type RefinementSource, type ToRefinementMessage,
} from '../../protocol/refinementMessages';
import type { RunStatus } from '../../protocol/webviewMessages';
import { showWebviewBundle } from './panelHtml';
import {
  hasCheckpoint, parseTestRow, puzzleInputProblem, runConfigFacts, traceArgs, traceFailureReason, tracePathOf, type TraceInput,
} from './refinementTarget';
import type { RunEntry, RunRegistry } from '../runs/runRegistry';
import { TrainerProcess } from '../trainer/trainerProcess';
import { PanelSet } from './panelSet';

const STOP_MS = 3000;
const PUZZLE_MEMORY_KEY = 'reclab.inspectPuzzle.lastPuzzle';

type Mode = 'live' | 'trace';

/** A run key from a command argument: a runs-tree item (RunEntry) or a key string (from a panel). */
function runKeyOf(arg: unknown): string | undefined {
  if (typeof arg === 'string' && arg.length > 0) return arg;
  if (arg && typeof arg === 'object' && typeof (arg as RunEntry).key === 'string') return (arg as RunEntry).key;
  return undefined;
}

export class RefinementPanels implements vscode.WebviewPanelSerializer, vscode.Disposable {
  private readonly panels = new PanelSet<RefinementPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly registry: RunRegistry,
    private readonly log: vscode.LogOutputChannel,
    private readonly workspaceState: vscode.Memento,
  ) {}

  /** "Recursion Lab: Open Refinement View": a run's latest refinement snapshot, following the run. */
  async openLive(arg?: unknown): Promise<void> {
    const key = runKeyOf(arg) ?? (await this.pickRun('Recursion Lab: Open Refinement View', () => true, 'No runs in this workspace.'));
    if (!key) return;
    const existing = this.panels.find((p) => p.mode === 'live' && p.runKey === key);
    if (existing) {
      existing.reveal();
      return;
    }
    const p = this.create('live', key);
    await p.showLive();
  }

  /** "Recursion Lab: Inspect Puzzle…": type or paste a puzzle, or pick a test-set row; trace it through the run's checkpoint. */
  async inspectPuzzle(arg?: unknown): Promise<void> {
    const key = runKeyOf(arg) ?? (await this.pickRun('Recursion Lab: Inspect Puzzle', (r) => hasCheckpoint(r.key), 'No run with a checkpoint in this workspace (train one first).'));
    if (!key) return;
    const name = this.nameOf(key);
    if (!hasCheckpoint(key)) throw new Error(`${name} has no checkpoint yet: a puzzle is traced through a checkpoint (one is written at the end of a run and every checkpointEverySteps)`);
    const { side, mazeSide } = runConfigFacts(key);
    if (!side && !mazeSide) throw new Error(`${name}: cannot tell from its config.json which Sudoku size or maze it was trained on`);
    const title = `Inspect Puzzle: ${name}`;
    type Item = vscode.QuickPickItem & { input: TraceInput['kind'] };
    // A maze run traces a held-out maze (typing a ${mazeSide}x${mazeSide} grid in one line is no help); `reclab trace --puzzle` takes typed ones.
    const how = mazeSide ? { input: 'testRow' as const } : await vscode.window.showQuickPick<Item>([
      { label: '$(edit) Type or paste a puzzle', description: `${side}x${side}, "." or 0 for blanks`, input: 'puzzle' },
      { label: '$(list-ordered) Pick from the test set', description: 'a row of the run\'s held-out puzzles', input: 'testRow' },
    ], { title, placeHolder: 'Which puzzle to trace through the latest checkpoint' });
    if (!how) return;
    let input: TraceInput | undefined;
    if (how.input === 'puzzle' && side) {
      const memoryKey = `${PUZZLE_MEMORY_KEY}.${side}`;
      const text = await vscode.window.showInputBox({
        title,
        prompt: `A ${side}x${side} Sudoku, ${side * side} cells row by row: 1-${side} for givens, "." or 0 for blanks (spaces and | + - _ are ignored)`,
        placeHolder: side === 4 ? '1..4 .4.. ..1. 3..2' : '53..7.... 6..195... .98....6. 8...6...3 4..8.3..1 7...2...6 .6....28. ...419..5 ....8..79',
        value: this.workspaceState.get<string>(memoryKey, ''),
        ignoreFocusOut: true,
        // A malformed puzzle is refused here with the reason (an error blocks Enter): nothing runs.
        validateInput: (v) => (v.trim() === '' ? undefined : puzzleInputProblem(v, side)),
      });
      if (!text?.trim()) return;
      const problem = puzzleInputProblem(text, side);
      if (problem) throw new Error(`puzzle refused: ${problem}`);
      await this.workspaceState.update(memoryKey, text);
      input = { kind: 'puzzle', text };
    } else {
      const text = await vscode.window.showInputBox({
        title, prompt: 'Row of the run\'s test set (0 = the first held-out puzzle)', value: '0', ignoreFocusOut: true,
        validateInput: (v) => { const r = parseTestRow(v); return 'error' in r ? r.error : undefined; },
      });
      if (text === undefined) return;
      const r = parseTestRow(text);
      if ('error' in r) return;
      input = { kind: 'testRow', row: r.row };
    }
    const p = this.panels.find((x) => x.mode === 'trace' && x.runKey === key) ?? this.create('trace', key);
    p.reveal();
    await p.runTrace(input);
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    panel.webview.options = this.webviewOptions();
    const s = refinementStateOf(state).source;
    if (!s) {
      panel.dispose();
      return;
    }
    const p = this.attach(panel, s.kind, s.runKey);
    if (s.kind === 'live') await p.showLive();
    else await p.showTraceFile(s.tracePath);
  }

  dispose(): void {
    this.panels.dispose();
  }

  private nameOf(key: string): string {
    return this.registry.get(key)?.name ?? basename(key);
  }

  private create(mode: Mode, key: string): RefinementPanel {
    const title = `${mode === 'live' ? 'Refinement' : 'Puzzle Trace'}: ${this.nameOf(key)}`;
    const panel = vscode.window.createWebviewPanel(refinementPanelViewType, title, vscode.ViewColumn.Active, this.webviewOptions());
    return this.attach(panel, mode, key);
  }

  private attach(panel: vscode.WebviewPanel, mode: Mode, key: string): RefinementPanel {
    const p = new RefinementPanel(panel, mode, key, {
      extensionUri: this.extensionUri, registry: this.registry, log: this.log,
      inspectPuzzle: (k) => this.inspectPuzzle(k).catch((e: unknown) => this.fail(e)),
    });
    this.panels.add(panel, p);
    return p;
  }

  private fail(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    this.log.error(msg);
    void vscode.window.showErrorMessage(`Recursion Lab: ${msg}`);
  }

  private webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private async pickRun(title: string, filter: (r: RunEntry) => boolean, none: string): Promise<string | undefined> {
    await this.registry.poll();
    const runs = this.registry.runs.filter(filter);
    if (!runs.length) {
      void vscode.window.showInformationMessage(none);
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(
      runs.map((r) => ({ label: r.name, description: `${r.status}${r.preset ? ` · ${r.preset}` : ''}`, detail: r.key, key: r.key })),
      { title, placeHolder: 'Which run' },
    );
    return pick?.key;
  }
}

interface PanelContext {
  extensionUri: vscode.Uri;
  registry: RunRegistry;
  log: vscode.LogOutputChannel;
  inspectPuzzle(runKey: string): Promise<void>;
}

class RefinementPanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly unsubscribe: (() => void)[] = [];
  private disposed = false;
  private retained = false;
  private lastMessage: ToRefinementMessage | undefined;
  private lastStatus: RunStatus | undefined;
  private sentSnapshot: RefinementEvent | undefined;
  private sentSteps = '';
  /** The training step of the snapshot the webview asked for; null = the latest. */
  private selectedStep: number | null = null;
  private job: TrainerProcess | undefined;

  constructor(
    private readonly panel: vscode.WebviewPanel,
    readonly mode: Mode,
    readonly runKey: string,
    private readonly c: PanelContext,
  ) {
    showWebviewBundle(panel, c.extensionUri, 'Puzzle Refinement', 'refinement');
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const parsed = parseFromRefinementMessage(raw);
        if (!parsed.ok) {
          c.log.warn(`Refinement panel: message rejected (${parsed.error})`);
          return;
        }
        void this.handle(parsed.message).catch((e: unknown) => c.log.error(`Refinement panel: ${(e as Error).message}`));
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  private get entry(): RunEntry | undefined {
    return this.c.registry.get(this.runKey);
  }

  private get runName(): string {
    return this.entry?.name ?? basename(this.runKey);
  }

  private liveSource(): RefinementSource {
    return { kind: 'live', runKey: this.runKey, runName: this.runName, status: this.entry?.status ?? 'completed' };
  }

  private post(m: ToRefinementMessage): void {
    if (m.type !== 'status') this.lastMessage = m;
    if (!this.disposed) void this.panel.webview.postMessage(m);
  }

  private async handle(m: FromRefinementMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        // A (re)loaded webview: the current trajectory again.
        if (this.lastMessage) void this.panel.webview.postMessage(this.lastMessage);
        return;
      case 'inspectPuzzle':
        await this.c.inspectPuzzle(this.runKey);
        return;
      case 'selectSnapshot':
        if (this.mode !== 'live') return;
        this.selectedStep = m.step;
        this.update();
        return;
    }
  }

  /** Live: keep the run's events read and forward each new snapshot. */
  async showLive(): Promise<void> {
    if (!this.retained) {
      this.retained = true;
      await this.c.registry.retain(this.runKey);
      if (this.disposed) return;
      this.unsubscribe.push(
        this.c.registry.onDidChangeData((e) => e.key === this.runKey && this.update()),
        this.c.registry.onDidChange((e) => (!e || e.key === this.runKey) && this.update()),
      );
    }
    this.update();
  }

  private update(): void {
    if (this.disposed) return;
    const entry = this.entry;
    const status = entry?.status ?? 'completed';
    const title = `Refinement: ${this.runName}`;
    if (this.panel.title !== title) this.panel.title = title;
    const series = entry?.series;
    // The snapshot asked for (the latest unless the slider picked one that still exists).
    const snapshot = (this.selectedStep !== null ? series?.refinementAt(this.selectedStep) : undefined) ?? series?.refinement;
    const steps = series?.refinements.map((r) => r.step) ?? [];
    if (snapshot && (snapshot !== this.sentSnapshot || steps.join() !== this.sentSteps)) {
      this.sentSnapshot = snapshot;
      this.sentSteps = steps.join();
      this.lastStatus = status;
      try {
        const trajectory = checkTrajectory(snapshot.trajectory, `events.jsonl refinement event of step ${snapshot.step}: trajectory`);
        this.post({ type: 'trajectory', source: this.liveSource(), snapshotStep: snapshot.step, snapshotSteps: steps, trajectory });
      } catch (e) {
        this.post({ type: 'failed', source: this.liveSource(), message: (e as Error).message });
      }
      return;
    }
    if (!snapshot && (!this.lastMessage || this.lastStatus !== status)) {
      this.lastStatus = status;
      const every = runConfigFacts(this.runKey).refinementEvery;
      const message = entry?.live
        ? every
          ? `No refinement snapshot yet: the trainer traces its probe puzzles every ${every} steps and at the end of the run.`
          : 'No refinement snapshot yet.'
        : every === 0
          ? 'This run was trained without refinement snapshots (refinement.everySteps = 0). Inspect Puzzle… traces a puzzle through its checkpoint.'
          : 'This run has no refinement snapshot. Inspect Puzzle… traces a puzzle through its checkpoint.';
      this.post({ type: 'waiting', source: this.liveSource(), message });
      return;
    }
    if (this.lastStatus !== status) {
      this.lastStatus = status;
      this.post({ type: 'status', status });
      if (this.lastMessage && 'source' in this.lastMessage && this.lastMessage.source.kind === 'live') {
        this.lastMessage = { ...this.lastMessage, source: this.liveSource() } as ToRefinementMessage;
      }
    }
  }

  /** Trace: `reclab trace` in a trainer child process; the trajectory is read from the file it writes. */
  async runTrace(input: TraceInput): Promise<void> {
    if (this.job?.running) {
      void vscode.window.showInformationMessage('A trace is already running in this panel.');
      return;
    }
    const out = tracePathOf(this.runKey);
    const args = traceArgs(this.runKey, input, out);
    const cli = vscode.Uri.joinPath(this.c.extensionUri, 'dist', 'trainer', 'cli.js').fsPath;
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(this.runKey))?.uri.fsPath ?? dirname(this.runKey);
    const what = input.kind === 'puzzle' ? 'the puzzle' : `test-set row ${input.row}`;
    const source: RefinementSource = { kind: 'trace', runKey: this.runKey, runName: this.runName, tracePath: out, checkpoint: 'latest' };
    this.post({ type: 'waiting', source, message: `Tracing ${what} through the latest checkpoint of ${this.runName}…` });
    this.c.log.info(`[trace] ${args.join(' ')}`);
    const job = new TrainerProcess({ node: process.execPath, cli, args, cwd: folder, rpc: false });
    this.job = job;
    job.onStderrLine((l) => this.c.log.info(`[trace] ${l}`));
    const exit = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Tracing ${what}` }, () => job.exited);
    this.job = undefined;
    if (this.disposed) return;
    if (exit.code === 0) {
      await this.showTraceFile(out);
      return;
    }
    const reason = traceFailureReason(job.lastStderr, `reclab trace exited with ${exit.code ?? exit.signal}`);
    this.post({ type: 'failed', source, message: reason });
    void vscode.window.showErrorMessage(`Inspect Puzzle: ${reason}`);
  }

  async showTraceFile(path: string): Promise<void> {
    const fallback: RefinementSource = { kind: 'trace', runKey: this.runKey, runName: this.runName, tracePath: path, checkpoint: 'unknown' };
    if (!existsSync(path)) {
      this.post({ type: 'failed', source: fallback, message: `${path}: the trace file is gone. Inspect Puzzle… traces a puzzle again.` });
      return;
    }
    try {
      const file = checkTraceFile(JSON.parse(await readFile(path, 'utf8')));
      this.panel.title = `Puzzle Trace: ${this.runName}`;
      this.post({ type: 'trajectory', source: { ...fallback, checkpoint: file.checkpoint }, snapshotStep: null, snapshotSteps: [], trajectory: file.trajectory });
    } catch (e) {
      this.post({ type: 'failed', source: fallback, message: `${path}: ${(e as Error).message}` });
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    void this.job?.stop(STOP_MS);
    for (const u of this.unsubscribe) u();
    if (this.retained) this.c.registry.release(this.runKey);
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}
