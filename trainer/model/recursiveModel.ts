// What a recursive reasoning model offers the trainer (reference.md §1.3–1.6). The trainer,
// evaluation, tracing and export speak only this interface; trm.ts and hrm.ts implement it and
// `createModel` (modelFactory.ts) picks one by `model.arch`.
//
// Both models carry two latent states named by `stateNames` (zH = the answer y, zL = the latent
// z), shape [B, prefix + L, D]. One supervision step is split into the part run without gradient
// (`stepWithoutGradient`) and the taped part (`stepWithGradient`); evaluation runs the whole
// step without gradient (`cyclesWithoutGradient` over all T cycles).
import type * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../../protocol/config';
import type { Rng } from '../random';

/** What the task fixes: vocabulary and puzzle length (16 for 4x4 Sudoku, 81 for 9x9). */
export interface TaskShape {
  vocabSize: number;
  seqLen: number;
}

export type ParamSet = Readonly<Record<string, tf.Tensor>>;

export interface ParameterSpec {
  name: string;
  shape: number[];
  init: { kind: 'truncatedNormal'; std: number } | { kind: 'zeros' } | { kind: 'constant'; value: number };
  /** Main params use Adam(ATan2)/AdamW and the EMA; the puzzle embedding uses sign-SGD, no EMA. */
  group: 'main' | 'puzzleEmbedding';
  /** false: the optimizer's weight decay skips it (the Attractor's LayerScale gates); absent = decayed. */
  weightDecay?: false;
}

/** Recursion depth of one supervision step: T (H_cycles) cycles of n (L_cycles) latent updates. */
export interface Depth {
  hCycles: number;
  lCycles: number;
}

/** The carried states (the names are the model's `stateNames`). */
export interface LatentStates {
  zH: tf.Tensor3D;
  zL: tf.Tensor3D;
}

export interface Heads {
  /** [B, L, V] over the puzzle positions. */
  logits: tf.Tensor3D;
  qHalt: tf.Tensor1D;
  qContinue: tf.Tensor1D;
}

/** Analytic matmul FLOPs of one supervision step (flops.ts counting rules). */
export interface StepFlops {
  forward: number;
  backward: number;
}

export interface RecursiveModel {
  readonly arch: 'trm' | 'hrm' | 'trm-deq' | 'attractor';
  readonly config: ModelConfig;
  readonly task: TaskShape;
  readonly width: number;
  readonly prefixLen: number;
  readonly totalLen: number;
  /** SwiGLU hidden sizes of the channel and (mlp_t) sequence MLPs. */
  readonly channelFfn: number;
  readonly sequenceFfn: number;
  /** The model's full depth (evaluation always uses it). */
  readonly depth: Depth;
  /** Names of the carried states, in carry order; the first is the one the heads read. */
  readonly stateNames: readonly ['zH', 'zL'];
  /**
   * True when training also fits q_continue to a bootstrapped target (HRM); false when only
   * q_halt is trained (TRM). Decides the halting rule too: q_halt > q_continue vs q_halt > 0.
   */
  readonly learnsQContinue: boolean;

  parameterSpecs(): ParameterSpec[];
  initialParameters(rng: Rng): Map<string, Float32Array>;
  /** The fixed (untrained) initial states, one [D] vector per carried state. */
  initialStates(rng: Rng): { hInit: Float32Array; lInit: Float32Array };
  /** tokens int32 [B, L] -> x [B, prefix + L, D]. */
  inputEmbedding(p: ParamSet, tokens: tf.Tensor2D): tf.Tensor3D;
  /**
   * The part of a training supervision step that runs without gradient, outside any tape, each
   * network call in its own tidy scope. The caller keeps its inputs; the outputs are new
   * tensors, or the inputs themselves when there is nothing to do.
   */
  stepWithoutGradient(p: ParamSet, s: LatentStates, x: tf.Tensor3D, depth: Depth): LatentStates;
  /** The taped rest of the step (the gradient flows through exactly this). */
  stepWithGradient(p: ParamSet, s: LatentStates, x: tf.Tensor3D, depth: Depth): LatentStates;
  /** `cycles` whole cycles without gradient (all T = one full step at evaluation); ownership as stepWithoutGradient. */
  cyclesWithoutGradient(p: ParamSet, zH: tf.Tensor3D, zL: tf.Tensor3D, x: tf.Tensor3D, cycles: number, lCycles: number): LatentStates;
  heads(p: ParamSet, zH: tf.Tensor3D): Heads;
  /** FLOPs of one supervision step for `rows` rows; training counts the backward (and any extra target forward). */
  stepFlops(depth: Depth, rows: number, training: boolean): StepFlops;
  /**
   * Statistics the model gathered itself since the last call (TRM-DEQ: its solves', deqStepStatistics.ts),
   * logged under the step event's modelStats; absent or undefined when it has none.
   */
  takeStepStatistics?(): Record<string, number> | undefined;
}

/** The halting decision the model was trained with: q_halt > q_continue (HRM) or q_halt > 0 (TRM). */
export function wantsToHalt(model: Pick<RecursiveModel, 'learnsQContinue'>, qHalt: number, qContinue: number): boolean {
  return model.learnsQContinue ? qHalt > qContinue : qHalt > 0;
}

/** A model with a fixed-point solve (TRM-DEQ, Attractor): model.deq, the solve cap, the TF.js limits. */
export interface FixedPointSolveModel {
  /** Runs `fn` with every solve capped at `iterations` map evaluations (0 = no solve): eval.internalisation. */
  withSolveCap<T>(iterations: number, fn: () => T): T;
  /** Refuses what the TF.js trainer cannot train (the IFT gradient, λ_jac > 0). */
  checkTrainableOnTfjs(): void;
}

export function hasFixedPointSolve<M extends RecursiveModel>(model: M): model is M & FixedPointSolveModel {
  return typeof (model as Partial<FixedPointSolveModel>).withSolveCap === 'function';
}
