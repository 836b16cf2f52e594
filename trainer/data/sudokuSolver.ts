// Exact Sudoku solver: bitmask candidates per row/column/box and depth-first search that always
// branches on the most constrained blank cell, after filling forced cells (naked and hidden
// singles). The singles keep very hard 9x9 puzzles at a few ms (Easter Monster: ~2 ms).
import type { Rng } from '../random';
import { sudokuGeometry, type SudokuGeometry, type SudokuSide } from './sudokuRules';

// Bit (d - 1) stands for digit d.
const POPCOUNT = new Uint8Array(1 << 9);
for (let m = 1; m < POPCOUNT.length; m++) POPCOUNT[m] = (m & 1) + POPCOUNT[m >> 1]!;

function lowestDigit(mask: number): number {
  return 32 - Math.clz32(mask & -mask);
}

interface SearchOptions {
  /** Stop after this many solutions. */
  limit: number;
  /** Try candidate digits in random order (for generating random grids). */
  rng?: Rng;
  /** Forbid one digit in one cell (used to test whether a given is implied by the others). */
  forbiddenCell?: number;
  forbiddenDigit?: number;
  /** Called with each solution found, in the order found. */
  onSolution?: (solution: Uint8Array) => void;
}

class Search {
  private readonly geo: SudokuGeometry;
  private readonly full: number;
  private readonly grid: Uint8Array;
  private readonly rowUsed: Uint16Array;
  private readonly colUsed: Uint16Array;
  private readonly boxUsed: Uint16Array;
  private readonly blanks: Int16Array;
  private blankCount = 0;
  // Cells filled since the search began, so each branch can undo exactly what it did.
  private readonly trail: Int16Array;
  private trailLength = 0;
  private readonly forbiddenMask: Uint16Array;
  found = 0;
  first: Uint8Array | null = null;

  constructor(side: SudokuSide, start: Uint8Array, private readonly options: SearchOptions) {
    this.geo = sudokuGeometry(side);
    if (start.length !== this.geo.cellCount) {
      throw new RangeError(`expected a ${side}x${side} grid of ${this.geo.cellCount} cells, got ${start.length}`);
    }
    this.full = (1 << side) - 1;
    this.grid = new Uint8Array(start);
    this.rowUsed = new Uint16Array(side);
    this.colUsed = new Uint16Array(side);
    this.boxUsed = new Uint16Array(side);
    this.blanks = new Int16Array(this.geo.cellCount);
    this.trail = new Int16Array(this.geo.cellCount);
    this.forbiddenMask = new Uint16Array(this.geo.cellCount);
    const { forbiddenCell, forbiddenDigit } = options;
    if (forbiddenCell !== undefined && forbiddenDigit !== undefined) {
      this.forbiddenMask[forbiddenCell] = 1 << (forbiddenDigit - 1);
    }
  }

  /** Runs the search; false if the givens already clash or a digit is out of range. */
  run(): boolean {
    const { cellCount, rowOf, colOf, boxOf } = this.geo;
    for (let cell = 0; cell < cellCount; cell++) {
      const digit = this.grid[cell]!;
      if (digit === 0) {
        this.blanks[this.blankCount++] = cell;
        continue;
      }
      const bit = 1 << (digit - 1);
      if (digit > this.geo.side || (this.forbiddenMask[cell]! & bit) !== 0) return false;
      const r = rowOf[cell]!, c = colOf[cell]!, b = boxOf[cell]!;
      if ((this.rowUsed[r]! | this.colUsed[c]! | this.boxUsed[b]!) & bit) return false;
      this.rowUsed[r] = this.rowUsed[r]! | bit;
      this.colUsed[c] = this.colUsed[c]! | bit;
      this.boxUsed[b] = this.boxUsed[b]! | bit;
    }
    this.descend();
    return true;
  }

  private candidates(cell: number): number {
    const { rowOf, colOf, boxOf } = this.geo;
    return this.full & ~(this.rowUsed[rowOf[cell]!]! | this.colUsed[colOf[cell]!]! | this.boxUsed[boxOf[cell]!]!
      | this.forbiddenMask[cell]!);
  }

  private place(cell: number, digit: number): void {
    const { rowOf, colOf, boxOf } = this.geo;
    const bit = 1 << (digit - 1);
    this.grid[cell] = digit;
    const r = rowOf[cell]!, c = colOf[cell]!, b = boxOf[cell]!;
    this.rowUsed[r] = this.rowUsed[r]! | bit;
    this.colUsed[c] = this.colUsed[c]! | bit;
    this.boxUsed[b] = this.boxUsed[b]! | bit;
    this.trail[this.trailLength++] = cell;
  }

  private undoTo(trailLength: number): void {
    const { rowOf, colOf, boxOf } = this.geo;
    while (this.trailLength > trailLength) {
      const cell = this.trail[--this.trailLength]!;
      const clear = ~(1 << (this.grid[cell]! - 1));
      const r = rowOf[cell]!, c = colOf[cell]!, b = boxOf[cell]!;
      this.rowUsed[r] = this.rowUsed[r]! & clear;
      this.colUsed[c] = this.colUsed[c]! & clear;
      this.boxUsed[b] = this.boxUsed[b]! & clear;
      this.grid[cell] = 0;
    }
  }

