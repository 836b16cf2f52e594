// The state of each task of a Slurm sweep: the scheduler's word (squeue; sacct when the
// accounting database answers; else the exit file the batch script wrote) merged with the run
// directory's own truth (a run with its `done` event is finished whatever Slurm says; a task
// Slurm calls COMPLETED whose run has no `done` did not finish).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { finishedTaskStates, slurmSweepFiles, type SlurmSweepRecord, type SlurmTask, type SweepStatus, type SweepTaskStatus, type TaskExitFile, type TaskState } from '../../protocol/slurmSweep';
import { ConfigError } from '../configResolution';
import { readEvents } from './ablationResults';
import { sacctTasks, squeueTasks, type SchedulerTask } from './slurmCommands';

/** What the run directory says: its last step and how it ended, if it did. */
export interface RunDirectoryState { exists: boolean; step?: number; done?: 'completed' | 'stopped' | 'failed'; error?: string }

export function runDirectoryState(runDir: string): RunDirectoryState {
  if (!existsSync(join(runDir, 'events.jsonl'))) return { exists: existsSync(runDir) };
  const events = readEvents(runDir);
  let step: number | undefined;
  let done: RunDirectoryState['done'];
  let error: string | undefined;
  for (const e of events) {
    if (e.type === 'step') step = e.step;
    // A resumed run starts over after its last `done`: only the latest one counts.
    if (e.type === 'run_start') done = undefined;
    if (e.type === 'done') done = e.status;
    if (e.type === 'error') error = e.message;
  }
  return { exists: true, step, done, error };
}

const queued = ['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD', 'CONFIGURING', 'SUSPENDED', 'STOPPED', 'RESIZING'];
const running = ['RUNNING', 'COMPLETING', 'STAGE_OUT', 'SIGNALING'];
/** Slurm's end states that are neither success, cancellation nor a time limit, in words. */
const failures: Record<string, string> = {
  FAILED: 'the task exited non-zero', NODE_FAIL: 'node failure', PREEMPTED: 'preempted', BOOT_FAIL: 'node boot failure',
  OUT_OF_MEMORY: 'out of memory', SPECIAL_EXIT: 'special exit', REVOKED: 'revoked', DEADLINE: 'deadline reached',
};

function signalName(code: number): string {
  const names: Record<number, string> = { 9: 'SIGKILL', 15: 'SIGTERM', 2: 'SIGINT', 6: 'SIGABRT', 11: 'SIGSEGV' };
  return code > 128 ? ` (${names[code - 128] ?? `signal ${code - 128}`})` : '';
}

const join2 = (...parts: (string | undefined)[]) => parts.filter(Boolean).join('; ');

