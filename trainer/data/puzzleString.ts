// Text form of a grid: side*side characters row-major, '1'..side for digits, '.' or '0' for blank.
import { assertSudokuSide, type SudokuSide } from './sudokuRules';

const CODE_0 = 48;
const CODE_DOT = 46;

/**
 * Parses `text` into `out` (side*side cells). Returns null on success, otherwise a short
 * description of the first problem, for the caller to prefix with where the text came from.
 */
export function parseCellsInto(text: string, side: SudokuSide, out: Uint8Array, allowBlanks: boolean): string | null {
  const cellCount = side * side;
  if (text.length !== cellCount) return `expected ${cellCount} characters, got ${text.length}`;
  for (let i = 0; i < cellCount; i++) {
    const code = text.charCodeAt(i);
    const digit = code - CODE_0;
    if (digit >= 1 && digit <= side) {
      out[i] = digit;
    } else if (allowBlanks && (code === CODE_DOT || digit === 0)) {
      out[i] = 0;
    } else {
      const expected = allowBlanks ? `a digit 1-${side} or '.'` : `a digit 1-${side}`;
      return `character ${i + 1} is ${JSON.stringify(text[i])}, expected ${expected}`;
    }
  }
  return null;
}

/** A grid from its 16- or 81-character text form; blanks may be '.' or '0'. */
export function parsePuzzleString(s: string, side: SudokuSide): Uint8Array {
  assertSudokuSide(side);
  const grid = new Uint8Array(side * side);
  const problem = parseCellsInto(s, side, grid, true);
  if (problem !== null) throw new Error(`invalid ${side}x${side} puzzle string: ${problem}`);
  return grid;
}

/** The text form of a grid, '.' for blanks. */
export function formatPuzzleString(grid: Uint8Array): string {
  let text = '';
  for (const cell of grid) text += cell === 0 ? '.' : String(cell);
  return text;
}
