// Analytic matmul FLOPs (2·m·k·n per matmul; elementwise ops not counted), the unit the
// benchmarks and the curriculum's savings are measured in. Backward ≈ 2× the forward of the
// part that has gradient: the last cycle's n + 1 network calls and the heads.
import type { Depth, TrmModel } from './trm';

/** FLOPs of one network call (all blocks) for one row. */
export function netCallFlops(model: TrmModel): number {
  const D = model.width;
  const L = model.totalLen;
  const channel = 6 * L * D * model.channelFfn;
  const mixer = model.config.mixer === 'mlp_t'
    ? 6 * D * L * model.sequenceFfn
    : 8 * L * D * D + 4 * L * L * D;
  return model.config.layers * (mixer + channel);
}

export function headFlops(model: TrmModel): number {
  return 2 * model.task.seqLen * model.width * model.task.vocabSize + 2 * model.width * 2;
}

export interface StepFlops {
  forward: number;
  backward: number;
}

/** FLOPs of one supervision step for `rows` rows at the given depth. */
export function supervisionStepFlops(model: TrmModel, depth: Depth, rows: number, training: boolean): StepFlops {
  const call = netCallFlops(model);
  const forward = rows * (depth.hCycles * (depth.lCycles + 1) * call + headFlops(model));
  const backward = training ? rows * 2 * ((depth.lCycles + 1) * call + headFlops(model)) : 0;
  return { forward, backward };
}
