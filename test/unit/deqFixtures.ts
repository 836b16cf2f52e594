// Shared fixtures of the DEQ tests: a contractive tanh map z ↦ tanh(zW + x) with ‖W‖₂ set exactly
// (power iteration in float64), its float64 re-statement for finite differences, and small float64
// linear algebra used as the independent side of the checks; and the tiny TRM-DEQ model and
// training settings the model tests build on.
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig, TrainConfig } from '../../protocol/config';
import { createModel } from '../../trainer/model/modelFactory';
import { Rng } from '../../trainer/random';
import { createTrainState, disposeTrainState } from '../../trainer/train/trainState';
import { trainStep } from '../../trainer/train/trainStep';

/** A tiny TRM-DEQ (D 8, one layer, 4 cells, Anderson max 6 / min 2, phantom K 2). */
export const tinyDeqConfig: ModelConfig = {
  arch: 'trm-deq', mixer: 'mlp_t', hiddenSize: 8, numHeads: 2, expansion: 2, ffnMultipleOf: 4, layers: 1,
  hCycles: 2, lCycles: 2, puzzleEmbLen: 1, posEncodings: 'none', ropeTheta: 10000, rmsNormEps: 1e-5, qHeadBiasInit: -5,
  deq: { solver: 'anderson', maxIter: 6, minIter: 2, phantomSteps: 2 },
};
export const tinyDeqTask = { vocabSize: 6, seqLen: 4 };
export const tinyDeqTrain: TrainConfig = {
  steps: 10, batchSize: 4, microBatchSize: 2, haltMaxSteps: 3, haltExplorationProb: 0, optimizer: 'adamw',
  lr: 1e-3, lrWarmupSteps: 0, lrMinRatio: 1, beta1: 0.9, beta2: 0.95, weightDecay: 0.1, adamEpsilon: 1e-8,
  puzzleEmbLr: 1e-2, puzzleEmbWeightDecay: 0.1, lossType: 'softmax', qLossWeight: 0.5,
  ema: { enabled: false, rate: 0.999, warmup: true }, curriculum: { enabled: false, boundaries: [] }, hsw: { mode: 'off', decay: 1 },
};

/**
 * `tf.profile` peak bytes of one training step (tinyDeqTrain, a fixed 4-row batch) of the DEQ model
 * `config` with every solve forced to maxIter map evaluations, per maxIter; the mean iterations the
 * step's statistics report come back beside each, to confirm the forcing.
 */
export async function stepPeakBytes(config: ModelConfig, maxIters: readonly number[]): Promise<{ peak: number; iterations: number }[]> {
  const out: { peak: number; iterations: number }[] = [];
  for (const maxIter of maxIters) {
    const model = createModel({ ...config, deq: { ...config.deq, solver: 'anderson', maxIter, minIter: maxIter, tol: 1e-12 } }, tinyDeqTask);
    const state = createTrainState(model, tinyDeqTrain, new Rng(1));
    const rng = new Rng(2);
    const incoming = {
      size: 4, seqLen: 4, tokens: Int32Array.from({ length: 16 }, () => 1 + rng.int(5)),
      labels: Int32Array.from({ length: 16 }, () => 2 + rng.int(4)), blanks: new Int32Array(4),
    };
    let iterations = 0;
    const info = await tf.profile(() => { iterations = trainStep(state, incoming, tinyDeqTrain, model.depth, 1e-3, new Rng(0)).modelStats!['deqIterations']!; });
    out.push({ peak: info.peakBytes, iterations });
    disposeTrainState(state);
  }
  return out;
}

export interface TanhProblem {
  d: number;
  B: number;
  /** Row-major [d, d]. */
  W: Float64Array;
  /** Row-major [B, d]. */
  x: Float64Array;
}

/** ‖M‖₂ of a row-major [d, d] matrix by power iteration on MᵀM (float64). */
export function spectralNorm(M: Float64Array, d: number): number {
  let v = new Float64Array(d).fill(1 / Math.sqrt(d));
  let s = 0;
  for (let it = 0; it < 500; it++) {
    const mv = new Float64Array(d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) mv[i]! += M[i * d + j]! * v[j]!;
    const w = new Float64Array(d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) w[j]! += M[i * d + j]! * mv[i]!;
    const n = Math.hypot(...w);
    s = Math.sqrt(n);
    v = w.map((u) => u / n);
  }
  return s;
}

