// DEQ gradients of trainer/deq against independent facts: central finite differences of a float64
// re-statement of the map (the K-step unrolled map for the phantom gradient, the converged float64
// fixed point for the IFT gradient), the closed form of an affine map, the exact Frobenius norm of
// an explicit Jacobian for the Hutchinson estimate, and tensor/byte counts for the memory claim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../trainer/backend';
import { anderson } from '../../trainer/deq/anderson';
import { implicitGradients, phantomUnroll, solveAdjoint } from '../../trainer/deq/deqGradients';
import { fixedPointIteration } from '../../trainer/deq/fixedPointIteration';
import { jacobianPenalty } from '../../trainer/deq/jacobianRegularizer';
import { Rng } from '../../trainer/random';
import { f32Tensor, maxAbs, maxAbsDiff, solveLinear, squashMap, squashMap64, tanhFixedPoint64, tanhMap, tanhMap64, tanhProblem, type TanhProblem } from './deqFixtures';

test.before(async () => { await selectBackend('cpu'); });

const d = 6;
const B = 2;
/** The loss L(z) = Σ c ⊙ z with fixed weights c. */
const lossWeights = Float64Array.from({ length: B * d }, (_, i) => Math.cos(1 + 0.7 * i));
const loss64 = (z: Float64Array): number => z.reduce((s, v, i) => s + v * lossWeights[i]!, 0);

/** Central differences of g(W) over every entry of W (float64, h = 1e-5). */
function finiteDifferences(p: TanhProblem, g: (W: Float64Array) => number): Float64Array {
  const h = 1e-5;
  return Float64Array.from(p.W, (_, i) => {
    const plus = Float64Array.from(p.W); plus[i]! += h;
    const minus = Float64Array.from(p.W); minus[i]! -= h;
    return (g(plus) - g(minus)) / (2 * h);
  });
}

const relErr = (got: ArrayLike<number>, want: ArrayLike<number>) => maxAbsDiff(got, want) / maxAbs(want);

for (const [steps, tau] of [[1, 1], [2, 1], [3, 0.6]] as const) {
  test(`phantom gradient K=${steps}, τ=${tau} equals finite differences of the ${steps}-step unrolled map from the fixed z*`, () => {
    const p = tanhProblem(11, d, B, 0.8, 0.5);
    const zStar64 = Float64Array.from(Float32Array.from(tanhFixedPoint64(p)));
    const W = tf.variable(f32Tensor(p.W, [d, d]), true, `phantomW${steps}${tau}`);
    const x = f32Tensor(p.x, [B, d]);
    const zStar = f32Tensor(zStar64, [B, d]);
    const c = f32Tensor(lossWeights, [B, d]);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(phantomUnroll(tanhMap(W, x), zStar, { steps, tau }), c)), [W]);
    const unrolled = (Wp: Float64Array) => {
      let z = zStar64;
      for (let k = 0; k < steps; k++) {
        const f = tanhMap64(p, z, Wp);
        z = f.map((v, i) => tau * v + (1 - tau) * z[i]!);
      }
      return loss64(z);
    };
    const fd = finiteDifferences(p, unrolled);
    const err = relErr(grads[W.name]!.dataSync(), fd);
    assert.ok(err < 1e-4, `max |grad − fd| / max |fd| = ${err}`);
    // It is not the IFT gradient (a contraction with ‖W‖ = 0.8 is far from J ≈ 0): the test tells them apart.
    const ift = finiteDifferences(p, (Wp) => loss64(tanhFixedPoint64(p, Wp)));
    assert.ok(relErr(fd, ift) > 1e-2, 'the K-step gradient differs from the implicit one');
    tf.dispose([value, ...Object.values(grads), W, x, zStar, c]);
  });
}

test('IFT gradient equals finite differences of the converged solution (FPI, Anderson and Broyden adjoints)', () => {
  const p = tanhProblem(12, d, B, 0.8, 0.5);
  const W = tf.variable(f32Tensor(p.W, [d, d]), true, 'iftW');
  const x = f32Tensor(p.x, [B, d]);
  const map = tanhMap(W, x);
  const z0 = tf.zeros([B, d]);
  const { solution: zStar, stats } = anderson(map, z0, { maxIter: 100, tol: 1e-6 });
  assert.ok(stats.converged.every(Boolean));
  const v = f32Tensor(lossWeights, [B, d]); // ∂L/∂z* of L = Σ c ⊙ z*
  const fd = finiteDifferences(p, (Wp) => loss64(tanhFixedPoint64(p, Wp)));
  for (const solver of ['fixed_point_iter', 'anderson', 'broyden'] as const) {
    const r = implicitGradients(map, zStar, v, [W], { solver, options: { maxIter: 200, tol: 1e-7 } });
    assert.ok(r.stats.converged.every(Boolean), `${solver} adjoint converged`);
    const err = relErr(r.grads[W.name]!.dataSync(), fd);
    assert.ok(err < 1e-3, `${solver}: max |grad − fd| / max |fd| = ${err}`);
    tf.dispose([r.u, ...Object.values(r.grads)]);
  }
  tf.dispose([W, x, z0, zStar, v]);
});

