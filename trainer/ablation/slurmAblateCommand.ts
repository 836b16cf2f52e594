// The Slurm side of `reclab ablate`: submit (`--executor slurm`), re-run the failed tasks of a
// Slurm sweep folder (`--rerun-failed`), and `--wait` (follow the sweep until every task ended).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { slurmSweepFiles } from '../../protocol/slurmSweep';
import { ConfigError } from '../configResolution';
import { writeSweepReport, type SweepOptions } from './ablationSweep';
import { followSlurmSweep, rerunFailedSlurmTasks, submitSlurmSweep } from './slurmExecutor';
import { resolveSlurmSettings } from './slurmSettings';

/** The command line's cluster flags, as given. */
export interface SlurmFlags {
  slurmConfig?: string; partition?: string; gpusPerTask?: string; cpusPerTask?: string; mem?: string; time?: string;
  sbatch?: string[]; setup?: string[]; wait?: boolean; quiet?: boolean;
}

export const isSlurmSweep = (dir: string): boolean => existsSync(join(dir, slurmSweepFiles.record));

const wholeNumber = (flag: string, v: string | undefined) => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new ConfigError(`--${flag}: expected a whole number, got "${v}"`);
  return Number(v);
};

export async function ablateOnSlurm(opts: SweepOptions, f: SlurmFlags): Promise<number> {
  const settings = resolveSlurmSettings(f.slurmConfig, {
    partition: f.partition, gpusPerTask: wholeNumber('gpus-per-task', f.gpusPerTask), cpusPerTask: wholeNumber('cpus-per-task', f.cpusPerTask),
    mem: f.mem, time: f.time, sbatch: f.sbatch, setup: f.setup, concurrency: opts.parallel,
  });
  const { record, script } = submitSlurmSweep(opts, settings);
  const sub = record.submissions[0]!;
  process.stdout.write(`submitted job ${sub.jobId} (--array=${sub.array}, ${record.tasks.length} tasks; batch script ${script})\nstatus: reclab sweep-status ${opts.outDir}\n`);
  return f.wait ? follow(opts.outDir, f) : 0;
}

export async function rerunOnSlurm(dir: string, f: SlurmFlags): Promise<number> {
  const sub = rerunFailedSlurmTasks(dir);
  process.stdout.write(sub ? `resubmitted tasks ${sub.indices.join(',')} as job ${sub.jobId} (--array=${sub.array})\n` : 'no failed, cancelled or timed-out task to re-run\n');
  return sub && f.wait ? follow(dir, f) : 0;
}

/** Follows the sweep until every task has finished; 0 when all completed. */
async function follow(dir: string, f: SlurmFlags): Promise<number> {
  const s = await followSlurmSweep(dir, f.quiet ? () => {} : (line) => process.stderr.write(line + '\n'));
  if (existsSync(join(dir, 'ablation.md'))) process.stdout.write(writeSweepReport(dir).markdown);
  return s.tasks.every((t) => t.state === 'completed') ? 0 : 1;
}
