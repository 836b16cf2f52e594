// What a fixed-point solve did, per sample (TorchDEQ's SolverStat is the model, reference.md §4.3):
// the absolute and relative residual at every map evaluation, the lowest of each, the evaluation
// whose estimate is returned, whether it converged. `SolveRecorder` is the bookkeeping both solvers
// share: it measures each evaluation, keeps the lowest-residual estimate per sample and says when
// the stop rule holds.
import * as tf from '@tensorflow/tfjs-core';
import type { SolverName, SolverOptions, StopMode } from './solverOptions';

/** Added to ‖f(z)‖ in the relative residual so a zero estimate gives a large, finite value. */
export const REL_EPS = 1e-9;

export interface SolverStats {
  solver: SolverName;
  stopMode: StopMode;
  tol: number;
  /** Map evaluations done (the length of every trace). */
  iterations: number;
  /** [B][iterations]: ‖f(z_k) − z_k‖ per sample. */
  absTrace: number[][];
  /** [B][iterations]: ‖f(z_k) − z_k‖ / (‖f(z_k)‖ + 1e-9). */
  relTrace: number[][];
  /** Per sample, the lowest of its trace. */
  absLowest: number[];
  relLowest: number[];
  /** Per sample, the 1-based evaluation whose estimate f(z_k) is returned. */
  nstep: number[];
  /** Per sample, the residual (abs and rel) of the returned estimate. */
  abs: number[];
  rel: number[];
  /** Per sample: the returned estimate's residual (stopMode) is below tol. */
  converged: boolean[];
  /** Anderson: sample-steps whose mixing was not finite and fell back to a plain step. */
  fallbacks: number;
}

export interface SolverSummary {
  iterations: number;
  absMean: number;
  absMax: number;
  relMean: number;
  relMax: number;
  /** Every sample converged. */
  converged: boolean;
  convergedFraction: number;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const max = (xs: number[]): number => xs.reduce((a, b) => (Number.isNaN(b) || b > a ? b : a), -Infinity);

/** Mean and max over the batch of the returned estimates' residuals (NaN propagates to max). */
export function summarizeSolverStats(s: SolverStats): SolverSummary {
  const n = s.converged.filter(Boolean).length;
  return {
    iterations: s.iterations, absMean: mean(s.abs), absMax: max(s.abs), relMean: mean(s.rel), relMax: max(s.rel),
    converged: n === s.converged.length, convergedFraction: n / s.converged.length,
  };
}

/** Per-sample ‖f(z) − z‖ and ‖f(z) − z‖ / (‖f(z)‖ + ε) of batch-first tensors, as [2, B]. */
function residuals(z: tf.Tensor, fz: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const b = z.shape[0]!;
    const diff = tf.norm(tf.reshape(tf.sub(fz, z), [b, -1]), 'euclidean', 1);
    const rel = tf.div(diff, tf.add(tf.norm(tf.reshape(fz, [b, -1]), 'euclidean', 1), REL_EPS));
    return tf.stack([diff, rel]) as tf.Tensor2D;
  });
}

export class SolveRecorder {
  private readonly absTrace: number[][];
  private readonly relTrace: number[][];
  private readonly lowest: number[];
  private readonly nstep: number[];
  private best: tf.Tensor | undefined;
  private bestAbs: number[];
  private bestRel: number[];
  private lastAbs: number[] = [];
  private lastRel: number[] = [];
  fallbacks = 0;

  constructor(private readonly solver: SolverName, private readonly options: SolverOptions, private readonly batch: number) {
    this.absTrace = Array.from({ length: batch }, () => []);
    this.relTrace = Array.from({ length: batch }, () => []);
    this.lowest = new Array<number>(batch).fill(Infinity);
    this.nstep = new Array<number>(batch).fill(0);
    this.bestAbs = new Array<number>(batch).fill(NaN);
    this.bestRel = new Array<number>(batch).fill(NaN);
  }

  get iterations(): number {
    return this.absTrace[0]!.length;
  }

  /**
   * Measures one evaluation fz = f(z) and keeps fz as a sample's estimate where its residual (in
   * stopMode) is the lowest so far. True when the solve may stop: minIter reached and the max over
   * the batch below tol. `fz` stays the caller's.
   */
  record(z: tf.Tensor, fz: tf.Tensor): boolean {
    const r = residuals(z, fz);
    const data = r.dataSync();
    r.dispose();
    const B = this.batch;
    const step = this.iterations + 1;
    const improved: boolean[] = [];
    this.lastAbs = Array.from(data.subarray(0, B));
    this.lastRel = Array.from(data.subarray(B, 2 * B));
    for (let i = 0; i < B; i++) {
      const a = this.lastAbs[i]!;
      const rel = this.lastRel[i]!;
      this.absTrace[i]!.push(a);
      this.relTrace[i]!.push(rel);
      const m = this.options.stopMode === 'abs' ? a : rel;
      // A NaN never improves; the first finite-or-not evaluation is taken so there is always one.
      const better = m < this.lowest[i]! || this.nstep[i] === 0;
      improved.push(better);
      if (better) {
        this.lowest[i] = Number.isNaN(m) ? Infinity : m;
        this.nstep[i] = step;
        this.bestAbs[i] = a;
        this.bestRel[i] = rel;
      }
    }
    if (!this.options.returnFinal) {
      if (this.best === undefined) this.best = fz.clone();
      else if (improved.some(Boolean)) {
        const prev = this.best;
        this.best = tf.tidy(() => {
          const mask = tf.reshape(tf.cast(tf.tensor1d(improved.map(Number), 'int32'), 'bool'), [B, ...fz.shape.slice(1).map(() => 1)]);
          return tf.where(tf.broadcastTo(mask, fz.shape), fz, prev);
        });
        prev.dispose();
      }
    }
    if (step < this.options.minIter) return false;
    const worst = max(this.options.stopMode === 'abs' ? this.lastAbs : this.lastRel);
    return worst < this.options.tol;
  }

  /** The stats, and the estimate to return (a tensor the caller owns; `last` is f of the last iterate). */
  finish(last: tf.Tensor): { solution: tf.Tensor; stats: SolverStats } {
    const final = this.options.returnFinal;
    const n = this.iterations;
    const abs = final ? this.lastAbs : this.bestAbs;
    const rel = final ? this.lastRel : this.bestRel;
    const stats: SolverStats = {
      solver: this.solver, stopMode: this.options.stopMode, tol: this.options.tol, iterations: n,
      absTrace: this.absTrace, relTrace: this.relTrace,
      absLowest: this.absTrace.map((t) => Math.min(...t.map((x) => (Number.isNaN(x) ? Infinity : x)))),
      relLowest: this.relTrace.map((t) => Math.min(...t.map((x) => (Number.isNaN(x) ? Infinity : x)))),
      nstep: final ? new Array<number>(this.batch).fill(n) : [...this.nstep],
      abs: [...abs], rel: [...rel],
      converged: (this.options.stopMode === 'abs' ? abs : rel).map((x) => x < this.options.tol),
      fallbacks: this.fallbacks,
    };
    const solution = final ? last.clone() : this.best!;
    this.best = undefined;
    return { solution, stats };
  }
}
