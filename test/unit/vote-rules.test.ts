// Augmented HRM's test-time machinery (reference.md §3.2, §3.4): relabellings and their inverses,
// the voting rules on constructed cases and on the hand-worked example of the reference rule, and
// the compute-curve budgets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cyclicDigitShift } from '../../trainer/data/sudokuAugment';
import { generatePuzzle, randomSolvedGrid } from '../../trainer/data/sudokuGenerator';
import { isCompleteValidGrid, keepsGivens } from '../../trainer/data/sudokuRules';
import { hintExample, withHintExamples } from '../../trainer/data/hintAugment';
import { loadTaskData } from '../../trainer/data/taskData';
import { Rng } from '../../trainer/random';
import { applyRelabelling, cyclicShiftRelabellings, inverseRelabelling, mazeRelabellings, randomSymmetryRelabellings } from '../../trainer/vote/relabelling';
import { buildGeneratedMazeDataset } from '../../trainer/data/mazeGenerator';
import { isValidMazeAnswer } from '../../trainer/data/mazeRules';
import { applyRule, votingRules, type Pass } from '../../trainer/vote/votingRules';
import { curveBudgets, evaluateBudget, tableBudgets, type ModelSlot } from '../../trainer/vote/computeCurve';

test('every relabelling composed with its inverse is the identity (cyclic shifts and random symmetries, 4x4 and 9x9)', () => {
  const rng = new Rng(7);
  for (const side of [4, 9] as const) {
    const all = [...cyclicShiftRelabellings(side), ...randomSymmetryRelabellings(side, 12, rng)];
    for (const r of all) {
      for (let k = 0; k < 5; k++) {
        const puzzle = generatePuzzle(side, side === 4 ? 8 : 40, rng);
        const inv = inverseRelabelling(r);
        assert.deepEqual(applyRelabelling(applyRelabelling(puzzle.question, r), inv), puzzle.question, r.name);
        assert.deepEqual(applyRelabelling(applyRelabelling(puzzle.answer, inv), r), puzzle.answer, r.name);
      }
    }
  }
});

test('relabellings are Sudoku symmetries: a solved grid stays a solved grid and a puzzle keeps its solution', () => {
  const rng = new Rng(3);
  for (const side of [4, 9] as const) {
    for (const r of randomSymmetryRelabellings(side, 10, rng)) {
      const p = generatePuzzle(side, side === 4 ? 6 : 30, rng);
      const q = applyRelabelling(p.question, r);
      const a = applyRelabelling(p.answer, r);
      assert.ok(isCompleteValidGrid(a, side), r.name);
      assert.ok(keepsGivens(q, a), r.name);
      assert.equal(q.filter((v) => v === 0).length, p.blanks, 'blanks stay blanks');
    }
  }
});

test('the cyclic shifts are the reference sudoku_cyclic_shift (p = 0..8, identity first), checked against cyclicDigitShift', () => {
  const rng = new Rng(1);
  const shifts = cyclicShiftRelabellings(9);
  assert.equal(shifts.length, 9);
  assert.equal(shifts[0]!.name, 'identity');
  const grid = randomSolvedGrid(9, rng);
  grid[5] = 0;
  shifts.forEach((r, p) => assert.deepEqual(applyRelabelling(grid, r), cyclicDigitShift(grid, p, 9)));
  // Token view of §3.2: t in 2..10 -> ((t - 2 + p) mod 9) + 2; digit d = t - 1.
  const d = 9, p = 3;
  assert.equal(shifts[p]!.valueMap[d], ((d + 1 - 2 + p) % 9) + 2 - 1);
  assert.throws(() => cyclicShiftRelabellings(9, 10), /1\.\.9/);
});

const grid = (n: number) => Uint8Array.of(n, n, n, n);
function pass(model: number, perturbation: number, answer: number, o: Partial<Pass> = {}): Pass {
  return { model, perturbation, answer: grid(answer), exact: answer === 1, halted: true, qHalt: 0, residual: 1, valid: answer === 1, ...o };
}

