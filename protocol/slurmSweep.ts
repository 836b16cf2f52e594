// A sweep run as a Slurm job array (`reclab ablate --executor slurm`): the files it keeps in the
// sweep folder, and the status that `reclab sweep-status DIR --json` prints — the one thing the
// extension reads about scheduler state (it never parses Slurm's own output).
import { isInt, isObj, isText, need, Reject } from './messageGuards';

/** Paths inside the sweep folder. */
export const slurmSweepFiles = {
  /** The submissions (job ids, array indices) and the task list: a SlurmSweepRecord. */
  record: 'slurm.json',
  /** The generated batch script, as submitted. */
  script: 'slurm/sweep.sbatch',
  /** `<index>.json` per finished task, written by the batch script: a TaskExitFile. */
  exitDir: 'slurm/exit',
  /** Slurm's stdout/stderr of each task, `%A_%a.out`. */
  logDir: 'slurm/logs',
} as const;

export interface SlurmTask {
  /** The array index (SLURM_ARRAY_TASK_ID); stays the same when the task is resubmitted. */
  index: number;
  /** The run directory's name inside the sweep folder, e.g. "pdc-seed1". */
  name: string;
  arm: string;
  seed: number;
}

export interface SlurmSubmission {
  jobId: string;
  indices: number[];
  submittedAt: string;
  /** The `--array` value given to sbatch, e.g. "0-3%2" or "1,3". */
  array: string;
  /** Indices cancelled through `reclab sweep-cancel` (a pending task leaves no trace in Slurm). */
  cancelled?: number[];
}

export interface SlurmSweepRecord {
  v: 1;
  executor: 'slurm';
  tasks: SlurmTask[];
  /** In submission order; a task belongs to the last submission that names its index. */
  submissions: SlurmSubmission[];
}

/** What the batch script writes when the trainer of a task exits (or the task is signalled). */
export interface TaskExitFile {
  jobId: string;
  index: number;
  /** The trainer's exit status (128 + signal number when it was killed). */
  exitCode: number;
  /** True when the batch script itself got SIGTERM (scancel, time limit, preemption). */
  terminated: boolean;
}

export const taskStates = ['queued', 'running', 'completed', 'failed', 'cancelled', 'timed-out', 'unknown'] as const;
export type TaskState = (typeof taskStates)[number];
export const finishedTaskStates: readonly TaskState[] = ['completed', 'failed', 'cancelled', 'timed-out'];

/** Where a task's state came from. */
export const stateSources = ['squeue', 'sacct', 'exit-file', 'run-directory', 'none'] as const;
export type StateSource = (typeof stateSources)[number];

export interface SweepTaskStatus {
  index: number;
  name: string;
  arm: string;
  seed: number;
  runDir: string;
  /** "<job>_<index>": what scancel takes for this task. */
  slurmId: string;
  state: TaskState;
  /** Slurm's own state word (PENDING, RUNNING, TIMEOUT, NODE_FAIL…) when the scheduler knows it. */
  schedulerState?: string;
  /** Why: Slurm's reason (Resources, JobArrayTaskLimit…), an exit code, a run's error. */
  reason?: string;
  source: StateSource;
  /** The run directory's last step, when it has one. */
  step?: number;
}

export interface SweepStatus {
  v: 1;
  sweepDir: string;
  /** The latest submission's job id (Cancel on the sweep cancels every submission's job). */
  jobId: string;
  tasks: SweepTaskStatus[];
  finished: number;
  total: number;
  /** True when the accounting database answered (else squeue and the exit files were used). */
  accounting: boolean;
}

/** Parses `reclab sweep-status --json` output; throws an Error naming the field at fault. */
export function parseSweepStatus(text: string): SweepStatus {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`sweep status: not valid JSON (${(e as Error).message})`);
  }
  try {
    need(isObj(raw), 'not an object');
    need(raw['v'] === 1, 'v: expected 1');
    need(isText(raw['sweepDir']) && isText(raw['jobId']), 'sweepDir / jobId: expected text');
    need(Array.isArray(raw['tasks']), 'tasks: expected an array');
    const tasks = (raw['tasks'] as unknown[]).map((t, i) => {
      need(isObj(t), `tasks[${i}]: not an object`);
      need(isInt(t['index'], 0, 1e7) && isInt(t['seed'], 0, 2 ** 31), `tasks[${i}].index / seed: expected integers`);
      need(isText(t['name']) && isText(t['arm']) && isText(t['runDir']) && isText(t['slurmId']), `tasks[${i}]: name, arm, runDir, slurmId expected`);
      need((taskStates as readonly unknown[]).includes(t['state']), `tasks[${i}].state: not a task state`);
      need((stateSources as readonly unknown[]).includes(t['source']), `tasks[${i}].source: not a state source`);
      for (const k of ['schedulerState', 'reason'] as const) need(t[k] === undefined || typeof t[k] === 'string', `tasks[${i}].${k}: expected text`);
      need(t['step'] === undefined || isInt(t['step'], 0, 2 ** 31), `tasks[${i}].step: expected an integer`);
      return t as unknown as SweepTaskStatus;
    });
    need(isInt(raw['finished'], 0, 1e7) && isInt(raw['total'], 0, 1e7), 'finished / total: expected integers');
    need(typeof raw['accounting'] === 'boolean', 'accounting: expected a boolean');
    return { v: 1, sweepDir: raw['sweepDir'] as string, jobId: raw['jobId'] as string, tasks, finished: raw['finished'] as number, total: raw['total'] as number, accounting: raw['accounting'] as boolean };
  } catch (e) {
    if (e instanceof Reject) throw new Error(`sweep status: ${e.message}`);
    throw e;
  }
}
