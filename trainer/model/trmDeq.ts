// TRM-DEQ — the Attractor puzzle model (reference.md §4.2, trm_deq.py): TRM whose inner n-loop is
// replaced by a fixed-point solve of the latent update, everything else (one network, the outer
// T loop, heads, ACT, deep supervision) as TRM:
//   one cycle:  z_L = FP(z ↦ net(z, z_H + x)) from the carried z_L;   z_H = net(z_H, z_L)
//   a supervision step = T − 1 cycles and the last solve without gradient (no tape over any
//   solve, so memory does not grow with maxIter), then on the tape: the phantom gradient —
//   K damped steps z ← τ net(z, z_H + x) + (1 − τ) z from the constant z_L* — and the answer
//   update z_H = net(z_H, z_L).
// Parameters are TRM's (`layers.{i}.…`), so a TRM checkpoint's layout fits. model.lCycles is not
// used (the solver decides how many latent updates a cycle takes).
import * as tf from '@tensorflow/tfjs-core';
import { resolveDeq, type DeqConfig, type ModelConfig } from '../../protocol/config';
import { InputError } from '../inputError';
import { anderson } from '../deq/anderson';
import { broyden } from '../deq/broyden';
import { phantomUnroll } from '../deq/deqGradients';
import { fixedPointIteration, type SolveResult } from '../deq/fixedPointIteration';
import { andersonOptions, broydenOptions, solverOptions } from '../deq/solverOptions';
import { DeqStepStatistics } from './deqStepStatistics';
import { deqSupervisionStepFlops } from './flops';
import { OneNetworkModel } from './trm';
import type { Depth, LatentStates, ParamSet, RecursiveModel, StepFlops, TaskShape } from './recursiveModel';

export class TrmDeqModel extends OneNetworkModel implements RecursiveModel {
  readonly arch = 'trm-deq' as const;
  readonly learnsQContinue = false;
  readonly deq: DeqConfig;
  private readonly solveStats = new DeqStepStatistics();
  /** Equilibrium internalisation (evaluation only): every solve capped at this many map evaluations, 0 = no solve. */
  private solveCap: number | undefined;

  constructor(config: ModelConfig, task: TaskShape) {
    super(config, task);
    this.deq = resolveDeq(config);
    this.solverOptions(); // every solver field checked now, not at the first step
  }

  /**
   * What the TF.js trainer cannot train (evaluation, tracing and the torch engine are fine): the IFT
   * gradient and λ_jac > 0. Called when a TF.js training run starts.
   */
  checkTrainableOnTfjs(): void {
    if (this.deq.gradient === 'ift') {
      throw new InputError('model.deq.gradient: "ift" is implemented by the torch engine only; the TF.js engine trains TRM-DEQ with "phantom"');
    }
    if (this.deq.jacobianReg > 0) {
      throw new InputError('model.deq.jacobianReg: must be 0 on the TF.js engine (tfjs-core second derivatives are wrong through SiLU, docs/deq-solvers.md); use the torch engine for λ_jac > 0');
    }
  }

  /**
   * Runs `fn` with every solve capped at `iterations` map evaluations (maxIter min(iterations,
   * model.deq.maxIter), minIter at most that); 0: no solve, z_L stays the solve's initial state.
   * For the equilibrium-internalisation evaluation (eval.internalisation).
   */
  withSolveCap<T>(iterations: number, fn: () => T): T {
    if (!Number.isInteger(iterations) || iterations < 0) throw new InputError(`eval.internalisation.iterations: ${iterations} is not an integer >= 0`);
    const before = this.solveCap;
    this.solveCap = iterations;
    let pending = false;
    try {
      const r = fn();
      if (r instanceof Promise) {
        // An async evaluation: the cap holds until it settles.
        pending = true;
        return r.finally(() => { this.solveCap = before; }) as T;
      }
      return r;
    } finally {
      if (!pending) this.solveCap = before;
    }
  }

