// The fixed-point solvers of trainer/deq against independent facts: the fixed point of an affine
// map (I − A)⁻¹ in float64, a float64 re-statement of a contractive tanh map, hand-made evaluation
// sequences for the lowest-residual return and the stats, and the history defect of the public
// TRM-DEQ Anderson (reference.md §4.2 caveat 1), re-stated here to show the check catches it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../trainer/backend';
import { anderson, mixingWeights } from '../../trainer/deq/anderson';
import { broyden } from '../../trainer/deq/broyden';
import { fixedPointIteration } from '../../trainer/deq/fixedPointIteration';
import { summarizeSolverStats } from '../../trainer/deq/solverStats';
import { InputError } from '../../trainer/inputError';
import { f32Tensor, maxAbsDiff, solveLinear, tanhFixedPoint64, tanhMap, tanhMap64, tanhProblem } from './deqFixtures';

test.before(async () => { await selectBackend('cpu'); });

const withTensors = <T>(f: () => T): T => {
  const before = tf.memory().numTensors;
  const out = f();
  assert.equal(tf.memory().numTensors, before, 'the solve leaks no tensors');
  return out;
};

test('affine map z ↦ zA + b: both solvers reach b(I − A)⁻¹ (float64 closed form); Anderson in fewer iterations', () => {
  withTensors(() => {
    const d = 6;
    const p = tanhProblem(7, d, 2, 0.95);
    const A = p.W; // ‖A‖₂ = 0.95: a contraction, slow for plain iteration
    const b = p.x;
    // z(I − A) = b  ⇔  (I − A)ᵀ zᵀ = bᵀ, per sample.
    const IAt = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) IAt[i * d + j] = (i === j ? 1 : 0) - A[j * d + i]!;
    const exact = new Float64Array(2 * d);
    for (let s = 0; s < 2; s++) exact.set(solveLinear(IAt, b.subarray(s * d, (s + 1) * d), d), s * d);
    const At = f32Tensor(A, [d, d]);
    const bt = f32Tensor(b, [2, d]);
    const map = (z: tf.Tensor) => tf.add(tf.matMul(z as tf.Tensor2D, At as tf.Tensor2D), bt);
    const z0 = tf.zeros([2, d]);
    const opts = { maxIter: 500, tol: 1e-5, stopMode: 'abs' as const };
    const fpi = fixedPointIteration(map, z0, opts);
    const acc = anderson(map, z0, opts);
    for (const r of [fpi, acc]) {
      assert.ok(r.stats.converged.every(Boolean), `${r.stats.solver} converged`);
      const scale = Math.max(...exact.map(Math.abs));
      const err = maxAbsDiff(r.solution.dataSync(), exact);
      // ‖z − z*‖ ≤ ‖f(z) − z‖ / (1 − ‖A‖) = 1e-5 / 0.05 at tolerance; plus fp32 rounding.
      assert.ok(err <= 2e-4 + 1e-5 * scale, `${r.stats.solver}: max |z − z*| = ${err}`);
    }
    console.log(`affine d=6, ‖A‖=0.95, tol 1e-5: FPI ${fpi.stats.iterations} iterations, Anderson ${acc.stats.iterations}`);
    // The same plain iteration in float64: its count to the same stop rule (max over the batch).
    let z: Float64Array = new Float64Array(2 * d);
    let count = 0;
    for (let worst = Infinity; worst >= 1e-5; count++) {
      const f = new Float64Array(2 * d);
      for (let s = 0; s < 2; s++) for (let j = 0; j < d; j++) {
        let v = b[s * d + j]!;
        for (let i = 0; i < d; i++) v += z[s * d + i]! * A[i * d + j]!;
        f[s * d + j] = v;
      }
      worst = Math.max(...[0, 1].map((s) => Math.hypot(...f.subarray(s * d, (s + 1) * d).map((v, j) => v - z[s * d + j]!))));
      z = f;
    }
    assert.ok(Math.abs(fpi.stats.iterations - count) <= 1, `plain iteration: ${fpi.stats.iterations} iterations, float64 ${count}`);
    assert.ok(3 * acc.stats.iterations < fpi.stats.iterations, `Anderson ${acc.stats.iterations} vs FPI ${fpi.stats.iterations}`);
    tf.dispose([At, bt, z0, fpi.solution, acc.solution]);
  });
});

