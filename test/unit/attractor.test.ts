// The Attractor form on TF.js (reference.md §4.1, trainer/model/attractor.ts), against a float64
// re-statement of the reference's formulas written here from reference.md, not from the model:
//   c = backbone(x) (pre-norm blocks), f(y) = FPHead(y + c) − y with LayerScale gates
//   sigmoid(raw)·gammaMax, y* = f(y*), z_H = RMSNorm(y*), z_L = y* − c.
// Checked: the config's defaults and refusals, the gate initialisation (hand value ln 2), closed gates
// giving y* = c exactly, the context, map and solved equilibrium against float64, the phantom
// gradient against central finite differences (float64) of the K-step map from the fixed y*, the
// undecayed gates, the solver cap of 0 (y = c + offset), and training memory that does not grow with
// maxIter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../trainer/backend';
import { AttractorModel, rawGateInit } from '../../trainer/model/attractor';
import { modelSchema, resolveAttractor, type ModelConfig, type TrainConfig } from '../../protocol/config';
import { presets } from '../../protocol/presets';
import { InputError } from '../../trainer/inputError';
import { Rng } from '../../trainer/random';
import { createTrainState, disposeTrainState } from '../../trainer/train/trainState';
import { trainStep } from '../../trainer/train/trainStep';
import type { ParamSet } from '../../trainer/model/recursiveModel';
import { stepPeakBytes, tinyDeqTrain } from './deqFixtures';

test.before(async () => { await selectBackend('cpu'); });

// D 8, one backbone and two head blocks, prefix 1 + 4 cells (S 5); SwiGLU hidden 12 (channels), 8 (positions).
const cfg: ModelConfig = {
  arch: 'attractor', mixer: 'mlp_t', hiddenSize: 8, numHeads: 2, expansion: 2, ffnMultipleOf: 4, layers: 2,
  hCycles: 1, lCycles: 1, puzzleEmbLen: 1, posEncodings: 'none', ropeTheta: 10000, rmsNormEps: 1e-5, qHeadBiasInit: -5,
  attractor: { backboneLayers: 1 }, deq: { solver: 'anderson', maxIter: 30, minIter: 2, tol: 1e-6, stopMode: 'rel', phantomSteps: 2 },
};
const task = { vocabSize: 6, seqLen: 4 };
const isGate = (name: string) => /\.gate_(mixer|mlp)$/.test(name);
const D = 8;
const S = 5;

test('config: arch "attractor" parses with partial model.attractor (defaults 1 block, gates 0.5 of 0.75); bad fields refused by name', () => {
  const parsed = modelSchema.parse({ ...cfg, attractor: { gammaMax: 1 } });
  assert.deepEqual(resolveAttractor(parsed), { backboneLayers: 1, layerScaleInit: 0.5, gammaMax: 1 });
  const bad = modelSchema.safeParse({ ...cfg, attractor: { backboneLayers: 0 } });
  assert.ok(!bad.success && bad.error.issues[0]!.path.join('.') === 'attractor.backboneLayers');
  const unknown = modelSchema.safeParse({ ...cfg, attractor: { layerScale: 0.1 } });
  assert.ok(!unknown.success && /layerScale/.test(JSON.stringify(unknown.error.issues)));
  assert.throws(() => new AttractorModel({ ...cfg, attractor: { layerScaleInit: 0.8, gammaMax: 0.75 } }, task),
    (e: unknown) => e instanceof InputError && /model\.attractor\.layerScaleInit: 0\.8 must be below gammaMax 0\.75/.test((e as Error).message));
  assert.throws(() => new AttractorModel({ ...cfg, deq: { gradient: 'ift' } }, task).checkTrainableOnTfjs(), (e: unknown) => e instanceof InputError && /ift/.test((e as Error).message));
  const preset = presets['attractor-form-sudoku4']!.model;
  assert.equal(preset.arch, 'attractor');
  assert.deepEqual(resolveAttractor(preset), { backboneLayers: 1, layerScaleInit: 0.5, gammaMax: 0.75 });
});

