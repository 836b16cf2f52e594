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
import type { DeqConfig, ModelConfig } from '../../protocol/config';
import { phantomUnroll } from '../deq/deqGradients';
import type { SolveResult } from '../deq/fixedPointIteration';
import { checkDeqTrainableOnTfjs, DeqSolving } from './deqSolving';
import { deqSupervisionStepFlops } from './flops';
import { OneNetworkModel } from './trm';
import type { Depth, LatentStates, ParamSet, RecursiveModel, StepFlops, TaskShape } from './recursiveModel';

export class TrmDeqModel extends OneNetworkModel implements RecursiveModel {
  readonly arch = 'trm-deq' as const;
  readonly learnsQContinue = false;
  private readonly solving: DeqSolving;

  constructor(config: ModelConfig, task: TaskShape) {
    super(config, task);
    this.solving = new DeqSolving(config);
  }

  get deq(): DeqConfig {
    return this.solving.deq;
  }

  /**
   * What the TF.js trainer cannot train (evaluation, tracing and the torch engine are fine): the IFT
   * gradient and λ_jac > 0. Called when a TF.js training run starts.
   */
  checkTrainableOnTfjs(): void {
    checkDeqTrainableOnTfjs(this.deq, 'TRM-DEQ');
  }

  /**
   * Runs `fn` with every solve capped at `iterations` map evaluations; 0: no solve, z_L stays the
   * solve's initial state. For the equilibrium-internalisation evaluation (eval.internalisation).
   */
  withSolveCap<T>(iterations: number, fn: () => T): T {
    return this.solving.withCap(iterations, fn);
  }

  /** z_L* of one cycle as a new tensor: the solve, or under a cap of 0 a copy of zL. */
  private solvedLatent(p: ParamSet, zH: tf.Tensor3D, zL: tf.Tensor3D, x: tf.Tensor3D): tf.Tensor3D {
    return this.solving.skipsSolve ? (tf.clone(zL) as tf.Tensor3D) : (this.solveLatent(p, zH, zL, x).solution as tf.Tensor3D);
  }

  /** z_L* = FP(z ↦ net(z, z_H + x)) from zL, outside any tape; the stats go to the step's statistics. */
  solveLatent(p: ParamSet, zH: tf.Tensor3D, zL: tf.Tensor3D, x: tf.Tensor3D): SolveResult {
    const injection = tf.add(zH, x) as tf.Tensor3D;
    try {
      return this.solving.solve((z) => this.net(p, z as tf.Tensor3D, injection), zL);
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
    return this.solving.takeStepStatistics();
  }

  stepFlops(depth: Depth, rows: number, training: boolean): StepFlops {
    return deqSupervisionStepFlops(this, depth, rows, training, this.deq);
  }
}
