// One optimizer step = one supervision step of every carried row (reference.md §1.6–1.8):
// reset halted rows, run the model's no-gradient part of the step, its taped part and the heads
// on the tape, the ACT loss / batch size (weighted by HSW when on; HRM adds the Q-continue loss
// against its bootstrapped target), gradients accumulated over micro-batches, then
// AdamATan2/AdamW + sign-SGD, the EMA, and the halting update.
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../../protocol/config';
import type { Rng } from '../random';
import type { Depth, ParamSet } from '../model/recursiveModel';
import { resetHaltedRows, updateHalting, type ActCarry } from './actCarry';
import { sliceRows, type ExampleBatch } from './exampleBatch';
import { emaDecay, emaUpdate } from './ema';
import { actLoss, bceWithLogits } from './losses';
import { qContinueTarget } from './qContinueTarget';
import { adamUpdate, signSgdUpdate } from './optimizers';
import { relativeGradientVariance } from './gradientVarianceRatio';
import { lossWeighting, type LossWeighting } from './supervisionWeighting';
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
  /** ‖g − m‖² / ‖m‖² with m the optimizer's EMA of past gradients (β1): a cheap per-step variance estimate. */
  gradVarianceRunning: number;
  /** The HSW batch factor used (1 unless hsw.mode = "code"). */
  lossScale: number;
  /** The model's own per-step statistics (HRM: qContinueLoss); absent when it has none. */
  modelStats?: Record<string, number>;
}

/** What one forward/backward over some rows of a (reset) carry produces. */
export interface GradientPass {
  /** Summed over micro-batches, keyed by parameter name. */
  grads: Record<string, tf.Tensor>;
  zH: tf.Tensor3D;
  zL: tf.Tensor3D;
  qHalt: Float32Array;
  qContinue: Float32Array;
  rowCorrect: Float32Array;
  tokensRight: Float32Array;
  validTokens: Float32Array;
  lmLossSum: number;
  qHaltLossSum: number;
  /** 0 unless the model learns q_continue. */
  qContinueLossSum: number;
}

/**
 * Gradients of (Σ_rows w_r·(lm_r + qLossWeight·(qhalt_r [+ qcont_r]))) · scale / normaliser over rows
 * [start, start + count) of `carry`, at fixed parameters; `carry` is not changed.
 */