test('parameters: backbone and head blocks, two [D] gates per head block at raw ln 2 (sigmoid(ln 2)·0.75 = 0.5), undecayed; zero initial states', () => {
  const model = new AttractorModel(cfg, task);
  const specs = model.parameterSpecs();
  const names = specs.map((s) => s.name);
  assert.deepEqual(names.filter(isGate), ['head.0.gate_mixer', 'head.0.gate_mlp', 'head.1.gate_mixer', 'head.1.gate_mlp']);
  assert.deepEqual(names.filter((n) => n.startsWith('backbone.')), ['backbone.0.seq_mlp.gate_up', 'backbone.0.seq_mlp.down', 'backbone.0.mlp.gate_up', 'backbone.0.mlp.down']);
  assert.ok(Math.abs(rawGateInit({ layerScaleInit: 0.5, gammaMax: 0.75 }) - Math.LN2) < 1e-12);
  const values = model.initialParameters(new Rng(1));
  for (const s of specs.filter((x) => isGate(x.name))) {
    assert.deepEqual(s.shape, [D]);
    assert.equal(s.weightDecay, false);
    for (const v of values.get(s.name)!) assert.ok(Math.abs(0.75 / (1 + Math.exp(-v)) - 0.5) < 1e-7);
  }
  assert.ok(specs.filter((x) => !isGate(x.name)).every((x) => x.weightDecay === undefined));
  const { hInit, lInit } = model.initialStates(new Rng(1));
  assert.ok(hInit.every((v) => v === 0) && lInit.every((v) => v === 0));
});

// ---- the float64 re-statement ---------------------------------------------------------------

type Weights = Map<string, Float64Array>;
const silu = (v: number) => v / (1 + Math.exp(-v));

/** RMSNorm without gain over the last axis of a row-major [rows, n] array. */
function rmsRows(h: Float64Array, rows: number, n: number, eps = 1e-5): Float64Array {
  const out = new Float64Array(h.length);
  for (let r = 0; r < rows; r++) {
    let ms = 0;
    for (let j = 0; j < n; j++) ms += h[r * n + j]! ** 2;
    const k = 1 / Math.sqrt(ms / n + eps);
    for (let j = 0; j < n; j++) out[r * n + j] = h[r * n + j]! * k;
  }
  return out;
}

/** down(silu(gate) ⊙ up) of one vector v [n]; gate_up [n, 2H] (gate columns first), down [H, n]. */
function swiglu64(v: ArrayLike<number>, gateUp: Float64Array, down: Float64Array, n: number): Float64Array {
  const H = gateUp.length / n / 2;
  const a = new Float64Array(H);
  for (let k = 0; k < H; k++) {
    let g = 0, u = 0;
    for (let i = 0; i < n; i++) { g += v[i]! * gateUp[i * 2 * H + k]!; u += v[i]! * gateUp[i * 2 * H + H + k]!; }
    a[k] = silu(g) * u;
  }
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) for (let k = 0; k < H; k++) out[j]! += a[k]! * down[k * n + j]!;
  return out;
}

/** One row [S, D] through pre-norm mlp_t blocks: h += g1 ⊙ T(seqMLP(T(norm h))); h += g2 ⊙ MLP(norm h). */
function preNorm64(w: Weights, prefix: string, count: number, h0: Float64Array, gammaMax?: number): Float64Array {
  const h = Float64Array.from(h0);
  const gate = (name: string, d: number) => (gammaMax === undefined ? 1 : gammaMax / (1 + Math.exp(-w.get(name)![d]!)));
  for (let b = 0; b < count; b++) {
    const p = `${prefix}.${b}`;
    const n1 = rmsRows(h, S, D);
    for (let d = 0; d < D; d++) {
      const column = Array.from({ length: S }, (_, s) => n1[s * D + d]!);
      const mixed = swiglu64(column, w.get(`${p}.seq_mlp.gate_up`)!, w.get(`${p}.seq_mlp.down`)!, S);
      for (let s = 0; s < S; s++) h[s * D + d]! += gate(`${p}.gate_mixer`, d) * mixed[s]!;
    }
    const n2 = rmsRows(h, S, D);
    for (let s = 0; s < S; s++) {
      const ch = swiglu64(n2.subarray(s * D, (s + 1) * D), w.get(`${p}.mlp.gate_up`)!, w.get(`${p}.mlp.down`)!, D);
      for (let d = 0; d < D; d++) h[s * D + d]! += gate(`${p}.gate_mlp`, d) * ch[d]!;
    }
  }
  return h;
}

