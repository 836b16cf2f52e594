// Ways to turn many passes over one puzzle into one verdict (Augmented HRM, reference.md §3.4).
// A pass is one model (a checkpoint of one run) on one relabelled copy, its answer already
// mapped back to the puzzle's own frame. The reference rule uses the labels (a checkpoint
// "solves" a puzzle when a strict majority of its halted passes is right; a puzzle counts when
// any checkpoint solves it) — an upper bound, not a usable method on new puzzles. The other
// rules pick one answer without the labels and are then scored against them.

export interface Pass {
  /** Which model produced it (a checkpoint of a run): passes of one model share the index. */
  model: number;
  /** Index of the relabelling (0 = the original puzzle). */
  perturbation: number;
  /** The answer grid in the puzzle's own frame. */
  answer: Uint8Array;
  /** The answer equals the solution (uses the label). */
  exact: boolean;
  /** The model's own halting signal at the last step (HRM: q_halt > q_continue; TRM: q_halt > 0). */
  halted: boolean;
  qHalt: number;
  /** One-step residual at the end state, ‖F(z) − z‖ / ‖z‖ (lower = closer to a fixed point). */
  residual: number;
  /** Label-free: the grid is complete, breaks no rule of the task and keeps every given. */
  valid: boolean;
}

import type { RuleName } from '../../protocol/voteReport';

export type { RuleName };

export interface RuleInfo {
  name: RuleName;
  /** True when the rule looks at the solution to decide (so it is not usable on new puzzles). */
  usesLabels: boolean;
  description: string;
}

export const votingRules: readonly RuleInfo[] = [
  { name: 'single', usesLabels: false, description: 'the first pass alone (original puzzle, first model): the baseline' },
  { name: 'reference', usesLabels: true, description: 'reference rule (§3.4): a model solves the puzzle when 2·#(halted and exact) > #halted; the puzzle counts when any model solves it. Uses the labels: an upper bound' },
  { name: 'reference-label-free', usesLabels: false, description: 'the reference rule with "exact" replaced by "valid grid that keeps the givens" (the chosen answer is then scored)' },
  { name: 'valid-grid', usesLabels: false, description: 'an answer that satisfies every rule and keeps the givens (most votes, then highest q_halt, among the valid ones)' },
  { name: 'majority', usesLabels: false, description: 'the most frequent answer over all passes (ties: higher summed q_halt)' },
  { name: 'majority-halted', usesLabels: false, description: 'the most frequent answer over the halted passes (all passes when none halted)' },
  { name: 'max-q-halt', usesLabels: false, description: 'the answer of the pass with the highest q_halt' },
  { name: 'min-residual', usesLabels: false, description: 'the answer of the pass with the lowest end residual' },
];

/** A rule's pick for one puzzle: the chosen pass (its answer) or none. */
export interface Verdict {
  solved: boolean;
  /** The chosen pass (label-free rules), null when the rule chose nothing. */
  chosen: Pass | null;
}

function key(answer: Uint8Array): string {
  return Buffer.from(answer.buffer, answer.byteOffset, answer.byteLength).toString('base64');
}

/** The answer with the most passes (ties: higher summed q_halt, then the earliest pass). */
function plurality(passes: readonly Pass[]): Pass | null {
  const groups = new Map<string, { first: Pass; votes: number; qSum: number }>();
  for (const p of passes) {
    const k = key(p.answer);
    const g = groups.get(k);
    if (g) { g.votes++; g.qSum += p.qHalt; } else groups.set(k, { first: p, votes: 1, qSum: p.qHalt });
  }
  let best: { first: Pass; votes: number; qSum: number } | null = null;
  for (const g of groups.values()) {
    if (!best || g.votes > best.votes || (g.votes === best.votes && g.qSum > best.qSum)) best = g;
  }
  return best?.first ?? null;
}

function extreme(passes: readonly Pass[], score: (p: Pass) => number): Pass | null {
  let best: Pass | null = null;
  for (const p of passes) if (Number.isFinite(score(p)) && (!best || score(p) > score(best))) best = p;
  return best;
}

/** Per model, the reference verdict 2·#correct > #halted, with "correct" given by `right`. */
function referenceVerdicts(passes: readonly Pass[], right: (p: Pass) => boolean): Map<number, { solves: boolean; first: Pass | null }> {
  const byModel = new Map<number, { correct: number; halted: number; first: Pass | null }>();
  for (const p of passes) {
    const m = byModel.get(p.model) ?? { correct: 0, halted: 0, first: null };
    if (p.halted) {
      m.halted++;
      if (right(p)) { m.correct++; m.first ??= p; }
    }
    byModel.set(p.model, m);
  }
  return new Map([...byModel].map(([model, m]) => [model, { solves: 2 * m.correct > m.halted, first: m.first }]));
}

function chosen(p: Pass | null): Verdict {
  return { solved: p !== null && p.exact, chosen: p };
}

export interface RuleOptions {
  /** Mazes: the reference counts a maze solved when any pass is exact, halted or not (§3.4). */
  task: 'sudoku' | 'maze';
}

export function applyRule(rule: RuleName, passes: readonly Pass[], opts: RuleOptions = { task: 'sudoku' }): Verdict {
  switch (rule) {
    case 'single':
      return chosen(passes[0] ?? null);
    case 'reference': {
      if (opts.task === 'maze') {
        const right = passes.find((p) => p.exact);
        return { solved: right !== undefined, chosen: right ?? null };
      }
      const verdicts = [...referenceVerdicts(passes, (p) => p.exact).values()];
      const solver = verdicts.find((v) => v.solves);
      return { solved: solver !== undefined, chosen: solver?.first ?? null };
    }
    case 'reference-label-free': {
      // The first model whose halted majority is valid; its answer is the most voted valid one.
      const verdicts = referenceVerdicts(passes, (p) => p.valid);
      for (const [model, v] of verdicts) {
        if (v.solves) return chosen(plurality(passes.filter((p) => p.model === model && p.halted && p.valid)));
      }
      return { solved: false, chosen: null };
    }
    case 'valid-grid':
      return chosen(plurality(passes.filter((p) => p.valid)));
    case 'majority':
      return chosen(plurality(passes));
    case 'majority-halted': {
      const halted = passes.filter((p) => p.halted);
      return chosen(plurality(halted.length ? halted : passes));
    }
    case 'max-q-halt':
      return chosen(extreme(passes, (p) => p.qHalt));
    case 'min-residual':
      return chosen(extreme(passes, (p) => -p.residual));
  }
}
