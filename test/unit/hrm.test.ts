// HRM (trainer/model/hrm.ts) against independent facts: its parameter layout (contract), the
// Q-continue target (hand-computed, and from the exported ONNX step as a second
// implementation), the no-grad / 1-step-gradient split (the reference loop written out, its
// gradient recovered from one AdamW step, and a central finite difference of the one-step map
// from the detached states), the halting rule q_halt > q_continue, and its FLOPs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig, TrainConfig } from '../../protocol/config';
import { presets } from '../../protocol/presets';
import { selectBackend } from '../../trainer/backend';
import { blockFlops, headFlops } from '../../trainer/model/flops';
import { HrmModel } from '../../trainer/model/hrm';
import { createModel } from '../../trainer/model/modelFactory';
import type { ParamSet } from '../../trainer/model/recursiveModel';
import { OnnxStepModel } from '../../trainer/onnx/onnxStepModel';
import { buildTrmStepModel } from '../../trainer/onnx/trmStepGraph';
import { Rng } from '../../trainer/random';
import { updateHalting } from '../../trainer/train/actCarry';
import { emptyBatch } from '../../trainer/train/exampleBatch';
import { actLoss, bceWithLogits } from '../../trainer/train/losses';
import { qContinueTarget } from '../../trainer/train/qContinueTarget';
import { createTrainState, disposeTrainState } from '../../trainer/train/trainState';
import { trainStep } from '../../trainer/train/trainStep';

test.before(async () => { await selectBackend('cpu'); });

const hrm: ModelConfig = {
  ...presets['sudoku4']!.model, arch: 'hrm', mixer: 'mlp_t', hiddenSize: 8, expansion: 2, layers: 1, hLayers: 2,
  hCycles: 2, lCycles: 2, puzzleEmbLen: 1,
};
const task = { vocabSize: 6, seqLen: 4 };
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

function randomTokens(rows: number, seq: number, rng: Rng): Int32Array {
  return Int32Array.from({ length: rows * seq }, () => 1 + rng.int(task.vocabSize - 1));
}

function randomParams(model: HrmModel, rng: Rng): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const s of model.parameterSpecs()) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    out[s.name] = tf.tensor(Float32Array.from({ length: size }, () => rng.normal() / Math.sqrt(s.shape[0]!)), s.shape);
  }
  return out;
}

test('createModel picks HRM for arch "hrm"; its parameters are h_layers.* (hLayers) then l_layers.* (layers), as the contract', () => {
  const model = createModel(hrm, task);
  assert.ok(model instanceof HrmModel);
  const names = model.parameterSpecs().map((s) => s.name);
  assert.deepEqual(names, [
    'embed_tokens', 'puzzle_emb',
    'h_layers.0.seq_mlp.gate_up', 'h_layers.0.seq_mlp.down', 'h_layers.0.mlp.gate_up', 'h_layers.0.mlp.down',
    'h_layers.1.seq_mlp.gate_up', 'h_layers.1.seq_mlp.down', 'h_layers.1.mlp.gate_up', 'h_layers.1.mlp.down',
    'l_layers.0.seq_mlp.gate_up', 'l_layers.0.seq_mlp.down', 'l_layers.0.mlp.gate_up', 'l_layers.0.mlp.down',
    'lm_head', 'q_head.w', 'q_head.b',
  ]);
  // hLayers absent = layers.
  const same = new HrmModel({ ...hrm, hLayers: undefined, layers: 3 }, task);
  assert.equal(same.parameterSpecs().filter((s) => s.name.startsWith('h_layers.') && s.name.endsWith('mlp.down') && !s.name.includes('seq')).length, 3);
  assert.equal(createModel({ ...hrm, arch: 'trm' }, task).arch, 'trm');
});

test('FLOPs: forward T·n L-calls + T H-calls + heads, training doubles it (target) and adds 2× (one L + one H call + heads)', () => {
  const model = new HrmModel(hrm, task);
  const block = blockFlops(model);
  const L = model.totalLen, D = model.width;
  // mlp_t block: sequence SwiGLU 3 matmuls of [D x L]·[L x Fs] size, channel SwiGLU 3 of [L x D]·[D x F].
  assert.equal(block, 2 * 3 * D * L * model.sequenceFfn + 2 * 3 * L * D * model.channelFfn);
  const step = 2 * 2 * 1 * block + 2 * 2 * block + headFlops(model);
  assert.deepEqual(model.stepFlops({ hCycles: 2, lCycles: 2 }, 3, false), { forward: 3 * step, backward: 0 });
  assert.deepEqual(model.stepFlops({ hCycles: 2, lCycles: 2 }, 3, true), { forward: 3 * 2 * step, backward: 3 * 2 * (block + 2 * block + headFlops(model)) });
});

