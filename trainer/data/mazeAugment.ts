// The eight symmetries of a square (the dihedral group D4), as the Maze-Hard reference builder
// augments: rotations by 0/90/180/270 degrees, each optionally followed by a transpose. A maze
// symmetry maps walls to walls and paths to paths, so a unique shortest path stays one.
import type { Puzzle } from './puzzle';

/** Index 0..7: rotation k = index % 4 quarter turns clockwise, then a transpose when index >= 4. */
export type DihedralIndex = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;
export const DIHEDRAL_INDICES: readonly DihedralIndex[] = [0, 1, 2, 3, 4, 5, 6, 7];

/** Source cell (row, col) for output cell (r, c) of a side x side grid under the map. */
function sourceOf(index: DihedralIndex, side: number, r: number, c: number): [number, number] {
  // The transpose is applied last, so undo it first.
  let [i, j] = index >= 4 ? [c, r] : [r, c];
  // A clockwise quarter turn sends (i, j) to (j, side-1-i); undo it k times.
  for (let k = 0; k < index % 4; k++) [i, j] = [side - 1 - j, i];
  return [i, j];
}

/** For each output cell, the input cell it takes under the map (row-major indices). */
export function dihedralCellSource(index: DihedralIndex, side: number): Int32Array {
  const out = new Int32Array(side * side);
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      const [i, j] = sourceOf(index, side, r, c);
      out[r * side + c] = i * side + j;
    }
  }
  return out;
}

export function applyDihedral(grid: Uint8Array, index: DihedralIndex, side: number): Uint8Array {
  if (grid.length !== side * side) throw new RangeError(`applyDihedral: expected ${side * side} cells for a ${side}x${side} grid, got ${grid.length}`);
  const out = new Uint8Array(grid.length);
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      const [i, j] = sourceOf(index, side, r, c);
      out[r * side + c] = grid[i * side + j]!;
    }
  }
  return out;
}

/** The map undoing `index`: rotations invert to the opposite turn, the reflections are their own inverse. */
export function inverseDihedral(index: DihedralIndex): DihedralIndex {
  return (index >= 4 ? index : (4 - index) % 4) as DihedralIndex;
}

/** The same map applied to question and answer; the difficulty (path length) is unchanged. */
export function dihedralPuzzle(p: Puzzle, index: DihedralIndex, side: number): Puzzle {
  return { question: applyDihedral(p.question, index, side), answer: applyDihedral(p.answer, index, side), blanks: p.blanks };
}

/** The group of a training maze: itself first, then its seven other images. */
export function dihedralGroup(p: Puzzle, side: number): Puzzle[] {
  return DIHEDRAL_INDICES.map((k) => (k === 0 ? p : dihedralPuzzle(p, k, side)));
}

/** A key shared by a maze and its eight images (the smallest of their byte strings). */
export function dihedralKey(question: Uint8Array, side: number): string {
  let best = '';
  for (const k of DIHEDRAL_INDICES) {
    const key = Buffer.from(applyDihedral(question, k, side)).toString('latin1');
    if (best === '' || key < best) best = key;
  }
  return best;
}
