// CGAR's Hierarchical Supervision Weighting (reference.md §2.2), both readings:
// - "code" (the released code): the whole batch loss times decay^floor(mean incoming steps),
//   where the incoming steps are the carry's counts before halted rows are reset (stale counts
//   of rows that halted at the previous step included). A batch-wide constant: AdamATan2 is
//   exactly invariant to it, AdamW nearly so; it acts only through its variation over time.
// - "paper": each row's loss times w_t = decay^(t−1) / Z, t its supervision step (1-based),
//   Z = Σ_{t=1..N_sup} decay^(t−1). Rows at different steps in one batch get different weights.
import type { HswConfig } from '../../protocol/config';

export interface LossWeighting {
  /** Per-row weights (paper variant); undefined = 1 for every row. */
  rowWeights?: Float32Array;
  /** One factor on the whole batch loss (code variant). */
  scale: number;
}

export function codeFaithfulScale(incomingSteps: ArrayLike<number>, decay: number): number {
  let sum = 0;
  for (let i = 0; i < incomingSteps.length; i++) sum += incomingSteps[i]!;
  return Math.pow(decay, Math.floor(sum / incomingSteps.length));
}

export function paperFaithfulWeights(rowSteps: ArrayLike<number>, decay: number, maxSteps: number): Float32Array {
  let z = 0;
  for (let t = 1; t <= maxSteps; t++) z += Math.pow(decay, t - 1);
  return Float32Array.from({ length: rowSteps.length }, (_, r) => Math.pow(decay, rowSteps[r]! - 1) / z);
}

/** incomingSteps: carry counts before the reset; rowSteps: each row's step now (1-based). */
export function lossWeighting(cfg: HswConfig, incomingSteps: ArrayLike<number>, rowSteps: ArrayLike<number>, maxSteps: number): LossWeighting {
  switch (cfg.mode) {
    case 'off': return { scale: 1 };
    case 'code': return { scale: codeFaithfulScale(incomingSteps, cfg.decay) };
    case 'paper': return { scale: 1, rowWeights: paperFaithfulWeights(rowSteps, cfg.decay, maxSteps) };
  }
}
