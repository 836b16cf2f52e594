// Checking a typed or pasted Sudoku before anything runs (`reclab trace` and `reclab inspect`
// through trainer/data/puzzleCheck.ts, and the refinement view's input box): length, characters,
// clashing givens, whether the model was trained on puzzles of that size, and a typed solution.
// Pure: no Node or DOM.
export type PuzzleInputCheck =
  | { ok: true; side: 4 | 9; cells: number[] }
  | { ok: false; reason: string };

/** Whitespace and the usual grid-drawing characters are ignored, so pasted grids work. */
const IGNORED = /[\s|+\-_]/g;

export function checkPuzzleInput(text: string, trainedSide: 4 | 9): PuzzleInputCheck {
  const compact = text.replace(IGNORED, '');
  if (compact.length === 0) return { ok: false, reason: 'the puzzle is empty' };
  const side = compact.length === 16 ? 4 : compact.length === 81 ? 9 : undefined;
  if (side === undefined) return { ok: false, reason: `expected 16 (4x4) or 81 (9x9) cells, got ${compact.length}` };
  if (side !== trainedSide) return { ok: false, reason: `this model was trained on ${trainedSide}x${trainedSide} puzzles; ${compact.length} cells make a ${side}x${side} puzzle` };
  const cells: number[] = [];
  for (let i = 0; i < compact.length; i++) {
    const ch = compact[i]!;
    if (ch === '.' || ch === '0') cells.push(0);
    else if (ch >= '1' && ch <= String(side)) cells.push(Number(ch));
    else return { ok: false, reason: `cell ${i + 1} (row ${Math.floor(i / side) + 1}, column ${(i % side) + 1}) is "${ch}"; use 1-${side} for digits and . or 0 for blanks` };
  }
  const clash = firstClash(cells, side);
  if (clash) return { ok: false, reason: clash };
  if (cells.every((c) => c !== 0)) return { ok: false, reason: 'the puzzle has no blank cell' };
  return { ok: true, side, cells };
}

/** A solution typed for a checked question: every cell a digit, no clash, every given kept. */
export function checkSolutionInput(text: string, question: readonly number[], side: 4 | 9): PuzzleInputCheck {
  const compact = text.replace(IGNORED, '');
  if (compact.length !== side * side) return { ok: false, reason: `expected ${side * side} cells, got ${compact.length}` };
  const cells: number[] = [];
  for (let i = 0; i < compact.length; i++) {
    const ch = compact[i]!;
    if (!(ch >= '1' && ch <= String(side))) return { ok: false, reason: `cell ${i + 1} is "${ch}"; a solution has a digit 1-${side} in every cell` };
    cells.push(Number(ch));
  }
  const clash = firstClash(cells, side);
  if (clash) return { ok: false, reason: `not a valid grid: ${clash}` };
  const changed = question.findIndex((given, i) => given !== 0 && given !== cells[i]);
  if (changed >= 0) return { ok: false, reason: `cell ${changed + 1} (row ${Math.floor(changed / side) + 1}, column ${(changed % side) + 1}) is ${cells[changed]} but the puzzle gives ${question[changed]}` };
  return { ok: true, side, cells };
}

/** "digit 3 appears twice in row 2", or undefined when the givens are consistent. */
export function firstClash(cells: readonly number[], side: 4 | 9): string | undefined {
  const box = side === 4 ? 2 : 3;
  const units: { name: string; cells: number[] }[] = [];
  for (let r = 0; r < side; r++) units.push({ name: `row ${r + 1}`, cells: [...Array(side)].map((_, c) => r * side + c) });
  for (let c = 0; c < side; c++) units.push({ name: `column ${c + 1}`, cells: [...Array(side)].map((_, r) => r * side + c) });
  for (let b = 0; b < side; b++) {
    const r0 = Math.floor(b / box) * box, c0 = (b % box) * box;
    units.push({ name: `box ${b + 1}`, cells: [...Array(side)].map((_, i) => (r0 + Math.floor(i / box)) * side + c0 + (i % box)) });
  }
  for (const u of units) {
    const seen = new Set<number>();
    for (const i of u.cells) {
      const d = cells[i]!;
      if (d === 0) continue;
      if (seen.has(d)) return `digit ${d} appears twice in ${u.name}`;
      seen.add(d);
    }
  }
  return undefined;
}
