// What both cross-engine parity tests share (engine-parity: TRM and HRM; deq-model-parity:
// TRM-DEQ): the venv python, the small base configs, a mid-run training state, the gradient of
// the next step, the tolerance check per tensor, and one case run on both engines (runParityCase).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Depth, RecursiveModel } from '../../trainer/model/recursiveModel';
import { createModel } from '../../trainer/model/modelFactory';
import type { ModelConfig, TrainConfig } from '../../protocol/config';
import { Rng } from '../../trainer/random';
import { createTrainState, disposeTrainState, type TrainState } from '../../trainer/train/trainState';
import { gradientPass, stepWeighting, trainStep } from '../../trainer/train/trainStep';
import { resetHaltedRows } from '../../trainer/train/actCarry';
import type { ExampleBatch } from '../../trainer/train/exampleBatch';
import { readCheckpointFile, writeWeightsFile, type StoredArray } from '../../trainer/run/checkpointFile';
import { saveTrainingCheckpoint, trainStateArrays } from '../../trainer/run/trainingCheckpoint';

export const REPO = resolve(__dirname, '../..');
export const RTOL = 1e-4;
export const ATOL = 1e-6;

export function venvPython(): string {
  const out = execFileSync('bash', [join(REPO, 'test/setup/python-env.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').pop()!;
}

export const baseModel: ModelConfig = {
  arch: 'trm', mixer: 'mlp_t', hiddenSize: 16, numHeads: 2, expansion: 4, ffnMultipleOf: 8, layers: 2,
  hCycles: 2, lCycles: 2, puzzleEmbLen: 2, posEncodings: 'none', ropeTheta: 10000, rmsNormEps: 1e-5, qHeadBiasInit: -5,
};
export const baseTrain: TrainConfig = {
  steps: 100, batchSize: 6, microBatchSize: 4, haltMaxSteps: 3, haltExplorationProb: 0, optimizer: 'adam_atan2',
  lr: 3e-3, lrWarmupSteps: 0, lrMinRatio: 1, beta1: 0.9, beta2: 0.95, weightDecay: 0.1, adamEpsilon: 1e-8,
  puzzleEmbLr: 1e-2, puzzleEmbWeightDecay: 0.1, lossType: 'stablemax', qLossWeight: 0.5,
  ema: { enabled: true, rate: 0.999, warmup: true }, curriculum: { enabled: false, boundaries: [] },
  hsw: { mode: 'paper', decay: 0.7 },
};
export const task = { vocabSize: 6, seqLen: 16 };

export const f32 = (t: tf.Tensor): StoredArray => ({ dtype: 'float32', shape: t.shape, data: t.dataSync() as Float32Array });
export const normals = (n: number, scale: number, rng: Rng) => Float32Array.from({ length: n }, () => rng.normal() * scale);

/** Moves a fresh state to a mid-run one: perturbed q_head and puzzle_emb, moments, EMA, a mixed carry. */
export function midRun(state: TrainState, rng: Rng): void {
  for (const [name, v] of state.params) {
    if (name.startsWith('q_head') || name === 'puzzle_emb') v.assign(tf.tensor(normals(v.size, 0.3, rng), v.shape));
  }
  for (const [name, s] of state.slots) {
    const p = state.params.get(name)!;
    s.m.assign(tf.tensor(normals(p.size, 0.01, rng), p.shape));
    s.v.assign(tf.tensor(Float32Array.from({ length: p.size }, () => 1e-4 * (0.1 + rng.float())), p.shape));
  }
  for (const [name, e] of state.ema!) {
    const p = state.params.get(name)!;
    e.assign(tf.add(p, tf.tensor(normals(p.size, 0.01, rng), p.shape)));
  }
  state.step = 5;
  state.emaUpdates = 4;
  const c = state.carry;
  const B = c.steps.length;
  c.halted = Uint8Array.from({ length: B }, (_, r) => (r % 3 === 0 ? 1 : 0));
  c.steps = Int32Array.from({ length: B }, (_, r) => (r % 3 === 0 ? 3 : 1 + (r % 2)));
  c.data.tokens.set(Int32Array.from(c.data.tokens, () => 1 + rng.int(5)));
  c.data.labels.set(Int32Array.from(c.data.labels, () => 2 + rng.int(4)));
  c.data.labels[3] = 0; // an ignored label
  c.zH.dispose();
  c.zL.dispose();
  c.zH = tf.keep(tf.tensor(normals(c.zH.size, 1, rng), c.zH.shape)) as tf.Tensor3D;
  c.zL = tf.keep(tf.tensor(normals(c.zL.size, 1, rng), c.zL.shape)) as tf.Tensor3D;
}

/** The gradient the next trainStep will take, at the state's current parameters (state unchanged). */
export function nextStepGradients(state: TrainState, incoming: ExampleBatch, train: TrainConfig, depth: Depth): Map<string, StoredArray> {
  const c = state.carry;
  const copy = { ...c, zH: tf.keep(c.zH.clone()), zL: tf.keep(c.zL.clone()), steps: c.steps.slice(), halted: c.halted.slice() };
  const reset = resetHaltedRows(copy, incoming, state.hInit, state.lInit);
  const pass = gradientPass(state, reset, 0, train.batchSize, train, depth, stepWeighting(train, c.steps, reset), train.batchSize);
  const out = new Map(Object.entries(pass.grads).map(([n, g]) => [`grad/${n}`, f32(g)] as const));
  tf.dispose([...Object.values(pass.grads), pass.zH, pass.zL, reset.zH, reset.zL]);
  return out;
}

export function assertClose(name: string, torch: StoredArray | undefined, tfjs: StoredArray): number {
  assert.ok(torch, `torch output lacks ${name}`);
  assert.deepEqual(torch.shape, tfjs.shape, `${name}: shape`);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < tfjs.data.length; i++) {
    scale = Math.max(scale, Math.abs(Number(tfjs.data[i])));
    diff = Math.max(diff, Math.abs(Number(torch.data[i]) - Number(tfjs.data[i])));
  }
  assert.ok(scale > 0, `${name}: all zero in the TF.js engine (the test would prove nothing)`);
  assert.ok(diff <= RTOL * scale + ATOL, `${name}: max |torch − tfjs| = ${diff.toExponential(3)} > ${RTOL} · ${scale.toExponential(3)} + ${ATOL}`);
  return diff / scale;
}


export interface ParityCase { name: string; model: Partial<ModelConfig>; train: Partial<TrainConfig> }

/** What one case gave on both sides, for a test's own checks beyond the common ones. */
export interface ParityResult {
  model: RecursiveModel;
  state: TrainState;
  metrics: ReturnType<typeof trainStep>;
  meta: { metrics: Record<string, number | null>; flops: { forward: number; backward: number } };
  outPath: string;
}

/**
 * One case on both engines: a mid-run TF.js state saved as a real training checkpoint, a batch,
 * one TF.js trainStep and one torch train_step (`python -m reclab.parity`) from them; then the
 * losses, halted rows, loss scale, FLOPs, every gradient and everything the step changed agree
 * within RTOL, and `extra` checks what is the case's own. Returns the worst relative difference.
 */
export function runParityCase(c: ParityCase, python: string, extra: (r: ParityResult) => void): number {
  const modelCfg = { ...baseModel, ...c.model };
  const train = { ...baseTrain, ...c.train };
  const model = createModel(modelCfg, task);
  const state = createTrainState(model, train, new Rng(11));
  const dir = mkdtempSync(join(tmpdir(), 'reclab-parity-'));
  try {
    const rng = new Rng(12);
    midRun(state, rng);
    const B = train.batchSize;
    const incoming: ExampleBatch = {
      size: B, seqLen: task.seqLen,
      tokens: Int32Array.from({ length: B * task.seqLen }, () => 1 + rng.int(5)),
      labels: Int32Array.from({ length: B * task.seqLen }, () => 2 + rng.int(4)),
      blanks: Int32Array.from({ length: B }, () => rng.int(16)),
    };
    const depth = model.depth;
    const lr = 2e-3;
    // The state as a real TF.js training checkpoint, the batch and the step's settings beside it.
    const checkpointPath = join(dir, 'step-0000005.ckpt');
    saveTrainingCheckpoint(checkpointPath, state, {
      haltRng: new Rng(0).state(), stream: { rng: new Rng(1).state(), order: [0], position: 0 },
      progress: { wallSeconds: 0, trainSeconds: 0, flopsForwardTotal: 0, flopsBackwardTotal: 0, bestExactAccuracy: undefined },
    });
    const batchPath = join(dir, 'batch.safetensors');
    writeWeightsFile(batchPath, { model: modelCfg, train, lr, depth: [depth.hCycles, depth.lCycles] }, new Map<string, StoredArray>([
      ['batch/tokens', { dtype: 'int32', shape: [B, task.seqLen], data: incoming.tokens }],
      ['batch/labels', { dtype: 'int32', shape: [B, task.seqLen], data: incoming.labels }],
      ['batch/blanks', { dtype: 'int32', shape: [B], data: incoming.blanks }],
    ]));
    const outPath = join(dir, 'out.safetensors');

    const grads = nextStepGradients(state, incoming, train, depth);
    const metrics = trainStep(state, incoming, train, depth, lr, new Rng(0));
    const after = trainStateArrays(state);

    const run = spawnSync(python, ['-m', 'reclab.parity', checkpointPath, batchPath, outPath], {
      encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(REPO, 'engines/torch'), OPENBLAS_CORETYPE: 'SkylakeX' },
    });
    assert.equal(run.status, 0, `python -m reclab.parity failed:\n${run.stderr}`);
    const read = readCheckpointFile(outPath);
    const tensors = read.arrays;
    const meta = read.meta as ParityResult['meta'];

    // Losses (per batch row, as the step event logs them).
    for (const [key, ts] of [['lm_loss', metrics.lmLoss], ['q_halt_loss', metrics.qHaltLoss], ['grad_norm', metrics.gradNorm], ['grad_variance_running', metrics.gradVarianceRunning]] as const) {
      const py = meta.metrics[key]!;
      assert.ok(Math.abs(py - ts) <= RTOL * Math.abs(ts) + ATOL, `${key}: torch ${py} vs tfjs ${ts}`);
    }
    assert.equal(meta.metrics['halted_rows'], metrics.haltedRows);
    assert.equal(meta.metrics['loss_scale'], metrics.lossScale);
    const flops = model.stepFlops(depth, B, true);
    assert.deepEqual(meta.flops, { forward: flops.forward, backward: flops.backward });

    // Every gradient, then everything the step changed.
    assert.equal(grads.size, state.params.size);
    let worst = 0;
    for (const [name, g] of grads) worst = Math.max(worst, assertClose(name, tensors.get(name), g));
    // The initial states the model defines as zero (the Attractor's offsets) must be exactly zero on both sides.
    const zeroStates = model.arch === 'attractor' ? new Set(['h_init', 'l_init']) : new Set<string>();
    for (const [name, a] of after) {
      if (zeroStates.has(name)) {
        for (const side of [a, tensors.get(name)!]) assert.ok(side.data.every((v) => v === 0), `${name}: the ${model.arch} model's initial state is zero`);
      } else if (a.dtype === 'float32') worst = Math.max(worst, assertClose(name, tensors.get(name), a));
      else assert.deepEqual(Array.from(tensors.get(name)!.data as Int32Array, Number), Array.from(a.data as Int32Array, Number), name);
    }
    extra({ model, state, metrics, meta, outPath });
    return worst;
  } finally {
    disposeTrainState(state);
    rmSync(dir, { recursive: true, force: true });
  }
}
