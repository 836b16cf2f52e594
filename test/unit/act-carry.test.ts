// The deep-supervision carry (reference.md §1.6): halted rows restart from H_init/L_init with the
// incoming example of the same row; halting at maxSteps, on q_halt > 0 in training, exploration
// with a fresh minimum halt step in 2..maxSteps drawn at every step, no early halting at eval.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../trainer/backend';
import { initialCarry, resetHaltedRows, updateHalting, type ActCarry } from '../../trainer/train/actCarry';
import { emptyBatch } from '../../trainer/train/exampleBatch';
import { Rng } from '../../trainer/random';

test.before(async () => { await selectBackend('cpu'); });

test('initialCarry: every row halted, zero states and steps', () => {
  const c = initialCarry(3, 4, [5, 2]);
  assert.deepEqual(c.zH.shape, [3, 5, 2]);
  assert.deepEqual(Array.from(c.halted), [1, 1, 1]);
  assert.deepEqual(Array.from(c.steps), [0, 0, 0]);
  assert.equal(c.data.size, 3);
  assert.equal(c.data.seqLen, 4);
  assert.ok(c.zL.dataSync().every((x) => x === 0));
  tf.dispose([c.zH, c.zL]);
});

test('resetHaltedRows replaces exactly the halted rows (states, data, steps) and leaves the rest bit-identical', () => {
  const B = 4, L = 3, D = 2, S = 2;
  const rng = new Rng(1);
  const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const zH = rand(B * L * D), zL = rand(B * L * D);
  const data = emptyBatch(B, S);
  data.tokens.set([1, 2, 3, 4, 5, 6, 7, 8]);
  data.labels.set([11, 12, 13, 14, 15, 16, 17, 18]);
  data.blanks.set([1, 2, 3, 4]);
  const incoming = emptyBatch(B, S);
  incoming.tokens.set([21, 22, 23, 24, 25, 26, 27, 28]);
  incoming.labels.set([31, 32, 33, 34, 35, 36, 37, 38]);
  incoming.blanks.set([9, 8, 7, 6]);
  const carry: ActCarry = {
    zH: tf.keep(tf.tensor3d(zH, [B, L, D])), zL: tf.keep(tf.tensor3d(zL, [B, L, D])),
    steps: Int32Array.from([3, 2, 5, 1]), halted: Uint8Array.from([1, 0, 1, 0]), data,
  };
  const hInit = tf.tensor1d([0.5, -0.5]), lInit = tf.tensor1d([2, 3]);
  const oldH = carry.zH, oldL = carry.zL;
  const next = resetHaltedRows(carry, incoming, hInit, lInit);

  const h = next.zH.dataSync(), l = next.zL.dataSync();
  for (let r = 0; r < B; r++) {
    for (let i = 0; i < L * D; i++) {
      const k = r * L * D + i;
      if (r === 0 || r === 2) {
        assert.equal(h[k], [0.5, -0.5][i % D]);
        assert.equal(l[k], [2, 3][i % D]);
      } else {
        assert.ok(Object.is(h[k], zH[k]) && Object.is(l[k], zL[k]), `row ${r} kept bit for bit`);
      }
    }
  }
  assert.deepEqual(Array.from(next.data.tokens), [21, 22, 3, 4, 25, 26, 7, 8]);
  assert.deepEqual(Array.from(next.data.labels), [31, 32, 13, 14, 35, 36, 17, 18]);
  assert.deepEqual(Array.from(next.data.blanks), [9, 2, 7, 4]);
  assert.deepEqual(Array.from(next.steps), [0, 2, 0, 1]);
  assert.deepEqual(Array.from(next.halted), [0, 0, 0, 0]);
  // The old carry's arrays are not modified in place, and its tensors are released.
  assert.deepEqual(Array.from(data.tokens), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(oldH.isDisposed && oldL.isDisposed);
  tf.dispose([next.zH, next.zL, hInit, lInit]);
});

test('updateHalting: steps += 1, every row halts at maxSteps (training or not)', () => {
  for (const training of [true, false]) {
    const steps = Int32Array.from([0, 3, 4, 7]);
    const halted = updateHalting(steps, Float32Array.from([-9, -9, -9, -9]), { maxSteps: 5, explorationProb: 0, training }, new Rng(1));
    assert.deepEqual(Array.from(steps), [1, 4, 5, 8]);
    assert.deepEqual(Array.from(halted), [0, 0, 1, 1]);
  }
});

test('updateHalting, training: q_halt > 0 halts (strictly), without exploration', () => {
  const steps = Int32Array.from([0, 0, 0, 0]);
  const halted = updateHalting(steps, Float32Array.from([0.01, 0, -0.01, 7]), { maxSteps: 16, explorationProb: 0, training: true }, new Rng(2));
  assert.deepEqual(Array.from(halted), [1, 0, 0, 1]);
});

test('updateHalting, eval: nothing halts before maxSteps whatever q_halt says', () => {
  const rows = 50;
  const steps = new Int32Array(rows);
  const q = new Float32Array(rows).fill(10);
  for (let s = 1; s < 8; s++) {
    const halted = updateHalting(steps, q, { maxSteps: 8, explorationProb: 1, training: false }, new Rng(s));
    assert.ok(halted.every((h) => h === 0), `step ${s}`);
  }
  assert.ok(updateHalting(steps, q, { maxSteps: 8, explorationProb: 1, training: false }, new Rng(9)).every((h) => h === 1));
});

test('updateHalting with maxSteps 1: every row halts after its first step, even in training with q_halt < 0', () => {
  const steps = new Int32Array(4);
  assert.deepEqual(Array.from(updateHalting(steps, new Float32Array(4).fill(-5), { maxSteps: 1, explorationProb: 1, training: true }, new Rng(3))), [1, 1, 1, 1]);
});

test('exploration prob 1: a row never halts at step 1; P(halt at step s | not yet) = (s − 1)/(maxSteps − 1)', () => {
  // A fresh min_halt ∈ {2..M} is drawn at every step (reference: per call), so with q_halt > 0 the
  // halting step has P(2) = 1/4, P(3) = 3/4·2/4, P(4) = 3/4·2/4·3/4, P(5) = rest, for M = 5.
  const M = 5, rows = 6000;
  const steps = new Int32Array(rows);
  const q = new Float32Array(rows).fill(1);
  const haltedAt = new Int32Array(rows);
  const rng = new Rng(4);
  for (let s = 1; s <= M; s++) {
    const halted = updateHalting(steps, q, { maxSteps: M, explorationProb: 1, training: true }, rng);
    for (let r = 0; r < rows; r++) if (halted[r] && haltedAt[r] === 0) haltedAt[r] = s;
  }
  const freq = (s: number) => haltedAt.filter((x) => x === s).length / rows;
  assert.equal(freq(1), 0);
  assert.ok(haltedAt.every((s) => s >= 2 && s <= M));
  const expected = [1 / 4, (3 / 4) * (2 / 4), (3 / 4) * (2 / 4) * (3 / 4), (3 / 4) * (2 / 4) * (1 / 4)];
  expected.forEach((e, i) => assert.ok(Math.abs(freq(i + 2) - e) < 0.025, `P(halt at ${i + 2}) = ${freq(i + 2)}, expected ${e}`));
});

test('exploration prob 0.1: about 10 % of the rows that want to halt at step 1 are held back', () => {
  const rows = 20000;
  const halted = updateHalting(new Int32Array(rows), new Float32Array(rows).fill(1), { maxSteps: 16, explorationProb: 0.1, training: true }, new Rng(5));
  const held = 1 - halted.reduce((a, h) => a + h, 0) / rows;
  assert.ok(Math.abs(held - 0.1) < 0.01, `held back ${held}`);
});
