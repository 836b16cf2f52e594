// What a run's events mean for the views: the step and eval tables the panel draws, and the
// latest figures the tree and the status bar show. Fed in file order by EventMerger.
import { ColumnTable } from '../../protocol/columnTable';
import type { DoneEvent, RefinementEvent, StepEvent, TrainerEvent } from '../../protocol/events';
import {
  evalColumnNames, solverColumnNames, stepColumnNames, type EvalColumnName, type SolverColumnName, type StepColumnName,
} from '../../protocol/webviewMessages';

export interface RunFigures {
  step: number;
  totalSteps?: number;
  hCycles?: number;
  lCycles?: number;
  /** Depth-curriculum stage (0-based) and stage count, from `stage` events (absent without curriculum). */
  stage?: number;
  stages?: number;
  /** Exact accuracy of the latest evaluation, else of the latest training step that had halted rows. */
  exactAccuracy?: number;
  exactAccuracySource?: 'eval' | 'train';
  bestExactAccuracy?: number;
  samplesPerSecond?: number;
  backend?: string;
  startTime?: number;
  lastEventTime?: number;
  started: boolean;
  done?: DoneEvent['status'];
  error?: string;
}

const num = (x: number | null | undefined): number => (typeof x === 'number' && Number.isFinite(x) ? x : NaN);

export class RunSeries {
  readonly steps = new ColumnTable<StepColumnName>(stepColumnNames, 256);
  readonly evals = new ColumnTable<EvalColumnName>(evalColumnNames, 16);
  /** DEQ runs: one row per step event whose modelStats carry the solver's statistics (empty otherwise). */
  readonly solver = new ColumnTable<SolverColumnName>(solverColumnNames, 16);
  readonly figures: RunFigures = { step: 0, started: false };
  /**
   * Every refinement snapshot of the probe puzzles, in step order (the Puzzle Refinement view's
   * training-step slider). A snapshot is a few kB to ~100 kB (base64 bytes of puzzles × frames × cells).
   */
  readonly refinements: RefinementEvent[] = [];
  /** Told when rows from `fromRow` on were dropped (a resume rewrites the lost timeline). */
  readonly rewriteListeners = new Set<(table: 'steps' | 'evals' | 'solver', fromRow: number) => void>();

  apply(e: TrainerEvent): void {
    const f = this.figures;
    f.lastEventTime = e.time;
    switch (e.type) {
      case 'stage':
        f.stage = e.stage;
        f.stages = e.stages;
        f.hCycles = e.hCycles;
        f.lCycles = e.lCycles;
        break;
      case 'run_start':
        f.started = true;
        f.done = undefined;
        f.error = undefined;
        f.step = e.startStep;
        f.totalSteps = e.totalSteps;
        f.backend = e.backend;
        f.startTime ??= e.time;
        f.hCycles = e.config.model.hCycles;
        f.lCycles = e.config.model.lCycles;
        // A resumed run continues from its checkpoint: rows past it belong to the lost timeline.
        this.truncateSteps(e.startStep);
        this.truncateEvals(e.startStep);
        this.dropRefinementsAfter(e.startStep);
        break;
      case 'step':
        this.addStep(e);
        break;
      case 'eval':
        if (this.evals.length > 0 && this.evals.get('step', this.evals.length - 1) > e.step) this.truncateEvals(e.step);
        this.evals.appendRow({
          step: e.step, time: e.time, exactAccuracy: e.exactAccuracy, tokenAccuracy: e.tokenAccuracy, qHaltAccuracy: e.qHaltAccuracy,
          gradientVariance: num(e.gradientVariance), internalisedExactAccuracy: num(e.internalisation?.[0]?.exactAccuracy),
        });
        f.exactAccuracy = e.exactAccuracy;
        f.exactAccuracySource = 'eval';
        f.bestExactAccuracy = Math.max(f.bestExactAccuracy ?? 0, e.exactAccuracy);
        break;
      case 'refinement':
        // A snapshot of a step already held replaces it and what follows (a rewritten timeline).
        this.dropRefinementsAfter(e.step - 1);
        this.refinements.push(e);
        break;
      case 'checkpoint':
        break;
      case 'done':
        f.done = e.status;
        f.step = e.step;
        break;
      case 'error':
        f.error = e.message;
        break;
    }
  }

  /** The latest refinement snapshot. */
  get refinement(): RefinementEvent | undefined {
    return this.refinements[this.refinements.length - 1];
  }

  /** The snapshot of training step `step`, if there is one. */
  refinementAt(step: number): RefinementEvent | undefined {
    return this.refinements.find((r) => r.step === step);
  }

  private dropRefinementsAfter(step: number): void {
    while (this.refinements.length && this.refinements[this.refinements.length - 1]!.step > step) this.refinements.pop();
  }

  private addStep(e: StepEvent): void {
    const t = this.steps;
    if (t.length > 0 && t.get('step', t.length - 1) >= e.step) this.truncateSteps(e.step - 1);
    t.appendRow({
      step: e.step, time: e.time, lmLoss: num(e.lmLoss), qHaltLoss: num(e.qHaltLoss), tokenAccuracy: num(e.tokenAccuracy),
      exactAccuracy: num(e.exactAccuracy), qHaltAccuracy: num(e.qHaltAccuracy), gradNorm: num(e.gradNorm), gradVariance: num(e.gradVarianceRunning),
      samplesPerSecond: num(e.samplesPerSecond), hCycles: num(e.hCycles), lCycles: num(e.lCycles), lr: num(e.lr),
    });
    const m = e.modelStats;
    if (m && typeof m['deqIterations'] === 'number') {
      const row = { step: e.step, time: e.time } as Record<SolverColumnName, number>;
      for (const c of solverColumnNames) if (c !== 'step' && c !== 'time') row[c] = num(m[c]);
      this.solver.appendRow(row);
    }
    const f = this.figures;
    f.step = e.step;
    f.hCycles = e.hCycles;
    f.lCycles = e.lCycles;
    if (f.stages !== undefined && Number.isFinite(e.stage)) f.stage = e.stage;
    f.samplesPerSecond = e.samplesPerSecond;
    f.startTime ??= e.time;
    if (e.exactAccuracy !== null && f.exactAccuracySource !== 'eval') {
      f.exactAccuracy = e.exactAccuracy;
      f.exactAccuracySource = 'train';
    }
  }

  /** Keeps the step (and solver) rows with step <= lastStep (they are in step order). */
  private truncateSteps(lastStep: number): void {
    const rows = firstRowAbove(this.steps.column('step'), this.steps.length, lastStep);
    if (rows < this.steps.length) {
      this.steps.truncate(rows);
      for (const l of this.rewriteListeners) l('steps', rows);
    }
    const solverRows = firstRowAbove(this.solver.column('step'), this.solver.length, lastStep);
    if (solverRows < this.solver.length) {
      this.solver.truncate(solverRows);
      for (const l of this.rewriteListeners) l('solver', solverRows);
    }
  }

  private truncateEvals(lastStep: number): void {
    const rows = firstRowAbove(this.evals.column('step'), this.evals.length, lastStep);
    if (rows < this.evals.length) {
      this.evals.truncate(rows);
      for (const l of this.rewriteListeners) l('evals', rows);
    }
  }
}

/** The first row whose value exceeds `v` in the ascending column[0..n). */
function firstRowAbove(column: Float64Array, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (column[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
