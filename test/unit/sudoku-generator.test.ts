import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../trainer/random';
import { generatePuzzle, randomSolvedGrid } from '../../trainer/data/sudokuGenerator';
import { countSolutions } from '../../trainer/data/sudokuSolver';
import { isCompleteValidGrid, keepsGivens, type SudokuSide } from '../../trainer/data/sudokuRules';
import { countBlanks } from '../../trainer/data/puzzle';

function checkPuzzles(side: SudokuSide, blanks: number, count: number, seed: number): void {
  const rng = new Rng(seed);
  for (let i = 0; i < count; i++) {
    const p = generatePuzzle(side, blanks, rng);
    assert.equal(p.blanks, blanks);
    assert.equal(countBlanks(p.question), blanks);
    assert.equal(isCompleteValidGrid(p.answer, side), true);
    assert.equal(keepsGivens(p.question, p.answer), true);
    assert.equal(countSolutions(p.question, side, 2), 1, 'solution must be unique');
  }
}

test('4x4 puzzles have exactly the requested blanks and one solution (0, 4, 8, 12 blanks)', () => {
  for (const blanks of [0, 4, 8, 12]) checkPuzzles(4, blanks, 100, blanks);
});

test('9x9 puzzles with 30 blanks have exactly 30 blanks and one solution', () => {
  checkPuzzles(9, 30, 20, 30);
});

test('9x9 puzzles with 55 blanks (26 givens) come out unique', () => {
  checkPuzzles(9, 55, 3, 55);
});

test('impossible requests throw a RangeError', () => {
  const rng = new Rng(1);
  // Every 4x4 puzzle with 3 givens has several solutions.
  assert.throws(() => generatePuzzle(4, 13, rng), RangeError);
  assert.throws(() => generatePuzzle(4, 16, rng), RangeError);
  // A unique 9x9 puzzle needs at least 17 givens.
  assert.throws(() => generatePuzzle(9, 65, rng), RangeError);
  assert.throws(() => generatePuzzle(4, -1, rng), RangeError);
  assert.throws(() => generatePuzzle(4, 2.5, rng), RangeError);
  assert.throws(() => generatePuzzle(5 as SudokuSide, 3, rng), RangeError);
});

test('generation is reproducible from the seed', () => {
  const a = generatePuzzle(9, 40, new Rng(7));
  const b = generatePuzzle(9, 40, new Rng(7));
  assert.deepEqual(a, b);
});

test('random 4x4 solved grids are valid and reach all 288 grids', () => {
  const rng = new Rng(3);
  const seen = new Set<string>();
  for (let i = 0; i < 4000; i++) {
    const g = randomSolvedGrid(4, rng);
    assert.equal(isCompleteValidGrid(g, 4), true);
    seen.add(g.join(''));
  }
  assert.equal(seen.size, 288);
});

test('random 9x9 solved grids are valid and differ', () => {
  const rng = new Rng(4);
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const g = randomSolvedGrid(9, rng);
    assert.equal(isCompleteValidGrid(g, 9), true);
    seen.add(g.join(''));
  }
  assert.equal(seen.size, 20);
});
