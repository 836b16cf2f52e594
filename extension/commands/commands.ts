// The palette commands (category "Recursion Lab") and the runs tree's context menu. Each one is a
// thin call of a trainer command (design.md): train, resume, ablate.
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { checkConfigText } from '../../protocol/configDiagnostics';
import { defaultPresetName, presets } from '../../protocol/presets';
import { checkTag, MAX_NOTE_LENGTH } from '../../protocol/runAnnotations';
import { runFiles } from '../../protocol/runDirectory';
import { problemRange } from '../config/configDiagnostics';
import { readRunAnnotations, splitTags, writeRunAnnotations } from '../runs/runAnnotationsFile';
import type { RunEntry, RunRegistry } from '../runs/runRegistry';
import type { RunGroup, SlurmTaskNode } from '../runs/runsTree';
import { liveTaskStates, type SlurmSweeps } from '../runs/slurmSweeps';
import { cancelSlurmSweep, cancelSlurmTask, slurmAblationArgs, watchSlurmSweep } from './slurmSweepCommands';
import type { RunsTablePanels } from '../panels/runsTablePanel';
import type { SweepReportPanels } from '../panels/sweepReportPanel';
import type { TrainingPanels } from '../panels/trainingPanel';
import { TrainerProcess } from '../trainer/trainerProcess';

/** The trainer's ablation arms (trainer/ablation/ablationArms.ts; `reclab ablate` rejects others). */
export const ablationArms = [
  { id: 'baseline', detail: 'full depth every step, uniform supervision weights', picked: true },
  { id: 'pdc', detail: 'Progressive Depth Curriculum (1,2) -> (2,4) -> (3,6) at 30 % / 60 %', picked: true },
  { id: 'hsw', detail: 'Hierarchical Supervision Weighting, paper form', picked: true },
  { id: 'hsw-code', detail: 'HSW as the released code', picked: false },
  { id: 'cgar', detail: 'PDC + HSW (paper form)', picked: true },
  { id: 'cgar-code', detail: 'PDC + HSW (released-code form)', picked: false },
] as const;

export interface CommandContext {
  extensionUri: vscode.Uri;
  registry: RunRegistry;
  panels: TrainingPanels;
  log: vscode.LogOutputChannel;
  /** Ablation processes this window started (stopped on deactivation). */
  jobs: Set<TrainerProcess>;
  /** The Slurm sweeps in the runs folders and their tasks' scheduler states. */
  slurm: SlurmSweeps;
  sweepReports: SweepReportPanels;
  runsTables: RunsTablePanels;
}

