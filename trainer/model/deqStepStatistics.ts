// The per-step statistics of a DEQ model's fixed-point solves (TRM-DEQ, the Attractor) (the `modelStats` of a step event):
// over every solve of one training step (T per micro-batch), the mean and max map evaluations per solve,
// the mean and max over (solve, row) of the returned estimate's abs / rel residual, and the
// fraction of (solve, row) pairs that converged. Both engines report the same names.
import type { SolverStats } from '../deq/solverStats';

export const DEQ_STEP_STATISTICS = ['deqIterations', 'deqIterationsMax', 'deqAbsMean', 'deqAbsMax', 'deqRelMean', 'deqRelMax', 'deqConvergedFraction'] as const;

export class DeqStepStatistics {
  private solves = 0;
  private iterations = 0;
  private iterationsMax = 0;
  private rows = 0;
  private absSum = 0;
  private relSum = 0;
  private absMax = -Infinity;
  private relMax = -Infinity;
  private converged = 0;

  add(s: SolverStats): void {
    this.solves += 1;
    this.iterations += s.iterations;
    this.iterationsMax = Math.max(this.iterationsMax, s.iterations);
    for (let r = 0; r < s.abs.length; r++) {
      this.rows += 1;
      this.absSum += s.abs[r]!;
      this.relSum += s.rel[r]!;
      // NaN propagates to the max (a diverged solve must show).
      this.absMax = Number.isNaN(s.abs[r]!) || s.abs[r]! > this.absMax ? s.abs[r]! : this.absMax;
      this.relMax = Number.isNaN(s.rel[r]!) || s.rel[r]! > this.relMax ? s.rel[r]! : this.relMax;
      if (s.converged[r]) this.converged += 1;
    }
  }

  /** The summary since the last take (undefined when nothing was solved), and a fresh start. */
  take(): Record<(typeof DEQ_STEP_STATISTICS)[number], number> | undefined {
    if (this.solves === 0) return undefined;
    const out = {
      deqIterations: this.iterations / this.solves, deqIterationsMax: this.iterationsMax,
      deqAbsMean: this.absSum / this.rows, deqAbsMax: this.absMax,
      deqRelMean: this.relSum / this.rows, deqRelMax: this.relMax,
      deqConvergedFraction: this.converged / this.rows,
    };
    this.solves = this.iterations = this.iterationsMax = this.rows = this.absSum = this.relSum = this.converged = 0;
    this.absMax = this.relMax = -Infinity;
    return out;
  }
}
