// A generated Sudoku dataset whose train and test sides share no puzzle up to augmentation: no
// test puzzle, and no relabelled / transposed / row- or column-permuted copy of one, is trained on.
import { Rng } from '../random';
import type { Puzzle } from './puzzle';
import { equivalenceKey } from './puzzleEquivalence';
import { generatePuzzle, practicalMaxBlanks } from './sudokuGenerator';
import { assertSudokuSide, type SudokuSide } from './sudokuRules';

export interface GeneratedDatasetOptions {
  side: 4 | 9;
  trainPuzzles: number;
  /** Inclusive range of blank counts; each train puzzle draws its count uniformly from it. */
  trainBlanks: readonly [number, number];
  /** Inclusive range of blank counts; the test set has up to testPerBlank puzzles per count. */
  testBlanks: readonly [number, number];
  testPerBlank: number;
  seed: number;
}

export interface TestBlankSummary {
  blanks: number;
  /** Distinct equivalence classes met while drawing candidates for this blank count. */
  classesFound: number;
  /** How many of them became test puzzles. */
  taken: number;
}

export interface GeneratedDataset {
  train: Puzzle[];
  /** Grouped by blank count, ascending; within a count, puzzles are pairwise non-equivalent. */
  test: Puzzle[];
  testSummary: TestBlankSummary[];
}

// Candidate drawing for one test blank count stops after this many draws in a row found no new
// class (the classes are then almost surely exhausted), or at the draw cap.
const SATURATION_PATIENCE = 300;
const DRAWS_PER_WANTED_CLASS = 20;
// A train puzzle whose draws keep landing in test classes fails after this many tries.
const TRAIN_ATTEMPTS_PER_PUZZLE = 2000;

function blankRange([min, max]: readonly [number, number], side: SudokuSide, name: string): number[] {
  const limit = practicalMaxBlanks(side);
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || min > max || max > limit) {
    throw new RangeError(`${name} must be integers [min, max] with 0 <= min <= max <= ${limit} for ${side}x${side}, `
      + `got [${min}, ${max}]`);
  }
  return Array.from({ length: max - min + 1 }, (_, i) => min + i);
}

/**
 * Builds the test set first, then the train set away from it.
 *
 * Test: for each test blank count, draws puzzles until 2 x testPerBlank distinct equivalence
 * classes are found or no new class has turned up for a while, then takes a random
 * min(testPerBlank, floor(classesFound / 2)) of them. Some blank counts have few classes (4x4:
 * 2 at 0-1 blanks, 22 at 2, ~200 at 4, ~100 at 11, 13 at 12), and the cap leaves at least half of
 * them free, so those blank counts can still be trained on; the test set is then smaller than
 * asked there (see testSummary).
 *
 * Train: each puzzle draws its blank count uniformly from trainBlanks and is redrawn while its
 * class is a test class. Train puzzles may repeat one another. Deterministic given the seed.
 */
export function buildGeneratedSudokuDataset(opts: GeneratedDatasetOptions): GeneratedDataset {
  const { side, trainPuzzles, testPerBlank, seed } = opts;
  assertSudokuSide(side);
  if (!Number.isInteger(trainPuzzles) || trainPuzzles < 0) {
    throw new RangeError(`trainPuzzles must be a non-negative integer, got ${trainPuzzles}`);
  }
  if (!Number.isInteger(testPerBlank) || testPerBlank < 0) {
    throw new RangeError(`testPerBlank must be a non-negative integer, got ${testPerBlank}`);
  }
  const trainCounts = blankRange(opts.trainBlanks, side, 'trainBlanks');
  const testCounts = blankRange(opts.testBlanks, side, 'testBlanks');

  const root = new Rng(seed);
  const testRng = root.fork();
  const trainRng = root.fork();

  const test: Puzzle[] = [];
  const testKeys = new Set<string>();
  const testSummary: TestBlankSummary[] = [];
  for (const blanks of testCounts) {
    if (testPerBlank === 0) break;
    const wanted = 2 * testPerBlank;
    const classes = new Map<string, Puzzle>();
    const maxDraws = DRAWS_PER_WANTED_CLASS * wanted + SATURATION_PATIENCE;
    let drawsWithoutNewClass = 0;
    for (let draw = 0; draw < maxDraws && classes.size < wanted && drawsWithoutNewClass < SATURATION_PATIENCE; draw++) {
      const puzzle = generatePuzzle(side, blanks, testRng);
      const key = equivalenceKey(puzzle, side);
      if (classes.has(key)) {
        drawsWithoutNewClass++;
      } else {
        classes.set(key, puzzle);
        drawsWithoutNewClass = 0;
      }
    }
    // A random subset of the classes found, not the first ones found (those are the most common).
    const taken = Math.min(testPerBlank, Math.floor(classes.size / 2));
    const found = [...classes];
    for (const index of testRng.permutation(found.length).slice(0, taken).sort((a, b) => a - b)) {
      const [key, puzzle] = found[index]!;
      test.push(puzzle);
      testKeys.add(key);
    }
    testSummary.push({ blanks, classesFound: classes.size, taken });
  }

  const train: Puzzle[] = [];
  for (let n = 0; n < trainPuzzles; n++) {
    const blanks = trainCounts[trainRng.int(trainCounts.length)]!;
    let accepted: Puzzle | null = null;
    for (let attempt = 0; attempt < TRAIN_ATTEMPTS_PER_PUZZLE && !accepted; attempt++) {
      const puzzle = generatePuzzle(side, blanks, trainRng);
      if (!testKeys.has(equivalenceKey(puzzle, side))) accepted = puzzle;
    }
    if (!accepted) {
      throw new Error(`buildGeneratedSudokuDataset: could not draw a ${side}x${side} train puzzle with ${blanks} blanks `
        + `outside the test classes in ${TRAIN_ATTEMPTS_PER_PUZZLE} tries; lower testPerBlank or change trainBlanks`);
    }
    train.push(accepted);
  }
  return { train, test, testSummary };
}
