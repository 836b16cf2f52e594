// CGAR's Progressive Depth Curriculum (reference.md §2.1): training runs at a shallower
// recursion depth (T, n) early on and reaches the full depth for the last stage. Progress of
// step s (1-based) of N is (s − 1) / N, so the first boundary·N steps form stage 1 exactly.
// Evaluation never uses this: it always runs at the model's full depth.
import type { CurriculumConfig } from '../../protocol/config';
import type { Depth } from '../model/recursiveModel';

/** The reference derivation from the base depth: (1,2) -> (2,4) -> (3,6) for base (3,6); stage 2 never exceeds the base. */
export function derivedStages(base: Depth): Depth[] {
  const T = base.hCycles;
  const n = base.lCycles;
  const s1 = { hCycles: Math.max(1, Math.ceil(T / 3)), lCycles: Math.max(2, Math.ceil(n / 3)) };
  // Stage 2 is clamped to the base depth (the reference's min(base, ·)); stage 1 is not.
  const s2 = { hCycles: Math.min(T, Math.max(s1.hCycles, Math.ceil((2 * T) / 3))), lCycles: Math.min(n, Math.max(s1.lCycles, Math.ceil((2 * n) / 3))) };
  return [s1, s2, { hCycles: T, lCycles: n }];
}

/** The stages of a curriculum config (explicit, else derived); checks their shape. */
export function curriculumStages(base: Depth, cfg: CurriculumConfig): Depth[] {
  const stages = cfg.stages ? cfg.stages.map(([hCycles, lCycles]) => ({ hCycles, lCycles })) : derivedStages(base);
  if (stages.length !== cfg.boundaries.length + 1) {
    throw new Error(`train.curriculum: ${stages.length} stages need ${stages.length - 1} boundaries, got ${cfg.boundaries.length}`);
  }
  for (let i = 1; i < cfg.boundaries.length; i++) {
    if (!(cfg.boundaries[i]! > cfg.boundaries[i - 1]!)) throw new Error(`train.curriculum.boundaries: must increase, got [${cfg.boundaries.join(', ')}]`);
  }
  return stages;
}

/** Index of the stage that optimizer step `step` (1-based) of `totalSteps` runs in. */
export function stageIndexAt(step: number, totalSteps: number, boundaries: readonly number[]): number {
  const progress = (step - 1) / totalSteps;
  let stage = 0;
  while (stage < boundaries.length && progress >= boundaries[stage]!) stage++;
  return stage;
}

export interface DepthSchedule {
  stages: Depth[];
  boundaries: readonly number[];
  /** Stage and depth of a training step; the full depth when the curriculum is off. */
  at(step: number, totalSteps: number): { stage: number; depth: Depth };
}

export function depthSchedule(base: Depth, cfg: CurriculumConfig): DepthSchedule {
  if (!cfg.enabled) return { stages: [base], boundaries: [], at: () => ({ stage: 0, depth: base }) };
  const stages = curriculumStages(base, cfg);
  return {
    stages, boundaries: cfg.boundaries,
    at: (step, total) => {
      const stage = stageIndexAt(step, total, cfg.boundaries);
      return { stage, depth: stages[stage]! };
    },
  };
}

/**
 * The compute a schedule saves against always running the full depth, counted in network
 * calls per supervision step: forward T·(n+1); backward ≈ 2·(n+1) (only the last cycle has
 * gradient). For the paper schedule: forward 1 − (0.3·6 + 0.3·20 + 0.4·42)/42 = 41.43 %.
 */
export function curriculumSavings(schedule: DepthSchedule, base: Depth): { forward: number; forwardBackward: number } {
  const fwd = (d: Depth) => d.hCycles * (d.lCycles + 1);
  const bwd = (d: Depth) => 2 * (d.lCycles + 1);
  const edges = [0, ...schedule.boundaries, 1];
  let f = 0;
  let fb = 0;
  schedule.stages.forEach((d, i) => {
    const share = edges[i + 1]! - edges[i]!;
    f += share * fwd(d);
    fb += share * (fwd(d) + bwd(d));
  });
  return { forward: 1 - f / fwd(base), forwardBackward: 1 - fb / (fwd(base) + bwd(base)) };
}