export function tanhProblem(seed: number, d: number, B: number, norm: number, xScale = 1): TanhProblem {
  const rng = new Rng(seed);
  const W = Float64Array.from({ length: d * d }, () => rng.normal());
  const s = spectralNorm(W, d);
  for (let i = 0; i < W.length; i++) W[i] = (W[i]! * norm) / s;
  const x = Float64Array.from({ length: B * d }, () => rng.normal() * xScale);
  // Round to float32 so the float64 re-statement computes with exactly the TF.js weights.
  return { d, B, W: Float64Array.from(Float32Array.from(W)), x: Float64Array.from(Float32Array.from(x)) };
}

/** zW + x in float64, z row-major [B, d]. */
export function affine64(p: TanhProblem, z: Float64Array, W = p.W, x = p.x): Float64Array {
  const { d, B } = p;
  const out = new Float64Array(B * d);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < d; j++) {
      let s = x[b * d + j]!;
      for (let i = 0; i < d; i++) s += z[b * d + i]! * W[i * d + j]!;
      out[b * d + j] = s;
    }
  }
  return out;
}

/** The float64 map f(z) = tanh(zW + x). */
export function tanhMap64(p: TanhProblem, z: Float64Array, W = p.W, x = p.x): Float64Array {
  return affine64(p, z, W, x).map(Math.tanh);
}

/** The fixed point of the float64 map by plain iteration to 1e-13 (it is a contraction). */
export function tanhFixedPoint64(p: TanhProblem, W = p.W, x = p.x): Float64Array {
  let z: Float64Array = new Float64Array(p.B * p.d);
  for (let k = 0; k < 10000; k++) {
    const f = tanhMap64(p, z, W, x);
    const r = Math.hypot(...f.map((v, i) => v - z[i]!));
    z = f;
    if (r < 1e-13) return z;
  }
  throw new Error('float64 fixed point did not converge');
}

/** The TF.js map with W and x as given tensors (variables or constants). */
export function tanhMap(W: tf.Tensor, x: tf.Tensor): (z: tf.Tensor) => tf.Tensor {
  return (z) => tf.tanh(tf.add(tf.matMul(z as tf.Tensor2D, W as tf.Tensor2D), x));
}

export const f32Tensor = (a: Float64Array, shape: number[]): tf.Tensor => tf.tensor(Float32Array.from(a), shape);

/** Solves M y = r (row-major n×n, float64) by Gaussian elimination with partial pivoting. */
export function solveLinear(M: Float64Array, r: Float64Array, n: number): Float64Array {
  const a = Array.from({ length: n }, (_, i) => [...M.subarray(i * n, (i + 1) * n), r[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let i = c + 1; i < n; i++) if (Math.abs(a[i]![c]!) > Math.abs(a[p]![c]!)) p = i;
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let i = c + 1; i < n; i++) {
      const f = a[i]![c]! / a[c]![c]!;
      for (let j = c; j <= n; j++) a[i]![j]! -= f * a[c]![j]!;
    }
  }
  const y = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = a[i]![n]!;
    for (let j = i + 1; j < n; j++) s -= a[i]![j]! * y[j]!;
    y[i] = s / a[i]![i]!;
  }
  return y;
}

export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(Number(a[i]) - Number(b[i])));
  return m;
};
export const maxAbs = (a: ArrayLike<number>): number => Array.from(a, (v) => Math.abs(Number(v))).reduce((u, v) => Math.max(u, v), 0);

/** softsign-like u / √(1 + u²): smooth, |·| < 1, and built of ops whose TF.js gradients are twice differentiable. */
export function squashMap(W: tf.Tensor, x: tf.Tensor): (z: tf.Tensor) => tf.Tensor {
  return (z) => {
    const u = tf.add(tf.matMul(z as tf.Tensor2D, W as tf.Tensor2D), x);
    return tf.div(u, tf.sqrt(tf.add(tf.square(u), 1)));
  };
}

export function squashMap64(p: TanhProblem, z: Float64Array, W = p.W): Float64Array {
  return affine64(p, z, W).map((u) => u / Math.sqrt(1 + u * u));
}
