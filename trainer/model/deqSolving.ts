// The fixed-point solving both DEQ models share (TRM-DEQ's latent solve, the Attractor's answer
// solve): model.deq's solver and options checked once, the solve outside any tape, its statistics
// gathered per training step, and the equilibrium-internalisation cap (eval.internalisation).
import type * as tf from '@tensorflow/tfjs-core';
import { resolveDeq, type DeqConfig, type ModelConfig } from '../../protocol/config';
import { InputError } from '../inputError';
import { anderson } from '../deq/anderson';
import { broyden } from '../deq/broyden';
import { fixedPointIteration, type FixedPointMap, type SolveResult } from '../deq/fixedPointIteration';
import { andersonOptions, broydenOptions, solverOptions } from '../deq/solverOptions';
import { DeqStepStatistics } from './deqStepStatistics';

export class DeqSolving {
  readonly deq: DeqConfig;
  private readonly stats = new DeqStepStatistics();
  /** Equilibrium internalisation (evaluation only): every solve capped at this many map evaluations, 0 = no solve. */
  private cap: number | undefined;

  constructor(config: ModelConfig) {
    this.deq = resolveDeq(config);
    this.options(); // every solver field checked now, not at the first step
  }

  /** True while a cap of 0 is in force: the caller keeps the solve's initial state. */
  get skipsSolve(): boolean {
    return this.cap === 0;
  }

  /**
   * Runs `fn` with every solve capped at `iterations` map evaluations (maxIter min(iterations,
   * model.deq.maxIter), minIter at most that); 0: no solve (see skipsSolve).
   */
  withCap<T>(iterations: number, fn: () => T): T {
    if (!Number.isInteger(iterations) || iterations < 0) throw new InputError(`eval.internalisation.iterations: ${iterations} is not an integer >= 0`);
    const before = this.cap;
    this.cap = iterations;
    let pending = false;
    try {
      const r = fn();
      if (r instanceof Promise) {
        // An async evaluation: the cap holds until it settles.
        pending = true;
        return r.finally(() => { this.cap = before; }) as T;
      }
      return r;
    } finally {
      if (!pending) this.cap = before;
    }
  }

  /** FP(map) from z0 with model.deq's solver, outside any tape; the stats go to the step's statistics. */
  solve(map: FixedPointMap, z0: tf.Tensor): SolveResult {
    const o = this.options();
    const result = this.deq.solver === 'anderson' ? anderson(map, z0, o)
      : this.deq.solver === 'broyden' ? broyden(map, z0, o) : fixedPointIteration(map, z0, o);
    this.stats.add(result.stats);
    return result;
  }

  /** The statistics of the solves since the last call (one training step's), or undefined. */
  takeStepStatistics(): Record<string, number> | undefined {
    return this.stats.take();
  }

  private options() {
    const d = this.deq;
    const maxIter = this.cap === undefined ? d.maxIter : Math.max(1, Math.min(this.cap, d.maxIter));
    // Under a cap minIter follows it down; without one a minIter above maxIter stays the config error it is.
    const base = { maxIter, minIter: this.cap === undefined ? d.minIter : Math.min(d.minIter, maxIter), tol: d.tol, stopMode: d.stopMode };
    if (d.solver === 'anderson') return andersonOptions({ ...base, memory: d.memory, beta: d.beta, lambda: d.lambda }, 'model.deq (anderson)');
    if (d.solver === 'broyden') return broydenOptions({ ...base, memory: d.memory }, 'model.deq (broyden)');
    return solverOptions(base, 'model.deq (fpi)');
  }
}

/** What the TF.js trainer cannot train for a DEQ model: the IFT and one-step gradients and λ_jac > 0 (torch only). */
export function checkDeqTrainableOnTfjs(deq: DeqConfig, arch: string): void {
  if (deq.gradient !== 'phantom') {
    throw new InputError(`model.deq.gradient: "${deq.gradient}" is implemented by the torch engine only; the TF.js engine trains ${arch} with "phantom"`);
  }
  if (deq.jacobianReg > 0) {
    throw new InputError('model.deq.jacobianReg: must be 0 on the TF.js engine (tfjs-core second derivatives are wrong through SiLU, docs/deq-solvers.md); use the torch engine for λ_jac > 0');
  }
}