export function gradientPass(
  state: TrainState, carry: ActCarry, start: number, count: number, cfg: TrainConfig, depth: Depth,
  weighting: LossWeighting, normaliser: number,
): GradientPass {
  const { model } = state;
  const p: ParamSet = Object.fromEntries(state.params);
  const trainable = [...state.params.values()];
  let grads: Record<string, tf.Tensor> | undefined;
  const newH: tf.Tensor3D[] = [];
  const newL: tf.Tensor3D[] = [];
  const out = {
    qHalt: new Float32Array(count), qContinue: new Float32Array(count), rowCorrect: new Float32Array(count),
    tokensRight: new Float32Array(count), validTokens: new Float32Array(count),
    lmLossSum: 0, qHaltLossSum: 0, qContinueLossSum: 0,
  };
  // HRM's Q-continue target exists only when rows can halt early (reference: halt_max_steps > 1).
  const learnsContinue = model.learnsQContinue && cfg.haltMaxSteps > 1;

  for (let off = 0; off < count; off += cfg.microBatchSize) {
    const rows = Math.min(cfg.microBatchSize, count - off);
    const first = start + off;
    const data = sliceRows(carry.data, first, rows);
    const tokens = tf.tensor2d(data.tokens, [rows, data.seqLen], 'int32');
    const labels = tf.tensor2d(data.labels, [rows, data.seqLen], 'int32');
    const zH0 = tf.slice(carry.zH, [first, 0, 0], [rows, -1, -1]);
    const zL0 = tf.slice(carry.zL, [first, 0, 0], [rows, -1, -1]);
    const x0 = tf.tidy(() => model.inputEmbedding(p, tokens));
    const warm = model.stepWithoutGradient(p, { zH: zH0, zL: zL0 }, x0, depth);
    const rowWeights = weighting.rowWeights ? tf.tensor1d(weighting.rowWeights.subarray(first, first + rows)) : undefined;
    // is_last: this step (steps + 1) reaches haltMaxSteps.
    const isLast = learnsContinue
      ? tf.tensor1d(Array.from(carry.steps.subarray(first, first + rows), (s) => s + 1 >= cfg.haltMaxSteps), 'bool') : undefined;

    let kept: tf.Tensor[] = [];
    const { value, grads: g } = tf.variableGrads(() => {
      const x = model.inputEmbedding(p, tokens);
      const { zH, zL } = model.stepWithGradient(p, warm, x, depth);
      const heads = model.heads(p, zH);
      const loss = actLoss(heads.logits, labels, heads.qHalt, cfg.lossType);
      const qContinueLossPerRow = isLast
        ? bceWithLogits(heads.qContinue, qContinueTarget(model, p, { zH, zL }, x0, depth, isLast)) : tf.zeros([rows]);
      let lm: tf.Tensor = loss.lmLossPerRow;
      let q: tf.Tensor = isLast ? tf.add(loss.qHaltLossPerRow, qContinueLossPerRow) : loss.qHaltLossPerRow;
      if (rowWeights) { lm = tf.mul(lm, rowWeights); q = tf.mul(q, rowWeights); }
      const lmSum = tf.sum(lm);
      const qSum = tf.sum(q);
      kept = [
        zH, zL, heads.qHalt, heads.qContinue, loss.rowCorrect, loss.rowTokensRight, loss.rowValidTokens,
        tf.sum(loss.lmLossPerRow), tf.sum(loss.qHaltLossPerRow), tf.sum(qContinueLossPerRow),
      ].map((t) => tf.keep(t));
      const total = tf.add(lmSum, tf.mul(qSum, cfg.qLossWeight));
      return tf.mul(total, weighting.scale / normaliser) as tf.Scalar;
    }, trainable);
    value.dispose();
    const [zH, zL, qh, qc, rc, tr, vt, lmSum, qSum, qcSum] = kept as [tf.Tensor3D, tf.Tensor3D, ...tf.Tensor[]];
    newH.push(zH);
    newL.push(zL);
    out.qHalt.set(qh!.dataSync() as Float32Array, off);
    out.qContinue.set(qc!.dataSync() as Float32Array, off);
    out.rowCorrect.set(rc!.dataSync() as Float32Array, off);
    out.tokensRight.set(tr!.dataSync() as Float32Array, off);
    out.validTokens.set(vt!.dataSync() as Float32Array, off);
    out.lmLossSum += lmSum!.dataSync()[0]!;
    out.qHaltLossSum += qSum!.dataSync()[0]!;
    out.qContinueLossSum += qcSum!.dataSync()[0]!;
    tf.dispose([qh, qc, rc, tr, vt, lmSum, qSum, qcSum, tokens, labels, zH0, zL0, x0, rowWeights, isLast] as tf.Tensor[]);
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
  const zH = newH.length === 1 ? newH[0]! : tf.keep(tf.concat(newH, 0));
  const zL = newL.length === 1 ? newL[0]! : tf.keep(tf.concat(newL, 0));
  if (newH.length > 1) tf.dispose([...newH, ...newL]);
  return { grads: grads!, zH, zL, ...out };
}

/** The HSW weighting of the step that starts from `incomingSteps` (before reset) and `rowSteps` (after, 1-based). */
export function stepWeighting(cfg: TrainConfig, incomingSteps: Int32Array, resetCarry: ActCarry): LossWeighting {
  const rowSteps = resetCarry.steps.map((s) => s + 1);
  return lossWeighting(cfg.hsw, incomingSteps, rowSteps, cfg.haltMaxSteps);
}

export function trainStep(state: TrainState, incoming: ExampleBatch, cfg: TrainConfig, depth: Depth, lr: number, haltRng: Rng): StepMetrics {
  const B = cfg.batchSize;
  const incomingSteps = state.carry.steps.slice();
  state.carry = resetHaltedRows(state.carry, incoming, state.hInit, state.lInit);
  const carry = state.carry;
  const weighting = stepWeighting(cfg, incomingSteps, carry);
  state.model.takeStepStatistics?.(); // drop what evaluation or a variance probe gathered
  const pass = gradientPass(state, carry, 0, B, cfg, depth, weighting, B);
  const ownStats = state.model.takeStepStatistics?.();
  carry.zH.dispose();
  carry.zL.dispose();
  carry.zH = pass.zH;
  carry.zL = pass.zL;

  // Optimizer. The norms are read back in one go: ‖g‖² and ‖g − m‖², ‖m‖² (m before this update).
  const g = pass.grads;
  const [gradSq, devSq, momentSq] = tf.tidy(() => {
    const sums = [tf.scalar(0), tf.scalar(0), tf.scalar(0)];
    for (const [name, grad] of Object.entries(g)) {
      sums[0] = tf.add(sums[0]!, tf.sum(tf.square(grad)));
      const slots = state.slots.get(name);
      if (slots) {
        sums[1] = tf.add(sums[1]!, tf.sum(tf.square(tf.sub(grad, slots.m))));
        sums[2] = tf.add(sums[2]!, tf.sum(tf.square(slots.m)));
      }
    }
    return tf.stack(sums).dataSync();
  }) as unknown as [number, number, number];
  state.step += 1;
  const hyper = { kind: cfg.optimizer, beta1: cfg.beta1, beta2: cfg.beta2, weightDecay: cfg.weightDecay, epsilon: cfg.adamEpsilon };
  const undecayed = { ...hyper, weightDecay: 0 };
  for (const name of state.mainNames) adamUpdate(state.params.get(name)!, g[name]!, state.slots.get(name)!, lr, state.step, state.undecayed.has(name) ? undecayed : hyper);
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
  const haltOpts = { maxSteps: cfg.haltMaxSteps, explorationProb: cfg.haltExplorationProb, training: true };
  carry.halted = updateHalting(carry.steps, pass.qHalt, haltOpts, haltRng, state.model.learnsQContinue ? pass.qContinue : undefined);
  let count = 0, tok = 0, exact = 0, qAcc = 0, haltSteps = 0;
  for (let r = 0; r < B; r++) {
    if (!carry.halted[r] || pass.validTokens[r]! === 0) continue;
    count++;
    tok += pass.tokensRight[r]! / pass.validTokens[r]!;
    exact += pass.rowCorrect[r]!;
    qAcc += Number((pass.qHalt[r]! >= 0) === (pass.rowCorrect[r]! === 1));
    haltSteps += carry.steps[r]!;
  }
  return {
    lmLoss: pass.lmLossSum / B, qHaltLoss: pass.qHaltLossSum / B,
    tokenAccuracy: tok / count, exactAccuracy: exact / count, qHaltAccuracy: qAcc / count, meanHaltSteps: haltSteps / count,
    haltedRows: count, gradNorm: Math.sqrt(gradSq), gradVarianceRunning: momentSq > 0 ? devSq / momentSq : NaN,
    lossScale: weighting.scale,
    ...(state.model.learnsQContinue ? { modelStats: { qContinueLoss: pass.qContinueLossSum / B } } : {}),
    ...(ownStats ? { modelStats: ownStats } : {}),
  };
}

/**
 * Gradient variance at fixed parameters (gradientVarianceRatio.ts): the rows the next step
 * would train on (the carry with its halted rows reset to `incoming`), split into `groups`
 * equal groups; g_k the gradient of group k's (HSW-weighted) mean loss. Nothing in `state`
 * changes.
 */
export function gradientVariance(state: TrainState, incoming: ExampleBatch, cfg: TrainConfig, depth: Depth, groups: number): number {
  const B = cfg.batchSize;
  if (groups < 2 || B % groups !== 0) throw new Error(`eval.gradientVarianceGroups: ${groups} must be >= 2 and divide train.batchSize ${B}`);
  const c = state.carry;
  const copy: ActCarry = { ...c, zH: tf.keep(c.zH.clone()), zL: tf.keep(c.zL.clone()), steps: c.steps.slice(), halted: c.halted.slice() };
  const probe = resetHaltedRows(copy, incoming, state.hInit, state.lInit);
  const weighting = stepWeighting(cfg, c.steps, probe);
  const size = B / groups;
  const flat: Float32Array[] = [];
  try {
    for (let k = 0; k < groups; k++) {
      const pass = gradientPass(state, probe, k * size, size, cfg, depth, weighting, size);
      flat.push(tf.tidy(() => tf.concat(Object.keys(pass.grads).sort().map((n) => tf.reshape(pass.grads[n]!, [-1]))).dataSync() as Float32Array));
      tf.dispose([...Object.values(pass.grads), pass.zH, pass.zL]);
    }
    return relativeGradientVariance(flat);
  } finally {
    tf.dispose([probe.zH, probe.zL]);
  }
}
