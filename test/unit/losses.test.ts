// The ACT loss head against hand-computed values and plain-JS (float64) formulas
// (reference.md §1.7: stablemax s(x) = x + 1 for x >= 0, 1 / (1 − x) for x < 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { selectBackend } from '../../trainer/backend';
import { actLoss, bceWithLogits, stablemaxS, tokenCrossEntropy } from '../../trainer/train/losses';

test.before(async () => { await selectBackend('cpu'); });

const close = (actual: number, expected: number, tol: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what} ${actual} vs ${expected}`);

/** Plain-JS stablemax s(x) and its derivative. */
const s = (x: number) => (x >= 0 ? x + 1 : 1 / (1 - x));
const ds = (x: number) => (x >= 0 ? 1 : 1 / ((1 - x) * (1 - x)));

test('stablemax s(x) at a few points', () => {
  const xs = [-3, -1, -0.5, 0, 0.5, 2, 100, -100];
  const got = Array.from(stablemaxS(tf.tensor1d(xs)).dataSync());
  // By hand: 1/4, 1/2, 2/3, 1, 1.5, 3, 101, 1/101.
  const expected = [0.25, 0.5, 2 / 3, 1, 1.5, 3, 101, 1 / 101];
  got.forEach((g, i) => close(g, expected[i]!, 1e-6, `s(${xs[i]})`));
});

test('stablemax cross-entropy of logits [1, -1, 0], label 0: s = [2, 0.5, 1], loss = −log(2 / 3.5)', () => {
  const loss = tokenCrossEntropy(tf.tensor2d([[1, -1, 0]]), tf.tensor1d([0], 'int32'), 'stablemax').dataSync();
  close(loss[0]!, -Math.log(2 / 3.5), 1e-6);
  // The same row with the other labels: −log(0.5 / 3.5) and −log(1 / 3.5).
  const rows = tokenCrossEntropy(tf.tensor2d([[1, -1, 0], [1, -1, 0]]), tf.tensor1d([1, 2], 'int32'), 'stablemax').dataSync();
  close(rows[0]!, -Math.log(0.5 / 3.5), 1e-6);
  close(rows[1]!, -Math.log(1 / 3.5), 1e-6);
});

test('softmax cross-entropy equals log-sum-exp − logit[label] in float64', () => {
  const logits = [[1, -1, 0], [3.5, -2, 0.25], [-30, 30, 0]];
  const labels = [0, 2, 0];
  const got = tokenCrossEntropy(tf.tensor2d(logits), tf.tensor1d(labels, 'int32'), 'softmax').dataSync();
  logits.forEach((row, i) => {
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
    close(got[i]!, lse - row[labels[i]!]!, 1e-5, `row ${i}`);
  });
});

test('stablemax cross-entropy gradient equals the analytic one, finite at extreme logits and at exactly 0', () => {
  // d/dx_j [−log s(x_y) + log Σ s] = s'(x_j) · (1/S − [j = y] / s(x_j)).
  const rows = [[1, -1, 0], [-1e4, 1e4, 0], [-50, -60, -70], [0, 0.5, -0.5]];
  const labels = [0, 0, 2, 0];
  const g = tf.grad((x: tf.Tensor) => tf.sum(tokenCrossEntropy(x as tf.Tensor2D, tf.tensor1d(labels, 'int32'), 'stablemax')))(tf.tensor2d(rows));
  const got = g.arraySync() as number[][];
  rows.forEach((row, i) => {
    const S = row.reduce((a, x) => a + s(x), 0);
    row.forEach((x, j) => {
      const expected = ds(x) * (1 / S - (j === labels[i] ? 1 / s(x) : 0));
      assert.ok(Number.isFinite(got[i]![j]!), `row ${i} col ${j} is finite`);
      close(got[i]![j]!, expected, 1e-5, `d/dx[${i}][${j}]`);
    });
  });
});

test('bceWithLogits equals −(z log σ(x) + (1 − z) log(1 − σ(x))) with Math.exp, incl. ±30', () => {
  const xs = [-30, -5, -0.5, 0, 0.5, 5, 30];
  for (const z of [0, 1]) {
    const got = bceWithLogits(tf.tensor1d(xs), tf.fill([xs.length], z)).dataSync();
    xs.forEach((x, i) => {
      // log σ(x) = −log(1 + e^−x), log(1 − σ(x)) = −log(1 + e^x): no 1 − σ cancellation in float64.
      const logSig = -Math.log(1 + Math.exp(-x));
      const logOneMinusSig = -Math.log(1 + Math.exp(x));
      const expected = -(z * logSig + (1 - z) * logOneMinusSig);
      close(got[i]!, expected, 1e-5, `bce(${x}, ${z})`);
    });
  }
  // Gradient σ(x) − z, finite at ±30.
  const g = tf.grad((x: tf.Tensor) => tf.sum(bceWithLogits(x, tf.tensor1d([1, 0, 1, 0]))))(tf.tensor1d([30, 30, -30, -30])).dataSync();
  const sig = (x: number) => 1 / (1 + Math.exp(-x));
  [sig(30) - 1, sig(30), sig(-30) - 1, sig(-30)].forEach((e, i) => close(g[i]!, e, 1e-6, `grad ${i}`));
});

test('actLoss: per-row mean CE over valid tokens, rowCorrect exactly when every valid argmax is right', () => {
  // B = 3 rows, L = 3 tokens, V = 4; label 0 is ignored.
  const logits = [
    [[0, 2, -1, 0], [0, -1, 3, 0], [0, 0, 0, 5]], // argmax 1, 2, 3
    [[0, 2, -1, 0], [0, -1, 3, 0], [0, 0, 0, 5]],
    [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], // argmax 1, 2, 3
  ];
  const labels = [
    [1, 2, 3], // all right
    [1, 3, 0], // second wrong, third ignored
    [0, 2, 0], // one valid token, right (the wrong-looking ignored ones do not count)
  ];
  const qHalt = [2, -1, 0];
  const out = actLoss(tf.tensor3d(logits), tf.tensor2d(labels, undefined, 'int32'), tf.tensor1d(qHalt), 'stablemax');
  const ce = (row: number[], y: number) => -Math.log(s(row[y]!) / row.reduce((a, x) => a + s(x), 0));
  const expectedLm = labels.map((ls, b) => {
    const valid = ls.map((y, t) => [y, t] as const).filter(([y]) => y !== 0);
    return valid.reduce((a, [y, t]) => a + ce(logits[b]![t]!, y), 0) / valid.length;
  });
  const lm = out.lmLossPerRow.dataSync();
  expectedLm.forEach((e, b) => close(lm[b]!, e, 1e-6, `lm row ${b}`));
  assert.deepEqual(Array.from(out.rowCorrect.dataSync()), [1, 0, 1]);
  assert.deepEqual(Array.from(out.rowTokensRight.dataSync()), [3, 1, 1]);
  assert.deepEqual(Array.from(out.rowValidTokens.dataSync()), [3, 2, 1]);
  const bce = (x: number, z: number) => Math.max(x, 0) - x * z + Math.log1p(Math.exp(-Math.abs(x)));
  const q = out.qHaltLossPerRow.dataSync();
  [bce(2, 1), bce(-1, 0), bce(0, 1)].forEach((e, b) => close(q[b]!, e, 1e-6, `q row ${b}`));
});

test('actLoss: a row without valid tokens has zero lm loss and is not "correct"', () => {
  const out = actLoss(tf.tensor3d([[[1, 0], [0, 1]]]), tf.tensor2d([[0, 0]], undefined, 'int32'), tf.tensor1d([0]), 'softmax');
  assert.equal(out.lmLossPerRow.dataSync()[0], 0);
  assert.equal(out.rowCorrect.dataSync()[0], 0);
});

test('actLoss gradient flows to logits and q_halt only through the losses (rowCorrect is a constant)', () => {
  // d/d q_halt of BCE(q, z) = σ(q) − z; with logits giving an all-right row z = 1.
  const logits = tf.tensor3d([[[0, 3, 0], [0, 0, 3]]]);
  const labels = tf.tensor2d([[1, 2]], undefined, 'int32');
  const [, gq] = tf.grads((l: tf.Tensor, q: tf.Tensor) => tf.sum(actLoss(l as tf.Tensor3D, labels, q as tf.Tensor1D, 'stablemax').qHaltLossPerRow))([logits, tf.tensor1d([0.3])]);
  close(gq!.dataSync()[0]!, 1 / (1 + Math.exp(-0.3)) - 1, 1e-6);
});
