// The TRM model and one training step against reference.md §1.3–1.5: initialisation facts,
// the input embedding, parameter and FLOP counts from the reference arithmetic, and where the
// gradient flows (only through the last cycle; the carry gets none when T >= 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../trainer/backend';
import { TrmModel, type ParamSet } from '../../trainer/model/trm';
import { truncatedNormal } from '../../trainer/model/initializers';
import { headFlops, netCallFlops, supervisionStepFlops } from '../../trainer/model/flops';
import { presets } from '../../protocol/presets';
import type { ModelConfig, TrainConfig } from '../../protocol/config';
import { Rng } from '../../trainer/random';
import { actLoss } from '../../trainer/train/losses';
import { createTrainState, disposeTrainState, evaluationParams, rawParams } from '../../trainer/train/trainState';
import { trainStep } from '../../trainer/train/trainStep';
import { emptyBatch } from '../../trainer/train/exampleBatch';

test.before(async () => { await selectBackend('cpu'); });

const mlpT: ModelConfig = {
  arch: 'trm', mixer: 'mlp_t', hiddenSize: 8, numHeads: 2, expansion: 2, ffnMultipleOf: 4, layers: 1,
  hCycles: 3, lCycles: 2, puzzleEmbLen: 2, posEncodings: 'none', ropeTheta: 10000, rmsNormEps: 1e-5, qHeadBiasInit: -5,
};
const attention: ModelConfig = { ...mlpT, mixer: 'attention', posEncodings: 'rope', puzzleEmbLen: 1 };
const task = { vocabSize: 6, seqLen: 4 };

function paramTensors(model: TrmModel, seed: number): Record<string, tf.Tensor> {
  const values = model.initialParameters(new Rng(seed));
  const out: Record<string, tf.Tensor> = {};
  for (const s of model.parameterSpecs()) out[s.name] = tf.tensor(values.get(s.name)!, s.shape);
  return out;
}

function randomTokens(rows: number, seqLen: number, rng: Rng): Int32Array {
  return Int32Array.from({ length: rows * seqLen }, () => 1 + rng.int(5));
}

test('sudoku-extreme TRM-MLP has 5,028,866 trained (main) parameters, as reference.md §1.9 derives', () => {
  const model = new TrmModel(presets['sudoku-extreme']!.model, { vocabSize: 11, seqLen: 81 });
  const specs = model.parameterSpecs();
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const main = specs.filter((s) => s.group === 'main').reduce((n, s) => n + size(s.shape), 0);
  assert.equal(main, 5_028_866);
  // The puzzle embedding (a buffer trained by sign-SGD in the reference) is the only other one: [D].
  assert.deepEqual(specs.filter((s) => s.group !== 'main').map((s) => [s.name, s.shape]), [['puzzle_emb', [512]]]);
  assert.equal(model.totalLen, 97);
});

test('q_head: weight zero, bias −5 at init, so q_halt = q_continue = −5 for every input', () => {
  for (const cfg of [mlpT, attention]) {
    const model = new TrmModel(cfg, task);
    const specs = model.parameterSpecs();
    assert.deepEqual(specs.find((s) => s.name === 'q_head.w')!.init, { kind: 'zeros' });
    const p = paramTensors(model, 1);
    assert.ok(Array.from(p['q_head.w']!.dataSync()).every((x) => x === 0));
    assert.deepEqual(Array.from(p['q_head.b']!.dataSync()), [-5, -5]);
    const rng = new Rng(2);
    const zH = tf.tensor3d(Array.from({ length: 3 * model.totalLen * 8 }, () => rng.normal() * 10), [3, model.totalLen, 8]);
    const { qHalt, qContinue, logits } = model.heads(p, zH);
    assert.deepEqual(Array.from(qHalt.dataSync()), [-5, -5, -5]);
    assert.deepEqual(Array.from(qContinue.dataSync()), [-5, -5, -5]);
    assert.deepEqual(logits.shape, [3, task.seqLen, task.vocabSize]);
  }
});

