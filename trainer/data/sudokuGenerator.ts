// Random solved grids and unique-solution puzzles with an exact number of blanks.
import type { Rng } from '../random';
import { countBlanks, type Puzzle } from './puzzle';
import { assertSudokuSide, type SudokuSide } from './sudokuRules';
import { countSolutions, hasSolutionAvoiding, listSolutions, randomSolution } from './sudokuSolver';

/**
 * Most blanks a unique-solution puzzle can have: 4x4 needs at least 4 givens (checked
 * exhaustively); 9x9 needs at least 17 (McGuire, Tugemann and Civario, 2012).
 */
export function maxUniqueBlanks(side: SudokuSide): number {
  return side === 4 ? 12 : 64;
}

/**
 * Most blanks this generator reaches in reasonable time. Random top-down removal rarely gets below
 * ~21 givens on 9x9 (measured: 55 blanks ~1 ms, 59 ~40 ms, 60 ~0.3 s, 61 not reached in 3000
 * attempts), so 61..64 are refused although such puzzles exist.
 */
export function practicalMaxBlanks(side: SudokuSide): number {
  return side === 4 ? 12 : 60;
}

let allFourByFourGrids: Uint8Array[] | null = null;

/**
 * A random complete valid grid. 4x4 draws uniformly from all 288 grids; 9x9 fills the empty grid
 * by search with random digit order (covers every grid, though not exactly uniformly).
 */
export function randomSolvedGrid(side: SudokuSide, rng: Rng): Uint8Array {
  assertSudokuSide(side);
  if (side === 4) {
    allFourByFourGrids ??= listSolutions(new Uint8Array(16), 4, 1000);
    return new Uint8Array(allFourByFourGrids[rng.int(allFourByFourGrids.length)]!);
  }
  const grid = randomSolution(new Uint8Array(side * side), side, rng);
  if (!grid) throw new Error('unreachable: the empty grid has solutions');
  return grid;
}

export interface GeneratePuzzleOptions {
  /** Give up (throw) after this many removal attempts; each attempt starts from a fresh grid. */
  maxAttempts?: number;
}

/**
 * A puzzle with exactly `blanks` blanks and exactly one solution. Blanks cells of a random solved
 * grid in random order, keeping each removal only if the solution stays unique, until `blanks`
 * are reached; an order that gets stuck earlier is abandoned and a new grid is drawn.
 */
export function generatePuzzle(side: SudokuSide, blanks: number, rng: Rng, options: GeneratePuzzleOptions = {}): Puzzle {
  assertSudokuSide(side);
  const cellCount = side * side;
  if (!Number.isInteger(blanks) || blanks < 0) {
    throw new RangeError(`generatePuzzle: blanks must be a non-negative integer, got ${blanks}`);
  }
  if (blanks > maxUniqueBlanks(side)) {
    throw new RangeError(`generatePuzzle: a ${side}x${side} puzzle with a unique solution has at most `
      + `${maxUniqueBlanks(side)} blanks, asked for ${blanks}`);
  }
  if (blanks > practicalMaxBlanks(side)) {
    throw new RangeError(`generatePuzzle: ${blanks} blanks on ${side}x${side} is possible but too rare for this `
      + `generator (at most ${practicalMaxBlanks(side)})`);
  }
  const maxAttempts = options.maxAttempts ?? 10_000;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const answer = randomSolvedGrid(side, rng);
    const question = new Uint8Array(answer);
    let blanked = 0;
    for (const cell of rng.permutation(cellCount)) {
      if (blanked === blanks) break;
      // The question stays unique iff no solution puts another digit in this cell.
      if (!hasSolutionAvoiding(question, side, cell, answer[cell]!)) {
        question[cell] = 0;
        blanked++;
      }
    }
    if (blanked !== blanks) continue;
    if (countSolutions(question, side, 2) !== 1 || countBlanks(question) !== blanks) {
      throw new Error('generatePuzzle: internal check failed (puzzle not unique)');
    }
    return { question, answer, blanks };
  }
  throw new Error(`generatePuzzle: no ${side}x${side} puzzle with ${blanks} blanks after ${maxAttempts} attempts`);
}
