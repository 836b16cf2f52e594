// HRM — Hierarchical Reasoning Model (reference.md §1.5, hrm_act_v1.py), written to read like
// the reference:
//   x = sqrt(D) · [puzzle-embedding prefix ; embed(tokens)]
//   L_net(h, inj) = l_layers(h + inj);  H_net(h, inj) = h_layers(h + inj)   (TWO networks)
//   no grad:  for h in 0..T-1: for l in 0..n-1:
//                 if not last (h, l): z_L = L_net(z_L, z_H + x)
//             if h < T-1: z_H = H_net(z_H, z_L)
//   1-step gradient:  z_L = L_net(z_L, z_H + x);  z_H = H_net(z_H, z_L)
//   logits = lm_head(z_H)[prefix:];  (q_halt, q_continue) = q_head(z_H[0])
// Halting (training): q_halt > q_continue; q_continue learns the bootstrapped target of
// qContinueTarget.ts.
import type * as tf from '@tensorflow/tfjs-core';
import { hrmSupervisionStepFlops } from './flops';
import { LatentModelBase } from './latentModelBase';
import type { Depth, LatentStates, ParameterSpec, ParamSet, RecursiveModel, StepFlops } from './recursiveModel';

export class HrmModel extends LatentModelBase implements RecursiveModel {
  readonly arch = 'hrm' as const;
  readonly learnsQContinue = true;

  get depth(): Depth {
    return { hCycles: this.config.hCycles, lCycles: this.config.lCycles };
  }

  /** H_layers (absent: the L network's block count). */
  get hLayers(): number {
    return this.config.hLayers ?? this.config.layers;
  }

  parameterSpecs(): ParameterSpec[] {
    return [
      ...this.embeddingSpecs(),
      ...this.blockSpecs('h_layers', this.hLayers),
      ...this.blockSpecs('l_layers', this.config.layers),
      ...this.headSpecs(),
    ];
  }

  lNet(p: ParamSet, h: tf.Tensor3D, injection: tf.Tensor3D): tf.Tensor3D {
    return this.blocks(p, 'l_layers', this.config.layers, h, injection);
  }

  hNet(p: ParamSet, h: tf.Tensor3D, injection: tf.Tensor3D): tf.Tensor3D {
    return this.blocks(p, 'h_layers', this.hLayers, h, injection);
  }

  /** Everything but the last L and H update: T − 1 cycles, then n − 1 z_L updates. */
  stepWithoutGradient(p: ParamSet, s: LatentStates, x: tf.Tensor3D, depth: Depth): LatentStates {
    return this.cyclesWithoutGradient(p, s.zH, s.zL, x, depth.hCycles - 1, depth.lCycles, depth.lCycles - 1);
  }

  /** The 1-step gradient: one L update, one H update, on the tape. */
  stepWithGradient(p: ParamSet, s: LatentStates, x: tf.Tensor3D, _depth: Depth): LatentStates {
    return this.cycle(p, s.zH, s.zL, x, 1);
  }

  stepFlops(depth: Depth, rows: number, training: boolean): StepFlops {
    return hrmSupervisionStepFlops(this, depth, rows, training);
  }
}
