import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../trainer/random';
import { buildGeneratedSudokuDataset } from '../../trainer/data/generatedDataset';
import { equivalenceKey } from '../../trainer/data/puzzleEquivalence';
import { augmentPuzzle, cyclicDigitShift } from '../../trainer/data/sudokuAugment';
import { countSolutions } from '../../trainer/data/sudokuSolver';
import { isCompleteValidGrid, keepsGivens, type SudokuSide } from '../../trainer/data/sudokuRules';
import { countBlanks, type Puzzle } from '../../trainer/data/puzzle';

const S1 = { side: 4, trainPuzzles: 1000, trainBlanks: [4, 12], testBlanks: [4, 12], testPerBlank: 200, seed: 1 } as const;
const build4 = (seed: number) => buildGeneratedSudokuDataset({ ...S1, seed });

function checkPuzzle(p: Puzzle, side: SudokuSide): void {
  assert.equal(countBlanks(p.question), p.blanks);
  assert.equal(isCompleteValidGrid(p.answer, side), true);
  assert.equal(keepsGivens(p.question, p.answer), true);
  assert.equal(countSolutions(p.question, side), 1);
}

function checkSeparated(train: Puzzle[], test: Puzzle[], side: SudokuSide, rng: Rng): void {
  const testKeys = new Set(test.map((p) => equivalenceKey(p, side)));
  for (const p of train) {
    assert.equal(testKeys.has(equivalenceKey(p, side)), false, 'a train puzzle is equivalent to a test puzzle');
    for (let i = 0; i < 3; i++) {
      assert.equal(testKeys.has(equivalenceKey(augmentPuzzle(p, rng, side), side)), false, 'an augmented train puzzle hits the test set');
    }
    const shift = 1 + rng.int(side - 1);
    const shifted = { question: cyclicDigitShift(p.question, shift, side), answer: cyclicDigitShift(p.answer, shift, side), blanks: p.blanks };
    assert.equal(testKeys.has(equivalenceKey(shifted, side)), false);
  }
}

test('4x4 S1 dataset: sizes, blank ranges, valid unique puzzles', () => {
  // (Its build time is not asserted here: timing belongs in bench/, the machine is shared.)
  const { train, test, testSummary } = build4(1);
  assert.equal(train.length, 1000);
  for (const p of train) {
    assert.ok(p.blanks >= 4 && p.blanks <= 12);
    checkPuzzle(p, 4);
  }
  for (const p of test) checkPuzzle(p, 4);
  // Every train blank count occurs (1000 uniform draws over 9 counts).
  assert.equal(new Set(train.map((p) => p.blanks)).size, 9);
  for (let blanks = 4; blanks <= 12; blanks++) {
    const atBlanks = test.filter((p) => p.blanks === blanks);
    const summary = testSummary.find((s) => s.blanks === blanks)!;
    assert.equal(atBlanks.length, summary.taken);
    assert.ok(atBlanks.length >= 1 && atBlanks.length <= 200);
    assert.ok(summary.taken <= summary.classesFound / 2, 'at least half the classes stay free for training');
    assert.equal(new Set(atBlanks.map((p) => equivalenceKey(p, 4))).size, atBlanks.length, 'test puzzles pairwise non-equivalent');
  }
  // 12 blanks (4 givens) has only a handful of classes, so the cap must have applied there.
  assert.ok(testSummary.find((s) => s.blanks === 12)!.taken < 200);
});

test('4x4 train and test share no equivalence class, even after augmenting train puzzles', () => {
  const { train, test } = build4(2);
  checkSeparated(train, test, 4, new Rng(99));
});

test('the dataset is reproducible from its seed', () => {
  const fingerprint = (d: { train: Puzzle[]; test: Puzzle[] }) =>
    [...d.train, ...d.test].map((p) => p.question.join('') + p.answer.join('')).join('|');
  const small = (seed: number) => buildGeneratedSudokuDataset({ ...S1, trainPuzzles: 100, testPerBlank: 20, seed });
  assert.equal(fingerprint(small(5)), fingerprint(small(5)));
  assert.notEqual(fingerprint(small(5)), fingerprint(small(6)));
});

test('9x9 dataset: train and test separated, test pairwise non-equivalent', () => {
  const { train, test } = buildGeneratedSudokuDataset({
    side: 9, trainPuzzles: 40, trainBlanks: [25, 35], testBlanks: [30, 31], testPerBlank: 5, seed: 3,
  });
  assert.equal(train.length, 40);
  assert.equal(test.length, 10);
  for (const p of [...train, ...test]) checkPuzzle(p, 9);
  assert.equal(new Set(test.map((p) => equivalenceKey(p, 9))).size, 10);
  checkSeparated(train, test, 9, new Rng(98));
});

test('bad options are rejected', () => {
  assert.throws(() => buildGeneratedSudokuDataset({ ...S1, trainBlanks: [8, 4] }), RangeError);
  assert.throws(() => buildGeneratedSudokuDataset({ ...S1, trainPuzzles: -1 }), RangeError);
  assert.throws(() => buildGeneratedSudokuDataset({ ...S1, trainBlanks: [4, 13] }), RangeError);
  assert.throws(() => buildGeneratedSudokuDataset({ ...S1, testBlanks: [2.5, 4] }), RangeError);
});
