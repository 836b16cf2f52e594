// The ablation sweep commands: Run Ablation (preset, arms, seeds, steps; locally or as one Slurm
// array job) and Open Sweep Report.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { presets } from '../../protocol/presets';
import { TrainerProcess } from '../trainer/trainerProcess';
import { newRunDirName, settings, trainerCli, type CommandContext } from './commandContext';
import { slurmAblationArgs, watchSlurmSweep } from './slurmSweepCommands';

/** The trainer's ablation arms (trainer/ablation/ablationArms.ts; `reclab ablate` rejects others). */
export const ablationArms = [
  { id: 'baseline', detail: 'full depth every step, uniform supervision weights', picked: true },
  { id: 'pdc', detail: 'Progressive Depth Curriculum (1,2) -> (2,4) -> (3,6) at 30 % / 60 %', picked: true },
  { id: 'hsw', detail: 'Hierarchical Supervision Weighting, paper form', picked: true },
  { id: 'hsw-code', detail: 'HSW as the released code', picked: false },
  { id: 'cgar', detail: 'PDC + HSW (paper form)', picked: true },
  { id: 'cgar-code', detail: 'PDC + HSW (released-code form)', picked: false },
] as const;

export async function runAblation(c: CommandContext): Promise<void> {
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
    return watchSlurmSweep(trainerCli(c), c.slurm, c.log, [...args, ...slurmAblationArgs(), '--out', out], out, folder.uri.fsPath, `Ablation ${preset.label} on Slurm`);
  }
  // The sweep folder is ours to name, in the runs folder the tree lists, so the notification can open its report.
  const root = join(folder.uri.fsPath, settings().runsDirectory);
  let sweepDir = join(root, `ablation-${newRunDirName(preset.label).slice(0, 15)}`);
  for (let i = 2; existsSync(sweepDir); i++) sweepDir = join(root, `ablation-${newRunDirName(preset.label).slice(0, 15)}-${i}`);
  args.push('--out', sweepDir);
  const proc = new TrainerProcess({ node: process.execPath, cli: trainerCli(c), args, cwd: folder.uri.fsPath, rpc: false });
  c.jobs.add(proc);
  proc.onStderrLine((l) => c.log.info(`[ablate] ${l}`));
  c.log.info(`[ablate] started: ${args.join(' ')} (pid ${proc.pid ?? '?'})`);
  const exit = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Ablation ${preset.label}: ${arms.map((a) => a.id).join(', ')} × ${seeds.label} seeds`, cancellable: true },
    (_p, token) => {
      token.onCancellationRequested(() => void proc.stop(settings().stopTimeoutMs));
      return proc.exited;
    },
  );
  c.jobs.delete(proc);
  await c.registry.poll();
  const title = `Ablation ${preset.label} (${arms.map((a) => a.id).join(', ')} × ${seeds.label} seeds)`;
  const reportWritten = existsSync(join(sweepDir, 'ablation.json'));
  if (exit.code === 0 || (reportWritten && !exit.stopRequested)) {
    // Exit 1 with a report: some runs failed, the others are in it.
    const text = exit.code === 0 ? `${title} finished.` : `${title} finished; some runs failed (see the report).`;
    const show = exit.code === 0 ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
    c.log.info(`[ablate] ${text} ${sweepDir}`);
    const a = await show(text, 'Open Report', 'Open Runs Table');
    if (a === 'Open Report') await openSweepReport(c, sweepDir);
    else if (a === 'Open Runs Table') await c.runsTables.open(sweepDir);
    return;
  }
  if (exit.code !== 0 && !exit.stopRequested) {
    const reason = proc.lastStderr.find((l) => /^reclab\b/.test(l)) ?? proc.lastStderr[proc.lastStderr.length - 1] ?? `exit code ${exit.code}`;
    const a = await vscode.window.showErrorMessage(`Run Ablation failed: ${reason}`, 'Show Log');
    if (a) c.log.show();
  }
}

/** The sweep report of `sweepDir` (or of a sweep picked from the runs folders). */
export async function openSweepReport(c: CommandContext, sweepDir?: string): Promise<void> {
  let dir = sweepDir;
  if (!dir) {
    await c.registry.poll();
    const sweeps = [...new Set(c.registry.runs.map((r) => r.group).filter((g): g is string => !!g))].sort().reverse();
    if (!sweeps.length) {
      void vscode.window.showInformationMessage('No ablation sweep in the runs folders (Run Ablation starts one).');
      return;
    }
    dir = sweeps.length === 1 ? sweeps[0] : (await vscode.window.showQuickPick(sweeps.map((s) => ({ label: basename(s), detail: s, dir: s })), { title: 'Open which sweep report?' }))?.dir;
  }
  if (dir) await c.sweepReports.open(dir);
}
