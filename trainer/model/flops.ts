// Analytic matmul FLOPs (2·m·k·n per matmul; elementwise ops not counted), the unit the
// benchmarks and the curriculum's savings are measured in. Backward ≈ 2× the forward of the
// part that has gradient. TRM: forward T·(n+1) network calls, gradient through the last cycle's
// n + 1. HRM: forward T·n L-net + T H-net calls, gradient through one L and one H call, and
// training adds one extra forward step (the Q-continue target).
import type { Depth, RecursiveModel, StepFlops } from './recursiveModel';

type Sized = Pick<RecursiveModel, 'width' | 'totalLen' | 'config' | 'task'> & { channelFfn: number; sequenceFfn: number };

/** FLOPs of one block for one row. */
export function blockFlops(model: Sized): number {
  const D = model.width;
  const L = model.totalLen;
  const channel = 6 * L * D * model.channelFfn;
  const mixer = model.config.mixer === 'mlp_t'
    ? 6 * D * L * model.sequenceFfn
    : 8 * L * D * D + 4 * L * L * D;
  return mixer + channel;
}

/** FLOPs of one (TRM / HRM L-) network call (all its blocks) for one row. */
export function netCallFlops(model: Sized): number {
  return model.config.layers * blockFlops(model);
}

/** FLOPs of one HRM H-network call for one row. */
export function hNetCallFlops(model: Sized): number {
  return (model.config.hLayers ?? model.config.layers) * blockFlops(model);
}

export function headFlops(model: Sized): number {
  return 2 * model.task.seqLen * model.width * model.task.vocabSize + 2 * model.width * 2;
}

export type { StepFlops } from './recursiveModel';

/** FLOPs of one TRM supervision step for `rows` rows at the given depth. */
export function supervisionStepFlops(model: Sized, depth: Depth, rows: number, training: boolean): StepFlops {
  const call = netCallFlops(model);
  const forward = rows * (depth.hCycles * (depth.lCycles + 1) * call + headFlops(model));
  const backward = training ? rows * 2 * ((depth.lCycles + 1) * call + headFlops(model)) : 0;
  return { forward, backward };
}

/** FLOPs of one HRM supervision step; training adds the target's extra forward step. */
export function hrmSupervisionStepFlops(model: Sized, depth: Depth, rows: number, training: boolean): StepFlops {
  const step = depth.hCycles * depth.lCycles * netCallFlops(model) + depth.hCycles * hNetCallFlops(model) + headFlops(model);
  const forward = rows * (training ? 2 : 1) * step;
  const backward = training ? rows * 2 * (netCallFlops(model) + hNetCallFlops(model) + headFlops(model)) : 0;
  return { forward, backward };
}

/**
 * FLOPs of one TRM-DEQ supervision step, counting every solve at its maxIter map evaluations (an
 * upper bound: a solve may stop at minIter): T solves and T answer updates forward, plus the K
 * phantom steps of training; backward through the K steps, the answer update and the heads.
 */
export function deqSupervisionStepFlops(model: Sized, depth: Depth, rows: number, training: boolean, deq: { maxIter: number; phantomSteps: number }): StepFlops {
  const call = netCallFlops(model);
  const forward = rows * (depth.hCycles * (deq.maxIter + 1) * call + (training ? deq.phantomSteps * call : 0) + headFlops(model));
  const backward = training ? rows * 2 * ((deq.phantomSteps + 1) * call + headFlops(model)) : 0;
  return { forward, backward };
}

/**
 * FLOPs of one Attractor supervision step, every solve counted at maxIter map evaluations (one
 * FPHead call each): the backbone once forward (twice in training: the taped part recomputes c),
 * T solves, the K phantom steps of training and the heads; backward through the backbone, the K
 * steps and the heads. The head has model.layers blocks, the backbone `backboneLayers`.
 */
export function attractorStepFlops(model: Sized, depth: Depth, rows: number, training: boolean, deq: { maxIter: number; phantomSteps: number }, backboneLayers: number): StepFlops {
  const head = netCallFlops(model);
  const backbone = backboneLayers * blockFlops(model);
  const forward = rows * ((training ? 2 : 1) * backbone + depth.hCycles * deq.maxIter * head + (training ? deq.phantomSteps * head : 0) + headFlops(model));
  const backward = training ? rows * 2 * (backbone + deq.phantomSteps * head + headFlops(model)) : 0;
  return { forward, backward };
}
