// What the DEQ export tests share (onnx-export-deq: TRM-DEQ, onnx-export-attractor: the Attractor
// form): random arrays and parameters, the fpi-K twin of a config, one step case, and the TF.js side
// of the contract's step — reset applied, x, the model's own step and heads.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../../protocol/config';
import type { Heads, LatentStates, RecursiveModel } from '../../trainer/model/recursiveModel';
import type { StepWeights } from '../../trainer/onnx/stepGraph';
import type { Rng } from '../../trainer/random';

export function randomArray(n: number, rng: Rng, std: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * std);
}

/** The same model solving with plain iteration, exactly k iterations (tol cannot be met before minIter = k, and the graph never stops early). */
export const fpiK = (cfg: ModelConfig, k: number): ModelConfig => ({ ...cfg, deq: { ...cfg.deq, solver: 'fpi', maxIter: k, minIter: k, tol: 1e-30 } });

export function paramsOf(model: RecursiveModel, w: StepWeights): Record<string, tf.Tensor> {
  const p: Record<string, tf.Tensor> = {};
  for (const s of model.parameterSpecs()) p[s.name] = tf.tensor(w.params.get(s.name)!, s.shape);
  return p;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** One step's inputs: tokens, the incoming states and which rows reset. */
export interface Case { batch: number; tokens: Int32Array; zH: Float32Array; zL: Float32Array; reset: Uint8Array }

/**
 * The TF.js side of one contract step (call inside tf.tidy): the states after reset (where(reset,
 * init, state)), x, the model's own step (cyclesWithoutGradient over its T cycles) and the heads.
 */
export function tfContractStep(model: RecursiveModel, p: Record<string, tf.Tensor>, w: StepWeights, c: Case): { x: tf.Tensor3D; zH0: tf.Tensor3D; zL0: tf.Tensor3D; next: LatentStates; heads: Heads } {
  const dims: [number, number, number] = [c.batch, model.totalLen, model.width];
  const mask = tf.tensor3d(Float32Array.from(c.reset), [c.batch, 1, 1]);
  const start = (given: Float32Array, init: Float32Array) =>
    tf.add(tf.mul(mask, tf.broadcastTo(tf.tensor1d(init), dims)), tf.mul(tf.sub(1, mask), tf.tensor3d(given, dims))) as tf.Tensor3D;
  const x = model.inputEmbedding(p, tf.tensor2d(c.tokens, [c.batch, model.task.seqLen], 'int32'));
  const zH0 = start(c.zH, w.hInit), zL0 = start(c.zL, w.lInit);
  const next = model.cyclesWithoutGradient(p, zH0, zL0, x, model.config.hCycles, model.config.lCycles);
  return { x, zH0, zL0, next, heads: model.heads(p, next.zH) };
}