/** "20261129-153012-name": the trainer's own run-id form, so runs sort by start time. */
export function newRunDirName(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${name.replace(/[^A-Za-z0-9_.-]+/g, '-')}`;
}

function settings() {
  const c = vscode.workspace.getConfiguration('reclab');
  return {
    runsDirectory: c.get<string>('runsDirectory', 'runs'),
    stopTimeoutMs: 1000 * c.get<number>('stopTimeoutSeconds', 15),
    openPanelOnStart: c.get<boolean>('openPanelOnStart', true),
    pythonPath: c.get<string>('pythonPath', ''),
  };
}

/** The runs folders of the open workspace folders. */
export function runsRoots(): string[] {
  const dir = settings().runsDirectory;
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => join(f.uri.fsPath, dir));
}

export class Commands {
  constructor(private readonly c: CommandContext) {}

  register(): vscode.Disposable[] {
    const r = (id: string, fn: (...args: never[]) => unknown) => vscode.commands.registerCommand(id, (...args: never[]) => this.guard(fn.bind(this), args));
    return [
      r('reclab.startTraining', this.startTraining),
      r('reclab.stopRun', this.stopRun),
      r('reclab.resumeRun', this.resumeRun),
      r('reclab.openPanel', this.openPanel),
      r('reclab.runAblation', this.runAblation),
      r('reclab.cancelSweep', (g?: RunGroup) => cancelSlurmSweep(this.trainerCli, this.c.slurm, g?.key)),
      r('reclab.openRunFolder', this.openRunFolder),
      r('reclab.deleteRun', this.deleteRun),
      r('reclab.refreshRuns', () => this.c.registry.poll()),
      r('reclab.showLog', () => this.c.log.show()),
      r('reclab.tagRun', this.tagRun),
      r('reclab.editRunNote', this.editRunNote),
      r('reclab.exportTensorBoard', this.exportTensorBoard),
    ];
  }

  private async guard(fn: (...args: never[]) => unknown, args: never[]): Promise<unknown> {
    try {
      return await fn(...args);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.c.log.error(msg);
      void vscode.window.showErrorMessage(`Recursion Lab: ${msg}`, 'Show Log').then((a) => a && this.c.log.show());
      return undefined;
    }
  }

  private get trainerCli(): string {
    return vscode.Uri.joinPath(this.c.extensionUri, 'dist', 'trainer', 'cli.js').fsPath;
  }

  async startTraining(): Promise<RunEntry | undefined> {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
    if (!folders.length) throw new Error('open a folder first: runs are written to its runs/ folder');
    type Item = vscode.QuickPickItem & { preset?: string; file?: vscode.Uri };
    const items: Item[] = [{ label: 'Presets', kind: vscode.QuickPickItemKind.Separator }];
    for (const [name, p] of Object.entries(presets)) {
      items.push({
        label: name, preset: name, description: name === defaultPresetName ? 'default' : undefined,
        detail: `${p.model.arch.toUpperCase()} D=${p.model.hiddenSize} T=${p.model.hCycles} n=${p.model.lCycles} · ${p.train.steps.toLocaleString('en-US')} steps · batch ${p.train.batchSize}`,
      });
    }
    // Not the configs an ablation sweep generated for its runs (inside the runs folders, or beside its report).
    const runsDir = settings().runsDirectory.replace(/^\.\//, '').replace(/\/+$/, '');
    const files = (await vscode.workspace.findFiles('**/*.reclab.json', `{**/node_modules/**,${runsDir}/**}`, 200))
      .filter((f) => !isSweepConfig(f.fsPath));
    if (files.length) items.push({ label: 'Config files', kind: vscode.QuickPickItemKind.Separator });
    for (const f of files) items.push({ label: basename(f.fsPath), description: vscode.workspace.asRelativePath(f), file: f });
    const pick = await vscode.window.showQuickPick(items, { title: 'Recursion Lab: Start Training (1/3)', placeHolder: 'A preset or a *.reclab.json config file' });
    if (!pick || (!pick.preset && !pick.file)) return undefined;
    if (pick.file && !(await this.configAccepted(pick.file))) return undefined;
    const engines = [
      { label: 'tfjs', engine: 'tfjs', description: 'built in', detail: 'TensorFlow.js in Node: needs nothing else' },
      { label: 'torch', engine: 'torch', description: settings().pythonPath || 'python3', detail: 'The PyTorch worker (engines/torch): the fast CPU path, CUDA, MPS. Python is the reclab.pythonPath setting' },
    ];
    const engine = await vscode.window.showQuickPick(engines, { title: 'Recursion Lab: Start Training (2/3)', placeHolder: 'Engine' });
    if (!engine) return undefined;
    const suggested = pick.preset ?? basename(pick.file!.fsPath).replace(/\.reclab\.json$/, '');
    const name = await vscode.window.showInputBox({
      title: 'Recursion Lab: Start Training (3/3)', prompt: 'Run name', value: suggested,
      validateInput: (v) => (/^[A-Za-z0-9_.-]{1,64}$/.test(v) ? undefined : 'letters, digits, "_", "-", "." (at most 64)'),
    });
    if (!name) return undefined;
    const folder = (pick.file && vscode.workspace.getWorkspaceFolder(pick.file)) || folders[0]!;
    const root = join(folder.uri.fsPath, settings().runsDirectory);
    let dir = join(root, newRunDirName(name));
    for (let i = 2; existsSync(dir); i++) dir = join(root, `${newRunDirName(name)}-${i}`);
    const args = ['train', ...(pick.preset ? ['--preset', pick.preset] : ['--config', pick.file!.fsPath]), '--run-dir', dir, '--name', name, '--engine', engine.engine];
    return this.launch(dir, args, folder.uri.fsPath, `Starting training run "${name}"`, pick.file);
  }

  async stopRun(target?: RunEntry | SlurmTaskNode): Promise<void> {
    // A Slurm task: Stop Run is scancel of that task (its trainer checkpoints and stops).
    if (target && 'task' in target) {
      if (liveTaskStates.includes(target.task.state)) return cancelSlurmTask(this.trainerCli, this.c.slurm, target.task);
      void vscode.window.showInformationMessage(`${target.task.name} is not queued or running on Slurm.`);
      return;
    }
    const slurmTask = target && this.c.slurm.task(target.key);
    if (slurmTask && liveTaskStates.includes(slurmTask.state)) return cancelSlurmTask(this.trainerCli, this.c.slurm, slurmTask);
    const run = target ?? (await this.pickRun((r) => !!r.process?.running, 'Stop which run?', 'No run is training in this window.'));
    if (!run?.process?.running) {
      if (target) void vscode.window.showInformationMessage(`${target.name} is not training in this window.`);
      return;
    }
    const timeout = settings().stopTimeoutMs;
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Stopping ${run.name} (checkpoint first)…` }, async () => {
      const exit = await run.process!.stop(timeout);
      if (exit.killed) void vscode.window.showWarningMessage(`${run.name} did not stop within ${timeout / 1000} s; its process tree was killed.`);
    });
    await this.c.registry.poll();
  }

  async resumeRun(target?: RunEntry): Promise<RunEntry | undefined> {
    const resumable = (r: RunEntry) => !r.live && !r.process?.running && hasCheckpoint(r.key);
    const run = target ?? (await this.pickRun(resumable, 'Resume which run?', 'No stopped or failed run with a checkpoint.'));
    if (!run) return undefined;
    if (!resumable(run)) throw new Error(`${run.name} cannot be resumed (${run.live ? 'it is training' : 'no checkpoint'})`);
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(run.key));
    return this.launch(run.key, ['resume', run.key], folder?.uri.fsPath ?? dirname(dirname(run.key)), `Resuming ${run.name}`);
  }

  async openPanel(target?: RunEntry): Promise<void> {
    let runs: RunEntry[];
    if (target) runs = [target];
    else {
      const all = this.c.registry.runs;
      if (!all.length) {
        await this.c.panels.open([]);
        return;
      }
      const live = all.filter((r) => r.live);
      const picked = await vscode.window.showQuickPick(
        all.map((r) => ({ label: r.name, description: `${r.status}${r.preset ? ` · ${r.preset}` : ''}`, detail: r.key, picked: live.includes(r), run: r })),
        { canPickMany: true, title: 'Recursion Lab: Open Live Panel', placeHolder: 'Runs to show (overlaid)' },
      );
      if (!picked) return;
      runs = picked.map((p) => p.run);
    }
    await this.c.panels.open(runs);
  }

  async runAblation(): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
    if (!folder) throw new Error('open a folder first');
    const preset = await vscode.window.showQuickPick(Object.keys(presets).map((p) => ({ label: p })), { title: 'Run Ablation (1/5): preset' });
    if (!preset) return;
    const arms = await vscode.window.showQuickPick(ablationArms.map((a) => ({ label: a.id, detail: a.detail, id: a.id, picked: a.picked })), { title: 'Run Ablation (2/5): arms', canPickMany: true });
    if (!arms?.length) return;
    const seeds = await vscode.window.showQuickPick(['1', '2', '3', '5'].map((s) => ({ label: s, description: s === '3' ? 'recommended' : undefined })), { title: 'Run Ablation (3/5): seeds per arm' });
    if (!seeds) return;
    const presetSteps = presets[preset.label]!.train.steps;
    const stepsText = await vscode.window.showInputBox({
      title: 'Run Ablation (4/5): optimizer steps per run', value: String(presetSteps), prompt: `The preset trains ${presetSteps.toLocaleString('en-US')} steps; fewer make a quick comparison`,
      validateInput: (v) => (/^[1-9]\d{0,8}$/.test(v.trim()) ? undefined : 'a positive whole number of steps'),
    });
    if (!stepsText) return;
    const executor = await vscode.window.showQuickPick([
      { label: 'Local', description: 'this machine, one run per core', id: 'local' },
      { label: 'Slurm', description: 'one sbatch --array job, one task per arm × seed (settings reclab.slurm.*)', id: 'slurm' },
    ], { title: 'Run Ablation (5/5): where to run' });
    if (!executor) return;
    const args = ['ablate', '--preset', preset.label, '--arms', arms.map((a) => a.id).join(','), '--seeds', seeds.label, '--steps', stepsText.trim()];
    if (executor.id === 'slurm') {
      const out = join(folder.uri.fsPath, settings().runsDirectory, `ablation-${newRunDirName('slurm')}`);
      return watchSlurmSweep(this.trainerCli, this.c.slurm, this.c.log, [...args, ...slurmAblationArgs(), '--out', out], out, folder.uri.fsPath, `Ablation ${preset.label} on Slurm`);
    }
    // The sweep folder is ours to name, in the runs folder the tree lists, so the notification can open its report.
    const root = join(folder.uri.fsPath, settings().runsDirectory);
    let sweepDir = join(root, `ablation-${newRunDirName(preset.label).slice(0, 15)}`);
    for (let i = 2; existsSync(sweepDir); i++) sweepDir = join(root, `ablation-${newRunDirName(preset.label).slice(0, 15)}-${i}`);
    args.push('--out', sweepDir);
    const proc = new TrainerProcess({ node: process.execPath, cli: this.trainerCli, args, cwd: folder.uri.fsPath, rpc: false });
    this.c.jobs.add(proc);
    proc.onStderrLine((l) => this.c.log.info(`[ablate] ${l}`));
    this.c.log.info(`[ablate] started: ${args.join(' ')} (pid ${proc.pid ?? '?'})`);
    const exit = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Ablation ${preset.label}: ${arms.map((a) => a.id).join(', ')} × ${seeds.label} seeds`, cancellable: true },
      (_p, token) => {
        token.onCancellationRequested(() => void proc.stop(settings().stopTimeoutMs));
        return proc.exited;
      },
    );
    this.c.jobs.delete(proc);
    await this.c.registry.poll();
    const title = `Ablation ${preset.label} (${arms.map((a) => a.id).join(', ')} × ${seeds.label} seeds)`;
    const reportWritten = existsSync(join(sweepDir, 'ablation.json'));
    if (exit.code === 0 || (reportWritten && !exit.stopRequested)) {
      // Exit 1 with a report: some runs failed, the others are in it.
      const text = exit.code === 0 ? `${title} finished.` : `${title} finished; some runs failed (see the report).`;
      const show = exit.code === 0 ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
      this.c.log.info(`[ablate] ${text} ${sweepDir}`);
      const a = await show(text, 'Open Report', 'Open Runs Table');
      if (a === 'Open Report') await this.openSweepReport(sweepDir);
      else if (a === 'Open Runs Table') await this.c.runsTables.open(sweepDir);
      return;
    }
    if (exit.code !== 0 && !exit.stopRequested) {
      const reason = proc.lastStderr.find((l) => /^reclab\b/.test(l)) ?? proc.lastStderr[proc.lastStderr.length - 1] ?? `exit code ${exit.code}`;
      const a = await vscode.window.showErrorMessage(`Run Ablation failed: ${reason}`, 'Show Log');
      if (a) this.c.log.show();
    }
  }

  /** The sweep report of `sweepDir` (or of a sweep picked from the runs folders). */
  async openSweepReport(sweepDir?: string): Promise<void> {
    let dir = sweepDir;
    if (!dir) {
      await this.c.registry.poll();
      const sweeps = [...new Set(this.c.registry.runs.map((r) => r.group).filter((g): g is string => !!g))].sort().reverse();
      if (!sweeps.length) {
        void vscode.window.showInformationMessage('No ablation sweep in the runs folders (Run Ablation starts one).');
        return;
      }
      dir = sweeps.length === 1 ? sweeps[0] : (await vscode.window.showQuickPick(sweeps.map((s) => ({ label: basename(s), detail: s, dir: s })), { title: 'Open which sweep report?' }))?.dir;
    }
    if (dir) await this.c.sweepReports.open(dir);
  }

  async openRunFolder(target?: RunEntry): Promise<void> {
    const run = target ?? (await this.pickRun(() => true, 'Open which run folder?', 'No runs in this workspace.'));
    if (!run) return;
    const uri = vscode.Uri.file(run.key);
    if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
    else await vscode.commands.executeCommand('revealFileInOS', uri);
  }

  async deleteRun(target?: RunEntry): Promise<void> {
    const run = target ?? (await this.pickRun((r) => !r.process?.running, 'Delete which run?', 'No run to delete.'));
    if (!run) return;
    const ok = await vscode.window.showWarningMessage(`Delete run "${run.name}" and its folder?`, { modal: true, detail: `${run.key}\nCheckpoints and events are deleted. This cannot be undone.` }, 'Delete');
    if (ok !== 'Delete') return;
    await this.c.registry.delete(run.key);
  }

  private async pickRun(filter: (r: RunEntry) => boolean, title: string, none: string): Promise<RunEntry | undefined> {
    await this.c.registry.poll();
    const runs = this.c.registry.runs.filter(filter);
    if (!runs.length) {
      void vscode.window.showInformationMessage(none);
      return undefined;
    }
    if (runs.length === 1) return runs[0];
    const p = await vscode.window.showQuickPick(runs.map((r) => ({ label: r.name, description: `${r.status}${r.preset ? ` · ${r.preset}` : ''}`, detail: r.key, run: r })), { title });
    return p?.run;
  }

  /**
   * Spawns the trainer for `runDir`, with a progress notification until its run_start (or exit).
   * The panel opens once the run has started: a start the trainer refuses (bad config or data,
   * exit 2 before the run directory exists) leaves no run in the tree or the panel.
   */
  private async launch(runDir: string, args: string[], cwd: string, title: string, configFile?: vscode.Uri): Promise<RunEntry> {
    // reclab.pythonPath reaches the CLI as its third choice of Python (after --python and RECLAB_PYTHON).
    const pythonPath = settings().pythonPath;
    const env = pythonPath ? { RECLAB_PYTHON_SETTING: pythonPath } : undefined;
    const entry = await this.c.registry.launch(runDir, { node: process.execPath, cli: this.trainerCli, args, cwd, env }, (e) => this.onExit(e, configFile));
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `${title}…` }, () =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (entry.status === 'starting' && !entry.refused) return;
          offData();
          offChange();
          resolve();
        };
        const offData = this.c.registry.onDidChangeData(check);
        const offChange = this.c.registry.onDidChange(check);
        check();
      }),
    );
    if (settings().openPanelOnStart && !entry.refused) await this.c.panels.open([entry]);
    return entry;
  }

  /** A config file with problems is not started: the error, with Open Config at the first problem. */
  private async configAccepted(file: vscode.Uri): Promise<boolean> {
    const doc = await vscode.workspace.openTextDocument(file);
    const problems = checkConfigText(doc.getText());
    if (problems.length === 0) return true;
    const first = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    const a = await vscode.window.showErrorMessage(`${basename(file.fsPath)}:${first.line}:${first.column}: ${first.message}${more}`, 'Open Config');
    if (a) await vscode.window.showTextDocument(doc, { selection: problemRange(doc, first) });
    return false;
  }

  async tagRun(target?: RunEntry): Promise<void> {
    const run = target ?? (await this.pickRun(() => true, 'Tag which run?', 'No runs in this workspace.'));
    if (!run) return;
    const current = await readRunAnnotations(run.key);
    const text = await vscode.window.showInputBox({
      title: `Tags of ${run.name}`, prompt: 'Tags, separated by commas or spaces (empty = none)', value: current.tags.join(', '),
      validateInput: (v) => splitTags(v).map(checkTag).find(Boolean),
    });
    if (text === undefined) return;
    await writeRunAnnotations(run.key, { ...current, tags: splitTags(text) });
    await this.c.registry.poll();
  }

  async editRunNote(target?: RunEntry): Promise<void> {
    const run = target ?? (await this.pickRun(() => true, 'Note on which run?', 'No runs in this workspace.'));
    if (!run) return;
    const current = await readRunAnnotations(run.key);
    const note = await vscode.window.showInputBox({
      title: `Note on ${run.name}`, prompt: 'A note on this run (empty = none)', value: current.note,
      validateInput: (v) => (v.length > MAX_NOTE_LENGTH ? `at most ${MAX_NOTE_LENGTH} characters` : undefined),
    });
    if (note === undefined) return;
    await writeRunAnnotations(run.key, { ...current, note: note.trim() });
    await this.c.registry.poll();
  }

  /** `reclab export-tb` in a trainer child process: the run's scalars as TensorBoard event files. */
  async exportTensorBoard(target?: RunEntry): Promise<void> {
    const run = target ?? (await this.pickRun((r) => !r.live, 'Export which run to TensorBoard?', 'No finished run to export.'));
    if (!run) return;
    const outDir = join(run.key, 'tensorboard');
    const proc = new TrainerProcess({ node: process.execPath, cli: this.trainerCli, args: ['export-tb', run.key, '--out', outDir], cwd: dirname(run.key), rpc: false });
    proc.onStderrLine((l) => this.c.log.info(`[export-tb] ${l}`));
    const exit = await proc.exited;
    if (exit.code !== 0) throw new Error(`export to TensorBoard failed: ${proc.lastStderr[proc.lastStderr.length - 1] ?? `exit code ${exit.code}`}`);
    const command = `tensorboard --logdir "${outDir}"`;
    const a = await vscode.window.showInformationMessage(`Exported ${run.name} to ${outDir}. Open it with: ${command}  (W&B: wandb sync --sync-tensorboard "${outDir}")`, 'Copy Command', 'Reveal Folder');
    if (a === 'Copy Command') await vscode.env.clipboard.writeText(command);
    if (a === 'Reveal Folder') await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(outDir));
  }

  private onExit(entry: RunEntry, configFile?: vscode.Uri): void {
    if (entry.refused) {
      const actions = configFile ? ['Open Config', 'Show Log'] : ['Show Log'];
      void vscode.window.showErrorMessage(`Training not started: ${entry.refused}`, ...actions).then(async (a) => {
        if (a === 'Open Config' && configFile) await vscode.window.showTextDocument(configFile);
        if (a === 'Show Log') this.c.log.show();
      });
      return;
    }
    if (entry.status !== 'failed') return;
    const last = entry.series?.figures.error ?? entry.process?.lastStderr.filter((l) => !/^\s*at /.test(l)).slice(-1)[0] ?? entry.failure ?? 'see the log';
    void vscode.window.showErrorMessage(`Training run "${entry.name}" failed (${entry.failure ?? 'error'}): ${last}`, 'Show Log').then((a) => a && this.c.log.show());
  }
}

/** A config an ablation sweep wrote for one of its runs (`<sweep>/configs/*.reclab.json`). */
function isSweepConfig(path: string): boolean {
  const sweep = dirname(dirname(path));
  return basename(dirname(path)) === 'configs' && ['ablation.json', 'sweep.json'].some((f) => existsSync(join(sweep, f)));
}

function hasCheckpoint(dir: string): boolean {
  try {
    return readdirSync(join(dir, runFiles.checkpoints)).some((n) => /^step-\d+\.ckpt$/.test(n));
  } catch {
    return false;
  }
}
