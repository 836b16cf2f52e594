// One optimizer step = one supervision step of every carried row (reference.md §1.6–1.8):
// reset halted rows, run T − 1 cycles without gradient, the last cycle and the heads on the
// tape, the ACT loss / batch size, gradients accumulated over micro-batches, then
// AdamATan2/AdamW + sign-SGD, the EMA, and the halting update.
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../../protocol/config';
import type { Rng } from '../random';
import type { Depth, ParamSet } from '../model/trm';
import { resetHaltedRows, updateHalting } from './actCarry';
import { sliceRows, type ExampleBatch } from './exampleBatch';
import { emaDecay, emaUpdate } from './ema';
import { actLoss } from './losses';
import { adamUpdate, signSgdUpdate } from './optimizers';
import type { TrainState } from './trainState';

export interface StepMetrics {
  lmLoss: number;
  qHaltLoss: number;
  /** Over the rows that halted at this step; NaN when none did. */
  tokenAccuracy: number;
  exactAccuracy: number;
  qHaltAccuracy: number;
  meanHaltSteps: number;
  haltedRows: number;
  gradNorm: number;
  /** Per row, this step: the supervision step index it just took (1-based). */
  rowSteps: Int32Array;
}

/**
 * Per-row loss weights (the paper-faithful HSW variant uses them); undefined = 1 for every row.
 * `scale` multiplies the whole batch loss (the code-faithful HSW variant).
 */
export interface LossWeighting {
  rowWeights?: Float32Array;
  scale?: number;
}

