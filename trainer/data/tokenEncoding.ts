// The reference token encoding (TRM/HRM build_sudoku_dataset.py), shifted to the grid's side:
// PAD 0, blank 1, digit d -> d + 1. Labels never contain blanks or PAD.
import { sideForCellCount, type SudokuSide } from './sudokuRules';

export const PAD_TOKEN = 0;
export const BLANK_TOKEN = 1;
/** Token of digit 1; digit d is FIRST_DIGIT_TOKEN + d - 1. */
export const FIRST_DIGIT_TOKEN = 2;

/** Number of token ids: PAD, blank and one per digit (6 for 4x4, 11 for 9x9). */
export function vocabSize(side: SudokuSide): number {
  return side + 2;
}

/** Model input tokens for a question grid (blank -> 1, digit d -> d + 1). */
export function encodeQuestion(grid: Uint8Array): Int32Array {
  const side = sideForCellCount(grid.length);
  const tokens = new Int32Array(grid.length);
  for (let i = 0; i < grid.length; i++) {
    const cell = grid[i]!;
    if (cell > side) throw new RangeError(`encodeQuestion: cell ${i} holds ${cell}, outside 0..${side}`);
    tokens[i] = cell + 1;
  }
  return tokens;
}

/** Label tokens for a complete answer grid (digit d -> d + 1); a blank is an error. */
export function encodeAnswer(grid: Uint8Array): Int32Array {
  const side = sideForCellCount(grid.length);
  const tokens = new Int32Array(grid.length);
  for (let i = 0; i < grid.length; i++) {
    const cell = grid[i]!;
    if (cell < 1 || cell > side) throw new RangeError(`encodeAnswer: cell ${i} holds ${cell}, expected a digit 1..${side}`);
    tokens[i] = cell + 1;
  }
  return tokens;
}

/**
 * Grid for a token sequence (e.g. a model's argmax): tokens 2..side+1 become digits 1..side,
 * anything else (PAD, blank, out of range) becomes 0. The side follows from the length (16 or 81).
 */
export function decodeTokens(tokens: ArrayLike<number>): Uint8Array {
  const side = sideForCellCount(tokens.length);
  const grid = new Uint8Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token >= FIRST_DIGIT_TOKEN && token <= side + 1) grid[i] = token - 1;
  }
  return grid;
}