test('Q-continue target, hand case: with q_head.w = 0 the next q values are the bias, so target = sigmoid(last ? b0 : max(b0, b1))', () => {
  const model = new HrmModel(hrm, task);
  const rng = new Rng(3);
  const p = randomParams(model, rng);
  for (const [b0, b1] of [[0.3, -0.7], [-1.2, 0.4]] as const) {
    tf.tidy(() => {
      const q: ParamSet = { ...p, 'q_head.w': tf.zeros([model.width, 2]), 'q_head.b': tf.tensor1d([b0, b1]) };
      const B = 2, S = model.totalLen, D = model.width;
      const s = { zH: tf.randomNormal([B, S, D], 0, 1, 'float32', 1) as tf.Tensor3D, zL: tf.randomNormal([B, S, D], 0, 1, 'float32', 2) as tf.Tensor3D };
      const x = model.inputEmbedding(q, tf.tensor2d(randomTokens(B, task.seqLen, rng), [B, task.seqLen], 'int32'));
      const target = qContinueTarget(model, q, s, x, model.depth, tf.tensor1d([false, true], 'bool')).dataSync();
      assert.ok(Math.abs(target[0]! - sigmoid(Math.max(b0, b1))) < 1e-6, `not last: ${target[0]} vs sigmoid(${Math.max(b0, b1)})`);
      assert.ok(Math.abs(target[1]! - sigmoid(b0)) < 1e-6, `last: ${target[1]} vs sigmoid(${b0})`);
    });
  }
  tf.dispose(Object.values(p));
});

test('Q-continue target equals sigmoid(where(last, q_halt, max(q_halt, q_continue))) of the exported ONNX step run from the same states', async () => {
  // The export needs a Sudoku task shape: 4x4 (L = 16, V = 6).
  const sudoku = new HrmModel(hrm, { vocabSize: 6, seqLen: 16 });
  const rng = new Rng(4);
  const hInit = Float32Array.from({ length: sudoku.width }, () => rng.normal());
  const lInit = Float32Array.from({ length: sudoku.width }, () => rng.normal());
  const pS = randomParams(sudoku, rng);
  const paramsS = new Map(Object.entries(pS).map(([n, t]) => [n, t.dataSync() as Float32Array]));
  const ort = await OnnxStepModel.fromBytes(buildTrmStepModel(sudoku, { params: paramsS, hInit, lInit }, { haltMaxSteps: 4 }), 'hrm-target', { threads: 1 });
  try {
    const B = 3, S = sudoku.totalLen, D = sudoku.width;
    const zH = Float32Array.from({ length: B * S * D }, () => rng.normal());
    const zL = Float32Array.from({ length: B * S * D }, () => rng.normal());
    const tokens = randomTokens(B, 16, rng);
    const isLast = [false, true, false];
    const got = tf.tidy(() => {
      const x = sudoku.inputEmbedding(pS, tf.tensor2d(tokens, [B, 16], 'int32'));
      const s = { zH: tf.tensor3d(zH, [B, S, D]), zL: tf.tensor3d(zL, [B, S, D]) };
      return qContinueTarget(sudoku, pS, s, x, sudoku.depth, tf.tensor1d(isLast, 'bool')).dataSync();
    });
    const next = await ort.step({ batch: B, tokens, states: [zH, zL], reset: new Uint8Array(B) });
    assert.ok(next.qContinue, 'the HRM graph has a q_continue output');
    for (let r = 0; r < B; r++) {
      const qh = next.qHalt[r]!, qc = next.qContinue![r]!;
      const want = sigmoid(isLast[r] ? qh : Math.max(qh, qc));
      assert.ok(Math.abs(got[r]! - want) < 1e-5, `row ${r}: ${got[r]} vs ${want}`);
    }
    // The rows are not all on one branch's value (the max picks different sides or the last row differs).
    assert.ok(new Set(Array.from(got, (v) => v.toFixed(4))).size > 1);
  } finally {
    await ort.dispose();
    tf.dispose(Object.values(pS));
  }
});

