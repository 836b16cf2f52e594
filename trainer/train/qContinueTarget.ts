// HRM's Q-learning target for q_continue (reference.md §1.5, hrm_act_v1.py): one EXTRA full
// supervision step, without gradient, from the post-step carry on the same data:
//   target = sigmoid(is_last ? next_q_halt : max(next_q_halt, next_q_continue))
// is_last = the row reached haltMaxSteps at this step. No replay buffer or target network, as
// the reference (many rows act as parallel environments).
//
// TF.js has no stop_gradient. The target is computed inside the tape (the loss needs it), so
// it runs inside a custom-gradient op: ops inside a customGrad forward are not recorded on the
// tape (no memory kept for a backward), and the op's gradient is zero. Its values are those of
// the plain forward, so they equal the torch engine's `torch.no_grad()` target.
import * as tf from '@tensorflow/tfjs-core';
import type { Depth, LatentStates, ParamSet, RecursiveModel } from '../model/recursiveModel';

/**
 * target [B] for states `s` after this step; `isLast` bool [B]; `x` the input embedding (a
 * constant of this step). Differentiating through the result yields zero.
 */
export function qContinueTarget(model: RecursiveModel, p: ParamSet, s: LatentStates, x: tf.Tensor3D, depth: Depth, isLast: tf.Tensor1D): tf.Tensor1D {
  const constant = tf.customGrad(((anchor: tf.Tensor) => ({
    value: tf.tidy(() => {
      const next = model.cyclesWithoutGradient(p, s.zH, s.zL, x, depth.hCycles, depth.lCycles);
      const q = model.heads(p, next.zH);
      return tf.sigmoid(tf.where(isLast, q.qHalt, tf.maximum(q.qHalt, q.qContinue)));
    }),
    gradFunc: () => [tf.zerosLike(anchor)],
  })) as unknown as Parameters<typeof tf.customGrad>[0]) as (anchor: tf.Tensor) => tf.Tensor1D;
  return constant(isLast);
}
