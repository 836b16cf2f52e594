// The building blocks of the TRM block (reference.md §1.4): linear layers whose gradients use
// explicit transposes, RMSNorm without gain, SwiGLU, RoPE and non-causal attention.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone ships without gradient definitions (the union package registers them).
import '@tensorflow/tfjs-core/dist/register_all_gradients';

/**
 * x[N, in] · w[in, out]. On the wasm backend only a plain 2-D matmul reaches XNNPACK; a matmul
 * with a transposed operand runs a naive loop 10x slower (perf-notes.md). So the gradient
 * transposes explicitly and then multiplies plainly.
 */
export const linear = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy as tf.Tensor2D)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/** Applies a linear layer to the last axis of a tensor of any rank. */
export function linearLastAxis(x: tf.Tensor, w: tf.Tensor2D): tf.Tensor {
  const inDim = x.shape[x.shape.length - 1]!;
  const y = linear(tf.reshape(x, [-1, inDim]) as tf.Tensor2D, w);
  return tf.reshape(y, [...x.shape.slice(0, -1), w.shape[1]]);
}

/** h · rsqrt(mean(h², last axis) + eps); no learnable gain (post-norm TRM/HRM). */
export function rmsNorm(h: tf.Tensor, eps: number): tf.Tensor {
  const meanSquare = tf.mean(tf.square(h), -1, true);
  return tf.mul(h, tf.rsqrt(tf.add(meanSquare, eps)));
}

/** SwiGLU hidden size: round(expansion · width · 2/3) rounded up to a multiple. */
export function swigluHiddenSize(width: number, expansion: number, multipleOf: number): number {
  const raw = Math.round((expansion * width * 2) / 3);
  return Math.ceil(raw / multipleOf) * multipleOf;
}

/** down(silu(gate) · up) with a fused gate_up projection (chunk order: gate, then up). */
export function swiglu(x: tf.Tensor2D, gateUp: tf.Tensor2D, down: tf.Tensor2D): tf.Tensor2D {
  const [gate, up] = tf.split(linear(x, gateUp), 2, 1) as [tf.Tensor2D, tf.Tensor2D];
  return linear(tf.mul(tf.mul(gate, tf.sigmoid(gate)), up) as tf.Tensor2D, down);
}

/** cos and sin tables [seqLen, headDim] of the rotate-half RoPE layout (emb = cat(freqs, freqs)). */
export function ropeTables(seqLen: number, headDim: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const cos = new Float32Array(seqLen * headDim);
  const sin = new Float32Array(seqLen * headDim);
  for (let p = 0; p < seqLen; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p / Math.pow(theta, (2 * i) / headDim);
      for (const j of [i, i + half]) {
        cos[p * headDim + j] = Math.cos(angle);
        sin[p * headDim + j] = Math.sin(angle);
      }
    }
  }
  return { cos, sin };
}

/** x·cos + rotate_half(x)·sin over the last axis; x [..., L, headDim], cos/sin [L, headDim]. */
export function applyRope(x: tf.Tensor, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor {
  const half = x.shape[x.shape.length - 1]! / 2;
  const [x1, x2] = tf.split(x, [half, half], -1) as [tf.Tensor, tf.Tensor];
  const rotated = tf.concat([tf.neg(x2), x1], -1);
  return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
}

/**
 * Non-causal multi-head self-attention with RoPE on q and k; h [B, L, D] -> [B, L, D].
 * K is transposed explicitly before the batched matmul (wasm has no fast transposed matmul).
 */
export function selfAttention(
  h: tf.Tensor3D, qkv: tf.Tensor2D, out: tf.Tensor2D, numHeads: number,
  rope: { cos: tf.Tensor2D; sin: tf.Tensor2D } | undefined,
): tf.Tensor3D {
  const [batch, seq, width] = h.shape;
  const headDim = width / numHeads;
  const proj = tf.reshape(linearLastAxis(h, qkv), [batch, seq, 3, numHeads, headDim]);
  const perHead = tf.transpose(proj, [2, 0, 3, 1, 4]); // [3, B, H, L, hd]
  const [q0, k0, v] = tf.unstack(perHead, 0) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
  const q = rope ? applyRope(q0, rope.cos, rope.sin) : q0;
  const k = rope ? applyRope(k0, rope.cos, rope.sin) : k0;
  const flat = (t: tf.Tensor) => tf.reshape(t, [batch * numHeads, seq, headDim]) as tf.Tensor3D;
  const kT = tf.transpose(flat(k), [0, 2, 1]);
  const scores = tf.mul(tf.matMul(flat(q), kT), 1 / Math.sqrt(headDim));
  const attended = tf.matMul(tf.softmax(scores), flat(v)); // [B*H, L, hd]
  const merged = tf.reshape(tf.transpose(tf.reshape(attended, [batch, numHeads, seq, headDim]), [0, 2, 1, 3]), [batch, seq, width]);
  return linearLastAxis(merged, out) as tf.Tensor3D;
}