test('HRM halting in training: q_halt > q_continue (not q_halt > 0); the last step always halts', () => {
  const rng = new Rng(1);
  const steps = Int32Array.from([0, 0, 0, 2]);
  // Row 0: q_halt −1 > q_continue −2 halts although q_halt < 0; row 1: 0.5 < 1 does not; row 2: tie does not;
  // row 3 reaches maxSteps 3.
  const halted = updateHalting(steps, Float32Array.from([-1, 0.5, 0.2, -9]), { maxSteps: 3, explorationProb: 0, training: true }, rng, Float32Array.from([-2, 1, 0.2, 9]));
  assert.deepEqual(Array.from(halted), [1, 0, 0, 1]);
  assert.deepEqual(Array.from(steps), [1, 1, 1, 3]);
});

function trainConfig(over: Partial<TrainConfig>): TrainConfig {
  return {
    ...presets['sudoku4']!.train,
    steps: 10, batchSize: 4, microBatchSize: 2, haltMaxSteps: 3, haltExplorationProb: 0,
    // AdamW step 1 with ε = 1, lr = 1, no decay: Δp = −g / (|g| + 1), so g is recoverable from Δp.
    optimizer: 'adamw', lr: 1, lrWarmupSteps: 0, beta1: 0.9, beta2: 0.999, weightDecay: 0, adamEpsilon: 1,
    puzzleEmbLr: 0.5, puzzleEmbWeightDecay: 0, lossType: 'stablemax', qLossWeight: 0.5,
    ema: { enabled: false, rate: 0.999, warmup: false },
    ...over,
  };
}

