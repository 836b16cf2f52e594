// Anderson acceleration (type II) with a ring buffer of the last m iterates and their map values
// (slot k mod m), the form of the Attractor `solvers.py` and TorchDEQ (reference.md §4.3). The
// public TRM-DEQ copy rolls its history instead and mixes zero-filled slots until the buffer is full
// (reference.md §4.2, caveat 1), which drags the iterate towards 0; that is deliberately not copied
// (docs/deq-solvers.md).
//
// Step k ≥ 1 with n = min(k, m) stored pairs (x_i, f_i), g_i = f_i − x_i, per sample:
//   α = argmin ‖Σ α_i g_i‖² + λ s ‖α‖²  subject to  Σ α_i = 1   ⇔   α = a / Σa,  (G Gᵀ + λ s I) a = 1
// with s = trace(G Gᵀ) / n, the mean squared residual of the history (λ relative, see mixingWeights)
//   x_k = β Σ α_i f_i + (1 − β) Σ α_i x_i
// k = 1 (n = 1) is a plain step x_1 = f(x_0). Where the system is singular or α is not finite for a
// sample, that sample takes the plain step x_k = f(x_{k−1}) instead (counted in stats.fallbacks).
import * as tf from '@tensorflow/tfjs-core';
import { applyMap, type FixedPointMap, type SolveResult } from './fixedPointIteration';
import { andersonOptions, type AndersonOptions } from './solverOptions';
import { SolveRecorder } from './solverStats';

/**
 * Solves (A + λ·trace(A)/n·I) a = 1 for one sample's n×n Gram matrix A (row-major), then returns
 * α = a / Σa, or undefined where the system is singular or the result is not finite.
 */
export function mixingWeights(gram: ArrayLike<number>, n: number, lambda: number): Float64Array | undefined {
  // λ scaled by the Gram's mean diagonal (the mean squared residual), so the regularisation does
  // not swamp the Gram once residuals are small (an unscaled λ = 1e-4 makes α nearly uniform when
  // ‖g‖² ≪ 1e-4, i.e. a plain average of the history, slower than plain iteration).
  let trace = 0;
  for (let r = 0; r < n; r++) trace += gram[r * n + r]!;
  const ridge = (lambda * trace) / n;
  const a = new Float64Array(n * (n + 1));
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) a[r * (n + 1) + c] = gram[r * n + c]! + (r === c ? ridge : 0);
    a[r * (n + 1) + n] = 1;
  }
  // Gaussian elimination with partial pivoting on the augmented matrix [A + λI | 1].
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r * (n + 1) + col]!) > Math.abs(a[pivot * (n + 1) + col]!)) pivot = r;
    const p = a[pivot * (n + 1) + col]!;
    if (!(Math.abs(p) > 0)) return undefined;
    if (pivot !== col) {
      for (let c = 0; c <= n; c++) {
        const t = a[col * (n + 1) + c]!;
        a[col * (n + 1) + c] = a[pivot * (n + 1) + c]!;
        a[pivot * (n + 1) + c] = t;
      }
    }
    for (let r = col + 1; r < n; r++) {
      const f = a[r * (n + 1) + col]! / p;
      for (let c = col; c <= n; c++) a[r * (n + 1) + c]! -= f * a[col * (n + 1) + c]!;
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = a[r * (n + 1) + n]!;
    for (let c = r + 1; c < n; c++) s -= a[r * (n + 1) + c]! * x[c]!;
    x[r] = s / a[r * (n + 1) + r]!;
  }
  const sum = x.reduce((u, v) => u + v, 0);
  const alpha = x.map((v) => v / sum);
  return alpha.every(Number.isFinite) ? alpha : undefined;
}

export function anderson(map: FixedPointMap, z0: tf.Tensor, given: Partial<AndersonOptions> = {}): SolveResult {
  const o = andersonOptions(given);
  if (z0.shape.length < 1 || z0.shape[0]! < 1) throw new Error(`Anderson solver: the state must be batch-first [B ≥ 1, ...], got [${z0.shape}]`);
  const shape = z0.shape;
  const B = shape[0]!;
  const recorder = new SolveRecorder('anderson', o, B);
  const flat = (t: tf.Tensor): tf.Tensor2D => tf.reshape(t, [B, -1]);
  // Ring buffer: xs[k % m], fs[k % m] hold iterate k and its map value, flattened to [B, d].
  const xs: tf.Tensor2D[] = [];
  const fs: tf.Tensor2D[] = [];
  const evaluate = (x: tf.Tensor2D, slot: number): boolean => {
    const fx = tf.tidy(() => flat(applyMap(map, tf.reshape(x, shape))));
    const stop = recorder.record(x, fx); // not in a tidy: the recorder keeps its best estimate
    xs[slot]?.dispose();
    fs[slot]?.dispose();
    xs[slot] = x;
    fs[slot] = fx;
    return stop;
  };
  let last = 0;
  try {
    let stop = evaluate(tf.tidy(() => flat(z0).clone()), 0);
    for (let k = 1; k < o.maxIter && !stop; k++) {
      const n = Math.min(k, o.memory);
      const prev = fs[(k - 1) % o.memory]!;
      const x = tf.tidy(() => {
        const X = tf.stack(xs.slice(0, n), 1) as tf.Tensor3D; // [B, n, d]
        const F = tf.stack(fs.slice(0, n), 1) as tf.Tensor3D;
        const G = tf.sub(F, X);
        const gram = tf.matMul(G, G, false, true).dataSync(); // [B, n, n]
        const alpha = new Float32Array(B * n);
        const plain: number[] = [];
        for (let b = 0; b < B; b++) {
          const w = mixingWeights(gram.subarray(b * n * n, (b + 1) * n * n), n, o.lambda);
          if (w === undefined) plain.push(1);
          else { plain.push(0); alpha.set(w, b * n); }
        }
        recorder.fallbacks += plain.filter(Boolean).length;
        const A = tf.tensor3d(alpha, [B, 1, n]);
        let mixed = tf.reshape(tf.matMul(A, F), [B, -1]);
        if (o.beta !== 1) mixed = tf.add(tf.mul(o.beta, mixed), tf.mul(1 - o.beta, tf.reshape(tf.matMul(A, X), [B, -1])));
        if (!plain.some(Boolean)) return mixed as tf.Tensor2D;
        const mask = tf.broadcastTo(tf.cast(tf.tensor2d(plain, [B, 1], 'int32'), 'bool'), mixed.shape);
        return tf.where(mask, prev, mixed) as tf.Tensor2D;
      });
      last = k % o.memory;
      stop = evaluate(x, last);
    }
    return (() => {
      const { solution, stats } = recorder.finish(fs[last]!);
      const shaped = tf.reshape(solution, shape);
      solution.dispose();
      return { solution: shaped, stats };
    })();
  } finally {
    tf.dispose([...xs, ...fs]);
  }
}
