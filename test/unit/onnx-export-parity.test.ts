// Parity of the exported ONNX step (onnxruntime-node) with the TF.js step (trainer/model/trm.ts, hrm.ts):
// the same supervision step — T cycles of n latent updates and one answer update, then the
// heads — within 1e-4 max abs, on random weights and on weights a tiny training run produced,
// for both mixers (mlp_t; attention with RoPE). Rows mix reset=true (start from H_init/L_init)
// and reset=false (start from given random states).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig, RunConfig } from '../../protocol/config';
import { presets } from '../../protocol/presets';
import { selectBackend } from '../../trainer/backend';
import { loadTaskData } from '../../trainer/data/taskData';
import { createModel } from '../../trainer/model/modelFactory';
import type { ParamSet, RecursiveModel } from '../../trainer/model/recursiveModel';
import { exportRun } from '../../trainer/onnx/exportRun';
import { taskShapeOf } from '../../trainer/run/evaluationWeights';
import { OnnxStepModel } from '../../trainer/onnx/onnxStepModel';
import type { StepWeights } from '../../trainer/onnx/stepGraph';
import { buildTrmStepModel } from '../../trainer/onnx/trmStepGraph';
import { Rng } from '../../trainer/random';
import { RunDirectory } from '../../trainer/run/runDirectory';
import { restoreTrainingCheckpoint } from '../../trainer/run/trainingCheckpoint';
import { createTrainState, disposeTrainState, evaluationParams } from '../../trainer/train/trainState';
import { runTraining } from '../../trainer/trainingRun';

test.before(async () => { await selectBackend('cpu'); });
const dir = mkdtempSync(join(tmpdir(), 'reclab-onnx-parity-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const TOL = 1e-4;
const base = presets['sudoku4']!;
const mlpT: ModelConfig = { ...base.model, hiddenSize: 16, layers: 2, hCycles: 2, lCycles: 2, puzzleEmbLen: 2 };
const attention: ModelConfig = { ...mlpT, mixer: 'attention', posEncodings: 'rope', numHeads: 2 };
const learnedAttention: ModelConfig = { ...mlpT, mixer: 'attention', posEncodings: 'learned', numHeads: 4, hCycles: 1, lCycles: 3, puzzleEmbLen: 1 };
// HRM: separate H (2 blocks) and L (1 block) networks, T = 2, n = 3.
const hrmMlpT: ModelConfig = { ...mlpT, arch: 'hrm', layers: 1, hLayers: 2, lCycles: 3 };
const hrmAttention: ModelConfig = { ...attention, arch: 'hrm', layers: 2, hLayers: 1, puzzleEmbLen: 1 };

function randomArray(n: number, rng: Rng, std: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * std);
}

/** Every parameter (q_head and the puzzle embedding too, which initialise to constants) drawn at random. */
function randomWeights(model: RecursiveModel, rng: Rng): StepWeights {
  const params = new Map<string, Float32Array>();
  for (const s of model.parameterSpecs()) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    params.set(s.name, randomArray(size, rng, 1 / Math.sqrt(s.shape[0]!)));
  }
  return { params, hInit: randomArray(model.width, rng, 1), lInit: randomArray(model.width, rng, 1) };
}

interface StepCase { tokens: Int32Array; zH: Float32Array; zL: Float32Array; reset: Uint8Array; batch: number }

function stepCase(model: RecursiveModel, rng: Rng, batch: number): StepCase {
  const L = model.task.seqLen;
  const tokens = Int32Array.from({ length: batch * L }, () => 1 + rng.int(model.task.vocabSize - 1));
  const n = batch * model.totalLen * model.width;
  const reset = Uint8Array.from({ length: batch }, (_, i) => (i % 2 === 0 ? 1 : 0));
  return { tokens, zH: randomArray(n, rng, 1), zL: randomArray(n, rng, 1), reset, batch };
}