/** One task's state from what each source says (pure: the tests feed it hand-made facts). */
export function mergeTaskState(sched: SchedulerTask | undefined, exit: TaskExitFile | undefined, run: RunDirectoryState, cancelledByUs: boolean): Pick<SweepTaskStatus, 'state' | 'reason' | 'schedulerState'> & { source: SweepTaskStatus['source'] } {
  const trainerExit = exit && exit.exitCode !== 0 ? `trainer exit code ${exit.exitCode}${signalName(exit.exitCode)}` : undefined;
  const runNote = run.error ? `run error: ${run.error}` : undefined;
  if (sched) {
    const s = sched.state;
    const base = { schedulerState: s, source: sched.source };
    if (queued.includes(s)) return { ...base, state: 'queued', reason: sched.reason ?? s.toLowerCase() };
    if (running.includes(s)) return { ...base, state: 'running', reason: sched.reason };
    // Finished, by Slurm's word: the run directory decides whether the run itself finished.
    if (run.done === 'completed') return { ...base, state: 'completed' };
    if (s === 'COMPLETED') return { ...base, state: 'failed', reason: join2('the task ended without the run\'s done event', trainerExit, runNote) };
    if (s === 'CANCELLED') return { ...base, state: 'cancelled', reason: join2(sched.reason ?? 'scancel', run.done === 'stopped' ? 'the run stopped at its checkpoint' : undefined) };
    if (s === 'TIMEOUT') return { ...base, state: 'timed-out', reason: join2('time limit', sched.reason, run.done === 'stopped' ? 'the run stopped at its checkpoint' : undefined) };
    return { ...base, state: 'failed', reason: join2(`${s}: ${failures[s] ?? s.toLowerCase()}`, sched.reason, trainerExit, runNote) };
  }
  if (exit) {
    const base = { source: 'exit-file' as const };
    if (run.done === 'completed') return { ...base, state: 'completed' };
    if (exit.terminated) return { ...base, state: 'cancelled', reason: join2('SIGTERM from Slurm (scancel, time limit or preemption)', run.done === 'stopped' ? 'the run stopped at its checkpoint' : undefined) };
    return { ...base, state: 'failed', reason: join2(trainerExit ?? 'the trainer exited 0 without the run\'s done event', runNote) };
  }
  if (run.done === 'completed') return { source: 'run-directory', state: 'completed' };
  if (cancelledByUs) return { source: 'none', state: 'cancelled', reason: 'cancelled before it ended (reclab sweep-cancel)' };
  if (run.exists) return { source: 'run-directory', state: 'failed', reason: join2('the scheduler no longer knows the task and it left no exit file: it died without done (node failure?)', runNote) };
  return { source: 'none', state: 'unknown', reason: 'not known to the scheduler, no run directory' };
}

export function readSweepRecord(sweepDir: string): SlurmSweepRecord {
  const path = join(sweepDir, slurmSweepFiles.record);
  if (!existsSync(path)) throw new ConfigError(`${sweepDir}: not a Slurm sweep (no ${slurmSweepFiles.record})`);
  return JSON.parse(readFileSync(path, 'utf8')) as SlurmSweepRecord;
}

export function readExitFile(sweepDir: string, index: number): TaskExitFile | undefined {
  const path = join(sweepDir, slurmSweepFiles.exitDir, `${index}.json`);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as TaskExitFile;
  } catch {
    return undefined;
  }
}

/** The submission a task belongs to: the last one naming its index. */
export function submissionOf(record: SlurmSweepRecord, task: SlurmTask) {
  return [...record.submissions].reverse().find((s) => s.indices.includes(task.index));
}

export function sweepStatus(sweepDir: string): SweepStatus {
  const record = readSweepRecord(sweepDir);
  const jobIds = [...new Set(record.submissions.map((s) => s.jobId))];
  const fromSqueue = squeueTasks(jobIds);
  const fromSacct = sacctTasks(jobIds);
  const tasks: SweepTaskStatus[] = record.tasks.map((t) => {
    const sub = submissionOf(record, t);
    const jobId = sub?.jobId ?? '';
    const match = (x: SchedulerTask) => x.jobId === jobId && x.index === t.index;
    // squeue first (live, and accurate while it keeps the task); then the database.
    const sched = fromSqueue.find(match) ?? fromSacct?.find(match);
    const exit = readExitFile(sweepDir, t.index);
    const runDir = join(sweepDir, t.name);
    const run = runDirectoryState(runDir);
    const merged = mergeTaskState(sched, exit && exit.jobId === jobId ? exit : undefined, run, !!sub?.cancelled?.includes(t.index));
    const status: SweepTaskStatus = { index: t.index, name: t.name, arm: t.arm, seed: t.seed, runDir, slurmId: `${jobId}_${t.index}`, ...merged };
    if (run.step !== undefined) status.step = run.step;
    if (status.reason === undefined) delete status.reason;
    if (status.schedulerState === undefined) delete status.schedulerState;
    return status;
  });
  const finished = tasks.filter((t) => (finishedTaskStates as readonly TaskState[]).includes(t.state)).length;
  return { v: 1, sweepDir, jobId: record.submissions[record.submissions.length - 1]?.jobId ?? '', tasks, finished, total: tasks.length, accounting: fromSacct !== undefined };
}
