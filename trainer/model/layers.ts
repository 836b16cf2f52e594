// The building blocks of the TRM block (reference.md §1.4): linear layers whose gradients use
// explicit transposes, RMSNorm without gain, SwiGLU, RoPE and non-causal attention.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone ships without gradient definitions (the union package registers them).
import '@tensorflow/tfjs-core/dist/register_all_gradients';

/**
 * x[N, in] · w[in, out]. On the wasm backend only a plain 2-D matmul reaches XNNPACK; a matmul
 * with a transposed operand runs a naive loop 10x slower (perf-notes.md). So the gradient
 * transposes explicitly and then multiplies plainly. Transposes of large activations are not
 * free either (~2.6 GB/s), so the weight gradient transposes the narrower of x and dy:
 * dW = xᵀ·dy, or dW = (dyᵀ·x)ᵀ whose last transpose is only the small [out, in].
 */
export const linear = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      const d = dy as tf.Tensor2D;
      const dx = tf.matMul(d, tf.transpose(ws));
      const [inDim, outDim] = ws.shape;
      const dw = inDim <= outDim ? tf.matMul(tf.transpose(xs), d) : tf.transpose(tf.matMul(tf.transpose(d), xs));
      return [dx, dw];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/** Columns [start, start + count) of a weight matrix (cheap: weights are small, activations are not). */
function columns(w: tf.Tensor2D, start: number, count: number): tf.Tensor2D {
  return tf.slice(w, [0, start], [w.shape[0], count]);
}

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

/**
 * down(silu(gate) · up) with a fused gate_up weight (chunk order: gate, then up). The weight is
 * split, not the activation: splitting a large activation is slow on wasm.
 */
export function swiglu(x: tf.Tensor2D, gateUp: tf.Tensor2D, down: tf.Tensor2D): tf.Tensor2D {
  const hidden = gateUp.shape[1] / 2;
  const gate = linear(x, columns(gateUp, 0, hidden));
  const up = linear(x, columns(gateUp, hidden, hidden));
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

/**
 * x·cos + rotate_half(x)·sin over the last axis; x [..., L, headDim], cos/sin [L, headDim].
 * rotate_half(x) = cat(−x2, x1) is computed as x·R with a fixed signed permutation R: a tiny
 * matmul is far cheaper on wasm than splitting and concatenating the activation.
 */
export function applyRope(x: tf.Tensor, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor {
  const headDim = x.shape[x.shape.length - 1]!;
  const rotated = tf.reshape(linear(tf.reshape(x, [-1, headDim]) as tf.Tensor2D, rotateHalfMatrix(headDim)), x.shape);
  return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
}

const rotateHalfMatrices = new Map<number, tf.Tensor2D>();

/** R with (x·R) = cat(−x[half:], x[:half]); one kept constant per head size. */
function rotateHalfMatrix(headDim: number): tf.Tensor2D {
  const cached = rotateHalfMatrices.get(headDim);
  if (cached && !cached.isDisposed) return cached;
  const half = headDim / 2;
  const r = new Float32Array(headDim * headDim);
  for (let j = 0; j < half; j++) {
    r[(j + half) * headDim + j] = -1; // out[j] = −x[j + half]
    r[j * headDim + j + half] = 1; // out[j + half] = x[j]
  }
  const matrix = tf.keep(tf.tensor2d(r, [headDim, headDim]));
  rotateHalfMatrices.set(headDim, matrix);
  return matrix;
}

/**
 * Non-causal multi-head self-attention with RoPE on q and k; h [B, L, D] -> [B, L, D]. The
 * fused qkv weight is split by columns (q, k, v) and each head layout reached with 4-D
 * transposes: a 5-D transpose runs ~100x slower on wasm. K is transposed explicitly before the
 * batched matmul (wasm has no fast transposed matmul).
 */
export function selfAttention(
  h: tf.Tensor3D, qkv: tf.Tensor2D, out: tf.Tensor2D, numHeads: number,
  rope: { cos: tf.Tensor2D; sin: tf.Tensor2D } | undefined,
): tf.Tensor3D {
  const [batch, seq, width] = h.shape;
  const headDim = width / numHeads;
  const rows = tf.reshape(h, [batch * seq, width]) as tf.Tensor2D;
  const project = (i: number) => tf.reshape(linear(rows, columns(qkv, i * width, width)), [batch, seq, numHeads, headDim]);
  const heads = (t: tf.Tensor) => tf.transpose(t, [0, 2, 1, 3]); // [B, H, L, hd]
  let q = heads(project(0));
  let k = heads(project(1));
  const v = heads(project(2));
  if (rope) {
    q = applyRope(q, rope.cos, rope.sin);
    k = applyRope(k, rope.cos, rope.sin);
  }
  const flat = (t: tf.Tensor, a: number, b: number) => tf.reshape(t, [batch * numHeads, a, b]) as tf.Tensor3D;
  const kT = flat(tf.transpose(k, [0, 1, 3, 2]), headDim, seq);
  const scores = tf.mul(tf.matMul(flat(q, seq, headDim), kT), 1 / Math.sqrt(headDim));
  const attended = tf.matMul(tf.softmax(scores), flat(v, seq, headDim)); // [B*H, L, hd]
  const merged = tf.reshape(tf.transpose(tf.reshape(attended, [batch, numHeads, seq, headDim]), [0, 2, 1, 3]), [batch * seq, width]);
  return tf.reshape(linear(merged as tf.Tensor2D, out), [batch, seq, width]);
}
