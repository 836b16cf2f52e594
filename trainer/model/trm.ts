// TRM — Tiny Recursive Model (reference.md §1.3–1.5), written to read like trm.py:
//   x = sqrt(D) · [puzzle-embedding prefix ; embed(tokens)]
//   net(h, injection) = blocks(h + injection)          (ONE network for z_L and z_H)
//   one cycle:  repeat n: z_L = net(z_L, z_H + x);   z_H = net(z_H, z_L)
//   a supervision step = T cycles, all but the last without gradient,
//   then logits = lm_head(z_H)[prefix:], q = q_head(z_H[0]); halting on q_halt > 0.
import type * as tf from '@tensorflow/tfjs-core';
import { supervisionStepFlops } from './flops';
import { LatentModelBase } from './latentModelBase';
import type { Depth, LatentStates, ParameterSpec, ParamSet, RecursiveModel, StepFlops } from './recursiveModel';

export type { Depth, ParameterSpec, ParamSet, TaskShape } from './recursiveModel';

/** TRM's one network, shared by z_L and z_H (TRM, and TRM-DEQ which solves the z_L update instead). */
export abstract class OneNetworkModel extends LatentModelBase {
  get depth(): Depth {
    return { hCycles: this.config.hCycles, lCycles: this.config.lCycles };
  }

  parameterSpecs(): ParameterSpec[] {
    return [...this.embeddingSpecs(), ...this.blockSpecs('layers', this.config.layers), ...this.headSpecs()];
  }

  /** The network: post-norm blocks applied to h + injection. */
  net(p: ParamSet, h: tf.Tensor3D, injection: tf.Tensor3D): tf.Tensor3D {
    return this.blocks(p, 'layers', this.config.layers, h, injection);
  }

  lNet(p: ParamSet, h: tf.Tensor3D, injection: tf.Tensor3D): tf.Tensor3D {
    return this.net(p, h, injection);
  }

  hNet(p: ParamSet, h: tf.Tensor3D, injection: tf.Tensor3D): tf.Tensor3D {
    return this.net(p, h, injection);
  }
}

export class TrmModel extends OneNetworkModel implements RecursiveModel {
  readonly arch = 'trm' as const;
  readonly learnsQContinue = false;

  /** The T − 1 cycles without gradient. */
  stepWithoutGradient(p: ParamSet, s: LatentStates, x: tf.Tensor3D, depth: Depth): LatentStates {
    return this.cyclesWithoutGradient(p, s.zH, s.zL, x, depth.hCycles - 1, depth.lCycles);
  }

  /** The last cycle, on the tape. */
  stepWithGradient(p: ParamSet, s: LatentStates, x: tf.Tensor3D, depth: Depth): LatentStates {
    return this.cycle(p, s.zH, s.zL, x, depth.lCycles);
  }

  stepFlops(depth: Depth, rows: number, training: boolean): StepFlops {
    return supervisionStepFlops(this, depth, rows, training);
  }
}
