// The ACT loss head (reference.md §1.7): stablemax (or softmax) cross-entropy per token, mean
// over a row's valid tokens, summed over rows; BCE-with-logits of q_halt against "the whole
// row is right".
import * as tf from '@tensorflow/tfjs-core';

/** Label 0 is PAD / ignore. */
export const IGNORE_LABEL = 0;

/**
 * s(x) = x + 1 for x >= 0, 1 / (1 − x) for x < 0. Each branch is fed only its own side of 0,
 * so neither produces inf/NaN whose zero-masked gradient would still poison the sum.
 * max(x, 0), not relu: relu's gradient is 0 at x = 0, but s'(0) = 1 (as the reference's x + 1).
 */
export function stablemaxS(x: tf.Tensor): tf.Tensor {
  const positive = tf.add(tf.maximum(x, 0), 1);
  const negative = tf.div(1, tf.sub(1, tf.minimum(x, 0)));
  return tf.where(tf.greaterEqual(x, 0), positive, negative);
}

/** −log p[label] per row of logits [N, V]; p = s(x) / Σ s(x) (stablemax) or softmax. */
export function tokenCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, kind: 'stablemax' | 'softmax'): tf.Tensor1D {
  const vocab = logits.shape[1];
  const onehot = tf.oneHot(tf.cast(labels, 'int32'), vocab);
  let logProbs: tf.Tensor;
  if (kind === 'stablemax') {
    const s = stablemaxS(logits);
    logProbs = tf.sub(tf.log(s), tf.log(tf.sum(s, -1, true)));
  } else {
    logProbs = tf.logSoftmax(logits);
  }
  return tf.neg(tf.sum(tf.mul(logProbs, onehot), -1)) as tf.Tensor1D;
}

/** max(x, 0) − x·z + log(1 + e^−|x|), elementwise. */
export function bceWithLogits(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
}

export interface ActLossOutputs {
  /** Per row: Σ_valid tokens CE / n_valid; the lm loss is their sum over rows. */
  lmLossPerRow: tf.Tensor1D;
  /** Per row: BCE(q_halt, row exactly right); the Q-halt loss is their sum over rows. */
  qHaltLossPerRow: tf.Tensor1D;
  /** Per row: 1 if every valid token is argmax-right (no gradient). */
  rowCorrect: tf.Tensor1D;
  /** Per row: number of argmax-right valid tokens, and of valid tokens. */
  rowTokensRight: tf.Tensor1D;
  rowValidTokens: tf.Tensor1D;
}

/** logits [B, L, V], labels int32 [B, L], qHalt [B]. */
export function actLoss(logits: tf.Tensor3D, labels: tf.Tensor2D, qHalt: tf.Tensor1D, kind: 'stablemax' | 'softmax'): ActLossOutputs {
  const [batch, seq, vocab] = logits.shape;
  const valid = tf.cast(tf.notEqual(labels, IGNORE_LABEL), 'float32'); // [B, L]
  const validCount = tf.sum(valid, 1); // [B]
  const ce = tf.reshape(tokenCrossEntropy(tf.reshape(logits, [batch * seq, vocab]), tf.reshape(labels, [-1]), kind), [batch, seq]);
  const lmLossPerRow = tf.div(tf.sum(tf.mul(ce, valid), 1), tf.maximum(validCount, 1)) as tf.Tensor1D;

  const [rowTokensRight, rowCorrect] = tf.unstack(rowCorrectness(logits, labels), 1) as [tf.Tensor1D, tf.Tensor1D];
  const qHaltLossPerRow = bceWithLogits(qHalt, rowCorrect) as tf.Tensor1D;
  return { lmLossPerRow, qHaltLossPerRow, rowCorrect, rowTokensRight, rowValidTokens: validCount as tf.Tensor1D };
}

/**
 * [B, 2]: per row the argmax-right valid tokens, and 1 if all valid tokens are right. A constant
 * for the gradient (the Q-halt target): wrapped in customGrad so the tape never walks into the
 * comparison ops, which have no gradient.
 */
const rowCorrectness = tf.customGrad(((logits: tf.Tensor3D, labels: tf.Tensor2D) => {
  const valid = tf.cast(tf.notEqual(labels, IGNORE_LABEL), 'float32');
  const validCount = tf.sum(valid, 1);
  const right = tf.sum(tf.mul(tf.cast(tf.equal(tf.argMax(logits, -1), labels), 'float32'), valid), 1);
  const allRight = tf.cast(tf.logicalAnd(tf.equal(right, validCount), tf.greater(validCount, 0)), 'float32');
  return { value: tf.stack([right, allRight], 1), gradFunc: () => [tf.zerosLike(logits), tf.zerosLike(labels)] };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (logits: tf.Tensor3D, labels: tf.Tensor2D) => tf.Tensor2D;
