// Equilibrium internalisation (eval.internalisation, docs/deq-solvers.md): the evaluation with every
// fixed-point solve capped. Cap 0 must equal a model built by hand without the solve (z_L stays
// L_init, each cycle only z_H = net(z_H, z_L), the heads after T cycles per supervision step); a
// cap >= maxIter the normal evaluation; a cap k < maxIter the normal evaluation of the same
// weights configured with maxIter k. Labels are made from the hand model's answers, so the
// expected accuracies are known in advance.
import { test } from 'node:test';
import { tinyDeqConfig, tinyDeqTask, tinyDeqTrain } from './deqFixtures';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../trainer/backend';
import { TrmDeqModel } from '../../trainer/model/trmDeq';
import { configFileSchema, type ModelConfig, type TrainConfig } from '../../protocol/config';
import { Rng } from '../../trainer/random';
import { createTrainState, disposeTrainState, evaluationParams } from '../../trainer/train/trainState';
import { evaluate, evaluateInternalisation, internalisationRows } from '../../trainer/train/evaluate';
import type { ExampleBatch } from '../../trainer/train/exampleBatch';
import { formatEvalTable } from '../../trainer/progressDisplay';
import { configJsonSchema } from '../../protocol/configSchemaJson';
import type { EvalEvent } from '../../protocol/events';

test.before(async () => { await selectBackend('cpu'); });

// Tolerance 1e-9: every solve runs to its maxIter.
const cfg: ModelConfig = { ...tinyDeqConfig, deq: { ...tinyDeqConfig.deq, tol: 1e-9 } };
const task = tinyDeqTask;
const train: TrainConfig = tinyDeqTrain;
const ROWS = 6;
const L = task.seqLen;
const STEPS = 3;

/**
 * The hand model with `passes` plain map applications in place of each solve (0: without the solve):
 * per supervision step T cycles of [z_L = net(z_L, z_H + x)]^passes, z_H = net(z_H, z_L), from
 * L_init / H_init; then the argmax of the heads. With 0 passes x never enters: the puzzle is not read.
 */
function handPredictions(model: TrmDeqModel, state: ReturnType<typeof createTrainState>, tokens: Int32Array, passes: number): Int32Array {
  return tf.tidy(() => {
    const p = evaluationParams(state);
    const x = model.inputEmbedding(p, tf.tensor2d(tokens, [ROWS, L], 'int32'));
    let zL = tf.broadcastTo(state.lInit, [ROWS, model.totalLen, model.width]) as tf.Tensor3D;
    let zH = tf.broadcastTo(state.hInit, [ROWS, model.totalLen, model.width]) as tf.Tensor3D;
    for (let s = 0; s < STEPS; s++) {
      for (let c = 0; c < cfg.hCycles; c++) {
        for (let k = 0; k < passes; k++) zL = model.net(p, zL, tf.add(zH, x) as tf.Tensor3D);
        zH = model.net(p, zH, zL);
      }
    }
    return tf.argMax(model.heads(p, zH).logits, -1).dataSync() as Int32Array;
  });
}

