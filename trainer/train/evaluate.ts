// Evaluation as in the reference (§1.6): every puzzle runs exactly haltMaxSteps supervision
// steps at full depth with no early halting; the answer after the last step is scored.
// Exact accuracy is reported per number of blanks. The same pass also scores an early-exit
// evaluation (CGAR's "reasoning steps"): each row stops at its first step where the model's
// halting rule fires (TRM: q_halt > 0, HRM: q_halt > q_continue).
import * as tf from '@tensorflow/tfjs-core';
import type { BlankCountAccuracy, InternalisationResult } from '../../protocol/events';
import { wantsToHalt, type Depth, type ParamSet, type RecursiveModel } from '../model/recursiveModel';
import { letStopRequestsIn } from '../run/stopRequest';
import { sliceRows, type ExampleBatch } from './exampleBatch';

export interface EvalResult {
  puzzles: number;
  /** With EvalOptions.pathToken (mazes): the path cells alone. */
  path?: { exactAccuracy: number; iou: number };
  exactAccuracy: number;
  tokenAccuracy: number;
  qHaltAccuracy: number;
  byBlanks: BlankCountAccuracy[];
  /** Per puzzle: the decoded argmax answer tokens after the last step, row-major. */
  predictions: Int32Array;
}

export interface EarlyExitResult {
  /** Mean supervision steps until the halting rule first fires (N_sup for rows that never halt). */
  meanSteps: number;
  /** Exact accuracy of the answers at each row's halting step. */
  exactAccuracy: number;
  /** Fraction of rows whose halting decision matches correctness at that step: (q_halt ≥ 0) == right. */
  qHaltAccuracy: number;
}

export interface FullEvalResult extends EvalResult {
  earlyExit: EarlyExitResult;
}

export interface EvalOptions {
  steps: number;
  batchSize: number;
  depth: Depth;
  /** Mazes: the label token of path cells, scored on their own (exact and IoU). */
  pathToken?: number;
}

export function evaluate(model: RecursiveModel, p: ParamSet, hInit: tf.Tensor1D, lInit: tf.Tensor1D, data: ExampleBatch, opts: EvalOptions): FullEvalResult {
  const batches = evaluateByBatch(model, p, hInit, lInit, data, opts);
  for (;;) {
    const b = batches.next();
    if (b.done) return b.value;
  }
}

/**
 * The same evaluation, letting the event loop run between batches (a stop request can arrive):
 * undefined as soon as `shouldStop()` is true there.
 */
export async function evaluateUnlessStopped(
  model: RecursiveModel, p: ParamSet, hInit: tf.Tensor1D, lInit: tf.Tensor1D, data: ExampleBatch, opts: EvalOptions, shouldStop: () => boolean,
): Promise<FullEvalResult | undefined> {
  const batches = evaluateByBatch(model, p, hInit, lInit, data, opts);
  for (;;) {
    if (shouldStop()) return undefined;
    const b = batches.next();
    if (b.done) return b.value;
    await letStopRequestsIn();
  }
}

/** The evaluation, one batch of rows per iteration; the generator's return value is the result. */
function* evaluateByBatch(model: RecursiveModel, p: ParamSet, hInit: tf.Tensor1D, lInit: tf.Tensor1D, data: ExampleBatch, opts: EvalOptions): Generator<void, FullEvalResult> {
  const N = data.size;
  const L = data.seqLen;
  const predictions = new Int32Array(N * L);
  const qHalt = new Float32Array(N);
  const exitPredictions = new Int32Array(N * L);
  const exitQHalt = new Float32Array(N);
  const exitStep = new Int32Array(N);
  for (let start = 0; start < N; start += opts.batchSize) {
    const rows = Math.min(opts.batchSize, N - start);
    const chunk = sliceRows(data, start, rows);
    tf.tidy(() => {
      const tokens = tf.tensor2d(chunk.tokens, [rows, L], 'int32');
      const x = model.inputEmbedding(p, tokens);
      let zH = tf.broadcastTo(hInit, [rows, model.totalLen, model.width]) as tf.Tensor3D;
      let zL = tf.broadcastTo(lInit, [rows, model.totalLen, model.width]) as tf.Tensor3D;
      for (let s = 1; s <= opts.steps; s++) {
        const next = model.cyclesWithoutGradient(p, zH, zL, x, opts.depth.hCycles, opts.depth.lCycles);
        zH = next.zH;
        zL = next.zL;
        const heads = model.heads(p, zH);
        const pred = tf.argMax(heads.logits, -1).dataSync() as Int32Array;
        const q = heads.qHalt.dataSync() as Float32Array;
        const qc = heads.qContinue.dataSync() as Float32Array;
        for (let r = 0; r < rows; r++) {
          const row = start + r;
          if (exitStep[row] === 0 && (wantsToHalt(model, q[r]!, qc[r]!) || s === opts.steps)) {
            exitStep[row] = s;
            exitQHalt[row] = q[r]!;
            exitPredictions.set(pred.subarray(r * L, (r + 1) * L), row * L);
          }
        }
        if (s === opts.steps) {
          predictions.set(pred, start * L);
          qHalt.set(q, start);
        }
      }
    });
    yield;
  }
  const full = scorePredictions(data, predictions, qHalt, opts.pathToken);
  const early = scorePredictions(data, exitPredictions, exitQHalt);
  const meanSteps = exitStep.reduce((a, b) => a + b, 0) / Math.max(1, N);
  return { ...full, earlyExit: { meanSteps, exactAccuracy: early.exactAccuracy, qHaltAccuracy: early.qHaltAccuracy } };
}

