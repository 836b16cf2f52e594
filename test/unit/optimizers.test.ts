// Optimizers, learning-rate schedule and EMA against the formulas of reference.md §1.8,
// evaluated by hand in float64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../trainer/backend';
import { adamUpdate, createAdamSlots, signSgdUpdate, type AdamHyper } from '../../trainer/train/optimizers';
import { learningRate } from '../../trainer/train/lrSchedule';
import { emaDecay, emaUpdate } from '../../trainer/train/ema';

test.before(async () => { await selectBackend('cpu'); });

const close = (actual: number, expected: number, tol: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what} ${actual} vs ${expected}`);

const atan2Hyper: AdamHyper = { kind: 'adam_atan2', beta1: 0.9, beta2: 0.95, weightDecay: 0.1, epsilon: 1e-8 };

/** One AdamATan2 step in float64, exactly as reference.md §1.8 writes it. */
function refAtan2(p: number, g: number, m: number, v: number, lr: number, wd: number, b1: number, b2: number, t: number) {
  p = p * (1 - lr * wd);
  m = b1 * m + (1 - b1) * g;
  v = b2 * v + (1 - b2) * g * g;
  p = p - (lr / (1 - b1 ** t)) * Math.atan2(m, Math.sqrt(v) / Math.sqrt(1 - b2 ** t));
  return { p, m, v };
}

test('AdamATan2, first step from m = v = 0: p=1, g=0.5, lr=0.1, wd=0.1, betas (0.9, 0.95)', () => {
  // By hand: p ← 1·(1 − 0.01) = 0.99; m = 0.05; v = 0.05·0.25 = 0.0125;
  // sqrt(v)/sqrt(1 − 0.95) = 0.5; p ← 0.99 − (0.1 / 0.1)·atan2(0.05, 0.5) = 0.99 − atan(0.1).
  const expectedP = 0.99 - Math.atan2(0.05, 0.5);
  assert.ok(Math.abs(expectedP - (0.99 - 0.09966865249116204)) < 1e-15);
  const p = tf.variable(tf.tensor1d([1]));
  const slots = createAdamSlots(p);
  adamUpdate(p, tf.tensor1d([0.5]), slots, 0.1, 1, atan2Hyper);
  close(p.dataSync()[0]!, expectedP, 1e-6, 'p');
  close(slots.m.dataSync()[0]!, 0.05, 1e-7, 'm');
  close(slots.v.dataSync()[0]!, 0.0125, 1e-7, 'v');

  // Second step with g = −0.2 at t = 2, against the float64 recurrence.
  const s1 = refAtan2(1, 0.5, 0, 0, 0.1, 0.1, 0.9, 0.95, 1);
  const s2 = refAtan2(s1.p, -0.2, s1.m, s1.v, 0.1, 0.1, 0.9, 0.95, 2);
  adamUpdate(p, tf.tensor1d([-0.2]), slots, 0.1, 2, atan2Hyper);
  close(p.dataSync()[0]!, s2.p, 1e-6, 'p after step 2');
  close(slots.m.dataSync()[0]!, s2.m, 1e-6, 'm after step 2');
  close(slots.v.dataSync()[0]!, s2.v, 1e-6, 'v after step 2');
});

test('AdamATan2 is invariant to a constant rescaling of the gradient', () => {
  const grads = [[0.3, -1.2, 0.01, 0], [0.5, 0.7, -0.02, 1], [-0.1, 0.2, 0.03, -2]];
  const run = (scale: number) => {
    const p = tf.variable(tf.tensor1d([0.5, -0.25, 1, 2]));
    const slots = createAdamSlots(p);
    grads.forEach((g, i) => adamUpdate(p, tf.mul(tf.tensor1d(g), scale), slots, 0.01, i + 1, atan2Hyper));
    return Array.from(p.dataSync());
  };
  const base = run(1);
  for (const scale of [1e-3, 7, 1e3]) run(scale).forEach((x, i) => close(x, base[i]!, 1e-6, `scale ${scale} [${i}]`));
  // And the float64 reference agrees with the scale-1 run.
  const ref = [0.5, -0.25, 1, 2].map((p0, j) => {
    let st = { p: p0, m: 0, v: 0 };
    grads.forEach((g, i) => { st = refAtan2(st.p, g[j]!, st.m, st.v, 0.01, 0.1, 0.9, 0.95, i + 1); });
    return st.p;
  });
  ref.forEach((e, j) => close(base[j]!, e, 1e-6, `ref [${j}]`));
});

test('AdamW: decoupled weight decay, bias-corrected m̂ / (sqrt(v̂) + ε)', () => {
  const h: AdamHyper = { kind: 'adamw', beta1: 0.9, beta2: 0.999, weightDecay: 0.5, epsilon: 1e-3 };
  const p = tf.variable(tf.tensor1d([2, -1]));
  const slots = createAdamSlots(p);
  const lr = 0.05;
  const gs = [[0.4, -3], [-0.1, 1]];
  const ref = [2, -1].map((p0, j) => {
    let pp = p0, m = 0, v = 0;
    gs.forEach((g, i) => {
      const t = i + 1;
      pp *= 1 - lr * h.weightDecay;
      m = h.beta1 * m + (1 - h.beta1) * g[j]!;
      v = h.beta2 * v + (1 - h.beta2) * g[j]! ** 2;
      const mHat = m / (1 - h.beta1 ** t);
      const vHat = v / (1 - h.beta2 ** t);
      pp -= (lr * mHat) / (Math.sqrt(vHat) + h.epsilon);
    });
    return pp;
  });
  // First step by hand for element 0: p = 2·(1 − 0.025) − 0.05·0.4/(0.4 + 0.001).
  const hand0 = 2 * 0.975 - (0.05 * 0.4) / (0.4 + 0.001);
  adamUpdate(p, tf.tensor1d(gs[0]!), slots, lr, 1, h);
  close(p.dataSync()[0]!, hand0, 1e-6, 'step 1 by hand');
  adamUpdate(p, tf.tensor1d(gs[1]!), slots, lr, 2, h);
  Array.from(p.dataSync()).forEach((x, j) => close(x, ref[j]!, 1e-6, `step 2 [${j}]`));
});

test('sign-SGD: p ← p(1 − lr·wd) − lr·sign(g), sign(0) = 0', () => {
  const p = tf.variable(tf.tensor1d([1, -2, 0.5, 3]));
  signSgdUpdate(p, tf.tensor1d([0.001, -50, 0, 7]), 0.1, 0.2);
  const expected = [1 * 0.98 - 0.1, -2 * 0.98 + 0.1, 0.5 * 0.98, 3 * 0.98 - 0.1];
  Array.from(p.dataSync()).forEach((x, i) => close(x, expected[i]!, 1e-6, `[${i}]`));
});

test('learning rate: linear warm-up from step 1, then constant (lrMinRatio 1) or cosine to 0 (lrMinRatio 0)', () => {
  const base = 0.01;
  // Warm-up of 4 steps: steps 1, 2, 3 → 1/4, 2/4, 3/4 of the base; step 4 on → base.
  assert.deepEqual([1, 2, 3].map((s) => learningRate(s, base, 4, 100, 1)), [0.0025, 0.005, 0.0075]);
  for (const s of [4, 5, 50, 100]) close(learningRate(s, base, 4, 100, 1), base, 1e-12, `step ${s} constant`);
  // Cosine with floor 0 over steps 4..104: start = base, halfway = base/2, end = 0.
  close(learningRate(4, base, 4, 104, 0), base, 1e-12, 'cosine start');
  close(learningRate(54, base, 4, 104, 0), base / 2, 1e-12, 'cosine middle');
  close(learningRate(104, base, 4, 104, 0), 0, 1e-12, 'cosine end');
  // Floor 0.1: end at 0.1·base; a quarter of the way: base·(0.1 + 0.9·(1 + cos(π/4))/2).
  close(learningRate(104, base, 4, 104, 0.1), 0.1 * base, 1e-12, 'floor end');
  close(learningRate(29, base, 4, 104, 0.1), base * (0.1 + 0.9 * 0.5 * (1 + Math.SQRT1_2)), 1e-12, 'floor quarter');
  // No warm-up: the first step already has the full rate.
  assert.equal(learningRate(1, base, 0, 10, 1), base);
});

test('EMA decay: min(rate, (1+t)/(10+t)) with warm-up, the plain rate without', () => {
  assert.equal(emaDecay(0, 0.999, true), 0.1);
  assert.equal(emaDecay(8, 0.999, true), 0.5);
  close(emaDecay(90, 0.999, true), 91 / 100, 1e-15);
  // (1+t)/(10+t) passes 0.999 at t = 8990.
  assert.equal(emaDecay(9000, 0.999, true), 0.999);
  assert.equal(emaDecay(0, 0.999, false), 0.999);
  const shadow = tf.variable(tf.tensor1d([2, -4]));
  emaUpdate(shadow, tf.tensor1d([4, 0]), 0.25);
  // 0.25·2 + 0.75·4 = 3.5; 0.25·(−4) + 0 = −1.
  assert.deepEqual(Array.from(shadow.dataSync()), [3.5, -1]);
});
