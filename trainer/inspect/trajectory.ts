// Running a StepModel for K supervision steps on many rows at once (in chunks of maxBatch rows),
// recording per step the relative residual of each state, the argmax tokens and q_halt, and at
// the end the state z_K and one more step F(z_K) for the one-step residual.
import { relativeResiduals } from './fixedPointMath';
import { stateSizes, type StepModel } from './stepModel';

export interface TrajectoryStart {
  rows: number;
  /** [rows, L] */
  tokens: Int32Array;
  /** Per state [rows, S, D]. */
  states: Float32Array[];
}

export interface TrajectoryResult {
  rows: number;
  steps: number;
  /** [state][row][step] relative residual ‖z_s − z_{s−1}‖ / ‖z_{s−1}‖, s = 1..K. */
  residuals: number[][][];
  /** Per step (K arrays): [rows, L] argmax token ids. */
  argmax: Int32Array[];
  /** Per step: [rows] q_halt. */
  qHalt: Float32Array[];
  /** Per state: z_K [rows, S, D]. */
  end: Float32Array[];
  /** Per state: F(z_K) [rows, S, D]. */
  endNext: Float32Array[];
  /** DEQ models with deq_residuals: [row][step] the inner solve's relative residuals within the step (T·K values, cycle by cycle). */
  deqResiduals?: number[][][];
}

export interface TrajectoryOptions {
  maxBatch: number;
  /** Called with the states of rows [rowOffset, rowOffset + rows) after step `step` (0 = the start). */
  onStep?: (rowOffset: number, rows: number, step: number, states: readonly Float32Array[]) => void;
}

export function argmaxTokens(logits: Float32Array, positions: number, vocab: number): Int32Array {
  const out = new Int32Array(positions);
  for (let p = 0; p < positions; p++) {
    let best = 0;
    let bestValue = -Infinity;
    for (let v = 0; v < vocab; v++) {
      const x = logits[p * vocab + v]!;
      if (x > bestValue) { bestValue = x; best = v; }
    }
    out[p] = best;
  }
  return out;
}

/** One step for every row, chunked; returns the next states (and logits/q_halt when asked). */
export async function stepRows(model: StepModel, tokens: Int32Array, states: readonly Float32Array[], rows: number, maxBatch: number, innerMap = false)
  : Promise<{ states: Float32Array[]; logits: Float32Array; qHalt: Float32Array; innerMap?: Float32Array }> {
  const c = model.contract;
  const sizes = stateSizes(c);
  const next = sizes.map((s) => new Float32Array(rows * s));
  const logits = new Float32Array(rows * c.seqLen * c.vocabSize);
  const qHalt = new Float32Array(rows);
  const innerIndex = c.states.findIndex((s) => s.name === c.deq?.innerState);
  if (innerMap && (innerIndex < 0 || !c.deq?.hasInnerMap)) throw new Error('inspect: the model has no deq_inner_map output');
  const map = innerMap ? new Float32Array(rows * sizes[innerIndex]!) : undefined;
  for (let r0 = 0; r0 < rows; r0 += maxBatch) {
    const b = Math.min(maxBatch, rows - r0);
    const out = await model.step({
      batch: b,
      tokens: tokens.subarray(r0 * c.seqLen, (r0 + b) * c.seqLen),
      states: states.map((s, i) => s.subarray(r0 * sizes[i]!, (r0 + b) * sizes[i]!)),
      reset: new Uint8Array(b),
      ...(innerMap ? { innerMap: true } : {}),
    });
    out.states.forEach((s, i) => next[i]!.set(s, r0 * sizes[i]!));
    if (map) {
      if (!out.innerMap) throw new Error('inspect: the model returned no inner map');
      map.set(out.innerMap, r0 * sizes[innerIndex]!);
    }
    logits.set(out.logits, r0 * c.seqLen * c.vocabSize);
    qHalt.set(out.qHalt, r0);
  }
  return { states: next, logits, qHalt, ...(map ? { innerMap: map } : {}) };
}

export async function runTrajectories(model: StepModel, start: TrajectoryStart, steps: number, opts: TrajectoryOptions): Promise<TrajectoryResult> {
  const c = model.contract;
  const sizes = stateSizes(c);
  const { rows } = start;
  const residuals = sizes.map(() => Array.from({ length: rows }, () => [] as number[]));
  const argmax = Array.from({ length: steps }, () => new Int32Array(rows * c.seqLen));
  const qHalt = Array.from({ length: steps }, () => new Float32Array(rows));
  const end = sizes.map((s) => new Float32Array(rows * s));
  const endNext = sizes.map((s) => new Float32Array(rows * s));
  const deqResiduals = c.deq?.hasResiduals ? Array.from({ length: rows }, () => [] as number[][]) : undefined;
  const perStep = (c.deq?.iterations ?? 0) * c.hCycles;
  for (let r0 = 0; r0 < rows; r0 += opts.maxBatch) {
    const b = Math.min(opts.maxBatch, rows - r0);
    const tokens = start.tokens.subarray(r0 * c.seqLen, (r0 + b) * c.seqLen);
    let states: Float32Array[] = start.states.map((s, i) => s.slice(r0 * sizes[i]!, (r0 + b) * sizes[i]!));
    opts.onStep?.(r0, b, 0, states);
    for (let step = 1; step <= steps + 1; step++) {
      const out = await model.step({ batch: b, tokens, states, reset: new Uint8Array(b) });
      if (step > steps) {
        out.states.forEach((s, i) => endNext[i]!.set(s, r0 * sizes[i]!));
        break;
      }
      out.states.forEach((s, i) => {
        const res = relativeResiduals(states[i]!, s, b, sizes[i]!);
        for (let r = 0; r < b; r++) residuals[i]![r0 + r]!.push(res[r]!);
      });
      for (let r = 0; r < b; r++) {
        const row = out.logits.subarray(r * c.seqLen * c.vocabSize, (r + 1) * c.seqLen * c.vocabSize);
        argmax[step - 1]!.set(argmaxTokens(row, c.seqLen, c.vocabSize), (r0 + r) * c.seqLen);
      }
      qHalt[step - 1]!.set(out.qHalt, r0);
      if (deqResiduals) {
        if (!out.deqResiduals) throw new Error('inspect: the model returned no deq_residuals');
        for (let r = 0; r < b; r++) deqResiduals[r0 + r]!.push(Array.from(out.deqResiduals.subarray(r * perStep, (r + 1) * perStep)));
      }
      states = out.states;
      opts.onStep?.(r0, b, step, states);
      if (step === steps) states.forEach((s, i) => end[i]!.set(s, r0 * sizes[i]!));
    }
  }
  return { rows, steps, residuals, argmax, qHalt, end, endNext, ...(deqResiduals ? { deqResiduals } : {}) };
}