test('input embedding: sqrt(D)·table row per token; prefix token 0 carries puzzle_emb, the other prefix tokens are zero', () => {
  const cfg = { ...mlpT, puzzleEmbLen: 3 };
  const model = new TrmModel(cfg, task);
  const D = 8;
  const p = paramTensors(model, 3);
  const pe = Array.from({ length: D }, (_, i) => i - 3.5);
  p['puzzle_emb'] = tf.tensor1d(pe);
  const table = p['embed_tokens']!.arraySync() as number[][];
  const tokens = [[1, 2, 3, 4], [5, 0, 1, 1]];
  const x = model.inputEmbedding(p, tf.tensor2d(tokens, undefined, 'int32')).arraySync() as number[][][];
  assert.equal(x[0]!.length, 3 + 4);
  const s = Math.sqrt(D);
  for (let b = 0; b < 2; b++) {
    x[b]![0]!.forEach((v, i) => assert.ok(Math.abs(v - s * pe[i]!) < 1e-5));
    assert.ok(x[b]![1]!.every((v) => v === 0) && x[b]![2]!.every((v) => v === 0));
    tokens[b]!.forEach((t, l) => x[b]![3 + l]!.forEach((v, i) => assert.ok(Math.abs(v - s * table[t]![i]!) < 1e-5, `b ${b} l ${l} i ${i}`)));
  }
});

test('learned positions: sqrt(D)·0.7071·(embedding + pos_emb)', () => {
  const model = new TrmModel({ ...attention, posEncodings: 'learned', puzzleEmbLen: 0 }, task);
  const p = paramTensors(model, 4);
  const table = p['embed_tokens']!.arraySync() as number[][];
  const pos = p['pos_emb']!.arraySync() as number[][];
  const x = model.inputEmbedding(p, tf.tensor2d([[2, 3, 4, 5]], undefined, 'int32')).arraySync() as number[][][];
  [2, 3, 4, 5].forEach((t, l) => x[0]![l]!.forEach((v, i) => {
    const e = Math.sqrt(8) * Math.SQRT1_2 * (table[t]![i]! + pos[l]![i]!);
    assert.ok(Math.abs(v - e) < 1e-5);
  }));
});

test('H_init / L_init are not trainable parameters; they are [D] draws with std about 1', () => {
  const model = new TrmModel({ ...mlpT, hiddenSize: 4096 }, task);
  const names = model.parameterSpecs().map((s) => s.name.toLowerCase());
  assert.ok(!names.some((n) => n.includes('init')), names.join(','));
  const { hInit, lInit } = model.initialStates(new Rng(5));
  for (const v of [hInit, lInit]) {
    assert.equal(v.length, 4096);
    const std = Math.sqrt(v.reduce((a, x) => a + x * x, 0) / v.length);
    assert.ok(Math.abs(std - 1) < 0.05, `std ${std}`);
  }
  assert.notDeepEqual(hInit, lInit);
});

