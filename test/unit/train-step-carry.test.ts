// trainStep over several optimizer steps (reference.md §1.6, §2.2): the deep-supervision carry
// persists for the rows that did not halt (their data, step count and states: one more full
// supervision step from the previous states), halted rows restart from H_init/L_init on the
// incoming example; HSW's paper form weights each row's loss (the batch gradient is the
// weighted sum of the single-row gradients), and its code form uses the step counts from
// before the reset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig, TrainConfig } from '../../protocol/config';
import { presets } from '../../protocol/presets';
import { selectBackend } from '../../trainer/backend';
import { TrmModel } from '../../trainer/model/trm';
import { Rng } from '../../trainer/random';
import { resetHaltedRows } from '../../trainer/train/actCarry';
import { emptyBatch, type ExampleBatch } from '../../trainer/train/exampleBatch';
import { paperFaithfulWeights } from '../../trainer/train/supervisionWeighting';
import { createTrainState, disposeTrainState, rawParams, type TrainState } from '../../trainer/train/trainState';
import { gradientPass, trainStep } from '../../trainer/train/trainStep';

test.before(async () => { await selectBackend('cpu'); });

const cfg: ModelConfig = { ...presets['sudoku4']!.model, hiddenSize: 8, expansion: 2, layers: 1, hCycles: 2, lCycles: 2, puzzleEmbLen: 1 };
const task = { vocabSize: 6, seqLen: 4 };

function trainConfig(over: Partial<TrainConfig>): TrainConfig {
  return {
    ...presets['sudoku4']!.train,
    steps: 10, batchSize: 6, microBatchSize: 4, haltMaxSteps: 4, haltExplorationProb: 0,
    optimizer: 'adamw', lr: 1e-2, lrWarmupSteps: 0, weightDecay: 0, ema: { enabled: false, rate: 0.999, warmup: false },
    ...over,
  };
}

function batch(rows: number, rng: Rng): ExampleBatch {
  const b = emptyBatch(rows, task.seqLen);
  b.tokens.set(Int32Array.from({ length: rows * task.seqLen }, () => 1 + rng.int(task.vocabSize - 1)));
  b.labels.set(Int32Array.from({ length: rows * task.seqLen }, () => 2 + rng.int(task.vocabSize - 2)));
  return b;
}

/** One full supervision step (evaluation form) of `tokens` from the given states at the state's current weights. */
function oneStep(state: TrainState, tokens: Int32Array, zH: Float32Array, zL: Float32Array, rows: number): Float32Array[] {
  const m = state.model;
  return tf.tidy(() => {
    const p = rawParams(state);
    const shape: [number, number, number] = [rows, m.totalLen, m.width];
    const x = m.inputEmbedding(p, tf.tensor2d(tokens, [rows, task.seqLen], 'int32'));
    const next = m.cyclesWithoutGradient(p, tf.tensor3d(zH, shape), tf.tensor3d(zL, shape), x, m.depth.hCycles, m.depth.lCycles);
    return [next.zH.dataSync() as Float32Array, next.zL.dataSync() as Float32Array];
  });
}

test('over several optimizer steps the carry persists for rows that did not halt, and halted rows restart on the incoming example', () => {
  const model = new TrmModel(cfg, task);
  const train = trainConfig({});
  const state = createTrainState(model, train, new Rng(1));
  const rng = new Rng(2);
  try {
    // A Q head that makes q_halt differ in sign between rows, so some rows halt early and some do not.
    state.params.get('q_head.w')!.assign(tf.tensor2d(Float32Array.from({ length: model.width * 2 }, () => rng.normal() * 1.5), [model.width, 2]));
    state.params.get('q_head.b')!.assign(tf.tensor1d([0, 0]));
    const B = train.batchSize, row = model.totalLen * model.width, L = task.seqLen;
    let sawKept = 0, sawReset = 0;
    for (let s = 1; s <= 6; s++) {
      const before = { zH: Float32Array.from(state.carry.zH.dataSync()), zL: Float32Array.from(state.carry.zL.dataSync()), tokens: state.carry.data.tokens.slice(), steps: state.carry.steps.slice(), halted: state.carry.halted.slice() };
      const incoming = batch(B, rng);
      // What each row should start from: its carried state, or H_init/L_init if it halted.
      const hInit = state.hInit.dataSync(), lInit = state.lInit.dataSync();
      const startH = new Float32Array(B * row), startL = new Float32Array(B * row), tokens = new Int32Array(B * L);
      for (let r = 0; r < B; r++) {
        for (let i = 0; i < row; i++) {
          startH[r * row + i] = before.halted[r] ? hInit[i % model.width]! : before.zH[r * row + i]!;
          startL[r * row + i] = before.halted[r] ? lInit[i % model.width]! : before.zL[r * row + i]!;
        }
        tokens.set((before.halted[r] ? incoming.tokens : before.tokens).subarray(r * L, (r + 1) * L), r * L);
      }
      const [wantH] = oneStep(state, tokens, startH, startL, B); // the weights this step trains with
      trainStep(state, incoming, train, model.depth, train.lr, rng);
      const gotH = state.carry.zH.dataSync();
      for (let r = 0; r < B; r++) {
        assert.deepEqual(Array.from(state.carry.data.tokens.subarray(r * L, (r + 1) * L)), Array.from(tokens.subarray(r * L, (r + 1) * L)), `step ${s} row ${r} data`);
        assert.equal(state.carry.steps[r], before.halted[r] ? 1 : before.steps[r]! + 1, `step ${s} row ${r} step count`);
        for (let i = 0; i < row; i++) {
          assert.ok(Math.abs(gotH[r * row + i]! - wantH![r * row + i]!) <= 1e-4, `step ${s} row ${r} z_H[${i}]`);
        }
        if (s > 1) { if (before.halted[r]) sawReset++; else sawKept++; }
      }
    }
    assert.ok(sawKept > 0 && sawReset > 0, `both kinds of rows occur (kept ${sawKept}, reset ${sawReset})`);
  } finally {
    disposeTrainState(state);
  }
});