  /** z_L* of one cycle as a new tensor: the solve, or under a cap of 0 a copy of zL. */
  private solvedLatent(p: ParamSet, zH: tf.Tensor3D, zL: tf.Tensor3D, x: tf.Tensor3D): tf.Tensor3D {
    return this.solveCap === 0 ? (tf.clone(zL) as tf.Tensor3D) : (this.solveLatent(p, zH, zL, x).solution as tf.Tensor3D);
  }

  /** z_L* = FP(z ↦ net(z, z_H + x)) from zL, outside any tape; the stats go to the step's statistics. */
  solveLatent(p: ParamSet, zH: tf.Tensor3D, zL: tf.Tensor3D, x: tf.Tensor3D): SolveResult {
    const injection = tf.add(zH, x) as tf.Tensor3D;
    try {
      const map = (z: tf.Tensor) => this.net(p, z as tf.Tensor3D, injection);
      const o = this.solverOptions();
      const result = this.deq.solver === 'anderson' ? anderson(map, zL, o)
        : this.deq.solver === 'broyden' ? broyden(map, zL, o) : fixedPointIteration(map, zL, o);
      this.solveStats.add(result.stats);
      return result;
    } finally {
      injection.dispose();
    }
  }

  /** `cycles` cycles (solve, answer update) then, with `finalSolve`, one more solve; ownership as the base class. */
  override cyclesWithoutGradient(p: ParamSet, zH: tf.Tensor3D, zL: tf.Tensor3D, x: tf.Tensor3D, cycles: number, _lCycles: number, finalSolve = 0): LatentStates {
    const owned = new Set<tf.Tensor>();
    const replace = (old: tf.Tensor3D, next: tf.Tensor3D) => {
      if (owned.delete(old)) old.dispose();
      owned.add(next);
      return next;
    };
    for (let c = 0; c < cycles; c++) {
      zL = replace(zL, this.solvedLatent(p, zH, zL, x));
      zH = replace(zH, tf.tidy(() => this.net(p, zH, zL)));
    }
    if (finalSolve > 0) zL = replace(zL, this.solvedLatent(p, zH, zL, x));
    return { zH, zL };
  }

  /** T − 1 cycles, then the last cycle's solve: z_L* for the taped part. */
  stepWithoutGradient(p: ParamSet, s: LatentStates, x: tf.Tensor3D, depth: Depth): LatentStates {
    return this.cyclesWithoutGradient(p, s.zH, s.zL, x, depth.hCycles - 1, depth.lCycles, 1);
  }

  /** The phantom gradient from the constant z_L* (K damped steps), then the answer update. */
  stepWithGradient(p: ParamSet, s: LatentStates, x: tf.Tensor3D, _depth: Depth): LatentStates {
    const injection = tf.add(s.zH, x) as tf.Tensor3D;
    const zL = phantomUnroll((z) => this.net(p, z as tf.Tensor3D, injection), s.zL, { steps: this.deq.phantomSteps, tau: this.deq.phantomDamping }) as tf.Tensor3D;
    return { zH: this.net(p, s.zH, zL), zL };
  }

  /** The solver statistics of the solves since the last call (one training step's), or undefined. */
  takeStepStatistics(): Record<string, number> | undefined {
    return this.solveStats.take();
  }

  stepFlops(depth: Depth, rows: number, training: boolean): StepFlops {
    return deqSupervisionStepFlops(this, depth, rows, training, this.deq);
  }

  private solverOptions() {
    const d = this.deq;
    const maxIter = this.solveCap === undefined ? d.maxIter : Math.max(1, Math.min(this.solveCap, d.maxIter));
    // Under a cap minIter follows it down; without one a minIter above maxIter stays the config error it is.
    const base = { maxIter, minIter: this.solveCap === undefined ? d.minIter : Math.min(d.minIter, maxIter), tol: d.tol, stopMode: d.stopMode };
    if (d.solver === 'anderson') return andersonOptions({ ...base, memory: d.memory, beta: d.beta, lambda: d.lambda }, 'model.deq (anderson)');
    if (d.solver === 'broyden') return broydenOptions({ ...base, memory: d.memory }, 'model.deq (broyden)');
    return solverOptions(base, 'model.deq (fpi)');
  }
}
