// Hutchinson estimate of ‖J_f(z)‖_F² / numel(z) (TorchDEQ's jac_reg, reference.md §4.3):
// E_v ‖vᵀ J‖² = ‖J‖_F² for v ~ N(0, I), averaged over `samples` draws. For a batch-first state J is
// block-diagonal over the batch, so numel counts every sample. Inside variableGrads it is
// differentiable w.r.t. the map's variables (a gradient of a VJP) — but tfjs-core 4.22's second
// derivatives are wrong through ops whose gradient uses their saved OUTPUT (tanh, sigmoid, exp:
// the saved copy is not connected on the outer tape; d/dw of d/dz tanh(wz) at w = 0.7, z = 0.5 is
// 0.887 by tf.js, 0.678 by finite differences). Ops whose gradient uses their inputs (matMul, add,
// mul, div, square, sqrt, relu) are exact; see docs/deq-solvers.md. The value is always exact.
import * as tf from '@tensorflow/tfjs-core';
// The gradient kernels are registered on import (tfjs-core ships them separately).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { FixedPointMap } from './fixedPointIteration';
import type { Rng } from '../random';

export function jacobianPenalty(map: FixedPointMap, z: tf.Tensor, rng: Rng, samples = 1): tf.Scalar {
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`Jacobian regulariser: samples must be an integer ≥ 1, got ${JSON.stringify(samples)}`);
  return tf.tidy(() => {
    let total: tf.Scalar = tf.scalar(0);
    for (let s = 0; s < samples; s++) {
      const v = tf.tensor(Float32Array.from({ length: z.size }, () => rng.normal()), z.shape);
      const vJ = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(map(x), v)))(z);
      total = tf.add(total, tf.sum(tf.square(vJ)));
    }
    return tf.div(total, samples * z.size);
  });
}
