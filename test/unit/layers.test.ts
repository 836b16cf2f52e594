// The layers of the TRM block (reference.md §1.3–1.4) against plain-JS re-implementations in
// float64 on random weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../trainer/backend';
import { applyRope, linear, rmsNorm, ropeTables, selfAttention, swiglu, swigluHiddenSize } from '../../trainer/model/layers';
import { TrmModel } from '../../trainer/model/trm';
import type { ModelConfig } from '../../protocol/config';
import { Rng } from '../../trainer/random';

test.before(async () => { await selectBackend('cpu'); });

type Mat = number[][];

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${what}[${i}]: ${a} vs ${e}`);
  }
}

function randomMat(rows: number, cols: number, rng: Rng, scale = 1): Mat {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.normal() * scale));
}
const matmul = (a: Mat, b: Mat): Mat => a.map((row) => b[0]!.map((_, j) => row.reduce((s, x, k) => s + x * b[k]![j]!, 0)));
const transpose = (a: Mat): Mat => a[0]!.map((_, j) => a.map((row) => row[j]!));
const add = (a: Mat, b: Mat): Mat => a.map((row, i) => row.map((x, j) => x + b[i]![j]!));
const flat = (a: Mat): number[] => a.flat();
/** Row-major Float32Array -> rows × cols matrix. */
const toMat = (data: ArrayLike<number>, rows: number, cols: number): Mat =>
  Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => data[i * cols + j]!));
const rmsRows = (a: Mat, eps: number): Mat => a.map((row) => {
  const ms = row.reduce((s, x) => s + x * x, 0) / row.length;
  return row.map((x) => x / Math.sqrt(ms + eps));
});
const silu = (x: number) => x / (1 + Math.exp(-x));
/** down(silu(gate) · up), gate = first half of x·gateUp, up = second half. */
function swigluJs(x: Mat, gateUp: Mat, down: Mat): Mat {
  const z = matmul(x, gateUp);
  const f = gateUp[0]!.length / 2;
  return matmul(z.map((row) => row.slice(0, f).map((g, j) => silu(g) * row[f + j]!)), down);
}

test('rmsNorm normalises each vector along the last axis, without gain', () => {
  const rng = new Rng(1);
  const data = Array.from({ length: 2 * 3 * 5 }, () => rng.normal() * 3);
  const got = rmsNorm(tf.tensor3d(data, [2, 3, 5]), 1e-5).dataSync();
  // Plain JS over the last axis (rows of 5).
  assertClose(got, flat(rmsRows(toMat(data, 6, 5), 1e-5)), 1e-5, 'rmsNorm');
  for (let r = 0; r < 6; r++) {
    const ms = Array.from(got.subarray(r * 5, r * 5 + 5)).reduce((s, x) => s + x * x, 0) / 5;
    assert.ok(Math.abs(ms - 1) < 1e-4, `row ${r} mean square ${ms}`);
  }
  // Not over the middle axis: the mean square of a column (fixed batch and channel) is not 1.
  const column = [0, 1, 2].map((l) => got[l * 5]!);
  const colMs = column.reduce((s, x) => s + x * x, 0) / 3;
  assert.ok(Math.abs(colMs - 1) > 1e-3, `column mean square ${colMs} should not be normalised`);
});

test('swigluHiddenSize: 512·4 → 1536, 97·4 → 512 at multiple 256 (reference.md §1.4)', () => {
  assert.equal(swigluHiddenSize(512, 4, 256), 1536);
  assert.equal(swigluHiddenSize(97, 4, 256), 512);
  // round(4·32·2/3) = round(85.33) = 85 → 88 at multiple 8; round(4·17·2/3) = 45 → 48.
  assert.equal(swigluHiddenSize(32, 4, 8), 88);
  assert.equal(swigluHiddenSize(17, 4, 8), 48);
});

test('linear: value x·W and gradients dy·Wᵀ, xᵀ·dy', () => {
  const rng = new Rng(2);
  const x = randomMat(3, 4, rng), w = randomMat(4, 5, rng), dy = randomMat(3, 5, rng);
  const xt = tf.tensor2d(x), wt = tf.tensor2d(w), dyt = tf.tensor2d(dy);
  assertClose(linear(xt, wt).dataSync(), flat(matmul(x, w)), 1e-5, 'value');
  const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(linear(a as tf.Tensor2D, b as tf.Tensor2D), dyt)))([xt, wt]);
  assert.deepEqual(dx!.shape, [3, 4]);
  assert.deepEqual(dw!.shape, [4, 5]);
  assertClose(dx!.dataSync(), flat(matmul(dy, transpose(w))), 1e-5, 'dx');
  assertClose(dw!.dataSync(), flat(matmul(transpose(x), dy)), 1e-5, 'dw');
});

test('linear on the wasm backend agrees with the plain-JS value and gradients', async () => {
  const rng = new Rng(3);
  const x = randomMat(6, 8, rng), w = randomMat(8, 3, rng), dy = randomMat(6, 3, rng);
  await selectBackend('wasm');
  try {
    const xt = tf.tensor2d(x), wt = tf.tensor2d(w), dyt = tf.tensor2d(dy);
    assertClose(linear(xt, wt).dataSync(), flat(matmul(x, w)), 1e-5, 'wasm value');
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(linear(a as tf.Tensor2D, b as tf.Tensor2D), dyt)))([xt, wt]);
    assertClose(dx!.dataSync(), flat(matmul(dy, transpose(w))), 1e-5, 'wasm dx');
    assertClose(dw!.dataSync(), flat(matmul(transpose(x), dy)), 1e-5, 'wasm dw');
  } finally {
    await selectBackend('cpu');
  }
});

test('swiglu: down(silu(gate) · up) with the fused projection split gate first, then up', () => {
  const rng = new Rng(4);
  const x = randomMat(3, 4, rng), gu = randomMat(4, 6, rng, 0.5), down = randomMat(3, 4, rng, 0.5);
  assertClose(swiglu(tf.tensor2d(x), tf.tensor2d(gu), tf.tensor2d(down)).dataSync(), flat(swigluJs(x, gu, down)), 1e-5, 'swiglu');
});

test('RoPE with headDim 2 is the 2-D rotation by angle p at position p (rotate-half layout) and keeps the norm', () => {
  const L = 6;
  const { cos, sin } = ropeTables(L, 2, 10000);
  const rng = new Rng(5);
  const x = randomMat(L, 2, rng);
  const got = applyRope(tf.tensor2d(x), tf.tensor2d(cos, [L, 2]), tf.tensor2d(sin, [L, 2])).dataSync();
  for (let p = 0; p < L; p++) {
    const [a, b] = x[p]!;
    // [cos p, −sin p; sin p, cos p] · [a, b].
    const expected = [Math.cos(p) * a! - Math.sin(p) * b!, Math.sin(p) * a! + Math.cos(p) * b!];
    assertClose([got[2 * p]!, got[2 * p + 1]!], expected, 1e-5, `position ${p}`);
    assert.ok(Math.abs(Math.hypot(got[2 * p]!, got[2 * p + 1]!) - Math.hypot(a!, b!)) < 1e-5, `norm at ${p}`);
  }
});

test('RoPE tables: frequencies 1/theta^(2i/d) duplicated in both halves; q·k after RoPE depends only on the position difference', () => {
  const L = 12, d = 8, theta = 100;
  const { cos, sin } = ropeTables(L, d, theta);
  for (const p of [0, 5, 11]) {
    for (let i = 0; i < d / 2; i++) {
      const angle = p / Math.pow(theta, (2 * i) / d);
      for (const j of [i, i + d / 2]) {
        assert.ok(Math.abs(cos[p * d + j]! - Math.cos(angle)) < 1e-6 && Math.abs(sin[p * d + j]! - Math.sin(angle)) < 1e-6, `p ${p} j ${j}`);
      }
    }
  }
  const rng = new Rng(6);
  const q = Array.from({ length: d }, () => rng.normal());
  const k = Array.from({ length: d }, () => rng.normal());
  // The same q and k at every position; row p of the result is the vector rotated for position p.
  const rq = applyRope(tf.tensor2d(Array(L).fill(q)), tf.tensor2d(cos, [L, d]), tf.tensor2d(sin, [L, d])).arraySync() as Mat;
  const rk = applyRope(tf.tensor2d(Array(L).fill(k)), tf.tensor2d(cos, [L, d]), tf.tensor2d(sin, [L, d])).arraySync() as Mat;
  const dot = (i: number, j: number) => rq[i]!.reduce((s, x, c) => s + x * rk[j]![c]!, 0);
  for (const diff of [0, 2, 5]) {
    const ref = dot(diff, 0);
    for (const j of [1, 3, 6]) assert.ok(Math.abs(dot(j + diff, j) - ref) < 1e-4, `diff ${diff} at ${j}: ${dot(j + diff, j)} vs ${ref}`);
  }
  // Rotation keeps every vector's norm.
  const norm = (v: number[]) => Math.hypot(...v);
  for (let p = 0; p < L; p++) assert.ok(Math.abs(norm(rq[p]!) - norm(q)) < 1e-4);
});

test('selfAttention (non-causal, 2 heads, RoPE) equals a plain-JS multi-head attention', () => {
  const L = 4, D = 8, H = 2, hd = D / H;
  const rng = new Rng(7);
  const h = randomMat(L, D, rng);
  const wqkv = randomMat(D, 3 * D, rng, 0.4), wo = randomMat(D, D, rng, 0.4);
  const { cos, sin } = ropeTables(L, hd, 10000);
  const got = selfAttention(tf.tensor3d([h]), tf.tensor2d(wqkv), tf.tensor2d(wo), H,
    { cos: tf.tensor2d(cos, [L, hd]), sin: tf.tensor2d(sin, [L, hd]) }).dataSync();

  const qkv = matmul(h, wqkv); // [L, 3D]: q heads, then k heads, then v heads
  const rope = (v: number[], p: number) => {
    const half = hd / 2;
    return v.map((x, j) => x * cos[p * hd + j]! + (j < half ? -v[j + half]! : v[j - half]!) * sin[p * hd + j]!);
  };
  const merged: Mat = Array.from({ length: L }, () => Array(D).fill(0));
  for (let head = 0; head < H; head++) {
    const part = (which: number, l: number) => qkv[l]!.slice(which * D + head * hd, which * D + (head + 1) * hd);
    for (let i = 0; i < L; i++) {
      const q = rope(part(0, i), i);
      const scores = Array.from({ length: L }, (_, j) => rope(part(1, j), j).reduce((s, x, c) => s + x * q[c]!, 0) / Math.sqrt(hd));
      const max = Math.max(...scores);
      const w = scores.map((s) => Math.exp(s - max));
      const z = w.reduce((a, b) => a + b, 0);
      for (let j = 0; j < L; j++) part(2, j).forEach((v, c) => { merged[i]![head * hd + c]! += (w[j]! / z) * v; });
    }
  }
  assertClose(got, flat(matmul(merged, wo)), 1e-4, 'attention');
});

for (const backend of ['cpu', 'wasm'] as const) {
  test(`selfAttention gradients on ${backend} equal those of a plain tf.matMul attention`, async () => {
    const B = 2, L = 5, D = 8, H = 2, hd = D / H;
    const rng = new Rng(11);
    const hData = Array.from({ length: B * L * D }, () => rng.normal());
    const qkvData = randomMat(D, 3 * D, rng, 0.4), oData = randomMat(D, D, rng, 0.4);
    const dyData = Array.from({ length: B * L * D }, () => rng.normal());
    const { cos, sin } = ropeTables(L, hd, 10000);
    await selectBackend(backend);
    try {
      const h = tf.tensor3d(hData, [B, L, D]), qkv = tf.tensor2d(qkvData), o = tf.tensor2d(oData), dy = tf.tensor3d(dyData, [B, L, D]);
      const rope = { cos: tf.tensor2d(cos, [L, hd]), sin: tf.tensor2d(sin, [L, hd]) };
      // Reference: built-in ops only, heads as [B, H, L, hd], rotate-half RoPE written out.
      const ref = (x: tf.Tensor, wq: tf.Tensor, wo: tf.Tensor) => {
        const proj = tf.reshape(tf.matMul(tf.reshape(x, [B * L, D]), wq), [B, L, 3, H, hd]);
        const part = (i: number) => tf.transpose(tf.reshape(tf.slice(proj, [0, 0, i, 0, 0], [B, L, 1, H, hd]), [B, L, H, hd]), [0, 2, 1, 3]);
        const rot = (t: tf.Tensor) => {
          const [t1, t2] = tf.split(t, 2, -1);
          return tf.add(tf.mul(t, rope.cos), tf.mul(tf.concat([tf.neg(t2!), t1!], -1), rope.sin));
        };
        const scores = tf.div(tf.matMul(rot(part(0)), rot(part(1)), false, true), Math.sqrt(hd));
        const att = tf.matMul(tf.softmax(scores), part(2)); // [B, H, L, hd]
        return tf.reshape(tf.matMul(tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [B * L, D]), wo), [B, L, D]);
      };
      const loss = (f: (x: tf.Tensor, wq: tf.Tensor, wo: tf.Tensor) => tf.Tensor) =>
        tf.grads((x: tf.Tensor, wq: tf.Tensor, wo: tf.Tensor) => tf.sum(tf.mul(f(x, wq, wo), dy)))([h, qkv, o]);
      const got = loss((x, wq, wo) => selfAttention(x as tf.Tensor3D, wq as tf.Tensor2D, wo as tf.Tensor2D, H, rope));
      const want = loss(ref);
      assertClose(selfAttention(h, qkv, o, H, rope).dataSync(), ref(h, qkv, o).dataSync(), 1e-4, 'value');
      ['dh', 'dqkv', 'do'].forEach((name, i) => assertClose(got[i]!.dataSync(), want[i]!.dataSync(), 1e-4, name));
    } finally {
      await selectBackend('cpu');
    }
  });
}

const tinyMlpT: ModelConfig = {
  arch: 'trm', mixer: 'mlp_t', hiddenSize: 4, numHeads: 1, expansion: 4, ffnMultipleOf: 8, layers: 1,
  hCycles: 2, lCycles: 1, puzzleEmbLen: 1, posEncodings: 'none', ropeTheta: 10000, rmsNormEps: 1e-5, qHeadBiasInit: -5,
};

test('mlp_t block: SwiGLU over the sequence axis, rmsNorm over the SEQUENCE axis, then SwiGLU and rmsNorm over channels', () => {
  const model = new TrmModel(tinyMlpT, { vocabSize: 6, seqLen: 4 });
  const L = model.totalLen, D = model.width, B = 2;
  assert.equal(L, 5);
  // round(4·5·2/3) = 13 → 16; round(4·4·2/3) = 11 → 16.
  assert.equal(model.sequenceFfn, 16);
  assert.equal(model.channelFfn, 16);
  const values = model.initialParameters(new Rng(8));
  const params: Record<string, tf.Tensor> = {};
  for (const s of model.parameterSpecs()) params[s.name] = tf.tensor(values.get(s.name)!, s.shape);
  const W = (name: string, rows: number, cols: number) => toMat(values.get(`layers.0.${name}`)!, rows, cols);

  const rng = new Rng(9);
  const h = Array.from({ length: B }, () => randomMat(L, D, rng));
  const inj = Array.from({ length: B }, () => randomMat(L, D, rng));
  const got = model.net(params, tf.tensor3d(h), tf.tensor3d(inj)).dataSync();

  const eps = 1e-5;
  const expected = h.flatMap((hb, b) => {
    let x = add(hb, inj[b]!); // [L, D]
    const xt = transpose(x); // [D, L]
    const mixed = swigluJs(xt, W('seq_mlp.gate_up', L, 2 * 16), W('seq_mlp.down', 16, L));
    x = transpose(rmsRows(add(xt, mixed), eps)); // norm over L, per channel
    const ch = swigluJs(x, W('mlp.gate_up', D, 2 * 16), W('mlp.down', 16, D));
    return flat(rmsRows(add(x, ch), eps)); // norm over D, per position
  });
  assertClose(got, expected, 1e-4, 'mlp_t block');
  // After the block every position's channel vector has mean square ≈ 1.
  for (let r = 0; r < B * L; r++) {
    const ms = Array.from(got.subarray(r * D, (r + 1) * D)).reduce((s, x) => s + x * x, 0) / D;
    assert.ok(Math.abs(ms - 1) < 1e-3);
  }
});