/**
 * Path-cell scores of maze predictions: the fraction of rows whose predicted path cells are
 * exactly the true ones, and the mean IoU |pred ∩ true| / |pred ∪ true| (1 when both are empty).
 */
export function scorePaths(labels: Int32Array, predictions: Int32Array, seqLen: number, pathToken: number): { exactAccuracy: number; iou: number } {
  const rows = labels.length / seqLen;
  let exact = 0, iou = 0;
  for (let r = 0; r < rows; r++) {
    let both = 0, either = 0;
    for (let i = r * seqLen; i < (r + 1) * seqLen; i++) {
      const truth = labels[i] === pathToken, predicted = predictions[i] === pathToken;
      both += Number(truth && predicted);
      either += Number(truth || predicted);
    }
    exact += Number(both === either);
    iou += either === 0 ? 1 : both / either;
  }
  return { exactAccuracy: exact / Math.max(1, rows), iou: iou / Math.max(1, rows) };
}

/** Exact, token and q-halt accuracy, overall and per blank count (per path length for mazes). */
export function scorePredictions(data: ExampleBatch, predictions: Int32Array, qHalt: Float32Array, pathToken?: number): EvalResult {
  const L = data.seqLen;
  const perBlank = new Map<number, { count: number; exact: number; token: number }>();
  let exact = 0, token = 0, qAcc = 0;
  for (let r = 0; r < data.size; r++) {
    let right = 0;
    for (let i = 0; i < L; i++) right += Number(predictions[r * L + i] === data.labels[r * L + i]);
    const isExact = right === L;
    exact += Number(isExact);
    token += right / L;
    qAcc += Number((qHalt[r]! >= 0) === isExact);
    const b = perBlank.get(data.blanks[r]!) ?? { count: 0, exact: 0, token: 0 };
    b.count++;
    b.exact += Number(isExact);
    b.token += right / L;
    perBlank.set(data.blanks[r]!, b);
  }
  const byBlanks = [...perBlank.entries()].sort((a, b) => a[0] - b[0])
    .map(([blanks, b]) => ({ blanks, count: b.count, exactAccuracy: b.exact / b.count, tokenAccuracy: b.token / b.count }));
  const n = Math.max(1, data.size);
  const path = pathToken === undefined ? undefined : scorePaths(data.labels.subarray(0, data.size * L), predictions, L, pathToken);
  return { puzzles: data.size, exactAccuracy: exact / n, tokenAccuracy: token / n, qHaltAccuracy: qAcc / n, byBlanks, predictions, ...(path ? { path } : {}) };
}

/** A model whose fixed-point solves can be capped (TRM-DEQ's withSolveCap). */
export interface SolveCappable {
  withSolveCap<T>(iterations: number, fn: () => T): T;
}

/** The internalisation rows: each capped evaluation beside the full one on the same puzzles. */
export function internalisationRows(full: EvalResult, capped: { iterations: number; result: EvalResult }[]): InternalisationResult[] {
  return capped.map(({ iterations, result }) => ({
    iterations, exactAccuracy: result.exactAccuracy, tokenAccuracy: result.tokenAccuracy,
    exactLost: full.exactAccuracy - result.exactAccuracy, tokenLost: full.tokenAccuracy - result.tokenAccuracy,
  }));
}

/**
 * Equilibrium internalisation (eval.internalisation): the evaluation again with every solve capped
 * at each of `iterations` map evaluations (0: no solve), beside `full` (the normal evaluation of
 * the same puzzles and weights); undefined as soon as `shouldStop()` is true between batches.
 */
export async function evaluateInternalisation(
  model: RecursiveModel & SolveCappable, p: ParamSet, hInit: tf.Tensor1D, lInit: tf.Tensor1D, data: ExampleBatch, opts: EvalOptions,
  iterations: readonly number[], full: EvalResult, shouldStop: () => boolean = () => false,
): Promise<InternalisationResult[] | undefined> {
  const capped: { iterations: number; result: EvalResult }[] = [];
  for (const k of iterations) {
    const result = await model.withSolveCap(k, () => evaluateUnlessStopped(model, p, hInit, lInit, data, opts, shouldStop));
    if (!result) return undefined;
    capped.push({ iterations: k, result });
  }
  return internalisationRows(full, capped);
}