test('contractive tanh map: Anderson converges in fewer iterations than plain iteration, to the float64 fixed point', () => {
  withTensors(() => {
    const p = tanhProblem(3, 16, 4, 0.95, 0.3);
    const W = f32Tensor(p.W, [16, 16]);
    const x = f32Tensor(p.x, [4, 16]);
    const z0 = tf.zeros([4, 16]);
    const exact = tanhFixedPoint64(p);
    const opts = { maxIter: 200, tol: 1e-5 };
    const fpi = fixedPointIteration(tanhMap(W, x), z0, opts);
    const acc = anderson(tanhMap(W, x), z0, opts);
    console.log(`tanh d=16, ‖W‖=0.95: FPI ${fpi.stats.iterations} iterations, Anderson (m=5) ${acc.stats.iterations}`);
    assert.ok(fpi.stats.converged.every(Boolean) && acc.stats.converged.every(Boolean));
    assert.ok(acc.stats.iterations < fpi.stats.iterations, `Anderson ${acc.stats.iterations} vs FPI ${fpi.stats.iterations}`);
    assert.equal(acc.stats.fallbacks, 0);
    for (const r of [fpi, acc]) assert.ok(maxAbsDiff(r.solution.dataSync(), exact) < 2e-4, `${r.stats.solver} solution`);
    tf.dispose([W, x, z0, fpi.solution, acc.solution]);
  });
});

/**
 * The defective history of the public TRM-DEQ Anderson, re-stated (reference.md §4.2 caveat 1):
 * the history is shifted with a roll, each new pair written into the LAST slot, but the mixing
 * uses the FIRST min(k, m) slots, which hold zeros until the buffer is full. One sample, float64.
 * Returns the iterates x_k that the map was applied to and their relative residuals.
 */
function rolledHistoryAnderson(f: (z: Float64Array) => Float64Array, z0: Float64Array, m: number, iters: number): { norms: number[]; rel: number[] } {
  const d = z0.length;
  const X: Float64Array[] = Array.from({ length: m }, () => new Float64Array(d));
  const F: Float64Array[] = Array.from({ length: m }, () => new Float64Array(d));
  const norms: number[] = [];
  const rel: number[] = [];
  const push = (x: Float64Array) => {
    const fx = f(x);
    norms.push(Math.hypot(...x));
    rel.push(Math.hypot(...fx.map((v, i) => v - x[i]!)) / (Math.hypot(...fx) + 1e-9));
    X.push(x); X.shift(); F.push(fx); F.shift(); // roll left, new pair in the last slot
  };
  X[0] = z0; F[0] = f(z0);
  norms.push(Math.hypot(...z0));
  rel.push(Math.hypot(...F[0].map((v, i) => v - z0[i]!)) / (Math.hypot(...F[0]) + 1e-9));
  X[1] = F[0]; F[1] = f(F[0]);
  norms.push(Math.hypot(...X[1]));
  rel.push(Math.hypot(...F[1]!.map((v, i) => v - X[1]![i]!)) / (Math.hypot(...F[1]!) + 1e-9));
  for (let k = 2; k < iters; k++) {
    const n = Math.min(k, m);
    const gram = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += (F[i]![t]! - X[i]![t]!) * (F[j]![t]! - X[j]![t]!);
      gram[i * n + j] = s;
    }
    const alpha = mixingWeights(gram, n, 1e-4)!;
    const x = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) x[t]! += alpha[i]! * F[i]![t]!;
    push(x);
  }
  return { norms, rel };
}

/** The sanity check of the history-filling phase: iterate norm near ‖z*‖, relative residual well below 1. */
function historyPhaseProblems(norms: number[], rel: number[], zStarNorm: number, m: number): string[] {
  const bad: string[] = [];
  for (let k = 1; k <= m + 1; k++) {
    if (!(norms[k]! > 0.5 * zStarNorm && norms[k]! < 2 * zStarNorm)) bad.push(`iterate ${k}: ‖x‖ = ${norms[k]!.toFixed(4)} vs ‖z*‖ = ${zStarNorm.toFixed(4)}`);
    if (!(rel[k]! < 0.5)) bad.push(`iterate ${k}: relative residual ${rel[k]!.toFixed(4)}`);
  }
  return bad;
}

