// A Sudoku puzzle as the data module passes it around. Grids are Uint8Arrays of side*side cells,
// row-major, 0 = blank, 1..side = digits.
export interface Puzzle {
  /** The grid shown to the model; 0 marks a blank. */
  question: Uint8Array;
  /** The complete solution (no blanks); every given of `question` appears here unchanged. */
  answer: Uint8Array;
  /** Number of blank cells in `question`. */
  blanks: number;
}

/** Number of blank (0) cells in a grid. */
export function countBlanks(grid: Uint8Array): number {
  let blanks = 0;
  for (const cell of grid) if (cell === 0) blanks++;
  return blanks;
}