test('IFT gradient of the affine map z ↦ zA + b: the closed form u = c(I − Aᵀ)⁻¹, ∂L/∂b = Σ u, ∂L/∂A = Σ z*ᵀu', () => {
  const p = tanhProblem(13, d, B, 0.9);
  const A = tf.variable(f32Tensor(p.W, [d, d]), true, 'affineA');
  const bias = tf.variable(f32Tensor(p.x.subarray(0, d), [d]), true, 'affineB');
  const map = (z: tf.Tensor) => tf.add(tf.matMul(z as tf.Tensor2D, A), bias);
  const z0 = tf.zeros([B, d]);
  const { solution: zStar } = anderson(map, z0, { maxIter: 100, tol: 1e-6 });
  const v = f32Tensor(lossWeights, [B, d]);
  const r = implicitGradients(map, zStar, v, [A, bias], { solver: 'anderson', options: { maxIter: 100, tol: 1e-7 } });
  // u (I − Aᵀ) = c  ⇔  (I − A) uᵀ = cᵀ per sample.
  const IA = Float64Array.from({ length: d * d }, (_, k) => (Math.floor(k / d) === k % d ? 1 : 0) - p.W[k]!);
  const u = new Float64Array(B * d);
  for (let s = 0; s < B; s++) u.set(solveLinear(IA, lossWeights.subarray(s * d, (s + 1) * d), d), s * d);
  const z = zStar.dataSync();
  const gA = new Float64Array(d * d);
  const gb = new Float64Array(d);
  for (let s = 0; s < B; s++) for (let i = 0; i < d; i++) {
    gb[i]! += u[s * d + i]!;
    for (let j = 0; j < d; j++) gA[i * d + j]! += z[s * d + i]! * u[s * d + j]!;
  }
  assert.ok(relErr(r.u.dataSync(), u) < 1e-4, 'adjoint u');
  assert.ok(relErr(r.grads[bias.name]!.dataSync(), gb) < 1e-4, '∂L/∂b');
  assert.ok(relErr(r.grads[A.name]!.dataSync(), gA) < 1e-4, '∂L/∂A');
  tf.dispose([A, bias, z0, zStar, v, r.u, ...Object.values(r.grads)]);
});

/** Exact ‖J‖_F² / numel of f(z) = tanh(zW + x) at z: J_b[j, i] = s_bj W[i, j], s = 1 − f²; and Σ_b ‖J_b J_bᵀ‖_F². */
function exactJacobian(p: TanhProblem, z: Float64Array): { frob: number; jjt: number } {
  const f = tanhMap64(p, z);
  let frob = 0;
  let jjt = 0;
  for (let b = 0; b < p.B; b++) {
    const J = Float64Array.from({ length: p.d * p.d }, (_, k) => {
      const j = Math.floor(k / p.d); const i = k % p.d;
      return (1 - f[b * p.d + j]! ** 2) * p.W[i * p.d + j]!;
    });
    for (const v of J) frob += v * v;
    for (let r = 0; r < p.d; r++) for (let c = 0; c < p.d; c++) {
      let s = 0;
      for (let t = 0; t < p.d; t++) s += J[r * p.d + t]! * J[c * p.d + t]!;
      jjt += s * s;
    }
  }
  return { frob: frob / (p.B * p.d), jjt };
}

test('Hutchinson estimate of ‖J‖_F²/numel against the explicit Jacobian (400 samples, 4σ), and its gradient', () => {
  const p = tanhProblem(14, d, B, 1.5, 0.5);
  const zs = Float64Array.from(Float32Array.from({ length: B * d }, (_, i) => 0.3 * Math.sin(i)));
  const W = tf.variable(f32Tensor(p.W, [d, d]), true, 'jacW');
  const x = f32Tensor(p.x, [B, d]);
  const z = f32Tensor(zs, [B, d]);
  const samples = 400;
  const est = jacobianPenalty(tanhMap(W, x), z, new Rng(5), samples);
  const { frob, jjt } = exactJacobian(p, zs);
  // One draw: Σ_b ‖v_bᵀJ_b‖² / numel, variance 2 Σ_b ‖J_b J_bᵀ‖_F² / numel² (Gaussian v); the mean of N draws has σ/√N.
  const sigma = Math.sqrt((2 * jjt) / (B * d) ** 2 / samples);
  const got = est.dataSync()[0]!;
  console.log(`Hutchinson ${samples} samples: ${got.toFixed(5)} vs exact ${frob.toFixed(5)} (σ ${sigma.toExponential(2)})`);
  assert.ok(Math.abs(got - frob) < 4 * sigma, `|estimate − exact| = ${Math.abs(got - frob)} ≥ 4σ = ${4 * sigma}`);
  assert.ok(4 * sigma < 0.2 * frob, 'the tolerance is tight enough to mean something');

  // Differentiable w.r.t. W (a gradient of a VJP): equals finite differences with the same draws.
  // On the squash map u/√(1+u²): tfjs-core's second derivative through tanh is wrong (its gradient
  // uses the saved output, which the outer tape does not connect; jacobianRegularizer.ts).
  const rngSeed = 6;
  const { value, grads } = tf.variableGrads(() => jacobianPenalty(squashMap(W, x), z, new Rng(rngSeed), 2), [W]);
  const draws = new Rng(rngSeed);
  const vs = [0, 1].map(() => Float64Array.from(Float32Array.from({ length: B * d }, () => draws.normal())));
  const penalty64 = (Wp: Float64Array): number => {
    // squash'(u) = (1 + u²)^(−3/2); u recovered from f = u/√(1+u²) as f/√(1 − f²).
    const f = squashMap64(p, zs, Wp);
    let total = 0;
    for (const v of vs) for (let b = 0; b < B; b++) for (let i = 0; i < d; i++) {
      let s = 0; // (vᵀJ)_i = Σ_j v_j s'_j W[i, j]
      for (let j = 0; j < d; j++) {
        const u = f[b * d + j]! / Math.sqrt(1 - f[b * d + j]! ** 2);
        s += v[b * d + j]! * (1 + u * u) ** -1.5 * Wp[i * d + j]!;
      }
      total += s * s;
    }
    return total / (2 * B * d);
  };
  assert.ok(Math.abs(value.dataSync()[0]! - penalty64(p.W)) < 1e-5 * penalty64(p.W), 'the penalty value with the same draws');
  const err = relErr(grads[W.name]!.dataSync(), finiteDifferences(p, penalty64));
  assert.ok(err < 1e-3, `penalty gradient: max |grad − fd| / max |fd| = ${err}`);
  tf.dispose([est, value, ...Object.values(grads), W, x, z]);
});

