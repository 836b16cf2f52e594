// The arms of a CGAR ablation (reference.md §2): each one a change to the base run config.
// All arms run at the paper's base depth T=3, n=6 unless the sweep names another, so the
// curriculum has the paper's (1,2) -> (2,4) -> (3,6) stages to move through.
import type { RunConfig } from '../../protocol/config';

export interface Arm {
  name: string;
  description: string;
  apply(c: RunConfig): void;
}

const pdc = (c: RunConfig) => { c.train.curriculum = { enabled: true, boundaries: [0.3, 0.6] }; };
const hswPaper = (c: RunConfig) => { c.train.hsw = { mode: 'paper', decay: c.train.hsw.decay }; };
const hswCode = (c: RunConfig) => { c.train.hsw = { mode: 'code', decay: c.train.hsw.decay }; };
const off = (c: RunConfig) => {
  c.train.curriculum = { ...c.train.curriculum, enabled: false };
  c.train.hsw = { ...c.train.hsw, mode: 'off' };
};

export const arms: readonly Arm[] = [
  { name: 'baseline', description: 'full depth every step, uniform supervision weights', apply: off },
  { name: 'pdc', description: 'Progressive Depth Curriculum (1,2)->(2,4)->(3,6) at 30 % / 60 %', apply: (c) => { off(c); pdc(c); } },
  { name: 'hsw', description: 'Hierarchical Supervision Weighting, paper form: per row decay^(t-1)/Z', apply: (c) => { off(c); hswPaper(c); } },
  { name: 'hsw-code', description: 'HSW as the released code: decay^floor(mean incoming steps) on the batch loss', apply: (c) => { off(c); hswCode(c); } },
  { name: 'cgar', description: 'PDC + HSW (paper form)', apply: (c) => { off(c); pdc(c); hswPaper(c); } },
  { name: 'cgar-code', description: 'PDC + HSW (released-code form)', apply: (c) => { off(c); pdc(c); hswCode(c); } },
];

export function findArm(name: string): Arm {
  const arm = arms.find((a) => a.name === name);
  if (!arm) throw new Error(`unknown arm "${name}" (known: ${arms.map((a) => a.name).join(', ')})`);
  return arm;
}

/** The config of one arm x seed: the base at the sweep's depth, the arm's change, its seed and steps. */
export function armConfig(base: RunConfig, arm: Arm, seed: number, steps: number, depth: { hCycles: number; lCycles: number }, evalEvery: number): RunConfig {
  const c = structuredClone(base);
  c.model.hCycles = depth.hCycles;
  c.model.lCycles = depth.lCycles;
  arm.apply(c);
  c.seed = seed;
  c.name = `${arm.name}-seed${seed}`;
  c.train.steps = steps;
  c.eval.everySteps = evalEvery;
  c.checkpointEverySteps = 0;
  return c;
}