test('the reference rule on the hand-worked example: a checkpoint solves when 2·#correct > #halted; any checkpoint suffices', () => {
  // Checkpoint 0: 9 passes, 5 halted, 2 of them right -> 4 > 5 is false.
  // Checkpoint 1: 9 passes, 4 halted, 2 right -> 4 > 4 is false (a tie is not a majority).
  // Checkpoint 2: 9 passes, 3 halted, 2 right, and a right pass that did not halt -> 4 > 3: solves.
  const passes: Pass[] = [];
  const add = (model: number, halted: number, right: number, unhaltedRight: number) => {
    let r = 0;
    for (let i = 0; i < halted; i++) passes.push(pass(model, r++, i < right ? 1 : 2 + i));
    for (let i = 0; i < 9 - halted; i++) passes.push(pass(model, r++, i < unhaltedRight ? 1 : 7, { halted: false }));
  };
  add(0, 5, 2, 3);
  add(1, 4, 2, 0);
  assert.equal(applyRule('reference', passes).solved, false, 'neither of the first two checkpoints has a strict majority');
  add(2, 3, 2, 1);
  const v = applyRule('reference', passes);
  assert.equal(v.solved, true);
  assert.equal(v.chosen!.model, 2);
  // Right answers that did not halt do not count: without halting nothing is solved.
  assert.equal(applyRule('reference', passes.map((p) => ({ ...p, halted: false }))).solved, false);
});

test('voting rules on constructed cases: one right, all wrong, ties, no halted pass', () => {
  // One right pass among wrong ones that agree with each other: majority picks the wrong answer.
  const oneRight = [pass(0, 0, 2), pass(0, 1, 2), pass(0, 2, 1, { qHalt: 3, residual: 0.01 }), pass(0, 3, 3)];
  assert.equal(applyRule('majority', oneRight).solved, false);
  assert.equal(applyRule('valid-grid', oneRight).solved, true, 'the only valid grid is the right one');
  assert.equal(applyRule('max-q-halt', oneRight).solved, true);
  assert.equal(applyRule('min-residual', oneRight).solved, true);
  assert.equal(applyRule('single', oneRight).solved, false);
  // All wrong: no rule solves it, not even the label-using one.
  const allWrong = [pass(0, 0, 2), pass(0, 1, 3), pass(1, 0, 4)];
  for (const r of votingRules) assert.equal(applyRule(r.name, allWrong).solved, false, r.name);
  assert.equal(applyRule('valid-grid', allWrong).chosen, null);
  // A 2-2 tie between the right and a wrong answer: the higher summed q_halt wins.
  const tie = [pass(0, 0, 2, { qHalt: 1 }), pass(0, 1, 1, { qHalt: 2 }), pass(0, 2, 2, { qHalt: 1 }), pass(0, 3, 1, { qHalt: 2 })];
  assert.equal(applyRule('majority', tie).solved, true);
  assert.equal(applyRule('majority', tie.map((p) => ({ ...p, qHalt: p.exact ? 0 : 5 }))).solved, false);
  // No halted pass: majority-halted falls back to all passes; the reference rule solves nothing.
  const unhalted = [pass(0, 0, 1, { halted: false }), pass(0, 1, 1, { halted: false }), pass(0, 2, 2, { halted: false })];
  assert.equal(applyRule('majority-halted', unhalted).solved, true);
  assert.equal(applyRule('reference', unhalted).solved, false);
  assert.equal(applyRule('reference-label-free', unhalted).solved, false);
  // Mazes: the reference counts any exact pass, halted or not.
  assert.equal(applyRule('reference', unhalted, { task: 'maze' }).solved, true);
  // Empty pass lists (nothing within a budget) solve nothing.
  for (const r of votingRules) assert.equal(applyRule(r.name, []).solved, false, r.name);
});

test('reference-label-free: "exact" replaced by "valid and keeps the givens"; the chosen answer is then scored', () => {
  // A valid but wrong grid (possible when a puzzle has two solutions) voted by the halted majority.
  const passes = [pass(0, 0, 5, { valid: true }), pass(0, 1, 5, { valid: true }), pass(0, 2, 1)];
  const v = applyRule('reference-label-free', passes);
  assert.equal(v.chosen!.answer[0], 5);
  assert.equal(v.solved, false);
  assert.equal(applyRule('reference', passes).solved, false, '1 right of 3 halted');
});

