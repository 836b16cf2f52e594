// Trainer events: one JSON object per line of runs/<id>/events.jsonl (and on the live channel).
// Every event carries the format version `v` and its `type`; readers skip what they do not know.
import type { RunConfig } from './config';
import type { RefinementTrajectory } from './refinement';

export const EVENTS_FORMAT_VERSION = 1;

interface EventBase {
  v: typeof EVENTS_FORMAT_VERSION;
  /** Wall-clock time, ms since the epoch. */
  time: number;
}

export interface RunStartEvent extends EventBase {
  type: 'run_start';
  runId: string;
  config: RunConfig;
  backend: string;
  startStep: number;
  totalSteps: number;
  resumed: boolean;
  parameterCount: number;
}

/** Metrics of one optimizer step (= one supervision step of every carried row). */
export interface StepEvent extends EventBase {
  type: 'step';
  step: number;
  lmLoss: number;
  qHaltLoss: number;
  /** Token / exact / q-halt accuracy over the rows that halted at this step (null if none did). */
  tokenAccuracy: number | null;
  exactAccuracy: number | null;
  qHaltAccuracy: number | null;
  /** Mean supervision steps of the rows that halted at this step (null if none did). */
  meanHaltSteps: number | null;
  haltedRows: number;
  lr: number;
  gradNorm: number;
  samplesPerSecond: number;
  /** Analytic matmul FLOPs of this step, forward and backward counted separately. */
  flopsForward: number;
  flopsBackward: number;
  /** Recursion depth used for this step, and its depth-curriculum stage (0-based; 0 without curriculum). */
  hCycles: number;
  lCycles: number;
  stage: number;
  stepSeconds: number;
  /** ‖g − m‖² / ‖m‖², m the optimizer's running mean of past gradients: a cheap per-step variance estimate (null before m exists). */
  gradVarianceRunning: number | null;
  /** The HSW factor on the whole batch loss (1 unless train.hsw.mode = "code"). */
  lossScale: number;
  /** Statistics the model itself declares (name -> value), e.g. HRM's qContinueLoss (mean over rows); absent when it has none. */
  modelStats?: Record<string, number>;
}

/** The depth curriculum entered a new stage at this step (also emitted for the first stage). */
export interface StageEvent extends EventBase {
  type: 'stage';
  step: number;
  stage: number;
  stages: number;
  hCycles: number;
  lCycles: number;
  /** Training progress (step − 1) / total at which the stage starts. */
  progress: number;
}

export interface BlankCountAccuracy {
  blanks: number;
  count: number;
  exactAccuracy: number;
  tokenAccuracy: number;
}

export interface InternalisationResult {
  iterations: number;
  exactAccuracy: number;
  tokenAccuracy: number;
  exactLost: number;
  tokenLost: number;
}

export interface EvalEvent extends EventBase {
  type: 'eval';
  step: number;
  /** 'periodic' runs on a subset of the held-out set; 'final' on all of it. */
  scope: 'periodic' | 'final';
  puzzles: number;
  exactAccuracy: number;
  tokenAccuracy: number;
  qHaltAccuracy: number;
  /** Per difficulty: blank cells for Sudoku, shortest-path length (moves) for mazes (see difficulty). */
  byBlanks: BlankCountAccuracy[];
  /** What byBlanks[].blanks counts when not Sudoku blanks: "path length" for mazes. */
  difficulty?: string;
  /** Mazes: the predicted path cells ('o') against the true ones: all exactly right, and mean IoU. */
  path?: { exactAccuracy: number; iou: number };
  seconds: number;
  /** Evaluation always runs the full depth, whatever the curriculum stage. */
  hCycles: number;
  lCycles: number;
  /** Early-exit evaluation on the same puzzles: each row stops where the halting rule first fires (TRM q_halt > 0, HRM q_halt > q_continue; or N_sup). */
  earlyExit: { meanSteps: number; exactAccuracy: number; qHaltAccuracy: number };
  /** V = mean_k ‖g_k − ḡ‖² / ‖ḡ‖² over groups of the next training batch at fixed parameters (null when off). */
  gradientVariance: number | null;
  /**
   * Equilibrium internalisation (DEQ models with eval.internalisation): the same puzzles and weights
   * with every fixed-point solve capped at `iterations` map evaluations (0: no solve, z_L stays the
   * solve's initial state), in the order configured; exactLost / tokenLost = this evaluation's
   * full-solve accuracy minus the capped one (positive = accuracy the solver adds).
   */
  internalisation?: InternalisationResult[];
  /** Training time (step seconds, evaluation excluded) and analytic FLOPs spent up to this step. */
  trainSeconds: number;
  flopsForwardTotal: number;
  flopsBackwardTotal: number;
}

/** The probe puzzles traced with the evaluation weights at full depth (refinement view). */
export interface RefinementEvent extends EventBase {
  type: 'refinement';
  step: number;
  trajectory: RefinementTrajectory;
}

export interface CheckpointEvent extends EventBase {
  type: 'checkpoint';
  step: number;
  /** Path relative to the run directory. */
  path: string;
}

export interface DoneEvent extends EventBase {
  type: 'done';
  step: number;
  status: 'completed' | 'stopped';
  wallSeconds: number;
}

export interface ErrorEvent extends EventBase {
  type: 'error';
  message: string;
  step?: number;
}

export type TrainerEvent = RunStartEvent | StepEvent | StageEvent | EvalEvent | RefinementEvent | CheckpointEvent | DoneEvent | ErrorEvent;
export type TrainerEventType = TrainerEvent['type'];
export const trainerEventTypes: readonly TrainerEventType[] = ['run_start', 'step', 'stage', 'eval', 'refinement', 'checkpoint', 'done', 'error'];

/** Distributive Omit, so each event type keeps its own fields. */
export type EventPayload<E = TrainerEvent> = E extends TrainerEvent ? Omit<E, 'v' | 'time'> : never;

/**
 * Parses one line of events.jsonl. Returns the event, or an error string for a torn or
 * malformed line (the caller skips it with a warning, never crashes).
 */
export function parseEventLine(line: string): TrainerEvent | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { error: 'not valid JSON (torn or malformed line)' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'not a JSON object' };
  const o = value as Record<string, unknown>;
  if (o['v'] !== EVENTS_FORMAT_VERSION) return { error: `unsupported event format version ${String(o['v'])}` };
  if (typeof o['type'] !== 'string' || !(trainerEventTypes as readonly string[]).includes(o['type'])) return { error: `unknown event type ${String(o['type'])}` };
  if (typeof o['time'] !== 'number') return { error: 'missing numeric field "time"' };
  return o as unknown as TrainerEvent;
}
