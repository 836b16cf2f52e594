// Evaluation (reference.md §1.6): every puzzle runs exactly `steps` supervision steps of T full
// cycles from H_init/L_init with no early halting; scores counted by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../trainer/backend';
import { evaluate, scorePredictions } from '../../trainer/train/evaluate';
import { emptyBatch } from '../../trainer/train/exampleBatch';
import { TrmModel } from '../../trainer/model/trm';
import type { ModelConfig } from '../../protocol/config';
import { Rng } from '../../trainer/random';

test.before(async () => { await selectBackend('cpu'); });

test('scorePredictions: exact, token and q-halt accuracy, overall and per blank count, by hand', () => {
  const data = emptyBatch(3, 4);
  data.labels.set([2, 3, 4, 5, /**/ 5, 4, 3, 2, /**/ 3, 3, 3, 3]);
  data.blanks.set([2, 2, 5]);
  const predictions = Int32Array.from([2, 3, 4, 5, /**/ 5, 4, 3, 3, /**/ 3, 3, 3, 3]);
  // q ≥ 0 means "halt / I am right": row 0 right and q 0 → agree; row 1 wrong, q 1 → disagree; row 2 right, q −1 → disagree.
  const r = scorePredictions(data, predictions, Float32Array.from([0, 1, -1]));
  assert.equal(r.puzzles, 3);
  assert.equal(r.exactAccuracy, 2 / 3);
  assert.equal(r.tokenAccuracy, (1 + 0.75 + 1) / 3);
  assert.equal(r.qHaltAccuracy, 1 / 3);
  assert.deepEqual(r.byBlanks, [
    { blanks: 2, count: 2, exactAccuracy: 0.5, tokenAccuracy: 0.875 },
    { blanks: 5, count: 1, exactAccuracy: 1, tokenAccuracy: 1 },
  ]);
  assert.equal(r.predictions, predictions);
});

test('evaluate equals steps × T cycles of the network from H_init/L_init, then argmax of lm_head', () => {
  const cfg: ModelConfig = {
    arch: 'trm', mixer: 'mlp_t', hiddenSize: 8, numHeads: 2, expansion: 2, ffnMultipleOf: 4, layers: 1,
    hCycles: 2, lCycles: 2, puzzleEmbLen: 1, posEncodings: 'none', ropeTheta: 10000, rmsNormEps: 1e-5, qHeadBiasInit: -5,
  };
  const model = new TrmModel(cfg, { vocabSize: 6, seqLen: 4 });
  const values = model.initialParameters(new Rng(1));
  const p: Record<string, tf.Tensor> = {};
  for (const s of model.parameterSpecs()) p[s.name] = tf.tensor(values.get(s.name)!, s.shape);
  // A non-zero q head so q_halt varies by puzzle.
  p['q_head.w'] = tf.tensor2d(Array.from({ length: 16 }, (_, i) => (i % 3) - 1), [8, 2]);
  p['q_head.b'] = tf.tensor1d([0, 0]);
  const { hInit, lInit } = model.initialStates(new Rng(2));
  const rng = new Rng(3);
  const N = 5, L = 4, steps = 3;
  const data = emptyBatch(N, L);
  data.tokens.set(Int32Array.from({ length: N * L }, () => 1 + rng.int(5)));
  data.labels.set(Int32Array.from({ length: N * L }, () => 2 + rng.int(4)));
  data.blanks.set([1, 1, 2, 2, 3]);

  const r = evaluate(model, p, tf.tensor1d(hInit), tf.tensor1d(lInit), data, { steps, batchSize: 2, depth: model.depth });

  const x = model.inputEmbedding(p, tf.tensor2d(data.tokens, [N, L], 'int32'));
  let zH = tf.broadcastTo(tf.tensor1d(hInit), [N, model.totalLen, 8]) as tf.Tensor3D;
  let zL = tf.broadcastTo(tf.tensor1d(lInit), [N, model.totalLen, 8]) as tf.Tensor3D;
  for (let s = 0; s < steps * cfg.hCycles; s++) {
    for (let i = 0; i < cfg.lCycles; i++) zL = model.net(p, zL, tf.add(zH, x) as tf.Tensor3D);
    zH = model.net(p, zH, zL);
  }
  const logits = tf.matMul(tf.reshape(tf.slice(zH, [0, 1, 0], [N, L, 8]), [N * L, 8]), p['lm_head'] as tf.Tensor2D);
  const expectedPred = Array.from(tf.argMax(logits, -1).dataSync());
  assert.deepEqual(Array.from(r.predictions), expectedPred);
  const q = tf.add(tf.matMul(tf.reshape(tf.slice(zH, [0, 0, 0], [N, 1, 8]), [N, 8]), p['q_head.w'] as tf.Tensor2D), p['q_head.b']!).arraySync() as number[][];
  const right = (row: number) => expectedPred.slice(row * L, (row + 1) * L).filter((t, i) => t === data.labels[row * L + i]).length;
  const exact = Array.from({ length: N }, (_, row) => right(row) === L);
  assert.equal(r.exactAccuracy, exact.filter(Boolean).length / N);
  assert.ok(Math.abs(r.tokenAccuracy - Array.from({ length: N }, (_, row) => right(row) / L).reduce((a, b) => a + b, 0) / N) < 1e-12);
  assert.equal(r.qHaltAccuracy, exact.filter((e, row) => (q[row]![0]! >= 0) === e).length / N);
  assert.deepEqual(r.byBlanks.map((b) => [b.blanks, b.count]), [[1, 2], [2, 2], [3, 1]]);
});