test('HRM trainStep (two micro-batches): the gradient is that of the 1-step map from the no-grad states, with the Q-continue target a constant', () => {
  const model = new HrmModel(hrm, task);
  const train = trainConfig({});
  const state = createTrainState(model, train, new Rng(11));
  try {
    const B = train.batchSize, S = model.totalLen, D = model.width, T = hrm.hCycles, n = hrm.lCycles;
    const rng = new Rng(12);
    // A non-zero Q head so q_halt and q_continue depend on the state.
    const qw = state.params.get('q_head.w')!;
    qw.assign(tf.tensor2d(Float32Array.from({ length: D * 2 }, () => rng.normal() * 0.5), [D, 2]));
    const incoming = emptyBatch(B, task.seqLen);
    incoming.tokens.set(randomTokens(B, task.seqLen, rng));
    incoming.labels.set(randomTokens(B, task.seqLen, rng).map((t) => Math.max(2, t)));
    const names = [...state.params.keys()];
    const before = new Map(names.map((nm) => [nm, Float32Array.from(state.params.get(nm)!.dataSync())]));
    const pConst: ParamSet = Object.fromEntries(names.map((nm) => [nm, tf.tensor(before.get(nm)!, state.params.get(nm)!.shape)]));
    const tokens = tf.tensor2d(incoming.tokens, [B, task.seqLen], 'int32');
    const labels = tf.tensor2d(incoming.labels, [B, task.seqLen], 'int32');

    // The contract's loop, written out with lNet / hNet: every row starts from H_init / L_init.
    let zH = tf.broadcastTo(state.hInit, [B, S, D]) as tf.Tensor3D;
    let zL = tf.broadcastTo(state.lInit, [B, S, D]) as tf.Tensor3D;
    const x0 = model.inputEmbedding(pConst, tokens);
    for (let h = 0; h < T; h++) {
      for (let l = 0; l < n; l++) if (!(h === T - 1 && l === n - 1)) zL = model.lNet(pConst, zL, tf.add(zH, x0) as tf.Tensor3D);
      if (h < T - 1) zH = model.hNet(pConst, zH, zL);
    }
    const startH = zH, startL = zL;
    const oneStep = (p: ParamSet) => {
      const x = model.inputEmbedding(p, tokens);
      const l = model.lNet(p, startL, tf.add(startH, x) as tf.Tensor3D);
      const h = model.hNet(p, startH, l);
      return { zH: h, zL: l };
    };
    // The target: a full extra step from the post-step states, at the old weights, as plain numbers.
    const post = oneStep(pConst);
    let nh = post.zH, nl = post.zL;
    for (let h = 0; h < T; h++) {
      for (let l = 0; l < n; l++) nl = model.lNet(pConst, nl, tf.add(nh, x0) as tf.Tensor3D);
      nh = model.hNet(pConst, nh, nl);
    }
    const nq = model.heads(pConst, nh);
    const nqh = nq.qHalt.dataSync(), nqc = nq.qContinue.dataSync();
    // Step 1 of haltMaxSteps 3: no row is on its last step.
    const target = tf.tensor1d(Array.from(nqh, (v, r) => sigmoid(Math.max(v, nqc[r]!))));
    const loss = (p: ParamSet) => {
      const s = oneStep(p);
      const heads = model.heads(p, s.zH);
      const a = actLoss(heads.logits, labels, heads.qHalt, 'stablemax');
      const qc = bceWithLogits(heads.qContinue, target);
      return tf.div(tf.add(tf.sum(a.lmLossPerRow), tf.mul(tf.add(tf.sum(a.qHaltLossPerRow), tf.sum(qc)), 0.5)), B) as tf.Scalar;
    };
    const qcRef = tf.tidy(() => tf.mean(bceWithLogits(model.heads(pConst, post.zH).qContinue, target)).dataSync()[0]!);
    const refGrads = tf.grads((...args: tf.Tensor[]) => loss(Object.fromEntries(names.map((nm, i) => [nm, args[i]!]))))(names.map((nm) => pConst[nm]!))
      .map((g) => Float32Array.from(g.dataSync()));
    const refNorm = Math.sqrt(refGrads.reduce((a, g) => a + g.reduce((s, v) => s + v * v, 0), 0));

    const m = trainStep(state, incoming, train, model.depth, train.lr, new Rng(13));

    assert.ok(Math.abs(m.gradNorm - refNorm) <= 1e-4 * refNorm, `gradNorm ${m.gradNorm} vs ${refNorm}`);
    assert.ok(m.modelStats && Math.abs(m.modelStats['qContinueLoss']! - qcRef) <= 1e-5, `qContinueLoss ${m.modelStats?.['qContinueLoss']} vs ${qcRef}`);
    // The gradient trainStep applied, recovered from the AdamW step.
    const recovered = names.map((nm) => {
      const p0 = before.get(nm)!, p1 = state.params.get(nm)!.dataSync();
      return nm === 'puzzle_emb' ? undefined : Array.from(p0, (v, i) => { const d = v - p1[i]!; return d / (1 - Math.abs(d)); });
    });
    names.forEach((nm, k) => {
      const g = refGrads[k]!, r = recovered[k];
      if (!r) return;
      const gNorm = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
      const err = Math.sqrt(r.reduce((s, v, i) => s + (v - g[i]!) ** 2, 0));
      assert.ok(gNorm > 0, `${nm}: reference gradient is non-zero`);
      assert.ok(err <= 5e-4 * gNorm + 1e-7, `${nm}: recovered gradient differs (${err} vs norm ${gNorm})`);
    });
    // Central finite difference of the one-step loss (target fixed) along a random direction of the
    // main parameters equals the recovered gradient's projection.
    const dir = names.map((nm) => (nm === 'puzzle_emb' ? undefined : Float32Array.from(before.get(nm)!, () => rng.normal())));
    // Small enough that no argmax (the Q-halt target) flips and float32 rounding stays well below 1e-4.
    const eps = 1e-3;
    const at = (sign: number) => tf.tidy(() => loss(Object.fromEntries(names.map((nm, k) => [nm, dir[k]
      ? tf.tensor(Float32Array.from(before.get(nm)!, (v, i) => v + sign * eps * dir[k]![i]!), state.params.get(nm)!.shape) : pConst[nm]!]))).dataSync()[0]!);
    const fd = (at(1) - at(-1)) / (2 * eps);
    const projected = names.reduce((s, _, k) => s + (dir[k] ? recovered[k]!.reduce((a, v, i) => a + v * dir[k]![i]!, 0) : 0), 0);
    assert.ok(Math.abs(fd - projected) <= 2e-2 * Math.abs(projected) + 1e-4, `finite difference ${fd} vs gradient·v ${projected}`);
    // The new carry is the (detached) output of the 1-step map.
    const carryH = state.carry.zH.dataSync(), refH = post.zH.dataSync();
    refH.forEach((v, i) => assert.ok(Math.abs(carryH[i]! - v) <= 1e-4 * Math.max(1, Math.abs(v)), `carry z_H[${i}]`));
    tf.dispose([...Object.values(pConst), tokens, labels, target]);
  } finally {
    disposeTrainState(state);
  }
});
