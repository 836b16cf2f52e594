import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countSolutions, hasSolutionAvoiding, solve } from '../../trainer/data/sudokuSolver';
import { isCompleteValidGrid, keepsGivens } from '../../trainer/data/sudokuRules';

const grid = (rows: string) => Uint8Array.from(rows.replace(/\s/g, ''), (ch) => (ch === '.' ? 0 : Number(ch)));

// The example puzzle and solution from Wikipedia's "Sudoku" article.
const WIKI_PUZZLE = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';
const WIKI_SOLUTION = '534678912672195348198342567859761423426853791713924856961537284287419635345286179';
// "Easter Monster" (published 2007), one of the hardest known puzzles for pattern-based solvers.
const EASTER_MONSTER = '1.......2.9.4...5...6...7...5.9.3.......7.......85..4.7.....6...3...9.8...2.....1';

test('solves the Wikipedia puzzle to its published solution, which is unique', () => {
  const puzzle = grid(WIKI_PUZZLE);
  assert.deepEqual(solve(puzzle, 9), grid(WIKI_SOLUTION));
  assert.equal(countSolutions(puzzle, 9), 1);
});

test('a very hard 9x9 puzzle is solved quickly to a valid grid that keeps its givens', () => {
  const puzzle = grid(EASTER_MONSTER);
  const start = performance.now();
  const solution = solve(puzzle, 9);
  const solutions = countSolutions(puzzle, 9, 10);
  const elapsed = performance.now() - start;
  assert.ok(solution);
  assert.equal(isCompleteValidGrid(solution, 9), true);
  assert.equal(keepsGivens(puzzle, solution), true);
  assert.equal(solutions, 1);
  assert.ok(elapsed < 500, `took ${elapsed.toFixed(0)} ms`);
});

test('there are exactly 288 complete valid 4x4 grids', () => {
  assert.equal(countSolutions(new Uint8Array(16), 4, 10_000), 288);
});

test('a 4x4 grid with a blank "deadly rectangle" has exactly 2 solutions', () => {
  // Rows 0-1 x columns 0,2 of 1234/3412/2143/4321 hold 1,3 / 3,1: swapping them is also valid.
  const ambiguous = grid('.2.4 .4.2 2143 4321');
  assert.equal(countSolutions(ambiguous, 4, 100), 2);
  assert.equal(countSolutions(ambiguous, 4), 2);
  assert.equal(countSolutions(ambiguous, 4, 1), 1);
});

test('9x9 grids with too few givens report 2 or more solutions', () => {
  assert.equal(countSolutions(new Uint8Array(81), 9), 2);
  const firstRowOnly = grid(WIKI_SOLUTION.slice(0, 9) + '.'.repeat(72));
  assert.equal(countSolutions(firstRowOnly, 9, 50), 50);
  // In the Wikipedia solution, rows 3-4 (same band) x columns 5, 8 (different stacks) hold
  // 1,3 / 3,1; with those four cells blank, both orders fit, so exactly 2 solutions.
  const rectangle = grid(WIKI_SOLUTION);
  for (const cell of [3 * 9 + 5, 3 * 9 + 8, 4 * 9 + 5, 4 * 9 + 8]) rectangle[cell] = 0;
  assert.equal(countSolutions(rectangle, 9, 100), 2);
});

test('clashing givens have no solution', () => {
  assert.equal(countSolutions(grid('11.. .... .... ....'), 4), 0);
  assert.equal(solve(grid('11.. .... .... ....'), 4), null);
});

test('hasSolutionAvoiding tells forced cells from free ones', () => {
  const full = grid('1234 3412 2143 4321');
  // Only cell 0 blank: its digit is forced.
  assert.equal(hasSolutionAvoiding(full, 4, 0, 1), false);
  // In the deadly rectangle, cell 0 can be 3 instead of 1.
  assert.equal(hasSolutionAvoiding(grid('.2.4 .4.2 2143 4321'), 4, 0, 1), true);
});