const context64 = (w: Weights, x: Float64Array) => preNorm64(w, 'backbone', 1, x);
/** f(y) = FPHead(y + c) − y. */
function map64(w: Weights, y: Float64Array, c: Float64Array, gammaMax = 0.75): Float64Array {
  const out = preNorm64(w, 'head', 2, y.map((v, i) => v + c[i]!), gammaMax);
  return out.map((v, i) => v - y[i]!);
}
/** Plain iteration from y0 to |f(y) − y| < 1e-13 (the map is contractive here: asserted). */
function fixedPoint64(w: Weights, c: Float64Array, y0: Float64Array): Float64Array {
  let y = y0;
  for (let it = 0; it < 2000; it++) {
    const next = map64(w, y, c);
    const change = Math.max(...next.map((v, i) => Math.abs(v - y[i]!)));
    y = next;
    if (change < 1e-13) return y;
  }
  throw new Error('float64 plain iteration did not converge');
}

function setup(seed: number, gates?: number): { model: AttractorModel; p: Record<string, tf.Tensor>; w: Weights; x: tf.Tensor3D } {
  const model = new AttractorModel(cfg, task);
  const values = model.initialParameters(new Rng(seed));
  if (gates !== undefined) for (const [n, v] of values) if (isGate(n)) v.fill(gates);
  const p: Record<string, tf.Tensor> = {};
  const w: Weights = new Map();
  for (const s of model.parameterSpecs()) {
    p[s.name] = tf.tensor(values.get(s.name)!, s.shape);
    w.set(s.name, Float64Array.from(values.get(s.name)!));
  }
  const tokens = tf.tensor2d([[1, 2, 3, 4], [5, 1, 2, 2]], [2, 4], 'int32');
  return { model, p, w, x: model.inputEmbedding(p, tokens) };
}

const row = (t: tf.Tensor, r: number) => Float64Array.from(t.dataSync().subarray(r * S * D, (r + 1) * S * D));
const maxAbs = (a: ArrayLike<number>) => Math.max(...Array.from(a, Math.abs));
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));

test('closed gates (raw −40): FPHead is the identity, f(y) = c for every y, so one solve returns y* = c: z_H = RMSNorm(c), z_L = 0', () => {
  const { model, p, w, x } = setup(2, -40);
  const zeros = tf.zeros([2, S, D]) as tf.Tensor3D;
  const out = model.cyclesWithoutGradient(p, zeros, zeros, x, 1, 1);
  for (let r = 0; r < 2; r++) {
    const c = context64(w, row(x, r));
    assert.ok(maxDiff(row(out.zH, r), rmsRows(c, S, D)) < 1e-5, 'z_H = RMSNorm(c)');
    assert.ok(maxAbs(row(out.zL, r)) < 1e-5, 'z_L = y* − c = 0');
  }
  assert.equal(model.takeStepStatistics()!['deqIterations'], 2, 'converged at minIter: f(y) − y = c − y vanishes from the second estimate on');
});