/** The reference: the model's own step on TF.js (evaluation path: cyclesWithoutGradient, then heads). */
function tfStep(model: RecursiveModel, p: ParamSet, hInit: Float32Array, lInit: Float32Array, c: StepCase) {
  return tf.tidy(() => {
    const shape: [number, number, number] = [c.batch, model.totalLen, model.width];
    const resetMask = tf.tensor3d(Float32Array.from(c.reset), [c.batch, 1, 1]);
    const start = (given: Float32Array, init: Float32Array) => {
      const g = tf.tensor3d(given, shape);
      const i = tf.broadcastTo(tf.tensor1d(init), shape);
      return tf.add(tf.mul(resetMask, i), tf.mul(tf.sub(1, resetMask), g)) as tf.Tensor3D;
    };
    const x = model.inputEmbedding(p, tf.tensor2d(c.tokens, [c.batch, model.task.seqLen], 'int32'));
    const next = model.cyclesWithoutGradient(p, start(c.zH, hInit), start(c.zL, lInit), x, model.config.hCycles, model.config.lCycles);
    const heads = model.heads(p, next.zH);
    return {
      zH: next.zH.dataSync() as Float32Array, zL: next.zL.dataSync() as Float32Array,
      logits: heads.logits.dataSync() as Float32Array, qHalt: heads.qHalt.dataSync() as Float32Array,
      qContinue: heads.qContinue.dataSync() as Float32Array,
    };
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function compare(model: RecursiveModel, onnxBytes: Uint8Array, p: ParamSet, hInit: Float32Array, lInit: Float32Array, c: StepCase, label: string): Promise<number> {
  const ort = await OnnxStepModel.fromBytes(onnxBytes, label, { threads: 1 });
  try {
    const want = tfStep(model, p, hInit, lInit, c);
    const got = await ort.step({ batch: c.batch, tokens: c.tokens, states: [c.zH, c.zL], reset: c.reset });
    const errors = {
      z_H: maxAbsDiff(got.states[0]!, want.zH), z_L: maxAbsDiff(got.states[1]!, want.zL),
      logits: maxAbsDiff(got.logits, want.logits), q_halt: maxAbsDiff(got.qHalt, want.qHalt),
      q_continue: maxAbsDiff(got.qContinue!, want.qContinue),
    };
    const worst = Math.max(...Object.values(errors));
    assert.ok(worst <= TOL, `${label}: max abs errors ${JSON.stringify(errors)} exceed ${TOL}`);
    // The step moved the state (the comparison is not of two unchanged inputs) and the logits vary.
    assert.ok(maxAbsDiff(want.zH, c.zH) > 0.1, `${label}: the step changed z_H`);
    // The initial states the graph reports are H_init / L_init broadcast over [B, S, D].
    const [h0, l0] = await ort.initialStates(2);
    const n = model.totalLen * model.width;
    for (let i = 0; i < 2 * n; i++) {
      assert.equal(h0![i], hInit[i % model.width]);
      assert.equal(l0![i], lInit[i % model.width]);
    }
    return worst;
  } finally {
    await ort.dispose();
  }
}

for (const [name, cfg] of [['mlp_t', mlpT], ['attention+rope', attention], ['attention+learned', learnedAttention], ['HRM mlp_t', hrmMlpT], ['HRM attention+rope', hrmAttention]] as const) {
  test(`random weights, ${name}: the ONNX step equals the TF.js step within ${TOL}`, async () => {
    const model = createModel(cfg, { vocabSize: 6, seqLen: 16 });
    const rng = new Rng(7);
    const w = randomWeights(model, rng);
    const p: Record<string, tf.Tensor> = {};
    for (const s of model.parameterSpecs()) p[s.name] = tf.tensor(w.params.get(s.name)!, s.shape);
    try {
      const bytes = buildTrmStepModel(model, w, { haltMaxSteps: 8 });
      const err = await compare(model, bytes, p, w.hInit, w.lInit, stepCase(model, rng, 3), `random ${name}`);
      process.stdout.write(`# parity random ${name}: max abs error ${err.toExponential(2)}\n`);
    } finally {
      tf.dispose(Object.values(p));
    }
  });
}

for (const [name, cfg] of [['mlp_t', mlpT], ['attention+rope', attention], ['HRM mlp_t', hrmMlpT]] as const) {
  test(`trained weights (a few steps of a tiny run), ${name}: reclab export's model.onnx equals the TF.js step on the EMA weights`, async () => {
    const config: RunConfig = {
      ...base, seed: 5, backend: 'cpu', checkpointEverySteps: 0, model: cfg,
      train: { ...base.train, steps: 6, batchSize: 8, microBatchSize: 8, haltMaxSteps: 3, lrWarmupSteps: 0, lr: 1e-2 },
      data: { kind: 'generated-sudoku', side: 4, trainPuzzles: 40, trainBlanks: [4, 8], testBlanks: [4, 5], testPerBlank: 2, augment: true },
      eval: { ...base.eval, everySteps: 0, puzzlesPerBlank: 1, batchSize: 16 },
    };
    const runPath = join(dir, `run-${name}`);
    const runDir = RunDirectory.create(runPath, { metadata: { runId: name, createdAt: new Date(0).toISOString(), backend: 'cpu', versions: {}, command: [] }, config });
    const data = loadTaskData(config.data, config.seed);
    const summary = await runTraining({ runId: name, runDir, config, data, backend: 'cpu', resume: false, shouldStop: () => false });
    assert.equal(summary.status, 'completed');

    const exported = exportRun(runPath);
    assert.equal(exported.path, join(runPath, 'model.onnx'));
    const model = createModel(config.model, taskShapeOf(config));
    const state = createTrainState(model, config.train, new Rng(0));
    try {
      restoreTrainingCheckpoint(runDir.latestCheckpoint()!.path, state);
      const p = evaluationParams(state);
      // The EMA weights differ from the raw ones (so the export must have taken the EMA copy).
      assert.ok(maxAbsDiff(state.ema!.get('lm_head')!.dataSync() as Float32Array, state.params.get('lm_head')!.dataSync() as Float32Array) > 0);
      const { readFileSync } = await import('node:fs');
      const err = await compare(model, readFileSync(exported.path), p, state.hInit.dataSync() as Float32Array, state.lInit.dataSync() as Float32Array,
        stepCase(model, new Rng(11), 4), `trained ${name}`);
      process.stdout.write(`# parity trained ${name}: max abs error ${err.toExponential(2)}\n`);
    } finally {
      disposeTrainState(state);
    }
  });
}
