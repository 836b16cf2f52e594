// Sudoku geometry and the label-free rule checks: 4x4 (2x2 boxes) and 9x9 (3x3 boxes).
// Cells are indexed row-major: cell = row * side + col.

export type SudokuSide = 4 | 9;

export function isSudokuSide(n: number): n is SudokuSide {
  return n === 4 || n === 9;
}

export function assertSudokuSide(n: number): asserts n is SudokuSide {
  if (!isSudokuSide(n)) throw new RangeError(`Sudoku side must be 4 or 9, got ${n}`);
}

/** Side of the square boxes: 2 for 4x4, 3 for 9x9. Also the number of bands and of stacks. */
export function boxSize(side: SudokuSide): number {
  return side === 4 ? 2 : 3;
}

/** The side whose grid has `cellCount` cells (16 → 4, 81 → 9). */
export function sideForCellCount(cellCount: number): SudokuSide {
  const side = Math.round(Math.sqrt(cellCount));
  if (side * side !== cellCount || !isSudokuSide(side)) {
    throw new RangeError(`a Sudoku grid has 16 or 81 cells, got ${cellCount}`);
  }
  return side;
}

export interface SudokuGeometry {
  side: SudokuSide;
  box: number;
  cellCount: number;
  rowOf: Uint8Array;
  colOf: Uint8Array;
  boxOf: Uint8Array;
  /** Every row, then every column, then every box, each as its list of cell indices. */
  units: readonly (readonly number[])[];
}

const geometryCache = new Map<SudokuSide, SudokuGeometry>();

export function sudokuGeometry(side: SudokuSide): SudokuGeometry {
  const cached = geometryCache.get(side);
  if (cached) return cached;
  assertSudokuSide(side);
  const box = boxSize(side);
  const cellCount = side * side;
  const rowOf = new Uint8Array(cellCount);
  const colOf = new Uint8Array(cellCount);
  const boxOf = new Uint8Array(cellCount);
  const rows: number[][] = Array.from({ length: side }, () => []);
  const cols: number[][] = Array.from({ length: side }, () => []);
  const boxes: number[][] = Array.from({ length: side }, () => []);
  for (let cell = 0; cell < cellCount; cell++) {
    const r = Math.floor(cell / side);
    const c = cell % side;
    const b = Math.floor(r / box) * box + Math.floor(c / box);
    rowOf[cell] = r;
    colOf[cell] = c;
    boxOf[cell] = b;
    rows[r]!.push(cell);
    cols[c]!.push(cell);
    boxes[b]!.push(cell);
  }
  const geometry: SudokuGeometry = { side, box, cellCount, rowOf, colOf, boxOf, units: [...rows, ...cols, ...boxes] };
  geometryCache.set(side, geometry);
  return geometry;
}

function assertGridSize(grid: Uint8Array, side: SudokuSide): void {
  if (grid.length !== side * side) {
    throw new RangeError(`expected a ${side}x${side} grid of ${side * side} cells, got ${grid.length}`);
  }
}

/**
 * Number of duplicate-digit conflicts: the sum over every row, column and box and every digit of
 * max(0, count - 1). Blanks are ignored, so a partially filled grid without clashes scores 0.
 * Needs no answer key, which is what makes it usable as a label-free validity signal.
 */
export function constraintViolations(grid: Uint8Array, side: SudokuSide): number {
  assertGridSize(grid, side);
  const { units } = sudokuGeometry(side);
  const counts = new Uint8Array(side + 1);
  let violations = 0;
  for (const unit of units) {
    counts.fill(0);
    for (const cell of unit) {
      const digit = grid[cell]!;
      if (digit < 1 || digit > side) continue;
      if (counts[digit]! > 0) violations++;
      counts[digit] = counts[digit]! + 1;
    }
  }
  return violations;
}

/** True when every cell holds a digit 1..side and no row, column or box repeats one. */
export function isCompleteValidGrid(grid: Uint8Array, side: SudokuSide): boolean {
  if (grid.length !== side * side) return false;
  const { rowOf, colOf, boxOf } = sudokuGeometry(side);
  // Bit d of rowSeen[r] is set once digit d has appeared in row r (likewise columns, boxes).
  const rowSeen = new Uint16Array(side);
  const colSeen = new Uint16Array(side);
  const boxSeen = new Uint16Array(side);
  for (let cell = 0; cell < grid.length; cell++) {
    const digit = grid[cell]!;
    if (digit < 1 || digit > side) return false;
    const bit = 1 << digit;
    const r = rowOf[cell]!, c = colOf[cell]!, b = boxOf[cell]!;
    if ((rowSeen[r]! | colSeen[c]! | boxSeen[b]!) & bit) return false;
    rowSeen[r] = rowSeen[r]! | bit;
    colSeen[c] = colSeen[c]! | bit;
    boxSeen[b] = boxSeen[b]! | bit;
  }
  return true;
}

/** True when `grid` has the same size as `question` and agrees with every given (non-blank) cell. */
export function keepsGivens(question: Uint8Array, grid: Uint8Array): boolean {
  if (question.length !== grid.length) return false;
  for (let i = 0; i < question.length; i++) {
    const given = question[i]!;
    if (given !== 0 && grid[i] !== given) return false;
  }
  return true;
}