test('truncatedNormal: clipped at ±2σ of the underlying normal and rescaled to the requested std', () => {
  // Std of N(0,1) truncated to [−2, 2], by Simpson's rule: sqrt(∫x²φ / ∫φ).
  let m0 = 0, m2 = 0;
  const n = 2000, h = 4 / n;
  for (let i = 0; i <= n; i++) {
    const x = -2 + i * h;
    const w = (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * (h / 3) * Math.exp(-x * x / 2);
    m0 += w;
    m2 += w * x * x;
  }
  const truncStd = Math.sqrt(m2 / m0);
  assert.ok(Math.abs(truncStd - 0.8796) < 1e-4);
  const std = 0.3;
  const draws = truncatedNormal(40000, std, new Rng(6));
  const bound = (2 * std) / truncStd;
  assert.ok(draws.every((x) => Math.abs(x) <= bound + 1e-6));
  assert.ok(draws.some((x) => Math.abs(x) > 0.95 * bound), 'draws reach near the bound');
  const sampleStd = Math.sqrt(draws.reduce((a, x) => a + x * x, 0) / draws.length);
  assert.ok(Math.abs(sampleStd - std) < 0.01 * std * 2, `sample std ${sampleStd}`);
});

test('FLOPs: 2 per multiply-add of every matmul weight and row; backward = 2× the last cycle and heads', () => {
  const model = new TrmModel(presets['sudoku-extreme']!.model, { vocabSize: 11, seqLen: 81 });
  // Per row, a weight [k, n] applied to r rows costs 2·r·k·n: channel SwiGLU on L = 97 rows
  // (2,359,296 weights), the sequence SwiGLU on D = 512 rows (3·97·512 = 148,992 weights).
  const block = 2 * 97 * 2_359_296 + 2 * 512 * 148_992;
  assert.equal(netCallFlops(model), 2 * block);
  // lm_head on the 81 puzzle positions, q_head on position 0.
  assert.equal(headFlops(model), 2 * 81 * 512 * 11 + 2 * 512 * 2);
  // T = 3, n = 6: 21 network calls forward, backward through the last 7.
  const f = supervisionStepFlops(model, { hCycles: 3, lCycles: 6 }, 10, true);
  assert.equal(f.forward, 10 * (21 * 2 * block + headFlops(model)));
  assert.equal(f.backward, 10 * 2 * (7 * 2 * block + headFlops(model)));
  assert.equal(supervisionStepFlops(model, { hCycles: 3, lCycles: 6 }, 10, false).backward, 0);
  // Attention block: qkv 3D² + o D² weights on L rows, plus QKᵀ and AV (2·L·L·D each).
  const att = new TrmModel({ ...attention, hiddenSize: 16, numHeads: 2, layers: 2 }, task);
  const L = att.totalLen;
  assert.equal(netCallFlops(att), 2 * (2 * L * 4 * 16 * 16 + 4 * L * L * 16 + 2 * L * 3 * 16 * att.channelFfn));
});

test('with T >= 2 the initial carry gets no gradient (it only enters the no-grad cycles); with T = 1 it does', () => {
  const model = new TrmModel(mlpT, task);
  const rng = new Rng(7);
  const B = 2, L = model.totalLen, D = model.width;
  const values = model.initialParameters(new Rng(8));
  const vars = model.parameterSpecs().map((s) => tf.variable(tf.tensor(values.get(s.name)!, s.shape), true, `trmgrad_${s.name}`));
  const p: ParamSet = Object.fromEntries(model.parameterSpecs().map((s, i) => [s.name, vars[i]!]));
  const tokens = tf.tensor2d(randomTokens(B, task.seqLen, rng), [B, task.seqLen], 'int32');
  const labels = tf.tensor2d(randomTokens(B, task.seqLen, rng).map((t) => Math.max(2, t)), [B, task.seqLen], 'int32');
  const state = () => Array.from({ length: B * L * D }, () => rng.normal());

  for (const T of [1, 2, 3]) {
    const zH0 = tf.variable(tf.tensor3d(state(), [B, L, D]), true, `zH0_T${T}`);
    const zL0 = tf.variable(tf.tensor3d(state(), [B, L, D]), true, `zL0_T${T}`);
    // As trainStep does: the T − 1 no-grad cycles outside the tape, the last cycle inside.
    const x0 = model.inputEmbedding(p, tokens);
    const warm = model.cyclesWithoutGradient(p, zH0, zL0, x0, T - 1, mlpT.lCycles);
    const { grads } = tf.variableGrads(() => {
      const x = model.inputEmbedding(p, tokens);
      const { zH } = model.cycle(p, warm.zH, warm.zL, x, mlpT.lCycles);
      const heads = model.heads(p, zH);
      const loss = actLoss(heads.logits, labels, heads.qHalt, 'stablemax');
      return tf.add(tf.sum(loss.lmLossPerRow), tf.mul(tf.sum(loss.qHaltLossPerRow), 0.5)) as tf.Scalar;
    }, [zH0, zL0, ...vars]);
    const absSum = (g: tf.Tensor | undefined) => (g ? tf.sum(tf.abs(g)).dataSync()[0]! : 0);
    if (T === 1) {
      assert.ok(absSum(grads[zH0.name]) > 0, 'T = 1: z_H carry has a gradient');
      assert.ok(absSum(grads[zL0.name]) > 0, 'T = 1: z_L carry has a gradient');
    } else {
      assert.equal(absSum(grads[zH0.name]), 0, `T = ${T}: z_H carry gradient must be zero`);
      assert.equal(absSum(grads[zL0.name]), 0, `T = ${T}: z_L carry gradient must be zero`);
    }
    assert.ok(absSum(grads[vars[0]!.name]) > 0, 'the parameters do get a gradient');
    tf.dispose([zH0, zL0, ...Object.values(grads)]);
  }
  tf.dispose(vars);
});

function trainConfig(over: Partial<TrainConfig>): TrainConfig {
  return {
    ...presets['sudoku4']!.train,
    steps: 10, batchSize: 4, microBatchSize: 2, haltMaxSteps: 3, haltExplorationProb: 0.1,
    // AdamW step 1 with ε = 1, lr = 1, no decay: Δp = −g / (|g| + 1), so g is recoverable from Δp.
    optimizer: 'adamw', lr: 1, lrWarmupSteps: 0, beta1: 0.9, beta2: 0.999, weightDecay: 0, adamEpsilon: 1,
    puzzleEmbLr: 0.5, puzzleEmbWeightDecay: 0, lossType: 'stablemax', qLossWeight: 0.5,
    ema: { enabled: false, rate: 0.999, warmup: false },
    ...over,
  };
}

for (const [label, cfg] of [['mlp_t', mlpT], ['attention + RoPE', attention]] as const) {
  test(`trainStep (${label}, T = 3, two micro-batches): its gradient is that of the last cycle only, started from the no-grad states`, () => {
    const model = new TrmModel(cfg, task);
    const train = trainConfig({});
    const state = createTrainState(model, train, new Rng(11));
    try {
      const B = train.batchSize, L = model.totalLen, D = model.width;
      const rng = new Rng(12);
      const incoming = emptyBatch(B, task.seqLen);
      incoming.tokens.set(randomTokens(B, task.seqLen, rng));
      incoming.labels.set(randomTokens(B, task.seqLen, rng).map((t) => Math.max(2, t)));
      const names = [...state.params.keys()];
      const before = new Map(names.map((n) => [n, Float32Array.from(state.params.get(n)!.dataSync())]));

      // The reference computation, written out with model.net only: all rows start from H_init/L_init
      // (every row is halted at the first step), T − 1 full cycles as constants, then the last cycle.
      const pConst: Record<string, tf.Tensor> = Object.fromEntries(names.map((n) => [n, tf.tensor(before.get(n)!, state.params.get(n)!.shape)]));
      const tokens = tf.tensor2d(incoming.tokens, [B, task.seqLen], 'int32');
      const labels = tf.tensor2d(incoming.labels, [B, task.seqLen], 'int32');
      let zH = tf.broadcastTo(state.hInit, [B, L, D]) as tf.Tensor3D;
      let zL = tf.broadcastTo(state.lInit, [B, L, D]) as tf.Tensor3D;
      const x0 = model.inputEmbedding(pConst, tokens);
      for (let c = 0; c < cfg.hCycles - 1; c++) {
        for (let i = 0; i < cfg.lCycles; i++) zL = model.net(pConst, zL, tf.add(zH, x0) as tf.Tensor3D);
        zH = model.net(pConst, zH, zL);
      }
      const startH = zH, startL = zL;
      let lastH: tf.Tensor | undefined, lmSumRef = 0;
      const f = (...args: tf.Tensor[]) => {
        const p: ParamSet = Object.fromEntries(names.map((n, i) => [n, args[i]!]));
        const x = model.inputEmbedding(p, tokens);
        let h = startH, l = startL;
        for (let i = 0; i < cfg.lCycles; i++) l = model.net(p, l, tf.add(h, x) as tf.Tensor3D);
        h = model.net(p, h, l);
        lastH = tf.keep(h);
        const heads = model.heads(p, h);
        const loss = actLoss(heads.logits, labels, heads.qHalt, 'stablemax');
        lmSumRef = tf.sum(loss.lmLossPerRow).dataSync()[0]!;
        return tf.div(tf.add(tf.sum(loss.lmLossPerRow), tf.mul(tf.sum(loss.qHaltLossPerRow), 0.5)), B) as tf.Scalar;
      };
      const refGrads = tf.grads(f)(names.map((n) => pConst[n]!)).map((g) => Float32Array.from(g.dataSync()));
      const refNorm = Math.sqrt(refGrads.reduce((a, g) => a + g.reduce((s, x) => s + x * x, 0), 0));

      const m = trainStep(state, incoming, train, model.depth, train.lr, new Rng(13));

      assert.ok(Math.abs(m.gradNorm - refNorm) <= 1e-4 * refNorm, `gradNorm ${m.gradNorm} vs ${refNorm}`);
      assert.ok(Math.abs(m.lmLoss - lmSumRef / B) <= 1e-5 * Math.max(1, lmSumRef / B), `lmLoss ${m.lmLoss} vs ${lmSumRef / B}`);
      names.forEach((n, k) => {
        const p0 = before.get(n)!;
        const p1 = state.params.get(n)!.dataSync();
        const g = refGrads[k]!;
        if (n === 'puzzle_emb') {
          // sign-SGD from zero: p1 = −0.5·sign(g).
          p1.forEach((v, i) => assert.equal(v, -0.5 * Math.sign(g[i]!) || 0, `puzzle_emb[${i}]`));
          return;
        }
        // Δ = p0 − p1 = g / (|g| + 1)  ⇒  g = Δ / (1 − |Δ|).
        const recovered = Array.from(p0, (v, i) => { const d = v - p1[i]!; return d / (1 - Math.abs(d)); });
        const gNorm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
        const errNorm = Math.sqrt(recovered.reduce((s, x, i) => s + (x - g[i]!) ** 2, 0));
        assert.ok(gNorm > 0, `${n}: reference gradient is non-zero`);
        assert.ok(errNorm <= 5e-4 * gNorm + 1e-7, `${n}: recovered gradient differs (${errNorm} vs norm ${gNorm})`);
      });
      // The new carry is the (detached) output of the last cycle.
      const carryH = state.carry.zH.dataSync(), refH = lastH!.dataSync();
      refH.forEach((v, i) => assert.ok(Math.abs(carryH[i]! - v) <= 1e-4 * Math.max(1, Math.abs(v)), `carry z_H[${i}]`));
      assert.deepEqual(Array.from(state.carry.steps), [1, 1, 1, 1]);
      assert.equal(m.lossScale, 1);
    } finally {
      disposeTrainState(state);
    }
  });
}

test('trainStep updates the EMA from the new weights with decay (1+t)/(10+t) (warm-up), and evaluation uses the EMA', () => {
  const model = new TrmModel(mlpT, task);
  const train = trainConfig({ lr: 0.01, ema: { enabled: true, rate: 0.999, warmup: true } });
  const state = createTrainState(model, train, new Rng(21));
  try {
    const rng = new Rng(22);
    const batch = () => {
      const b = emptyBatch(train.batchSize, task.seqLen);
      b.tokens.set(randomTokens(train.batchSize, task.seqLen, rng));
      b.labels.set(randomTokens(train.batchSize, task.seqLen, rng).map((t) => Math.max(2, t)));
      return b;
    };
    const read = (t: tf.Tensor) => Array.from(t.dataSync());
    let shadow = new Map(state.mainNames.map((n) => [n, read(state.params.get(n)!)]));
    // Decays of updates 0 and 1: 1/10 and 2/11.
    for (const decay of [1 / 10, 2 / 11]) {
      trainStep(state, batch(), train, model.depth, train.lr, rng);
      shadow = new Map(state.mainNames.map((n) => {
        const now = read(state.params.get(n)!);
        const expected = shadow.get(n)!.map((s, i) => decay * s + (1 - decay) * now[i]!);
        const got = read(state.ema!.get(n)!);
        expected.forEach((e, i) => assert.ok(Math.abs(got[i]! - e) <= 1e-6 * Math.max(1, Math.abs(e)), `${n}[${i}] ${got[i]} vs ${e}`));
        return [n, expected];
      }));
    }
    assert.equal(state.emaUpdates, 2);
    assert.equal(state.step, 2);
    // Evaluation reads the EMA shadow of the main parameters and the raw puzzle embedding.
    const evalP = evaluationParams(state), raw = rawParams(state);
    for (const n of state.mainNames) assert.equal(evalP[n], state.ema!.get(n));
    assert.equal(evalP['puzzle_emb'], state.params.get('puzzle_emb'));
    assert.ok(!state.ema!.has('puzzle_emb'), 'the puzzle embedding has no EMA');
    for (const n of state.params.keys()) assert.equal(raw[n], state.params.get(n));
  } finally {
    disposeTrainState(state);
  }
});
