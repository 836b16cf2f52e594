// Model tokens of a task's cells: Sudoku shifts by one (tokenEncoding.ts), maze cells are their
// tokens already (mazeGrid.ts), so both engines read the same cells from the task-data file.
import { MAZE_PATH, MAZE_WALL } from './mazeGrid';
import type { TaskDescription } from './taskData';
import { encodeAnswer, encodeQuestion } from './tokenEncoding';

function mazeTokens(grid: Uint8Array, task: TaskDescription, highest: number, what: string): Int32Array {
  const cells = task.kind === 'maze' ? task.height * task.width : 0;
  if (grid.length !== cells) throw new RangeError(`${what}: expected ${cells} maze cells, got ${grid.length}`);
  const tokens = new Int32Array(grid.length);
  for (let i = 0; i < grid.length; i++) {
    const cell = grid[i]!;
    if (cell < MAZE_WALL || cell > highest) throw new RangeError(`${what}: cell ${i} holds ${cell}, outside ${MAZE_WALL}..${highest}`);
    tokens[i] = cell;
  }
  return tokens;
}

export function encodeTaskQuestion(task: TaskDescription, grid: Uint8Array): Int32Array {
  return task.kind === 'sudoku' ? encodeQuestion(grid) : mazeTokens(grid, task, MAZE_PATH - 1, 'encodeTaskQuestion');
}

export function encodeTaskAnswer(task: TaskDescription, grid: Uint8Array): Int32Array {
  return task.kind === 'sudoku' ? encodeAnswer(grid) : mazeTokens(grid, task, MAZE_PATH, 'encodeTaskAnswer');
}
