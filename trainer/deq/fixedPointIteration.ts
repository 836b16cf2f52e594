// Plain fixed-point iteration z_{k+1} = f(z_k) (docs/deq-solvers.md). A pure function of the map,
// the initial state and the options; no gradient tape is involved (call it outside variableGrads),
// so memory does not depend on the number of iterations.
import * as tf from '@tensorflow/tfjs-core';
import { solverOptions, type SolverOptions } from './solverOptions';
import { SolveRecorder, type SolverStats } from './solverStats';

/** A map of batch-first states [B, ...] to states of the same shape. */
export type FixedPointMap = (z: tf.Tensor) => tf.Tensor;

export interface SolveResult {
  /** The returned estimate (the caller disposes it). */
  solution: tf.Tensor;
  stats: SolverStats;
}

/** Applies `map` once, checking that it keeps the state's shape; the result is always a new tensor. */
export function applyMap(map: FixedPointMap, z: tf.Tensor): tf.Tensor {
  const fz = map(z);
  if (fz.shape.length !== z.shape.length || fz.shape.some((d, i) => d !== z.shape[i])) {
    const bad = fz.shape;
    if (fz !== z) fz.dispose();
    throw new Error(`fixed-point map: returned shape [${bad}] for a state of shape [${z.shape}] (a fixed-point map keeps the shape)`);
  }
  return fz === z ? fz.clone() : fz;
}

export function fixedPointIteration(map: FixedPointMap, z0: tf.Tensor, given: Partial<SolverOptions> = {}): SolveResult {
  const options = solverOptions(given, 'fixed-point iteration');
  if (z0.shape.length < 1 || z0.shape[0]! < 1) throw new Error(`fixed-point iteration: the state must be batch-first [B ≥ 1, ...], got [${z0.shape}]`);
  const recorder = new SolveRecorder('fixed_point_iter', options, z0.shape[0]!);
  let z = z0;
  for (let k = 0; k < options.maxIter; k++) {
    const fz = tf.tidy(() => applyMap(map, z));
    const stop = recorder.record(z, fz);
    if (z !== z0) z.dispose();
    z = fz;
    if (stop) break;
  }
  const out = recorder.finish(z);
  if (z !== z0) z.dispose();
  return out;
}
