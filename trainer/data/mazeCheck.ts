// The checker of a user-given maze for `reclab trace` and `reclab inspect` (the maze twin of
// puzzleCheck.ts): "QUESTION" or "QUESTION:SOLUTION", each side*side characters of "# SG" (the
// solution "# SGo"), row-major; rows may be split by '/' or newlines, and '.' stands for an open
// cell (a space is awkward on a command line). Without a solution the shortest path from S to G
// (breadth-first, ties broken by the order up, down, left, right) stands in for the labels.
import { MAZE_GOAL, MAZE_OPEN, MAZE_PATH, MAZE_START, MAZE_WALL, mazeCellOf, pathLength } from './mazeGrid';
import { isValidMazeAnswer } from './mazeRules';
import type { Puzzle } from './puzzle';

function cellsOf(text: string, side: number, what: string, allowPath: boolean): Uint8Array | string {
  const flat = text.replace(/[/\r\n]/g, '').replace(/\./g, ' ');
  if (flat.length !== side * side) return `${what} has ${flat.length} cells, a ${side}x${side} maze needs ${side * side}`;
  const cells = new Uint8Array(flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = mazeCellOf(flat[i]!);
    if (v === 0 || (!allowPath && v === MAZE_PATH)) return `${what}: cell ${i + 1} is ${JSON.stringify(flat[i])}, not one of ${JSON.stringify(allowPath ? '# SGo.' : '# SG.')}`;
    cells[i] = v;
  }
  return cells;
}

/** The shortest S→G path marked with MAZE_PATH on the open cells, or null when G cannot be reached. */
export function shortestPathAnswer(question: Uint8Array, side: number): Uint8Array | null {
  const start = question.indexOf(MAZE_START);
  const goal = question.indexOf(MAZE_GOAL);
  if (start < 0 || goal < 0) return null;
  const prev = new Int32Array(question.length).fill(-1);
  prev[start] = start;
  const queue = [start];
  for (let head = 0; head < queue.length && prev[goal]! < 0; head++) {
    const i = queue[head]!;
    const r = Math.floor(i / side), c = i % side;
    for (const j of [r > 0 ? i - side : -1, r < side - 1 ? i + side : -1, c > 0 ? i - 1 : -1, c < side - 1 ? i + 1 : -1]) {
      if (j < 0 || prev[j]! >= 0 || question[j] === MAZE_WALL || question[j] === MAZE_START) continue;
      prev[j] = i;
      queue.push(j);
    }
  }
  if (prev[goal]! < 0) return null;
  const answer = Uint8Array.from(question);
  for (let i = prev[goal]!; i !== start; i = prev[i]!) answer[i] = MAZE_PATH;
  return answer;
}

/** The maze as a puzzle (blanks = path length in moves), or the reason it is refused. */
export function checkMazeText(text: string, side: number): Puzzle | { refused: string } {
  const parts = text.trim().split(':');
  if (parts.length > 2 || !parts[0]) return { refused: 'expected QUESTION or QUESTION:SOLUTION' };
  const question = cellsOf(parts[0], side, 'the maze', false);
  if (typeof question === 'string') return { refused: question };
  const count = (v: number) => question.reduce((n, x) => n + Number(x === v), 0);
  if (count(MAZE_START) !== 1 || count(MAZE_GOAL) !== 1) return { refused: `a maze needs exactly one S and one G (it has ${count(MAZE_START)} and ${count(MAZE_GOAL)})` };
  if (count(MAZE_OPEN) === 0 && count(MAZE_WALL) === question.length - 2) return { refused: 'the maze has no open cell' };
  let answer: Uint8Array | null;
  if (parts[1] !== undefined) {
    const s = cellsOf(parts[1], side, 'the solution', true);
    if (typeof s === 'string') return { refused: s };
    if (!isValidMazeAnswer(question, s, side)) return { refused: 'the solution is not one simple path from S to G over the open cells that keeps every wall' };
    answer = s;
  } else {
    answer = shortestPathAnswer(question, side);
    if (!answer) return { refused: 'G cannot be reached from S' };
  }
  return { question, answer, blanks: pathLength(answer) };
}
