// `reclab ablate --executor slurm`: the sweep's runs as one Slurm job array (one task per
// arm x seed), its re-run of the failed tasks, and cancel. The sweep folder keeps the generated
// batch script and slurm.json (job ids, array indices), so status, report, cancel and re-run
// work from the folder alone — from any shell or the extension on the login node.
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { slurmSweepFiles, type SlurmSubmission, type SlurmSweepRecord, type SlurmTask, type SweepStatus } from '../../protocol/slurmSweep';
import { ConfigError } from '../configResolution';
import { writeFileAtomic } from '../run/atomicWrite';
import { planSweep, validateSweep, type SweepOptions } from './ablationSweep';
import { batchScript } from './slurmBatchScript';
import { sbatchArray, scancel } from './slurmCommands';
import type { SlurmSettings } from './slurmSettings';
import { readSweepRecord, submissionOf, sweepStatus } from './slurmTaskStatus';

/** slurm.json also keeps the settings, so a re-run submits under the same cap. */
type StoredRecord = SlurmSweepRecord & { settings: SlurmSettings };

function writeRecord(sweepDir: string, record: StoredRecord): void {
  writeFileAtomic(join(sweepDir, slurmSweepFiles.record), JSON.stringify(record, null, 2) + '\n');
}

const arraySpec = (indices: number[], concurrency?: number) => {
  const contiguous = indices.every((x, i) => i === 0 || x === indices[i - 1]! + 1);
  const list = contiguous && indices.length > 1 ? `${indices[0]}-${indices[indices.length - 1]}` : indices.join(',');
  return concurrency ? `${list}%${concurrency}` : list;
};

export function submitSlurmSweep(o: SweepOptions, settings: SlurmSettings): { record: SlurmSweepRecord; script: string } {
  validateSweep(o);
  if (existsSync(join(o.outDir, slurmSweepFiles.record))) throw new ConfigError(`${o.outDir} already holds a Slurm sweep (--rerun-failed --out ${o.outDir} re-runs its failed tasks)`);
  if (existsSync(o.outDir)) throw new ConfigError(`${o.outDir} already exists: give a new folder for the sweep`);
  try {
    return submitInto(o, settings);
  } catch (e) {
    // A refused submission leaves nothing behind.
    rmSync(o.outDir, { recursive: true, force: true });
    throw e;
  }
}

function submitInto(o: SweepOptions, settings: SlurmSettings): { record: SlurmSweepRecord; script: string } {
  const plan = planSweep(o, 'slurm', (evalEvery) => settings.checkpointEvery ?? evalEvery);
  const tasks: SlurmTask[] = plan.runs.map((r, index) => ({ index, name: r.name, arm: r.arm, seed: r.seed }));
  mkdirSync(join(o.outDir, slurmSweepFiles.logDir), { recursive: true });
  mkdirSync(join(o.outDir, slurmSweepFiles.exitDir), { recursive: true });
  const script = join(o.outDir, slurmSweepFiles.script);
  writeFileAtomic(script, batchScript({
    sweepDir: o.outDir, tasks, settings, node: settings.node ?? process.execPath, cli: o.cliPath,
    trainerArgs: o.trainerArgs ?? [], jobName: `reclab-${basename(o.outDir)}`.replace(/[^A-Za-z0-9_.-]/g, '-'),
  }));
  chmodSync(script, 0o755);
  const indices = tasks.map((t) => t.index);
  const array = arraySpec(indices, settings.concurrency);
  const jobId = sbatchArray(script, array, o.outDir);
  const record: StoredRecord = { v: 1, executor: 'slurm', tasks, submissions: [{ jobId, indices, array, submittedAt: new Date().toISOString() }], settings };
  writeRecord(o.outDir, record);
  return { record, script };
}

/** Resubmits the tasks that failed, were cancelled or timed out (a new array over their indices); they resume from their checkpoints. */
export function rerunFailedSlurmTasks(sweepDir: string): SlurmSubmission | undefined {
  const record = readSweepRecord(sweepDir) as StoredRecord;
  const status = sweepStatus(sweepDir);
  const indices = status.tasks.filter((t) => ['failed', 'cancelled', 'timed-out', 'unknown'].includes(t.state)).map((t) => t.index);
  if (!indices.length) return undefined;
  for (const i of indices) rmSync(join(sweepDir, slurmSweepFiles.exitDir, `${i}.json`), { force: true });
  const array = arraySpec(indices, record.settings?.concurrency);
  const jobId = sbatchArray(join(sweepDir, slurmSweepFiles.script), array, sweepDir);
  const sub: SlurmSubmission = { jobId, indices, array, submittedAt: new Date().toISOString() };
  record.submissions.push(sub);
  writeRecord(sweepDir, record);
  return sub;
}

/** scancel of one task (by run name or array index), or of every job of the sweep. Returns the ids cancelled. */
export function cancelSlurmSweep(sweepDir: string, task?: string): string[] {
  const record = readSweepRecord(sweepDir) as StoredRecord;
  let ids: string[];
  if (task !== undefined) {
    const t = record.tasks.find((x) => x.name === task || String(x.index) === task);
    if (!t) throw new ConfigError(`--task: no task "${task}" in ${sweepDir} (tasks: ${record.tasks.map((x) => x.name).join(', ')})`);
    const sub = submissionOf(record, t)!;
    ids = [`${sub.jobId}_${t.index}`];
    scancel(ids);
    sub.cancelled = [...new Set([...(sub.cancelled ?? []), t.index])];
  } else {
    ids = [...new Set(record.submissions.map((s) => s.jobId))];
    scancel(ids);
    for (const s of record.submissions) s.cancelled = [...s.indices];
  }
  writeRecord(sweepDir, record);
  return ids;
}

/** Polls the sweep's status (squeue, every 2 s: `sbatch --wait` backs off) until every task has finished; reports each change. */
export async function followSlurmSweep(sweepDir: string, onLine: (line: string) => void, intervalMs = 2000): Promise<SweepStatus> {
  const seen = new Map<string, string>();
  for (;;) {
    const s = sweepStatus(sweepDir);
    for (const t of s.tasks) {
      const word = `${t.state}${t.reason ? ` (${t.reason})` : ''}`;
      if (seen.get(t.name) !== word) onLine(`${t.slurmId} ${t.name}: ${word}`);
      seen.set(t.name, word);
    }
    if (s.finished === s.total) return s;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