  /** Removes filled cells from the blank list (order is not kept; the list is rebuilt on undo). */
  private compactBlanks(): void {
    let kept = 0;
    for (let k = 0; k < this.blankCount; k++) {
      const cell = this.blanks[k]!;
      if (this.grid[cell] === 0) this.blanks[kept++] = cell;
    }
    this.blankCount = kept;
  }

  /**
   * Fills naked singles (one candidate) and hidden singles (a digit with one place in a unit)
   * until none are left. Returns false on a contradiction.
   */
  private propagate(): boolean {
    const { units, side } = this.geo;
    for (;;) {
      let progress = false;
      for (let k = 0; k < this.blankCount; k++) {
        const cell = this.blanks[k]!;
        if (this.grid[cell] !== 0) continue;
        const mask = this.candidates(cell);
        if (mask === 0) return false;
        if ((mask & (mask - 1)) === 0) {
          this.place(cell, lowestDigit(mask));
          progress = true;
        }
      }
      if (progress) {
        this.compactBlanks();
        continue;
      }
      // Hidden singles: a digit with exactly one possible cell in some unit.
      for (const unit of units) {
        let seenOnce = 0, seenTwice = 0, placed = 0;
        for (let i = 0; i < side; i++) {
          const cell = unit[i]!;
          const digit = this.grid[cell]!;
          if (digit !== 0) {
            placed |= 1 << (digit - 1);
            continue;
          }
          const mask = this.candidates(cell);
          seenTwice |= seenOnce & mask;
          seenOnce |= mask;
        }
        if ((seenOnce | placed) !== this.full) return false; // some digit has no place in this unit
        let single = seenOnce & ~seenTwice & ~placed;
        while (single !== 0) {
          const bit = single & -single;
          single ^= bit;
          for (let i = 0; i < side; i++) {
            const cell = unit[i]!;
            if (this.grid[cell] === 0 && (this.candidates(cell) & bit) !== 0) {
              this.place(cell, lowestDigit(bit));
              progress = true;
              break;
            }
          }
        }
      }
      if (!progress) return true;
      this.compactBlanks();
    }
  }

  /** Returns true when the search should stop (limit reached). */
  private descend(): boolean {
    const trailMark = this.trailLength;
    const blankMark = this.blankCount;
    const blanksBefore = this.blanks.slice(0, blankMark);
    this.compactBlanks(); // drops the cell the caller just filled
    const stop = this.propagate() && this.branch();
    this.undoTo(trailMark);
    this.blanks.set(blanksBefore);
    this.blankCount = blankMark;
    return stop;
  }

  private branch(): boolean {
    if (this.blankCount === 0) {
      this.found++;
      const solution = new Uint8Array(this.grid);
      if (this.first === null) this.first = solution;
      this.options.onSolution?.(solution);
      return this.found >= this.options.limit;
    }
    let bestCell = -1, bestMask = 0, bestCount = 99;
    for (let k = 0; k < this.blankCount; k++) {
      const cell = this.blanks[k]!;
      const mask = this.candidates(cell);
      const count = POPCOUNT[mask]!;
      if (count < bestCount) {
        bestCell = cell;
        bestMask = mask;
        bestCount = count;
        if (count <= 2) break;
      }
    }
    const digits: number[] = [];
    for (let m = bestMask; m !== 0; m &= m - 1) digits.push(lowestDigit(m));
    this.options.rng?.shuffle(digits);
    for (const digit of digits) {
      const trailMark = this.trailLength;
      this.place(bestCell, digit);
      const stop = this.descend();
      this.undoTo(trailMark);
      if (stop) return true;
    }
    return false;
  }
}

function runSearch(grid: Uint8Array, side: SudokuSide, options: SearchOptions): Search {
  const search = new Search(side, grid, options);
  search.run();
  return search;
}

/**
 * Number of solutions of `grid` (0 = blank), counting at most `limit`: the default 2 answers
 * "none / unique / several". Givens that already clash give 0.
 */
export function countSolutions(grid: Uint8Array, side: SudokuSide, limit = 2): number {
  if (!(limit >= 1)) throw new RangeError(`countSolutions: limit must be at least 1, got ${limit}`);
  return runSearch(grid, side, { limit }).found;
}

/** One solution of `grid`, or null if it has none. Deterministic: always the same one. */
export function solve(grid: Uint8Array, side: SudokuSide): Uint8Array | null {
  return runSearch(grid, side, { limit: 1 }).first;
}

/** Every solution of `grid`, up to `limit` of them, in search order. */
export function listSolutions(grid: Uint8Array, side: SudokuSide, limit: number): Uint8Array[] {
  const solutions: Uint8Array[] = [];
  runSearch(grid, side, { limit, onSolution: (s) => solutions.push(s) });
  return solutions;
}

/** A solution of `grid` reached by trying candidate digits in random order, or null if none. */
export function randomSolution(grid: Uint8Array, side: SudokuSide, rng: Rng): Uint8Array | null {
  return runSearch(grid, side, { limit: 1, rng }).first;
}

/**
 * True when `grid` has a solution in which `cell` does not hold `digit`. For a grid whose
 * solutions all agree, false means the cell's digit is forced, so blanking the cell keeps the
 * solution unique. Cheaper than counting to 2 because it stops at the first solution.
 */
export function hasSolutionAvoiding(grid: Uint8Array, side: SudokuSide, cell: number, digit: number): boolean {
  const blanked = new Uint8Array(grid);
  blanked[cell] = 0;
  return runSearch(blanked, side, { limit: 1, forbiddenCell: cell, forbiddenDigit: digit }).found > 0;
}