test('Anderson does not collapse towards zero while its history fills (the rolled-history defect does, and fails this check)', () => {
  const m = 5;
  const p = tanhProblem(5, 32, 1, 0.9, 1);
  const exact = tanhFixedPoint64(p);
  const zStarNorm = Math.hypot(...exact);
  const W = f32Tensor(p.W, [32, 32]);
  const x = f32Tensor(p.x, [1, 32]);
  const norms: number[] = [];
  const inner = tanhMap(W, x);
  // The map sees every iterate the solver produces: record its norm.
  const map = (z: tf.Tensor) => { norms.push(Math.hypot(...z.dataSync())); return inner(z); };
  const z0 = tf.zeros([1, 32]);
  const { solution, stats } = anderson(map, z0, { memory: m, maxIter: 2 * m + 2, minIter: 2 * m + 2, tol: 1e-12, stopMode: 'rel' });
  assert.deepEqual(historyPhaseProblems(norms, stats.relTrace[0]!, zStarNorm, m), []);
  assert.ok(stats.relTrace[0]![m + 1]! < 1e-2, `relative residual once the buffer is full: ${stats.relTrace[0]![m + 1]}`);

  const defect = rolledHistoryAnderson((z) => tanhMap64(p, z), new Float64Array(32), m, 2 * m + 2);
  const problems = historyPhaseProblems(defect.norms, defect.rel, zStarNorm, m);
  console.log(`rolled history: ${problems.join('; ')}`);
  assert.ok(problems.length > 0, 'the re-stated defect fails the same check');
  assert.ok(defect.rel.slice(3, m + 1).some((r) => r > 0.9), `the defect's relative residual reaches ≈1: ${defect.rel.map((r) => r.toFixed(3))}`);
  tf.dispose([W, x, z0, solution]);
});

test('lowest-residual return per sample, returnFinal, and the stats (traces, lowest, nstep, mean/max) by hand', () => {
  // Sample 0 outputs 1, 1.1, 3 from z0 = 0: residuals |1 − 0| = 1, |1.1 − 1| = 0.1, |3 − 1.1| = 1.9.
  // Sample 1 outputs 5, 4, 4.01:               residuals 5, 1, 0.01.
  const outputs = [[1, 1.1, 3], [5, 4, 4.01]];
  const makeMap = () => {
    let call = 0;
    return (z: tf.Tensor) => { const t = tf.tensor2d(outputs.map((r) => [r[call]!]), z.shape as [number, number]); call++; return t; };
  };
  withTensors(() => {
    const z0 = tf.zeros([2, 1]);
    for (const solver of ['fpi', 'anderson m=1'] as const) {
      const run = (returnFinal: boolean) => solver === 'fpi'
        ? fixedPointIteration(makeMap(), z0, { maxIter: 3, tol: 1e-6, returnFinal })
        : anderson(makeMap(), z0, { maxIter: 3, tol: 1e-6, returnFinal, memory: 1 });
      const low = run(false);
      const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) < 1e-5);
      assert.ok(near(Array.from(low.solution.dataSync()), [1.1, 4.01]), `${solver}: lowest per sample ${low.solution.dataSync()}`);
      assert.deepEqual(low.stats.nstep, [2, 3]);
      assert.equal(low.stats.iterations, 3);
      assert.ok(near(low.stats.absTrace[0]!, [1, 0.1, 1.9]) && near(low.stats.absTrace[1]!, [5, 1, 0.01]), `${solver}: abs trace`);
      assert.ok(near(low.stats.relTrace[0]!, [1 / 1, 0.1 / 1.1, 1.9 / 3]), `${solver}: rel trace`);
      assert.ok(near(low.stats.absLowest, [0.1, 0.01]) && near(low.stats.relLowest, [0.1 / 1.1, 0.01 / 4.01]));
      assert.deepEqual(low.stats.converged, [false, false]);
      const s = summarizeSolverStats(low.stats);
      assert.ok(Math.abs(s.absMean - 0.055) < 1e-6 && Math.abs(s.absMax - 0.1) < 1e-6, `summary ${JSON.stringify(s)}`);
      assert.equal(s.convergedFraction, 0);
      const fin = run(true);
      assert.ok(near(Array.from(fin.solution.dataSync()), [3, 4.01]), `${solver}: returnFinal`);
      assert.deepEqual(fin.stats.nstep, [3, 3]);
      assert.ok(near(fin.stats.abs, [1.9, 0.01]));
      tf.dispose([low.solution, fin.solution]);
    }
    z0.dispose();
  });
});

