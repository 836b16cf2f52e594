// Layout of a run directory (design.md "Run directory"): the durable truth every reader uses.
// events.jsonl: one event a line; a writer that starts on a file whose last line is torn (no
// final newline: a killed writer, a full disk) first writes a newline, so the fragment is a line
// of its own that readers skip, and the writer's k-th event is the line after it plus k.
export const runFiles = {
  config: 'config.json',
  events: 'events.jsonl',
  summary: 'summary.json',
  checkpoints: 'checkpoints',
  onnxModel: 'model.onnx',
  /** The live trainer holding the run's lock (TrainerRecord); present only while one runs, or after a kill. */
  trainer: 'trainer.json',
} as const;

/** checkpoints/step-000500.ckpt: zero-padded so names sort by step. */
export function checkpointFileName(step: number): string {
  return `step-${String(step).padStart(7, '0')}.ckpt`;
}

export function stepOfCheckpointFile(name: string): number | undefined {
  const m = /^step-(\d+)\.ckpt$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** What config.json holds besides the resolved config. */
export interface RunMetadata {
  runId: string;
  createdAt: string;
  preset?: string;
  configFile?: string;
  /** The engine that trains the run; absent in runs from before the PyTorch engine (= "tfjs"). */
  engine?: 'tfjs' | 'torch';
  backend: string;
  versions: Record<string, string>;
  gitCommit?: string;
  command: string[];
}

export interface RunSummary {
  runId: string;
  status: 'completed' | 'stopped' | 'failed';
  steps: number;
  wallSeconds: number;
  backend: string;
  finalEval?: { exactAccuracy: number; tokenAccuracy: number; byBlanks: { blanks: number; count: number; exactAccuracy: number }[] };
  bestExactAccuracy?: number;
  flopsForwardTotal: number;
  flopsBackwardTotal: number;
}

/**
 * trainer.json: the run's lock and the trainer's liveness. Created exclusively by the process that
 * trains the run (`train`, `resume`), its `heartbeat` rewritten every HEARTBEAT_MS by a timer off
 * the training thread (so a long step still beats), removed when it exits. A record whose process
 * is gone is stale: same host and boot, and no process with that pid and start time; or no
 * heartbeat for HEARTBEAT_STALE_MS (the only test across hosts, e.g. a cluster's shared storage).
 */
export interface TrainerRecord {
  pid: number;
  /** os.hostname() of the trainer. */
  host: string;
  /** Linux: /proc/sys/kernel/random/boot_id (a pid from before a reboot is never live). */
  bootId?: string;
  /** Linux: the process's start time (field 22 of /proc/<pid>/stat), which tells a reused pid apart. */
  processStart?: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  /** ISO time of the last beat. */
  heartbeat: string;
  command: string[];
}

export const HEARTBEAT_MS = 1000;
export const HEARTBEAT_STALE_MS = 10_000;

/** The record in a trainer.json, or undefined when the text is not one. */
export function parseTrainerRecord(text: string): TrainerRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  const optionalText = (k: string) => r[k] === undefined || typeof r[k] === 'string';
  if (!Number.isInteger(r['pid']) || (r['pid'] as number) <= 0 || typeof r['host'] !== 'string' || typeof r['startedAt'] !== 'string'
    || typeof r['heartbeat'] !== 'string' || Number.isNaN(Date.parse(r['heartbeat'])) || !optionalText('bootId') || !optionalText('processStart')
    || !Array.isArray(r['command']) || !r['command'].every((c) => typeof c === 'string')) return undefined;
  return r as unknown as TrainerRecord;
}

/** Milliseconds since the record's last heartbeat. */
export function heartbeatAgeMs(r: TrainerRecord, now = Date.now()): number {
  return now - Date.parse(r.heartbeat);
}
