// Gradients through a fixed point z* = f(z*) without a tape over the solve (docs/deq-solvers.md),
// so training memory does not grow with the solver's iterations:
//   - phantom gradient: re-apply the map K times from z* with gradient (z* itself a constant);
//     K = 1, τ = 1 is the Jacobian-free (1-step) gradient;
//   - implicit (IFT) gradient: solve the adjoint u = J_fᵀ u + v (v = ∂L/∂z*) with the same solvers,
//     one VJP per iteration, then ∂L/∂θ = uᵀ ∂f(z*)/∂θ by one VJP, i.e. the gradient of
//     sum(u ⊙ f(z*)) with u and z* constant.
import * as tf from '@tensorflow/tfjs-core';
// The gradient kernels are registered on import (tfjs-core ships them separately).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { anderson } from './anderson';
import { broyden } from './broyden';
import { fixedPointIteration, type FixedPointMap } from './fixedPointIteration';
import type { AndersonOptions, SolverName } from './solverOptions';
import type { SolverStats } from './solverStats';

export interface PhantomOptions {
  /** K ≥ 1 re-applied steps. */
  steps: number;
  /** Damping τ in (0, 1]: z ← τ f(z) + (1 − τ) z. */
  tau: number;
}

/**
 * z_K of K damped steps from z*. Call it inside the caller's variableGrads with a z* solved outside
 * it (then z* is a constant of the tape and only the K steps are recorded).
 */
export function phantomUnroll(map: FixedPointMap, zStar: tf.Tensor, given: Partial<PhantomOptions> = {}): tf.Tensor {
  const { steps, tau } = { steps: 1, tau: 1, ...given };
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`phantom gradient: steps must be an integer ≥ 1, got ${JSON.stringify(steps)}`);
  if (!(Number.isFinite(tau) && tau > 0 && tau <= 1)) throw new Error(`phantom gradient: tau must be a number in (0, 1], got ${JSON.stringify(tau)}`);
  let z = zStar;
  for (let k = 0; k < steps; k++) {
    const fz = map(z);
    z = tau === 1 ? fz : tf.add(tf.mul(tau, fz), tf.mul(1 - tau, z));
  }
  return z;
}

export interface AdjointOptions {
  solver: SolverName;
  /** Options of the adjoint solve; TorchDEQ's b_tol default is 1e-6 (reference.md §4.3). */
  options: Partial<AndersonOptions>;
}

export const defaultAdjointOptions: AdjointOptions = { solver: 'fixed_point_iter', options: { maxIter: 40, tol: 1e-6, stopMode: 'abs' } };

/** J_fᵀ(z*) u for a batch-first state: one VJP on a fresh tape (disposed at once). */
export function vectorJacobianProduct(map: FixedPointMap, zStar: tf.Tensor, u: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.grad((z: tf.Tensor) => tf.sum(tf.mul(map(z), u)))(zStar));
}

/** u solving u = J_fᵀ(z*) u + v, from u = 0 (so the first estimate is v), with the options' solver. */
export function solveAdjoint(map: FixedPointMap, zStar: tf.Tensor, v: tf.Tensor, given: Partial<AdjointOptions> = {}): { u: tf.Tensor; stats: SolverStats } {
  const a = { ...defaultAdjointOptions, ...given, options: { ...defaultAdjointOptions.options, ...given.options } };
  const adjointMap = (u: tf.Tensor): tf.Tensor => tf.add(vectorJacobianProduct(map, zStar, u), v);
  const zeros = tf.zerosLike(v);
  try {
    // Each solver refuses the fields it does not know (e.g. beta for plain iteration).
    const { solution, stats } = a.solver === 'anderson' ? anderson(adjointMap, zeros, a.options)
      : a.solver === 'broyden' ? broyden(adjointMap, zeros, a.options)
        : fixedPointIteration(adjointMap, zeros, a.options);
    return { u: solution, stats };
  } finally {
    zeros.dispose();
  }
}

/** sum(u ⊙ f(z*)): add it to a loss inside variableGrads to get the IFT gradient uᵀ ∂f/∂θ. */
export function implicitSurrogate(map: FixedPointMap, zStar: tf.Tensor, u: tf.Tensor): tf.Scalar {
  return tf.sum(tf.mul(map(zStar), u));
}

/**
 * The IFT gradient of a loss L(z*) w.r.t. the variables, given v = ∂L/∂z*: the adjoint solve and
 * one VJP. The caller disposes grads and u.
 */
export function implicitGradients(map: FixedPointMap, zStar: tf.Tensor, v: tf.Tensor, varList: tf.Variable[], given: Partial<AdjointOptions> = {}): { grads: tf.NamedTensorMap; u: tf.Tensor; stats: SolverStats } {
  const { u, stats } = solveAdjoint(map, zStar, v, given);
  const { value, grads } = tf.variableGrads(() => implicitSurrogate(map, zStar, u), varList);
  value.dispose();
  return { grads, u, stats };
}