test('stop rule: abs vs rel, and minIter holds the solve open', () => {
  withTensors(() => {
    // f(z) = 0.5 z + 10 from 0: z_k → 20, abs residual 10·0.5^(k−1), rel = abs / ‖f(z)‖.
    const map = (z: tf.Tensor) => tf.add(tf.mul(z, 0.5), 10);
    const z0 = tf.zeros([1, 1]);
    const abs = fixedPointIteration(map, z0, { maxIter: 50, tol: 1e-2, stopMode: 'abs' });
    // 10·0.5^(k−1) < 1e-2 first at k = 11.
    assert.equal(abs.stats.iterations, 11);
    const rel = fixedPointIteration(map, z0, { maxIter: 50, tol: 1e-2, stopMode: 'rel' });
    // rel_k = 10·0.5^(k−1) / f(z_k) with f(z_k) = 20 − 10·0.5^(k−1): k = 6 gives 0.3125/19.69 = 0.016,
    // k = 7 gives 0.156/19.84 = 7.9e-3, the first below 1e-2.
    assert.equal(rel.stats.iterations, 7);
    const held = fixedPointIteration(map, z0, { maxIter: 50, tol: 1e-2, minIter: 15 });
    assert.equal(held.stats.iterations, 15);
    tf.dispose([z0, abs.solution, rel.solution, held.solution]);
  });
});

test('non-finite mixing falls back to a plain step for that sample only', () => {
  withTensors(() => {
    // Sample 0: f(z) = z + 1 has no fixed point; from 0 every residual is exactly 1 (d = 4: ‖g‖ = 2),
    // so with λ = 0 the Gram matrix is exactly singular from n = 2 on. Sample 1: f(z) = 0.5 z + 1.
    // Sample 1: f(z) = z ⊙ (0.5, 0.3, 0.7, 0.2) + 1, residuals not collinear, memory 3 < d.
    const slopes = [[1, 1, 1, 1], [0.5, 0.3, 0.7, 0.2]];
    const a = tf.tensor2d(slopes);
    const map = (z: tf.Tensor) => tf.add(tf.mul(z, a), 1);
    const z0 = tf.zeros([2, 4]);
    const opts = { maxIter: 6, tol: 1e-6, lambda: 0, returnFinal: true, memory: 3 };
    const { solution, stats } = anderson(map, z0, opts);
    const out = solution.arraySync() as number[][];
    // Mixing steps k = 2..5 each fall back on sample 0 only.
    assert.equal(stats.fallbacks, 4);
    // Plain steps on sample 0: z_k = k, so f of the 6th iterate (z = 5) is 6, residual 2 throughout.
    assert.deepEqual(out[0], [6, 6, 6, 6]);
    assert.deepEqual(stats.absTrace[0], [2, 2, 2, 2, 2, 2]);
    // Sample 1 is solved exactly as when alone in the batch (the fallback is per sample).
    const a1 = tf.tensor2d([slopes[1]!]);
    const z1 = tf.zeros([1, 4]);
    const alone = anderson((z) => tf.add(tf.mul(z, a1), 1), z1, opts);
    assert.equal(alone.stats.fallbacks, 0);
    assert.ok(maxAbsDiff(out[1]!, alone.solution.dataSync()) < 1e-6, `sample 1: ${out[1]} vs alone ${alone.solution.dataSync()}`);
    assert.ok(maxAbsDiff(stats.absTrace[1]!, alone.stats.absTrace[0]!) < 1e-6);
    tf.dispose([a, z0, solution, a1, z1, alone.solution]);
  });
});

