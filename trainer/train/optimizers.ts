// The optimizers of the reference (reference.md §1.8), with decoupled weight decay:
//   AdamATan2: p ← p(1 − lr·wd); m, v as Adam; p ← p − lr/(1−β1^t) · atan2(m, sqrt(v)/sqrt(1−β2^t))
//   AdamW:     p ← p(1 − lr·wd); p ← p − lr · m̂ / (sqrt(v̂) + ε)
//   sign-SGD (puzzle embedding): p ← p(1 − lr·wd) − lr · sign(g)
import * as tf from '@tensorflow/tfjs-core';

export interface AdamHyper {
  kind: 'adam_atan2' | 'adamw';
  beta1: number;
  beta2: number;
  weightDecay: number;
  epsilon: number;
}

export interface AdamSlots {
  m: tf.Variable;
  v: tf.Variable;
}

export function createAdamSlots(p: tf.Variable): AdamSlots {
  return { m: tf.variable(tf.zerosLike(p), false), v: tf.variable(tf.zerosLike(p), false) };
}

/** One update of `p` in place; `t` is the 1-based step count. */
export function adamUpdate(p: tf.Variable, g: tf.Tensor, slots: AdamSlots, lr: number, t: number, h: AdamHyper): void {
  tf.tidy(() => {
    const m = tf.add(tf.mul(slots.m, h.beta1), tf.mul(g, 1 - h.beta1));
    const v = tf.add(tf.mul(slots.v, h.beta2), tf.mul(tf.square(g), 1 - h.beta2));
    slots.m.assign(m);
    slots.v.assign(v);
    const decayed = tf.mul(p, 1 - lr * h.weightDecay);
    const bc1 = 1 - Math.pow(h.beta1, t);
    const bc2 = 1 - Math.pow(h.beta2, t);
    const direction = h.kind === 'adam_atan2'
      ? tf.atan2(m, tf.div(tf.sqrt(v), Math.sqrt(bc2)))
      : tf.div(m, tf.add(tf.sqrt(tf.div(v, bc2)), h.epsilon));
    p.assign(tf.sub(decayed, tf.mul(direction, lr / bc1)));
  });
}

export function signSgdUpdate(p: tf.Variable, g: tf.Tensor, lr: number, weightDecay: number): void {
  tf.tidy(() => p.assign(tf.sub(tf.mul(p, 1 - lr * weightDecay), tf.mul(tf.sign(g), lr))));
}