test('internalisation: cap 0 = the hand-built model without the solve; cap 1 = one plain pass; cap >= maxIter = the normal evaluation; cap 2 = maxIter 2', async () => {
  const model = new TrmDeqModel(cfg, task);
  const state = createTrainState(model, train, new Rng(3));
  const rng = new Rng(4);
  const tokens = Int32Array.from({ length: ROWS * L }, () => 1 + rng.int(5));
  const hand = handPredictions(model, state, tokens, 0);
  // Rows 0-2: labels = the hand model's answers (exact); rows 3-5: one cell changed (token 3/4, not exact).
  const labels = Int32Array.from(hand);
  for (let r = 3; r < ROWS; r++) labels[r * L] = labels[r * L]! === 2 ? 3 : 2;
  const data: ExampleBatch = { size: ROWS, seqLen: L, tokens, labels, blanks: new Int32Array(ROWS).fill(1) };
  const opts = { steps: STEPS, batchSize: 4, depth: model.depth };
  const p = evaluationParams(state);
  const full = evaluate(model, p, state.hInit, state.lInit, data, opts);
  const rows = await evaluateInternalisation(model, p, state.hInit, state.lInit, data, opts, [0, 2, 6, 100], full);
  assert.ok(rows);
  assert.deepEqual(rows.map((r) => r.iterations), [0, 2, 6, 100]);

  // Cap 0: exactly the hand model's answers.
  const none = model.withSolveCap(0, () => evaluate(model, p, state.hInit, state.lInit, data, opts));
  assert.deepEqual([...none.predictions], [...hand]);
  assert.equal(rows[0]!.exactAccuracy, 0.5);
  assert.equal(rows[0]!.tokenAccuracy, (3 * 1 + 3 * 0.75) / 6);
  assert.equal(rows[0]!.exactLost, full.exactAccuracy - 0.5);
  assert.equal(rows[0]!.tokenLost, full.tokenAccuracy - rows[0]!.tokenAccuracy);
  // The solve matters here: the full evaluation does not give the hand model's answers.
  assert.notDeepEqual([...full.predictions], [...hand]);

  // Cap >= maxIter (6): the normal evaluation, nothing lost.
  for (const r of rows.slice(2)) {
    assert.equal(r.exactAccuracy, full.exactAccuracy);
    assert.equal(r.tokenAccuracy, full.tokenAccuracy);
    assert.equal(r.exactLost, 0);
    assert.equal(r.tokenLost, 0);
  }
  const capped100 = model.withSolveCap(100, () => evaluate(model, p, state.hInit, state.lInit, data, opts));
  assert.deepEqual([...capped100.predictions], [...full.predictions]);

  // Cap 1: one map evaluation per solve = one plain pass z_L = net(z_L, z_H + x) (the backbone's output from the initial state).
  const one = model.withSolveCap(1, () => evaluate(model, p, state.hInit, state.lInit, data, opts));
  assert.deepEqual([...one.predictions], [...handPredictions(model, state, tokens, 1)]);

  // Cap 2: the same weights in a model configured with maxIter 2 (minIter 2).
  const two = new TrmDeqModel({ ...cfg, deq: { ...cfg.deq, maxIter: 2 } }, task);
  const viaConfig = evaluate(two, p, state.hInit, state.lInit, data, opts);
  const viaCap = model.withSolveCap(2, () => evaluate(model, p, state.hInit, state.lInit, data, opts));
  assert.deepEqual([...viaCap.predictions], [...viaConfig.predictions]);
  assert.equal(rows[1]!.exactAccuracy, viaConfig.exactAccuracy);

  // The cap is lifted afterwards: the normal evaluation again.
  assert.deepEqual([...evaluate(model, p, state.hInit, state.lInit, data, opts).predictions], [...full.predictions]);
  assert.throws(() => model.withSolveCap(-1, () => 0), /eval\.internalisation\.iterations/);
  disposeTrainState(state);
});

test('internalisation rows are the differences to the full evaluation; the config field parses and refuses bad caps; reclab eval prints one line per cap', () => {
  const full = { exactAccuracy: 0.9, tokenAccuracy: 0.95 } as Parameters<typeof internalisationRows>[0];
  const capped = { exactAccuracy: 0.6, tokenAccuracy: 0.8 } as Parameters<typeof internalisationRows>[0];
  const [r] = internalisationRows(full, [{ iterations: 1, result: capped }]);
  assert.deepEqual(r, { iterations: 1, exactAccuracy: 0.6, tokenAccuracy: 0.8, exactLost: 0.9 - 0.6, tokenLost: 0.95 - 0.8 });
  assert.ok(configFileSchema.safeParse({ eval: { internalisation: { iterations: [0, 1, 4] } } }).success);
  for (const bad of [{ iterations: [] }, { iterations: [-1] }, { iterations: [1.5] }, { iterations: [0], extra: 1 }, { iterations: Array(9).fill(0) }]) {
    assert.ok(!configFileSchema.safeParse({ eval: { internalisation: bad } }).success, JSON.stringify(bad));
  }
  // The editor's JSON schema offers it (eval.internalisation.iterations: integers >= 0).
  type Node = { properties?: Record<string, Node>; anyOf?: Node[]; items?: Node; type?: string; minimum?: number };
  const evalNode = (configJsonSchema() as Node).properties!['eval']!;
  const intern = evalNode.properties!['internalisation']!;
  const iterations = (intern.properties ?? intern.anyOf?.find((n) => n.properties)?.properties)!['iterations']!;
  assert.equal(iterations.type, 'array');
  assert.equal(iterations.items?.type, 'integer');
  assert.equal(iterations.items?.minimum, 0);
  const e = {
    type: 'eval', scope: 'final', step: 7, puzzles: 10, exactAccuracy: 0.9, tokenAccuracy: 0.95, qHaltAccuracy: 1, byBlanks: [], seconds: 1, hCycles: 2, lCycles: 2,
    earlyExit: { meanSteps: 1, exactAccuracy: 0.9, qHaltAccuracy: 1 }, gradientVariance: null, trainSeconds: 1, flopsForwardTotal: 1, flopsBackwardTotal: 1,
    internalisation: [{ iterations: 0, exactAccuracy: 0.25, tokenAccuracy: 0.5, exactLost: 0.65, tokenLost: 0.45 }],
  } as unknown as EvalEvent;
  assert.match(formatEvalTable(e), /solver capped at 0 iterations \(no solve\): exact 25\.00 % \(lost 65\.00 points\), token 50\.00 % \(lost 45\.00\)/);
});
