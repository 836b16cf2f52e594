// Exponential moving average of the main parameters; evaluation and checkpoints use it
// (reference.md §1.8). With warm-up the decay is min(rate, (1+t)/(10+t)), so the average
// follows the raw weights early on instead of lagging ~1/(1−rate) steps behind.
import * as tf from '@tensorflow/tfjs-core';

export function emaDecay(updates: number, rate: number, warmup: boolean): number {
  return warmup ? Math.min(rate, (1 + updates) / (10 + updates)) : rate;
}

/** shadow ← decay·shadow + (1 − decay)·param, in place. */
export function emaUpdate(shadow: tf.Variable, param: tf.Tensor, decay: number): void {
  tf.tidy(() => shadow.assign(tf.add(tf.mul(shadow, decay), tf.mul(param, 1 - decay))));
}