test('compute-curve budgets: passes and model calls per puzzle, and accuracy growing as passes are added', () => {
  // 2 runs × 2 checkpoints × 3 relabellings; the right answer only appears at relabelling 2 of
  // checkpoint 1 of run 1 for puzzle A, and in the first pass for puzzle B.
  const slots: ModelSlot[] = [{ run: 0, checkpoint: 0 }, { run: 0, checkpoint: 1 }, { run: 1, checkpoint: 0 }, { run: 1, checkpoint: 1 }];
  const puzzleA: Pass[] = [];
  const puzzleB: Pass[] = [];
  slots.forEach((_, m) => {
    for (let r = 0; r < 3; r++) {
      puzzleA.push(pass(m, r, m === 3 && r === 2 ? 1 : 2, { qHalt: m === 3 && r === 2 ? 9 : 0 }));
      puzzleB.push(pass(m, r, m === 0 && r === 0 ? 1 : 3));
    }
  });
  const budgets = curveBudgets(3, 2, 2);
  assert.deepEqual(budgets.map((b) => [b.perturbations, b.checkpoints, b.runs]), [[1, 1, 1], [2, 1, 1], [3, 1, 1], [3, 2, 1], [3, 2, 2]]);
  const points = budgets.map((b) => evaluateBudget([puzzleA, puzzleB], slots, b, 16));
  assert.deepEqual(points.map((p) => p.passesPerPuzzle), [1, 2, 3, 6, 12]);
  assert.deepEqual(points.map((p) => p.modelCallsPerPuzzle), [16, 32, 48, 96, 192]);
  assert.deepEqual(points.map((p) => p.accuracy['max-q-halt']), [0.5, 0.5, 0.5, 0.5, 1]);
  assert.deepEqual(points.map((p) => p.accuracy.single), [0.5, 0.5, 0.5, 0.5, 0.5]);
  assert.deepEqual(tableBudgets(3, 2, 2).map((b) => b.label), ['single model', '+ perturbation', '+ bootstrapping', '+ both']);
});

test('hint examples (§3.1): same solution, every given kept, k in 1..blanks-1 blanks filled from the solution, k uniform', () => {
  const rng = new Rng(11);
  const counts = new Map<number, number>();
  const p = generatePuzzle(9, 6, rng);
  for (let i = 0; i < 5000; i++) {
    const h = hintExample(p, rng)!;
    assert.equal(h.answer, p.answer);
    assert.ok(keepsGivens(p.question, h.question), 'the original givens are kept');
    assert.ok(keepsGivens(h.question, h.answer), 'every hint is the solution digit');
    const filled = p.blanks - h.blanks;
    assert.equal(h.question.filter((v) => v === 0).length, h.blanks);
    assert.ok(filled >= 1 && filled <= p.blanks - 1, `filled ${filled}`);
    counts.set(filled, (counts.get(filled) ?? 0) + 1);
  }
  // k ~ U{1..5}: each value 1000 times in expectation; 5 sigma of a binomial(5000, 0.2) is 141.
  assert.deepEqual([...counts.keys()].sort(), [1, 2, 3, 4, 5]);
  for (const c of counts.values()) assert.ok(Math.abs(c - 1000) < 141, `count ${c}`);
  // One blank: nothing to reveal. Groups double (minus such puzzles), originals first.
  const one = generatePuzzle(4, 1, rng);
  assert.equal(hintExample(one, rng), null);
  const groups = withHintExamples([[p], [one]], rng);
  assert.deepEqual(groups.map((g) => g.length), [2, 1]);
  assert.equal(groups[0]![0], p);
  // Mazes: the unknown cells are the path's open cells; a hint reveals some of them as path.
  const question = Uint8Array.of(3, 2, 2, 2, 4), answer = Uint8Array.of(3, 5, 5, 5, 4);
  const h = hintExample({ question, answer, blanks: 3 }, rng)!;
  assert.ok(h.question.every((v, i) => v === question[i] || v === answer[i]));
  assert.ok(h.blanks >= 1 && h.blanks <= 2);
});

