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