test('HSW paper form: the batch gradient is Σ_r w_r·g_r / B with w_r = 0.7^(t_r − 1)/Z and g_r the single-row gradient', () => {
  const model = new TrmModel(cfg, task);
  const train = trainConfig({ hsw: { mode: 'paper', decay: 0.7 } });
  const state = createTrainState(model, train, new Rng(3));
  const rng = new Rng(4);
  try {
    const B = train.batchSize;
    state.carry = resetHaltedRows(state.carry, batch(B, rng), state.hInit, state.lInit);
    // Rows at different supervision steps (1-based t = steps + 1).
    state.carry.steps.set([0, 1, 2, 3, 1, 0]);
    const t = Array.from(state.carry.steps, (s) => s + 1);
    const w = paperFaithfulWeights(t, 0.7, train.haltMaxSteps);
    const flat = (g: Record<string, tf.Tensor>) => Object.keys(g).sort().flatMap((k) => Array.from(g[k]!.dataSync()));
    const whole = gradientPass(state, state.carry, 0, B, train, model.depth, { scale: 1, rowWeights: w }, B);
    const got = flat(whole.grads);
    const want = new Array<number>(got.length).fill(0);
    for (let r = 0; r < B; r++) {
      const one = gradientPass(state, state.carry, r, 1, train, model.depth, { scale: 1 }, 1);
      flat(one.grads).forEach((v, i) => { want[i]! += (w[r]! * v) / B; });
      tf.dispose([...Object.values(one.grads), one.zH, one.zL]);
    }
    const norm = Math.sqrt(want.reduce((s, v) => s + v * v, 0));
    const err = Math.sqrt(got.reduce((s, v, i) => s + (v - want[i]!) ** 2, 0));
    assert.ok(norm > 0);
    assert.ok(err <= 1e-4 * norm, `weighted gradient differs: ${err} vs norm ${norm}`);
    // And the weights matter: the unweighted gradient is a different vector.
    const plain = gradientPass(state, state.carry, 0, B, train, model.depth, { scale: 1 }, B);
    const diff = Math.sqrt(flat(plain.grads).reduce((s, v, i) => s + (v - got[i]!) ** 2, 0));
    assert.ok(diff > 0.1 * norm, 'per-row weights change the gradient');
    tf.dispose([...Object.values(whole.grads), whole.zH, whole.zL, ...Object.values(plain.grads), plain.zH, plain.zL]);
  } finally {
    disposeTrainState(state);
  }
});

test('HSW code form: the scale is 0.7^floor(mean step count BEFORE the reset), stale counts of halted rows included', () => {
  const model = new TrmModel(cfg, task);
  // haltMaxSteps 2, q_halt = −5 and no exploration: every row halts exactly at its 2nd step.
  const train = trainConfig({ haltMaxSteps: 2, hsw: { mode: 'code', decay: 0.7 } });
  const state = createTrainState(model, train, new Rng(5));
  const rng = new Rng(6);
  try {
    const scales: number[] = [];
    const counts: number[][] = [];
    for (let s = 0; s < 4; s++) {
      counts.push(Array.from(state.carry.steps));
      scales.push(trainStep(state, batch(train.batchSize, rng), train, model.depth, train.lr, rng).lossScale);
    }
    // Pre-reset counts: 0 (fresh), 1, 2 (all halted: after the reset they would be 0), 1.
    assert.deepEqual(counts.map((c) => c[0]), [0, 1, 2, 1]);
    assert.deepEqual(scales, [1, 0.7, 0.7 ** 2, 0.7]);
  } finally {
    disposeTrainState(state);
  }
});
