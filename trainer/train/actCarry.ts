// The deep-supervision carry (reference.md §1.6). It persists across optimizer steps: each step
// is one supervision step of every row; rows that halted are reset to H_init/L_init and take a
// new example from the incoming batch, the other rows keep theirs (their incoming rows are
// discarded).
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random';
import { copyRow, emptyBatch, type ExampleBatch } from './exampleBatch';

export interface ActCarry {
  /** z_H (= y) and z_L (= z): [B, prefix + L, D], owned by the carry. */
  zH: tf.Tensor3D;
  zL: tf.Tensor3D;
  /** Supervision steps each row has taken on its current example. */
  steps: Int32Array;
  /** 1 = the row halted at the previous step (all rows at the start). */
  halted: Uint8Array;
  data: ExampleBatch;
}

export function initialCarry(batchSize: number, seqLen: number, stateShape: [number, number]): ActCarry {
  return {
    zH: tf.keep(tf.zeros([batchSize, ...stateShape])),
    zL: tf.keep(tf.zeros([batchSize, ...stateShape])),
    steps: new Int32Array(batchSize),
    halted: new Uint8Array(batchSize).fill(1),
    data: emptyBatch(batchSize, seqLen),
  };
}

/**
 * Start of a step: the halted rows get the initial states, step 0 and the incoming example of
 * the same row; the rest are untouched. Returns a new carry; the old one's tensors are disposed.
 */
export function resetHaltedRows(carry: ActCarry, incoming: ExampleBatch, hInit: tf.Tensor1D, lInit: tf.Tensor1D): ActCarry {
  const B = carry.steps.length;
  const data: ExampleBatch = { ...carry.data, tokens: carry.data.tokens.slice(), labels: carry.data.labels.slice(), blanks: carry.data.blanks.slice() };
  const steps = carry.steps.slice();
  for (let r = 0; r < B; r++) {
    if (!carry.halted[r]) continue;
    copyRow(incoming, r, data, r);
    steps[r] = 0;
  }
  const [zH, zL] = tf.tidy(() => {
    const mask = tf.reshape(tf.tensor1d(Array.from(carry.halted), 'bool'), [B, 1, 1]);
    const reset = (state: tf.Tensor3D, init: tf.Tensor1D) => tf.where(mask, tf.broadcastTo(init, state.shape), state) as tf.Tensor3D;
    return [reset(carry.zH, hInit), reset(carry.zL, lInit)];
  });
  carry.zH.dispose();
  carry.zL.dispose();
  return { zH, zL, steps, halted: new Uint8Array(B), data };
}

export interface HaltingOptions {
  maxSteps: number;
  explorationProb: number;
  /** Training halts early on q_halt > 0 with exploration; evaluation runs all maxSteps. */
  training: boolean;
}

/**
 * End of a step: steps += 1; halted = steps ≥ maxSteps, or (training) q_halt > 0 (TRM) or
 * q_halt > q_continue (HRM: `qContinue` given); with
 * probability explorationProb a row draws a minimum halt step in 2..maxSteps and may not halt
 * before it (TRM's `no_ACT_continue` path). Updates `steps` in place, returns the new flags.
 */
export function updateHalting(steps: Int32Array, qHalt: Float32Array, opts: HaltingOptions, rng: Rng, qContinue?: Float32Array): Uint8Array {
  const halted = new Uint8Array(steps.length);
  for (let r = 0; r < steps.length; r++) {
    steps[r]! += 1;
    let h = steps[r]! >= opts.maxSteps;
    if (opts.training && opts.maxSteps > 1) {
      h ||= qHalt[r]! > (qContinue ? qContinue[r]! : 0);
      // Both draws happen for every row so the random stream does not depend on the outcome.
      const explore = rng.float() < opts.explorationProb;
      const minHalt = 2 + rng.int(opts.maxSteps - 1);
      if (explore) h &&= steps[r]! >= minHalt;
    }
    halted[r] = h ? 1 : 0;
  }
  return halted;
}
