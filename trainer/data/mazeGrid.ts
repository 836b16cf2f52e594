// A maze as the data modules pass it around: H x W cells, row-major, each cell already its model
// token (reference.md §1.1, Maze-Hard charset "# SGo"): PAD 0, '#' wall 1, ' ' open 2, 'S' start 3,
// 'G' goal 4, 'o' path 5 (labels only). Questions hold 1..4, answers 1..5; the model input and
// label are the cells unchanged.
export const MAZE_CHARSET = '# SGo';
export const MAZE_WALL = 1;
export const MAZE_OPEN = 2;
export const MAZE_START = 3;
export const MAZE_GOAL = 4;
export const MAZE_PATH = 5;
/** PAD plus the five characters. */
export const MAZE_VOCAB_SIZE = 6;

export interface MazeShape {
  height: number;
  width: number;
}

/** The cell value of a charset character, or 0 when it is not one. */
export function mazeCellOf(ch: string): number {
  const i = MAZE_CHARSET.indexOf(ch);
  return ch.length === 1 && i >= 0 ? i + 1 : 0;
}

/** The grid as text, one line per row (for messages and tests). */
export function mazeToText(grid: Uint8Array, shape: MazeShape): string {
  const rows: string[] = [];
  for (let r = 0; r < shape.height; r++) {
    let line = '';
    for (let c = 0; c < shape.width; c++) line += MAZE_CHARSET[grid[r * shape.width + c]! - 1] ?? '?';
    rows.push(line);
  }
  return rows.join('\n');
}

/** Row-major cells of a text maze (rows joined by '\n'); throws on a character outside the charset. */
export function mazeFromText(text: string): { grid: Uint8Array; shape: MazeShape } {
  const rows = text.split('\n');
  const width = rows[0]!.length;
  const grid = new Uint8Array(rows.length * width);
  rows.forEach((row, r) => {
    if (row.length !== width) throw new RangeError(`mazeFromText: row ${r + 1} has ${row.length} cells, row 1 has ${width}`);
    for (let c = 0; c < width; c++) {
      const cell = mazeCellOf(row[c]!);
      if (cell === 0) throw new RangeError(`mazeFromText: row ${r + 1} column ${c + 1}: ${JSON.stringify(row[c])} is not one of ${JSON.stringify(MAZE_CHARSET)}`);
      grid[r * width + c] = cell;
    }
  });
  return { grid, shape: { height: rows.length, width } };
}

/** The answer path's length in moves from S to G: the 'o' cells plus one. */
export function pathLength(answer: Uint8Array): number {
  let path = 0;
  for (const cell of answer) if (cell === MAZE_PATH) path++;
  return path + 1;
}