export function trainStep(
  state: TrainState, incoming: ExampleBatch, cfg: TrainConfig, depth: Depth, lr: number, haltRng: Rng,
  weighting: LossWeighting = {},
): StepMetrics {
  const { model } = state;
  const B = cfg.batchSize;
  state.carry = resetHaltedRows(state.carry, incoming, state.hInit, state.lInit);
  const carry = state.carry;
  const stepsIn = carry.steps.slice();
  const p: ParamSet = Object.fromEntries(state.params);
  const trainable = [...state.params.values()];

  let grads: Record<string, tf.Tensor> | undefined;
  const newH: tf.Tensor3D[] = [];
  const newL: tf.Tensor3D[] = [];
  const qHalt = new Float32Array(B);
  const rowCorrect = new Float32Array(B);
  const tokensRight = new Float32Array(B);
  const validTokens = new Float32Array(B);
  let lmLoss = 0;
  let qHaltLoss = 0;

  for (let start = 0; start < B; start += cfg.microBatchSize) {
    const rows = Math.min(cfg.microBatchSize, B - start);
    const data = sliceRows(carry.data, start, rows);
    const tokens = tf.tensor2d(data.tokens, [rows, data.seqLen], 'int32');
    const labels = tf.tensor2d(data.labels, [rows, data.seqLen], 'int32');
    const zH0 = tf.slice(carry.zH, [start, 0, 0], [rows, -1, -1]);
    const zL0 = tf.slice(carry.zL, [start, 0, 0], [rows, -1, -1]);
    const x0 = tf.tidy(() => model.inputEmbedding(p, tokens));
    const warm = model.cyclesWithoutGradient(p, zH0, zL0, x0, depth.hCycles - 1, depth.lCycles);
    const rowWeights = weighting.rowWeights ? tf.tensor1d(weighting.rowWeights.subarray(start, start + rows)) : undefined;

    let kept: tf.Tensor[] = [];
    const { value, grads: g } = tf.variableGrads(() => {
      const x = model.inputEmbedding(p, tokens);
      const { zH, zL } = model.cycle(p, warm.zH, warm.zL, x, depth.lCycles);
      const heads = model.heads(p, zH);
      const loss = actLoss(heads.logits, labels, heads.qHalt, cfg.lossType);
      let lm: tf.Tensor = loss.lmLossPerRow;
      let q: tf.Tensor = loss.qHaltLossPerRow;
      if (rowWeights) { lm = tf.mul(lm, rowWeights); q = tf.mul(q, rowWeights); }
      const lmSum = tf.sum(lm);
      const qSum = tf.sum(q);
      kept = [zH, zL, heads.qHalt, loss.rowCorrect, loss.rowTokensRight, loss.rowValidTokens, lmSum, qSum].map((t) => tf.keep(t));
      const total = tf.add(lmSum, tf.mul(qSum, cfg.qLossWeight));
      return tf.mul(total, (weighting.scale ?? 1) / B) as tf.Scalar;
    }, trainable);
    value.dispose();
    const [zH, zL, qh, rc, tr, vt, lmSum, qSum] = kept as [tf.Tensor3D, tf.Tensor3D, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    newH.push(zH);
    newL.push(zL);
    qHalt.set(qh.dataSync() as Float32Array, start);
    rowCorrect.set(rc.dataSync() as Float32Array, start);
    tokensRight.set(tr.dataSync() as Float32Array, start);
    validTokens.set(vt.dataSync() as Float32Array, start);
    lmLoss += lmSum.dataSync()[0]!;
    qHaltLoss += qSum.dataSync()[0]!;
    tf.dispose([qh, rc, tr, vt, lmSum, qSum, tokens, labels, zH0, zL0, x0, rowWeights]);
    if (warm.zH !== zH0) warm.zH.dispose();
    if (warm.zL !== zL0) warm.zL.dispose();

    // variableGrads keys by variable name; re-key by parameter name.
    const byParam = Object.fromEntries([...state.params].map(([name, v]) => [name, g[v.name]!]));
    if (!grads) grads = byParam;
    else {
      for (const k of Object.keys(byParam)) {
        const sum = tf.add(grads[k]!, byParam[k]!);
        grads[k]!.dispose();
        byParam[k]!.dispose();
        grads[k] = sum;
      }
    }
  }

  // New carry states.
  carry.zH.dispose();
  carry.zL.dispose();
  carry.zH = newH.length === 1 ? newH[0]! : tf.keep(tf.concat(newH, 0));
  carry.zL = newL.length === 1 ? newL[0]! : tf.keep(tf.concat(newL, 0));
  if (newH.length > 1) tf.dispose([...newH, ...newL]);

  // Optimizer.
  const g = grads!;
  const gradNorm = tf.tidy(() => Math.sqrt(tf.addN(Object.values(g).map((t) => tf.sum(tf.square(t)))).dataSync()[0]!));
  state.step += 1;
  const hyper = { kind: cfg.optimizer, beta1: cfg.beta1, beta2: cfg.beta2, weightDecay: cfg.weightDecay, epsilon: cfg.adamEpsilon };
  for (const name of state.mainNames) adamUpdate(state.params.get(name)!, g[name]!, state.slots.get(name)!, lr, state.step, hyper);
  for (const [name, v] of state.params) {
    if (!state.slots.has(name)) signSgdUpdate(v, g[name]!, cfg.puzzleEmbLr * (lr / cfg.lr), cfg.puzzleEmbWeightDecay);
  }
  tf.dispose(Object.values(g));
  if (state.ema) {
    const decay = emaDecay(state.emaUpdates, cfg.ema.rate, cfg.ema.warmup);
    for (const [name, shadow] of state.ema) emaUpdate(shadow, state.params.get(name)!, decay);
    state.emaUpdates += 1;
  }

  // Halting, then the metrics over the rows that halted now (reference: valid_metrics = halted).
  carry.halted = updateHalting(carry.steps, qHalt, { maxSteps: cfg.haltMaxSteps, explorationProb: cfg.haltExplorationProb, training: true }, haltRng);
  let count = 0, tok = 0, exact = 0, qAcc = 0, haltSteps = 0;
  for (let r = 0; r < B; r++) {
    if (!carry.halted[r] || validTokens[r]! === 0) continue;
    count++;
    tok += tokensRight[r]! / validTokens[r]!;
    exact += rowCorrect[r]!;
    qAcc += Number((qHalt[r]! >= 0) === (rowCorrect[r]! === 1));
    haltSteps += carry.steps[r]!;
  }
  const rowSteps = stepsIn.map((s) => s + 1);
  return {
    lmLoss: lmLoss / B, qHaltLoss: qHaltLoss / B,
    tokenAccuracy: tok / count, exactAccuracy: exact / count, qHaltAccuracy: qAcc / count, meanHaltSteps: haltSteps / count,
    haltedRows: count, gradNorm, rowSteps,
  };
}
