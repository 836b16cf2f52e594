// Spectral radius of the map's Jacobian at a point, per sample (TorchDEQ's `sradius`, reference.md
// §4.3): power iteration v ← J_fᵀ v / ‖J_fᵀ v‖ with one VJP per step (Jᵀ has the spectrum of J;
// for a batch-first map J is block-diagonal, so one VJP iterates every sample at once), the radius
// from the step ratios as the inspection tools estimate it (spectralRadiusEstimate). < 1 means the
// map is locally contractive at z, i.e. plain iteration converges near it.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { spectralRadiusEstimate } from '../inspect/fixedPointMath';
import type { Rng } from '../random';
import type { FixedPointMap } from './fixedPointIteration';
import { vectorJacobianProduct } from './deqGradients';

export function spectralRadius(map: FixedPointMap, z: tf.Tensor, rng: Rng, iterations = 30): number[] {
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`spectral radius: iterations must be an integer ≥ 1, got ${JSON.stringify(iterations)}`);
  const B = z.shape[0]!;
  const perSampleNorm = (t: tf.Tensor) => tf.norm(tf.reshape(t, [B, -1]), 'euclidean', 1);
  const unit = (t: tf.Tensor) => tf.tidy(() => tf.div(t, tf.add(tf.reshape(perSampleNorm(t), [B, ...z.shape.slice(1).map(() => 1)]), 1e-30)));
  let v = tf.tidy(() => unit(tf.tensor(Float32Array.from({ length: z.size }, () => rng.normal()), z.shape)));
  const ratios: number[][] = Array.from({ length: B }, () => []);
  for (let k = 0; k < iterations; k++) {
    const w = vectorJacobianProduct(map, z, v);
    const n = tf.tidy(() => perSampleNorm(w));
    n.dataSync().forEach((r, b) => ratios[b]!.push(r)); // ‖v_b‖ = 1, so ‖w_b‖ is the step's ratio
    n.dispose();
    v.dispose();
    v = unit(w);
    w.dispose();
  }
  v.dispose();
  return ratios.map((r) => spectralRadiusEstimate(r));
}