test('memory: no tensor leaks, and the peak bytes of a phantom and an IFT gradient are the same at max 8 and 32 iterations', async () => {
  const p = tanhProblem(15, 32, 4, 0.99, 0.1);
  const W = tf.variable(f32Tensor(p.W, [32, 32]), true, 'memW');
  const x = f32Tensor(p.x, [4, 32]);
  const c = tf.onesLike(x);
  const map = tanhMap(W, x);
  const z0 = tf.zeros([4, 32]);
  // tol so small that every solve runs to maxIter.
  const step = (maxIter: number, kind: 'phantom' | 'ift' | 'bptt') => {
    const o = { maxIter, minIter: maxIter, tol: 1e-30 };
    if (kind === 'bptt') { // the baseline that does grow: a tape over the whole solve
      const { value, grads } = tf.variableGrads(() => {
        let z: tf.Tensor = z0;
        for (let k = 0; k < maxIter; k++) z = map(z);
        return tf.sum(tf.mul(z, c));
      }, [W]);
      tf.dispose([value, ...Object.values(grads)]);
      return;
    }
    const { solution, stats } = fixedPointIteration(map, z0, o);
    assert.equal(stats.iterations, maxIter);
    if (kind === 'phantom') {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(phantomUnroll(map, solution, { steps: 2 }), c)), [W]);
      tf.dispose([value, ...Object.values(grads)]);
    } else {
      const r = implicitGradients(map, solution, c, [W], { solver: 'anderson', options: o });
      assert.equal(r.stats.iterations, maxIter);
      tf.dispose([r.u, ...Object.values(r.grads)]);
    }
    solution.dispose();
  };
  const peaks: Record<string, number[]> = {};
  for (const kind of ['phantom', 'ift', 'bptt'] as const) {
    peaks[kind] = [];
    for (const maxIter of [8, 32]) {
      const before = tf.memory().numTensors;
      const info = await tf.profile(() => { step(maxIter, kind); });
      assert.equal(tf.memory().numTensors, before, `${kind} at ${maxIter}: tensors left behind`);
      assert.equal(info.newTensors, 0);
      peaks[kind].push(info.peakBytes);
    }
  }
  console.log(`peak bytes at max 8 / 32 iterations: ${JSON.stringify(peaks)}`);
  assert.equal(peaks['phantom']![1], peaks['phantom']![0], 'phantom: peak does not grow with the solver iterations');
  assert.equal(peaks['ift']![1], peaks['ift']![0], 'IFT: peak does not grow with the solver iterations');
  assert.ok(peaks['bptt']![1]! > 3 * peaks['bptt']![0]!, 'the measure sees growth where there is a tape over the solve');
  tf.dispose([W, x, c, z0]);
});

test('solveAdjoint validates its solver options', () => {
  const z = tf.zeros([1, 2]);
  assert.throws(() => solveAdjoint((t) => tf.mul(t, 0.5), z, z, { options: { beta: 0.5 } }), /fixed-point iteration: unknown option "beta"/);
  assert.throws(() => solveAdjoint((t) => tf.mul(t, 0.5), z, z, { solver: 'anderson', options: { beta: 2 } }), /Anderson solver: beta must be a number in \(0, 1\], got 2/);
  assert.throws(() => phantomUnroll((t) => t, z, { steps: 0 }), /steps must be an integer ≥ 1, got 0/);
  z.dispose();
});
