// spectralRadius (TorchDEQ's sradius) against a Jacobian with known eigenvalues: an affine map
// z ↦ s_b · zA with A = Q diag(λ) Qᵀ, Q a Householder reflection, so ρ(J_b) = s_b · max|λ|.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../trainer/backend';
import { spectralRadius } from '../../trainer/deq/spectralRadius';
import { Rng } from '../../trainer/random';

test.before(async () => { await selectBackend('cpu'); });

test('spectral radius per sample of an affine map with known eigenvalues', () => {
  const lambdas = [0.9, -0.5, 0.3, 0.2, -0.1, 0.05];
  const d = lambdas.length;
  const rng = new Rng(3);
  const u = Array.from({ length: d }, () => rng.normal());
  const uu = u.reduce((a, v) => a + v * v, 0);
  const Q = Array.from({ length: d * d }, (_, k) => (Math.floor(k / d) === k % d ? 1 : 0) - (2 * u[Math.floor(k / d)]! * u[k % d]!) / uu);
  const A = new Float32Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += Q[i * d + t]! * lambdas[t]! * Q[j * d + t]!;
    A[i * d + j] = s;
  }
  const At = tf.tensor2d(A, [d, d]);
  const scale = tf.tensor2d([[1], [0.5]]);
  const map = (z: tf.Tensor) => tf.mul(tf.matMul(z as tf.Tensor2D, At), scale);
  const z = tf.zeros([2, d]);
  const before = tf.memory().numTensors;
  const rho = spectralRadius(map, z, new Rng(4), 40);
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
  assert.ok(Math.abs(rho[0]! - 0.9) < 1e-3 && Math.abs(rho[1]! - 0.45) < 1e-3, `ρ = ${rho}`);
  assert.throws(() => spectralRadius(map, z, new Rng(4), 0), /iterations must be an integer ≥ 1, got 0/);
  tf.dispose([At, scale, z]);
});
