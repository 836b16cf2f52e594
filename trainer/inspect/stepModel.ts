// What the fixed-point tools need of a model: one supervision step at a time, on a batch, with
// the carried states in and out, plus the model's initial states. The ONNX implementation is
// trainer/onnx/onnxStepModel.ts; any other (a test's hand-written map) plugs in the same way.
import type { StepContract } from '../../protocol/onnxContract';

export interface StepInput {
  batch: number;
  /** [B, L] token ids. */
  tokens: Int32Array;
  /** One [B, S, D] array per contract state, in contract order. */
  states: Float32Array[];
  /** [B] 1 = start from the initial states (the given states are ignored). */
  reset: Uint8Array;
  /** DEQ models with a deq_inner_map output: also return the inner map at the input states. */
  innerMap?: boolean;
}

export interface StepOutput {
  states: Float32Array[];
  /** [B, L, V] */
  logits: Float32Array;
  /** [B] */
  qHalt: Float32Array;
  /** [B], when the model has a q_continue output (HRM). */
  qContinue?: Float32Array;
  /** [B, T, K] the inner solve's relative residual per iteration, when the model has deq_residuals. */
  deqResiduals?: Float32Array;
  /** [B, S, D] the inner map at the input states, when asked (StepInput.innerMap) and the model has it. */
  innerMap?: Float32Array;
}

export interface StepModel {
  readonly contract: StepContract;
  step(input: StepInput): Promise<StepOutput>;
  /** The initial states ([B, S, D] each) for a batch of B rows. */
  initialStates(batch: number): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/** S·D of each state. */
export function stateSizes(c: StepContract): number[] {
  return c.states.map((s) => s.seq * s.width);
}
