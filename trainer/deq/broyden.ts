// Broyden's ("good") method on g(z) = f(z) − z (docs/deq-solvers.md), the third solver of TorchDEQ
// (reference.md §4.3) without its line search: an estimate H of the inverse Jacobian of g, kept as
// −I plus at most `memory` rank-one terms Σ u_i v_iᵀ (slot k mod memory, the oldest replaced), per
// sample:
//   x_{k+1} = x_k − H g_k;   Δx = x_{k+1} − x_k, Δg = g_{k+1} − g_k
//   vᵀ = Δxᵀ H,   u = (Δx − H Δg) / (vᵀ Δg)        (so the new H maps Δg to Δx)
// Where vᵀΔg is 0 or not finite for a sample, its update is skipped (counted in stats.fallbacks).
import * as tf from '@tensorflow/tfjs-core';
import { applyMap, type FixedPointMap, type SolveResult } from './fixedPointIteration';
import { broydenOptions, type BroydenOptions } from './solverOptions';
import { SolveRecorder } from './solverStats';

export function broyden(map: FixedPointMap, z0: tf.Tensor, given: Partial<BroydenOptions> = {}): SolveResult {
  const o = broydenOptions(given);
  if (z0.shape.length < 1 || z0.shape[0]! < 1) throw new Error(`Broyden solver: the state must be batch-first [B ≥ 1, ...], got [${z0.shape}]`);
  const shape = z0.shape;
  const B = shape[0]!;
  const recorder = new SolveRecorder('broyden', o, B);
  const us: tf.Tensor2D[] = [];
  const vs: tf.Tensor2D[] = [];
  // Σ_i a_i (b_i · y) over the stored pairs, per sample: [B, d].
  const lowRank = (as: tf.Tensor2D[], bs: tf.Tensor2D[], y: tf.Tensor2D): tf.Tensor2D => {
    if (as.length === 0) return tf.zerosLike(y);
    const coef = tf.matMul(tf.stack(bs, 1) as tf.Tensor3D, tf.expandDims(y, 2)); // [B, r, 1]
    return tf.reshape(tf.matMul(coef, tf.stack(as, 1) as tf.Tensor3D, true, false), [B, -1]); // [B, d]
  };
  const H = (y: tf.Tensor2D) => tf.add(tf.neg(y), lowRank(us, vs, y)) as tf.Tensor2D; // H y
  const Ht = (y: tf.Tensor2D) => tf.add(tf.neg(y), lowRank(vs, us, y)) as tf.Tensor2D; // Hᵀ y, i.e. (yᵀ H)ᵀ
  let x = tf.tidy(() => tf.reshape(z0, [B, -1]).clone()) as tf.Tensor2D;
  let fx = tf.tidy(() => tf.reshape(applyMap(map, tf.reshape(x, shape)), [B, -1])) as tf.Tensor2D;
  let g = tf.sub(fx, x) as tf.Tensor2D;
  try {
    let stop = recorder.record(x, fx);
    for (let k = 1; k < o.maxIter && !stop; k++) {
      const xNew = tf.tidy(() => tf.sub(x, H(g))) as tf.Tensor2D;
      const fNew = tf.tidy(() => tf.reshape(applyMap(map, tf.reshape(xNew, shape)), [B, -1])) as tf.Tensor2D;
      stop = recorder.record(xNew, fNew);
      const gNew = tf.sub(fNew, xNew) as tf.Tensor2D;
      if (!stop) {
        const pair = tf.tidy(() => {
          const dx = tf.sub(xNew, x) as tf.Tensor2D;
          const dg = tf.sub(gNew, g) as tf.Tensor2D;
          const v = Ht(dx);
          const den = tf.sum(tf.mul(v, dg), 1);
          const ok = Array.from(den.dataSync(), (n) => Number.isFinite(n) && n !== 0);
          recorder.fallbacks += ok.filter((b) => !b).length;
          const mask = tf.tensor2d(ok.map(Number), [B, 1]);
          const safeDen = tf.where(tf.cast(tf.reshape(mask, [B]), 'bool'), den, tf.onesLike(den));
          const u = tf.mul(tf.div(tf.sub(dx, H(dg)), tf.reshape(safeDen, [B, 1])), mask);
          return [u, tf.mul(v, mask)] as tf.Tensor2D[];
        });
        const slot = (k - 1) % o.memory;
        us[slot]?.dispose();
        vs[slot]?.dispose();
        us[slot] = pair[0]!;
        vs[slot] = pair[1]!;
      }
      tf.dispose([x, fx, g]);
      x = xNew;
      fx = fNew;
      g = gNew;
    }
    const { solution, stats } = recorder.finish(fx);
    const shaped = tf.reshape(solution, shape);
    solution.dispose();
    return { solution: shaped, stats };
  } finally {
    tf.dispose([x, fx, g, ...us, ...vs]);
  }
}
