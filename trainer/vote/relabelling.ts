// Test-time relabellings of a grid puzzle (Augmented HRM, reference.md §3.2): a pass runs the
// model on a relabelled copy, its answer is mapped back through the inverse, and only then are
// the passes' answers compared or voted on. Every relabelling here is a permutation of the
// cells combined with a map of the cell values, so the inverse is exact for any of them:
//   out[i] = valueMap[in[cellSource[i]]].
import { applyTransform, identityTransform, randomTransform, type SudokuTransform } from '../data/sudokuAugment';
import type { SudokuSide } from '../data/sudokuRules';
import { DIHEDRAL_INDICES, dihedralCellSource } from '../data/mazeAugment';
import { MAZE_GOAL, MAZE_START, MAZE_VOCAB_SIZE } from '../data/mazeGrid';
import type { Rng } from '../random';

export interface Relabelling {
  /** For reports: "identity", "shift+3", "symmetry#2", ... */
  readonly name: string;
  /** out[i] takes in[cellSource[i]]. */
  readonly cellSource: Int32Array;
  /** New value of each old value; a permutation of 0..values-1. */
  readonly valueMap: Uint8Array;
}

export function applyRelabelling(grid: Uint8Array, r: Relabelling): Uint8Array {
  if (grid.length !== r.cellSource.length) throw new RangeError(`relabelling ${r.name}: expected ${r.cellSource.length} cells, got ${grid.length}`);
  const out = new Uint8Array(grid.length);
  for (let i = 0; i < grid.length; i++) {
    const v = grid[r.cellSource[i]!]!;
    if (v >= r.valueMap.length) throw new RangeError(`relabelling ${r.name}: cell value ${v} outside 0..${r.valueMap.length - 1}`);
    out[i] = r.valueMap[v]!;
  }
  return out;
}

/** The relabelling that undoes `r`: applyRelabelling(applyRelabelling(g, r), inverse(r)) = g. */
export function inverseRelabelling(r: Relabelling): Relabelling {
  const cellSource = new Int32Array(r.cellSource.length);
  r.cellSource.forEach((src, i) => { cellSource[src] = i; });
  const valueMap = new Uint8Array(r.valueMap.length);
  r.valueMap.forEach((to, from) => { valueMap[to] = from; });
  return { name: `inverse(${r.name})`, cellSource, valueMap };
}

function identityCells(cells: number): Int32Array {
  return Int32Array.from({ length: cells }, (_, i) => i);
}

/**
 * `sudoku_cyclic_shift` (§3.2): digit d -> ((d - 1 + p) mod side) + 1, blanks (0) unchanged,
 * for p = 0..count-1 (count ≤ side; p = 0 is the identity, so the original comes first).
 */
export function cyclicShiftRelabellings(side: SudokuSide, count: number = side): Relabelling[] {
  if (!Number.isInteger(count) || count < 1 || count > side) throw new RangeError(`relabellings: expected 1..${side} digit shifts, got ${count}`);
  return Array.from({ length: count }, (_, p) => ({
    name: p === 0 ? 'identity' : `shift+${p}`,
    cellSource: identityCells(side * side),
    valueMap: Uint8Array.from({ length: side + 1 }, (_, d) => (d === 0 ? 0 : ((d - 1 + p) % side) + 1)),
  }));
}

/** A Sudoku symmetry (digits, transpose, bands, rows, stacks, columns) as a relabelling. */
export function sudokuSymmetryRelabelling(t: SudokuTransform, side: SudokuSide, name: string): Relabelling {
  // Where each cell of the result comes from: transform the grid of cell indices, digits fixed.
  const cells = side * side;
  const source = new Int32Array(cells);
  const byIndex = identityTransform(side);
  // applyTransform maps values through digitMap, so move one index at a time through the geometry.
  const geometryOnly: SudokuTransform = { ...t, digitMap: byIndex.digitMap };
  for (let cell = 0; cell < cells; cell++) {
    const marker = new Uint8Array(cells);
    marker[cell] = 1;
    const moved = applyTransform(marker, geometryOnly, side);
    source[moved.indexOf(1)] = cell;
  }
  return { name, cellSource: source, valueMap: Uint8Array.from(t.digitMap) };
}

/** The identity, then count − 1 random Sudoku symmetries drawn from `rng`. */
export function randomSymmetryRelabellings(side: SudokuSide, count: number, rng: Rng): Relabelling[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`relabellings: expected a count >= 1, got ${count}`);
  return Array.from({ length: count }, (_, i) =>
    sudokuSymmetryRelabelling(i === 0 ? identityTransform(side) : randomTransform(side, rng), side, i === 0 ? 'identity' : `symmetry#${i}`));
}

/**
 * Maze relabellings (§3.2): the reference's start/goal swap (`maze_swap`, S <-> G: the same path
 * read backwards), then the seven other dihedral maps, then each of those with the swap — up to 16.
 * Cells hold maze tokens (wall, open, S, G, path), so the value map acts on tokens.
 */
export function mazeRelabellings(side: number, count = 2): Relabelling[] {
  if (!Number.isInteger(count) || count < 1 || count > 16) throw new RangeError(`relabellings: expected 1..16 maze relabellings, got ${count}`);
  const same = Uint8Array.from({ length: MAZE_VOCAB_SIZE }, (_, t) => t);
  const swapped = same.map((t) => (t === MAZE_START ? MAZE_GOAL : t === MAZE_GOAL ? MAZE_START : t));
  const all: Relabelling[] = [
    { name: 'identity', cellSource: dihedralCellSource(0, side), valueMap: same },
    { name: 'swap S/G', cellSource: dihedralCellSource(0, side), valueMap: swapped },
  ];
  for (const k of DIHEDRAL_INDICES.slice(1)) all.push({ name: `dihedral#${k}`, cellSource: dihedralCellSource(k, side), valueMap: same });
  for (const k of DIHEDRAL_INDICES.slice(1)) all.push({ name: `dihedral#${k}+swap`, cellSource: dihedralCellSource(k, side), valueMap: swapped });
  return all.slice(0, count);
}