test('context, map and equilibrium = the float64 re-statement: |Δc|, |Δf| < 1e-5·scale; y* (plain iteration, abs 1e-6) within 1e-4 of float64 plain iteration to 1e-13', () => {
  const { p, w, x } = setup(3);
  // Plain iteration on both sides: the same equilibrium reached the same way (Anderson's own convergence is tested in deq-solvers).
  const model = new AttractorModel({ ...cfg, deq: { solver: 'fpi', maxIter: 400, minIter: 0, tol: 1e-6, stopMode: 'abs' } }, task);
  const rng = new Rng(5);
  const c = tf.tidy(() => model.context(p, x));
  const y = tf.tensor3d(Float32Array.from({ length: 2 * S * D }, () => rng.normal()), [2, S, D]);
  const fy = tf.tidy(() => model.attractorMap(p, c)(y));
  const offset = tf.tensor3d(Float32Array.from({ length: 2 * S * D }, () => 0.1 * rng.normal()), [2, S, D]);
  const out = model.cyclesWithoutGradient(p, tf.zeros([2, S, D]) as tf.Tensor3D, offset, x, 1, 1);
  for (let r = 0; r < 2; r++) {
    const c64 = context64(w, row(x, r));
    assert.ok(maxDiff(row(c, r), c64) < 1e-5 * maxAbs(c64), `row ${r}: context`);
    const f64 = map64(w, row(y, r), c64);
    assert.ok(maxDiff(row(fy, r), f64) < 1e-5 * maxAbs(f64), `row ${r}: map`);
    // The float64 equilibrium from the same start y0 = c + offset, and the carried states from it.
    const star = fixedPoint64(w, c64, c64.map((v, i) => v + row(offset, r)[i]!));
    assert.ok(maxDiff(row(out.zL, r), star.map((v, i) => v - c64[i]!)) < 1e-4 * maxAbs(star), `row ${r}: z_L = y* − c: ${maxDiff(row(out.zL, r), star.map((v, i) => v - c64[i]!))} of ${maxAbs(star)}`);
    assert.ok(maxDiff(row(out.zH, r), rmsRows(star, S, D)) < 1e-4, `row ${r}: z_H = RMSNorm(y*)`);
    // y* moved away from c: the head did work (fp_head_contribution ‖y* − c‖/‖c‖ well above 0).
    assert.ok(Math.hypot(...star.map((v, i) => v - c64[i]!)) / Math.hypot(...c64) > 0.05);
  }
  const stats = model.takeStepStatistics()!;
  assert.ok(stats['deqAbsMax']! < 1e-6 && stats['deqConvergedFraction'] === 1, JSON.stringify(stats));
});

test('phantom gradient = central finite differences (float64) of sum(u ⊙ RMSNorm(Φ_K(y*))) with y* fixed and c = backbone(x) varying (K 2; K 1 τ 0.6)', () => {
  for (const [K, tau] of [[2, 1], [1, 0.6]] as const) {
    const base = setup(4);
    const model = new AttractorModel({ ...cfg, deq: { ...cfg.deq, phantomSteps: K, phantomDamping: tau } }, task);
    const { p, w, x } = base;
    const zeros = tf.zeros([2, S, D]) as tf.Tensor3D;
    const warm = model.stepWithoutGradient(p, { zH: zeros, zL: zeros }, x, model.depth);
    const yStar = [row(warm.zL, 0), row(warm.zL, 1)];
    const rng = new Rng(9);
    const u = Float32Array.from({ length: 2 * S * D }, () => rng.normal());
    const names = ['head.1.gate_mlp', 'head.0.seq_mlp.gate_up', 'backbone.0.mlp.down'];
    const vars = names.map((n) => tf.variable(p[n]!));
    const { grads } = tf.variableGrads(() => {
      const q: ParamSet = { ...p, ...Object.fromEntries(names.map((n, i) => [n, vars[i]!])) };
      const { zH } = model.stepWithGradient(q, warm, x, model.depth);
      return tf.sum(tf.mul(zH, tf.tensor3d(u, [2, S, D]))) as tf.Scalar;
    }, vars);
    // The same function in float64: c from the backbone, K damped steps from the constant y*.
    const loss64 = (ww: Weights) => {
      let total = 0;
      for (let r = 0; r < 2; r++) {
        const c = context64(ww, row(x, r));
        let y = yStar[r]!;
        for (let k = 0; k < K; k++) {
          const fy = map64(ww, y, c);
          y = fy.map((v, i) => tau * v + (1 - tau) * y[i]!);
        }
        const zH = rmsRows(y, S, D);
        for (let i = 0; i < S * D; i++) total += u[r * S * D + i]! * zH[i]!;
      }
      return total;
    };
    names.forEach((n, i) => {
      const g = grads[vars[i]!.name]!.dataSync();
      for (const idx of [0, 3, w.get(n)!.length - 1]) {
        const at = (d: number) => {
          const ww = new Map(w);
          const v = Float64Array.from(w.get(n)!);
          v[idx] = v[idx]! + d;
          ww.set(n, v);
          return loss64(ww);
        };
        const h = 1e-6;
        const fd = (at(h) - at(-h)) / (2 * h);
        assert.ok(Math.abs(fd - g[idx]!) <= 2e-3 * Math.abs(fd) + 2e-4, `K ${K} τ ${tau} ${n}[${idx}]: taped ${g[idx]} vs finite difference ${fd}`);
      }
    });
    tf.dispose([...vars, warm.zH, warm.zL]);
  }
});