test('options are validated with the field named (InputError)', () => {
  const map = (z: tf.Tensor) => tf.mul(z, 0.5);
  const z0 = tf.zeros([1, 2]);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ maxIter: 0 }, /maxIter must be an integer ≥ 1, got 0/],
    [{ maxIter: 4, minIter: 5 }, /minIter must be an integer in \[0, maxIter = 4\], got 5/],
    [{ tol: 0 }, /tol must be a finite number > 0/],
    [{ stopMode: 'max' }, /stopMode must be "abs" or "rel", got "max"/],
    [{ memory: 0 }, /memory must be an integer ≥ 1/],
    [{ beta: 1.5 }, /beta must be a number in \(0, 1\]/],
    [{ lambda: -1 }, /lambda must be a finite number ≥ 0/],
    [{ tolerance: 1 }, /unknown option "tolerance"/],
  ];
  for (const [o, re] of cases) assert.throws(() => anderson(map, z0, o), (e: Error) => e instanceof InputError && re.test(e.message) && /Anderson solver/.test(e.message), JSON.stringify(o));
  assert.throws(() => fixedPointIteration(map, z0, { memory: 3 } as never), /fixed-point iteration: unknown option "memory"/);
  assert.throws(() => fixedPointIteration(() => tf.zeros([1, 3]), z0), /returned shape \[1,3\] for a state of shape \[1,2\]/);
  z0.dispose();
});

test('Broyden: the affine fixed point in at most 2d iterations (Gay), fewer than plain iteration on the tanh map; a zero update falls back per sample', () => {
  withTensors(() => {
    const d = 6;
    const p = tanhProblem(7, d, 2, 0.95);
    const A = f32Tensor(p.W, [d, d]);
    const b = f32Tensor(p.x, [2, d]);
    const z0 = tf.zeros([2, d]);
    // g(z) = z(A − I) + b is affine: Broyden's good method terminates within 2d steps (Gay 1979).
    const affine = broyden((z) => tf.add(tf.matMul(z as tf.Tensor2D, A as tf.Tensor2D), b), z0, { maxIter: 100, tol: 1e-5 });
    assert.ok(affine.stats.converged.every(Boolean) && affine.stats.iterations <= 2 * d + 1, `Broyden affine: ${affine.stats.iterations} iterations`);
    const fpi = fixedPointIteration((z) => tf.add(tf.matMul(z as tf.Tensor2D, A as tf.Tensor2D), b), z0, { maxIter: 500, tol: 1e-5 });
    assert.ok(maxAbsDiff(affine.solution.dataSync(), fpi.solution.dataSync()) < 1e-3);

    const q = tanhProblem(3, 16, 4, 0.95, 0.3);
    const W = f32Tensor(q.W, [16, 16]);
    const x = f32Tensor(q.x, [4, 16]);
    const zq = tf.zeros([4, 16]);
    const plain = fixedPointIteration(tanhMap(W, x), zq, { maxIter: 200, tol: 1e-5 });
    const br = broyden(tanhMap(W, x), zq, { maxIter: 200, tol: 1e-5 });
    console.log(`tanh d=16: FPI ${plain.stats.iterations}, Broyden ${br.stats.iterations} iterations; affine d=6: Broyden ${affine.stats.iterations}`);
    assert.ok(br.stats.converged.every(Boolean) && br.stats.iterations < plain.stats.iterations);
    assert.ok(maxAbsDiff(br.solution.dataSync(), tanhFixedPoint64(q)) < 2e-4);

    // f(z) = z + 1 on sample 0: Δg = 0, so vᵀΔg = 0 and the update is skipped; the step stays x − Hg = f(x).
    const slopes = tf.tensor2d([[1, 1, 1, 1], [0.5, 0.3, 0.7, 0.2]]);
    const z4 = tf.zeros([2, 4]);
    const opts = { maxIter: 6, tol: 1e-6, returnFinal: true };
    const mixed = broyden((z) => tf.add(tf.mul(z, slopes), 1), z4, opts);
    assert.equal(mixed.stats.fallbacks, 5);
    assert.deepEqual((mixed.solution.arraySync() as number[][])[0], [6, 6, 6, 6]);
    const s1 = tf.tensor2d([[0.5, 0.3, 0.7, 0.2]]);
    const z1 = tf.zeros([1, 4]);
    const alone = broyden((z) => tf.add(tf.mul(z, s1), 1), z1, opts);
    assert.ok(maxAbsDiff((mixed.solution.arraySync() as number[][])[1]!, alone.solution.dataSync()) < 1e-6);
    assert.throws(() => broyden((z) => z, z1, { beta: 0.5 } as never), /Broyden solver: unknown option "beta"/);
    tf.dispose([A, b, z0, affine.solution, fpi.solution, W, x, zq, plain.solution, br.solution, slopes, z4, mixed.solution, s1, z1, alone.solution]);
  });
});
