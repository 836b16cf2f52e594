// The reference augmentation `shuffle_sudoku` (TRM/HRM build_sudoku_dataset.py), generalised to
// 4x4 and 9x9, plus the Augmented-HRM cyclic digit shift. Both preserve Sudoku validity.
import type { Rng } from '../random';
import type { Puzzle } from './puzzle';
import { assertSudokuSide, boxSize, type SudokuSide } from './sudokuRules';

/**
 * One symmetry of the Sudoku rules: transpose first (if set), then cell (i, j) of the result takes
 * cell (rowPerm[i], colPerm[j]) of the transposed grid, then every digit d becomes digitMap[d].
 */
export interface SudokuTransform {
  /** digitMap[0] = 0 (blanks stay blank); digitMap[1..side] is a permutation of 1..side. */
  readonly digitMap: Uint8Array;
  readonly transpose: boolean;
  /** Band-respecting row order: bands permuted, rows permuted inside each band. */
  readonly rowPerm: Uint8Array;
  /** Stack-respecting column order. */
  readonly colPerm: Uint8Array;
}

/** Random rows (or columns) order that keeps bands (stacks) together, drawn as the reference does. */
function randomBandPermutation(side: SudokuSide, rng: Rng): Uint8Array {
  const box = boxSize(side);
  const perm = new Uint8Array(side);
  let i = 0;
  for (const band of rng.permutation(box)) {
    for (const row of rng.permutation(box)) perm[i++] = band * box + row;
  }
  return perm;
}

/** A random transform, drawing in the reference's order: digits, transpose, rows, columns. */
export function randomTransform(side: SudokuSide, rng: Rng): SudokuTransform {
  assertSudokuSide(side);
  const digitMap = new Uint8Array(side + 1);
  rng.permutation(side).forEach((d, i) => { digitMap[i + 1] = d + 1; });
  const transpose = rng.float() < 0.5;
  const rowPerm = randomBandPermutation(side, rng);
  const colPerm = randomBandPermutation(side, rng);
  return { digitMap, transpose, rowPerm, colPerm };
}

export function identityTransform(side: SudokuSide): SudokuTransform {
  const digitMap = Uint8Array.from({ length: side + 1 }, (_, d) => d);
  const order = Uint8Array.from({ length: side }, (_, i) => i);
  return { digitMap, transpose: false, rowPerm: order, colPerm: new Uint8Array(order) };
}

export function applyTransform(grid: Uint8Array, t: SudokuTransform, side: SudokuSide): Uint8Array {
  if (grid.length !== side * side) throw new RangeError(`expected ${side * side} cells, got ${grid.length}`);
  const out = new Uint8Array(grid.length);
  for (let i = 0; i < side; i++) {
    const r = t.rowPerm[i]!;
    for (let j = 0; j < side; j++) {
      const c = t.colPerm[j]!;
      // (r, c) of the transposed grid is (c, r) of the original.
      const source = t.transpose ? c * side + r : r * side + c;
      out[i * side + j] = t.digitMap[grid[source]!]!;
    }
  }
  return out;
}

/** The same random transform applied to question and answer. */
export function augmentPuzzle(p: Puzzle, rng: Rng, side: SudokuSide): Puzzle {
  const t = randomTransform(side, rng);
  return { question: applyTransform(p.question, t, side), answer: applyTransform(p.answer, t, side), blanks: p.blanks };
}

/**
 * Augmented-HRM input perturbation (`sudoku_cyclic_shift`): digit d -> ((d - 1 + p) mod side) + 1,
 * blanks unchanged. p = 0..side-1 gives the side relabelled copies (0 = identity).
 */
export function cyclicDigitShift(grid: Uint8Array, p: number, side: SudokuSide): Uint8Array {
  if (!Number.isInteger(p)) throw new RangeError(`cyclicDigitShift: shift must be an integer, got ${p}`);
  const shift = ((p % side) + side) % side;
  return grid.map((d) => (d === 0 ? 0 : ((d - 1 + shift) % side) + 1));
}