test('the LayerScale gates skip the weight decay: one AdamW step with decay 0.5 vs 0 leaves the gates equal and moves the rest by −lr·0.5·p', () => {
  const train: TrainConfig = { ...tinyDeqTrain, optimizer: 'adamw', ema: { ...tinyDeqTrain.ema, enabled: false } };
  const rng = new Rng(2);
  const incoming = {
    size: 4, seqLen: 4, tokens: Int32Array.from({ length: 16 }, () => 1 + rng.int(5)),
    labels: Int32Array.from({ length: 16 }, () => 2 + rng.int(4)), blanks: new Int32Array(4),
  };
  const lr = 1e-2;
  const after = (weightDecay: number) => {
    const model = new AttractorModel({ ...cfg, deq: { ...cfg.deq, maxIter: 4, tol: 1e-9 } }, task);
    const state = createTrainState(model, { ...train, weightDecay }, new Rng(1));
    const before = new Map([...state.params].map(([n, v]) => [n, Float64Array.from(v.dataSync())]));
    trainStep(state, incoming, { ...train, weightDecay }, model.depth, lr, new Rng(0));
    const out = new Map([...state.params].map(([n, v]) => [n, Float64Array.from(v.dataSync())]));
    disposeTrainState(state);
    return { before, out };
  };
  const decayed = after(0.5);
  const plain = after(0);
  for (const [name, v] of decayed.out) {
    const expected = isGate(name) || name === 'puzzle_emb' ? plain.out.get(name)!
      : plain.out.get(name)!.map((q, i) => q - lr * 0.5 * decayed.before.get(name)![i]!);
    if (name === 'puzzle_emb') continue; // sign-SGD, its own decay (puzzleEmbWeightDecay)
    assert.ok(maxDiff(v, expected) < 1e-6, `${name}: ${maxDiff(v, expected)}`);
  }
  assert.ok(maxDiff(decayed.out.get('head.0.gate_mlp')!, decayed.before.get('head.0.gate_mlp')!) > 1e-4, 'the gates did train');
});

test('solve cap 0 (equilibrium internalisation): no solve, y = c + the carried offset, so z_L is unchanged and z_H = RMSNorm(c + z_L); no statistics', () => {
  const { model, p, w, x } = setup(6);
  const rng = new Rng(3);
  const offset = tf.tensor3d(Float32Array.from({ length: 2 * S * D }, () => 0.2 * rng.normal()), [2, S, D]);
  const out = model.withSolveCap(0, () => model.cyclesWithoutGradient(p, tf.zeros([2, S, D]) as tf.Tensor3D, offset, x, 1, 1));
  for (let r = 0; r < 2; r++) {
    const c = context64(w, row(x, r));
    assert.ok(maxDiff(row(out.zL, r), row(offset, r)) < 1e-5);
    assert.ok(maxDiff(row(out.zH, r), rmsRows(c.map((v, i) => v + row(offset, r)[i]!), S, D)) < 1e-5);
  }
  assert.equal(model.takeStepStatistics(), undefined);
});

test('FLOPs of a step by hand: backbone 1 block (twice in training), 30 solver + 2 phantom head calls of 2 blocks, the heads', () => {
  const model = new AttractorModel(cfg, task);
  // One block for one row: channel 6·S·D·12 = 2880, mixer (mlp_t) 6·D·S·8 = 1920: 4800. Heads: 2·4·8·6 + 2·8·2 = 416.
  const block = 4800;
  const heads = 416;
  assert.deepEqual(model.stepFlops(model.depth, 3, true), {
    forward: 3 * (2 * block + 30 * 2 * block + 2 * 2 * block + heads),
    backward: 3 * 2 * (block + 2 * 2 * block + heads),
  });
  assert.deepEqual(model.stepFlops(model.depth, 1, false), { forward: block + 30 * 2 * block + heads, backward: 0 });
});

test('training memory: the peak bytes of an Attractor training step barely change from maxIter 8 to 32 (no iterate is taped)', async () => {
  const [a, b] = await stepPeakBytes(cfg, [8, 32]);
  assert.deepEqual([a!.iterations, b!.iterations], [8, 32]);
  assert.ok(b!.peak < 1.1 * a!.peak, `peak bytes ${a!.peak} vs ${b!.peak}`);
});
