// Test-time compute curves (issue 14 item 5): accuracy of each voting rule against the model
// calls spent per puzzle, as passes are added in the order a researcher would pay for them —
// one pass, then relabellings of the puzzle, then more checkpoints of the run, then runs with
// other seeds — so two models are compared at equal compute.
import { applyRule, votingRules, type Pass, type RuleName, type RuleOptions } from './votingRules';

/** One model of the ensemble: checkpoint `checkpoint` (0 = newest) of run `run` (0 = the first seed). */
export interface ModelSlot {
  run: number;
  checkpoint: number;
}

/** Which passes a point of the curve may use. */
export interface PassBudget {
  label: string;
  /** Perturbations of the puzzle used: relabellings, then noisy starts (0 = the original puzzle). */
  perturbations: number;
  checkpoints: number;
  runs: number;
}

export interface CurvePoint extends PassBudget {
  passesPerPuzzle: number;
  /** passes × supervision steps per pass: forward calls of the step map per puzzle. */
  modelCallsPerPuzzle: number;
  /** Fraction of puzzles solved, per rule. */
  accuracy: Record<RuleName, number>;
}

function within(pass: Pass, slots: readonly ModelSlot[], b: PassBudget): boolean {
  const slot = slots[pass.model]!;
  return pass.perturbation < b.perturbations && slot.checkpoint < b.checkpoints && slot.run < b.runs;
}

/** Accuracy of every rule over the puzzles, using only the passes within the budget. */
export function evaluateBudget(puzzles: readonly (readonly Pass[])[], slots: readonly ModelSlot[], b: PassBudget, stepsPerPass: number, opts?: RuleOptions): CurvePoint {
  const solved = Object.fromEntries(votingRules.map((r) => [r.name, 0])) as Record<RuleName, number>;
  let passes = 0;
  for (const all of puzzles) {
    const used = all.filter((p) => within(p, slots, b));
    passes += used.length;
    for (const r of votingRules) if (applyRule(r.name, used, opts).solved) solved[r.name]++;
  }
  const n = Math.max(puzzles.length, 1);
  const accuracy = Object.fromEntries(Object.entries(solved).map(([k, v]) => [k, v / n])) as Record<RuleName, number>;
  return { ...b, passesPerPuzzle: passes / n, modelCallsPerPuzzle: (passes / n) * stepsPerPass, accuracy };
}

/**
 * The budgets in the order compute is added: 1 pass; + relabellings (2..R) on the newest
 * checkpoint; + checkpoints (2..K) with all relabellings; + seeds (2..S) with everything.
 */
export function curveBudgets(perturbations: number, checkpoints: number, runs: number): PassBudget[] {
  const out: PassBudget[] = [{ label: '1 pass', perturbations: 1, checkpoints: 1, runs: 1 }];
  for (let r = 2; r <= perturbations; r++) out.push({ label: `${r} perturbations`, perturbations: r, checkpoints: 1, runs: 1 });
  for (let k = 2; k <= checkpoints; k++) out.push({ label: `${perturbations} perturbations × ${k} checkpoints`, perturbations, checkpoints: k, runs: 1 });
  for (let s = 2; s <= runs; s++) out.push({ label: `${perturbations} perturbations × ${checkpoints} checkpoints × ${s} seeds`, perturbations, checkpoints, runs: s });
  return out;
}

/** The results table's four rows: single model, + perturbation, + bootstrapping, + both. */
export function tableBudgets(perturbations: number, checkpoints: number, runs: number): PassBudget[] {
  return [
    { label: 'single model', perturbations: 1, checkpoints: 1, runs: 1 },
    { label: '+ perturbation', perturbations, checkpoints: 1, runs: 1 },
    { label: '+ bootstrapping', perturbations: 1, checkpoints, runs },
    { label: '+ both', perturbations, checkpoints, runs },
  ];
}