test('data.hints: every training group gains its hint examples (original first, same solution, fewer blanks); the test split is unchanged', () => {
  const data = { kind: 'generated-sudoku' as const, side: 4 as const, trainPuzzles: 30, trainBlanks: [4, 8] as [number, number], testBlanks: [4, 5] as [number, number], testPerBlank: 5, augment: true };
  const plain = loadTaskData(data, 3);
  const hinted = loadTaskData({ ...data, hints: true }, 3);
  assert.deepEqual(hinted.test, plain.test);
  assert.equal(hinted.trainGroups.length, plain.trainGroups.length);
  hinted.trainGroups.forEach((g, i) => {
    assert.equal(g.length, 2);
    assert.deepEqual(g[0], plain.trainGroups[i]![0]);
    assert.equal(g[1]!.answer, g[0]!.answer);
    assert.ok(g[1]!.blanks >= 1 && g[1]!.blanks < g[0]!.blanks);
    assert.ok(keepsGivens(g[0]!.question, g[1]!.question));
  });
});

test('maze relabellings: S/G swap then the dihedral maps, each undone by its inverse; a relabelled solution stays a valid answer of the relabelled maze', () => {
  const ds = buildGeneratedMazeDataset({ size: 7, trainMazes: 1, testMazes: 6, minPathLength: 4, augment: false, seed: 5 });
  const all = mazeRelabellings(7, 16);
  assert.deepEqual(all.slice(0, 3).map((r) => r.name), ['identity', 'swap S/G', 'dihedral#1']);
  assert.equal(new Set(all.map((r) => `${r.cellSource.join(',')}|${r.valueMap.join(',')}`)).size, 16, '16 distinct maps');
  for (const p of ds.test) {
    assert.ok(isValidMazeAnswer(p.question, p.answer, 7), 'the solution is a valid answer');
    for (const r of all) {
      const inv = inverseRelabelling(r);
      assert.deepEqual(applyRelabelling(applyRelabelling(p.question, r), inv), p.question, r.name);
      assert.ok(isValidMazeAnswer(applyRelabelling(p.question, r), applyRelabelling(p.answer, r), 7), r.name);
    }
  }
});

test('a maze answer is valid only as one simple S-G path over open cells that keeps every wall, S and G', () => {
  // 3x3:  S . .      the path S -> (0,1) -> (0,2) -> (1,2) -> G(2,2)
  //       # # .
  //       # # G
  const [W, O, S, G, P] = [1, 2, 3, 4, 5];
  const q = Uint8Array.of(S, O, O, W, W, O, W, W, G);
  const right = Uint8Array.of(S, P, P, W, W, P, W, W, G);
  assert.ok(isValidMazeAnswer(q, right, 3));
  assert.equal(isValidMazeAnswer(q, Uint8Array.of(S, P, O, W, W, P, W, W, G), 3), false, 'a gap in the path');
  assert.equal(isValidMazeAnswer(q, Uint8Array.of(S, P, P, P, W, P, W, W, G), 3), false, 'a wall turned into path');
  assert.equal(isValidMazeAnswer(q, Uint8Array.of(S, O, O, W, W, O, W, W, G), 3), false, 'no path at all');
  assert.equal(isValidMazeAnswer(q, Uint8Array.of(G, P, P, W, W, P, W, W, G), 3), false, 'the start replaced');
  // S next to G: an empty path is a valid answer.
  assert.ok(isValidMazeAnswer(Uint8Array.of(S, G, W, W), Uint8Array.of(S, G, W, W), 2));
  // A loop beside the path is not one simple path.
  const q4 = Uint8Array.of(S, O, O, O, O, W, O, O, O, O, O, O, W, W, W, G);
  const loop = Uint8Array.of(S, P, P, P, O, W, O, P, P, P, P, P, W, W, W, G);
  assert.equal(isValidMazeAnswer(q4, loop, 4), false);
});
