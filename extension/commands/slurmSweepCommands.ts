// Run Ablation on Slurm, Stop Run on a Slurm task, Cancel Sweep: thin calls of `reclab ablate
// --executor slurm`, `reclab sweep-cancel` and `reclab sweep-status` (through SlurmSweeps).
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { SweepTaskStatus } from '../../protocol/slurmSweep';
import { runTrainerCli, type SlurmSweeps } from '../runs/slurmSweeps';

/** The cluster settings (`reclab.slurm.*`) as `reclab ablate --executor slurm` flags. */
export function slurmAblationArgs(c = vscode.workspace.getConfiguration('reclab.slurm')): string[] {
  const args = ['--executor', 'slurm'];
  const text = (key: string, flag: string) => { const v = c.get<string>(key, '').trim(); if (v) args.push(`--${flag}=${v}`); };
  const count = (key: string, flag: string) => { const v = c.get<number>(key, 0); if (v > 0) args.push(`--${flag}=${v}`); };
  text('settingsFile', 'slurm-config');
  text('partition', 'partition');
  count('gpusPerTask', 'gpus-per-task');
  count('cpusPerTask', 'cpus-per-task');
  text('mem', 'mem');
  text('time', 'time');
  count('concurrency', 'parallel');
  for (const l of c.get<string[]>('sbatch', [])) args.push(`--sbatch=${l}`);
  for (const l of c.get<string[]>('setup', [])) args.push(`--setup=${l}`);
  text('engine', 'engine');
  return args;
}

const failureOf = (r: { code: number; stderr: string }) => r.stderr.trim().split('\n').find((l) => /^reclab\b/.test(l)) ?? r.stderr.trim().split('\n').pop() ?? `exit code ${r.code}`;

/** Submits the sweep, then a progress notification counts its finished tasks; Cancel there cancels the array. */
export async function watchSlurmSweep(cli: string, slurm: SlurmSweeps, log: vscode.LogOutputChannel, args: string[], sweepDir: string, cwd: string, title: string): Promise<void> {
  log.info(`[slurm] reclab ${args.join(' ')}`);
  const submit = await runTrainerCli(cli, args, cwd);
  for (const l of (submit.stdout + submit.stderr).split('\n').filter(Boolean)) log.info(`[slurm] ${l}`);
  if (submit.code !== 0) {
    const a = await vscode.window.showErrorMessage(`Run Ablation on Slurm failed: ${failureOf(submit)}`, 'Show Log');
    if (a) log.show();
    return;
  }
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    token.onCancellationRequested(() => void cancelSlurmSweep(cli, slurm, sweepDir, false));
    let reported = 0;
    for (;;) {
      const s = (await slurm.refresh(sweepDir)) ?? slurm.status(sweepDir);
      if (s) {
        const count = (state: SweepTaskStatus['state']) => s.tasks.filter((t) => t.state === state).length;
        progress.report({ message: `${s.finished}/${s.total} tasks finished · ${count('running')} running · ${count('queued')} queued (job ${s.jobId})`, increment: (100 * (s.finished - reported)) / s.total });
        reported = s.finished;
        if (s.finished === s.total) {
          const failed = s.total - count('completed');
          void vscode.window.showInformationMessage(`${basename(sweepDir)}: ${count('completed')} of ${s.total} tasks completed${failed ? `, ${failed} failed, cancelled or timed out (reclab ablate --rerun-failed --out ${sweepDir})` : ''}.`);
          return;
        }
      }
      if (token.isCancellationRequested) return;
      await new Promise((r) => setTimeout(r, 3000));
    }
  });
}

export async function cancelSlurmTask(cli: string, slurm: SlurmSweeps, task: SweepTaskStatus): Promise<void> {
  const sweepDir = task.runDir.slice(0, task.runDir.length - task.name.length - 1);
  const r = await runTrainerCli(cli, ['sweep-cancel', sweepDir, '--task', task.name]);
  if (r.code !== 0) throw new Error(`Stop Run (scancel ${task.slurmId}): ${failureOf(r)}`);
  await slurm.refresh(sweepDir);
}

export async function cancelSlurmSweep(cli: string, slurm: SlurmSweeps, sweepDir: string | undefined, confirm = true): Promise<void> {
  if (!sweepDir) sweepDir = (await vscode.window.showQuickPick(slurm.sweeps.filter((d) => { const s = slurm.status(d); return s && s.finished < s.total; }), { title: 'Cancel which Slurm sweep?' }));
  if (!sweepDir) return;
  if (confirm && (await vscode.window.showWarningMessage(`Cancel every task of ${basename(sweepDir)} (scancel of its job array)?`, { modal: true }, 'Cancel Sweep')) !== 'Cancel Sweep') return;
  const r = await runTrainerCli(cli, ['sweep-cancel', sweepDir]);
  if (r.code !== 0) throw new Error(`Cancel Sweep: ${failureOf(r)}`);
  await slurm.refresh(sweepDir);
}
