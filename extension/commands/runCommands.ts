// The commands on one training run's process: Start Training (preset or config, engine, name),
// Stop Run (a local trainer, or scancel of a Slurm task) and Resume Run. Each is a thin call of a
// trainer command (design.md); the panel opens once the trainer has started the run.
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { defaultPresetName, presets } from '../../protocol/presets';
import { runFiles } from '../../protocol/runDirectory';
import type { RunEntry } from '../runs/runRegistry';
import type { SlurmTaskNode } from '../runs/runsTree';
import { liveTaskStates } from '../runs/slurmSweeps';
import { newRunDirName, pickRun, settings, trainerCli, type CommandContext } from './commandContext';
import { configAccepted, isSweepConfig } from './configCommands';
import { cancelSlurmTask } from './slurmSweepCommands';

export async function startTraining(c: CommandContext): Promise<RunEntry | undefined> {
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
  if (pick.file && !(await configAccepted(pick.file))) return undefined;
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
  return launch(c, dir, args, folder.uri.fsPath, `Starting training run "${name}"`, pick.file);
}

export async function stopRun(c: CommandContext, target?: RunEntry | SlurmTaskNode): Promise<void> {
  // A Slurm task: Stop Run is scancel of that task (its trainer checkpoints and stops).
  if (target && 'task' in target) {
    if (liveTaskStates.includes(target.task.state)) return cancelSlurmTask(trainerCli(c), c.slurm, target.task);
    void vscode.window.showInformationMessage(`${target.task.name} is not queued or running on Slurm.`);
    return;
  }
  const slurmTask = target && c.slurm.task(target.key);
  if (slurmTask && liveTaskStates.includes(slurmTask.state)) return cancelSlurmTask(trainerCli(c), c.slurm, slurmTask);
  const run = target ?? (await pickRun(c, (r) => !!r.process?.running, 'Stop which run?', 'No run is training in this window.'));
  if (!run?.process?.running) {
    if (target) void vscode.window.showInformationMessage(`${target.name} is not training in this window.`);
    return;
  }
  const timeout = settings().stopTimeoutMs;
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Stopping ${run.name} (checkpoint first)…` }, async () => {
    const exit = await run.process!.stop(timeout);
    if (exit.killed) void vscode.window.showWarningMessage(`${run.name} did not stop within ${timeout / 1000} s; its process tree was killed.`);
  });
  await c.registry.poll();
}

export async function resumeRun(c: CommandContext, target?: RunEntry): Promise<RunEntry | undefined> {
  const resumable = (r: RunEntry) => !r.live && !r.process?.running && hasCheckpoint(r.key);
  const run = target ?? (await pickRun(c, resumable, 'Resume which run?', 'No stopped or failed run with a checkpoint.'));
  if (!run) return undefined;
  if (!resumable(run)) throw new Error(`${run.name} cannot be resumed (${run.live ? 'it is training' : 'no checkpoint'})`);
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(run.key));
  return launch(c, run.key, ['resume', run.key], folder?.uri.fsPath ?? dirname(dirname(run.key)), `Resuming ${run.name}`);
}

/**
 * Spawns the trainer for `runDir`, with a progress notification until its run_start (or exit).
 * The panel opens once the run has started: a start the trainer refuses (bad config or data,
 * exit 2 before the run directory exists) leaves no run in the tree or the panel.
 */
async function launch(c: CommandContext, runDir: string, args: string[], cwd: string, title: string, configFile?: vscode.Uri): Promise<RunEntry> {
  // reclab.pythonPath reaches the CLI as its third choice of Python (after --python and RECLAB_PYTHON).
  const pythonPath = settings().pythonPath;
  const env = pythonPath ? { RECLAB_PYTHON_SETTING: pythonPath } : undefined;
  const entry = await c.registry.launch(runDir, { node: process.execPath, cli: trainerCli(c), args, cwd, env }, (e) => onExit(c, e, configFile));
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `${title}…` }, () =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (entry.status === 'starting' && !entry.refused) return;
        offData();
        offChange();
        resolve();
      };
      const offData = c.registry.onDidChangeData(check);
      const offChange = c.registry.onDidChange(check);
      check();
    }),
  );
  if (settings().openPanelOnStart && !entry.refused) await c.panels.open([entry]);
  return entry;
}

function onExit(c: CommandContext, entry: RunEntry, configFile?: vscode.Uri): void {
  if (entry.refused) {
    const actions = configFile ? ['Open Config', 'Show Log'] : ['Show Log'];
    void vscode.window.showErrorMessage(`Training not started: ${entry.refused}`, ...actions).then(async (a) => {
      if (a === 'Open Config' && configFile) await vscode.window.showTextDocument(configFile);
      if (a === 'Show Log') c.log.show();
    });
    return;
  }
  if (entry.status !== 'failed') return;
  const last = entry.series?.figures.error ?? entry.process?.lastStderr.filter((l) => !/^\s*at /.test(l)).slice(-1)[0] ?? entry.failure ?? 'see the log';
  void vscode.window.showErrorMessage(`Training run "${entry.name}" failed (${entry.failure ?? 'error'}): ${last}`, 'Show Log').then((a) => a && c.log.show());
}

function hasCheckpoint(dir: string): boolean {
  try {
    return readdirSync(join(dir, runFiles.checkpoints)).some((n) => /^step-\d+\.ckpt$/.test(n));
  } catch {
    return false;
  }
}
