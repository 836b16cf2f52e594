// Seeded N x N mazes with a start, a goal and a UNIQUE shortest path between them.
//
// A maze is a random spanning tree of the cells at even (row, col) — a depth-first "recursive
// backtracker" carve, so every pair of cells is joined by exactly one corridor — with a fraction
// of the remaining walls between two corridor cells knocked out, which adds loops (and so
// alternative routes). S is a random corridor cell; G is drawn among the cells whose BFS distance
// from S is at least minPathLength and that are reached by exactly one shortest path.
//
// Hardness: the reference Maze-Hard set keeps mazes by shortest-path length; here a maze's
// difficulty is its shortest path's length in moves (S to G), and minPathLength is the threshold.
import { Rng } from '../random';
import { MAZE_GOAL, MAZE_OPEN, MAZE_PATH, MAZE_START, MAZE_WALL } from './mazeGrid';
import { dihedralGroup, dihedralKey } from './mazeAugment';
import type { Puzzle } from './puzzle';

/** Fraction of the walls between two corridor cells that are opened after the carve (loops). */
export const LOOP_FRACTION = 0.15;
// A maze with no goal far enough away (unique shortest path) is redrawn; this many tries at most.
const ATTEMPTS_PER_MAZE = 200;

const STEPS: readonly (readonly [number, number])[] = [[-1, 0], [1, 0], [0, -1], [0, 1]];

/** Walls (1) and corridors (2) of a random side x side maze. */
function carve(side: number, rng: Rng): Uint8Array {
  const grid = new Uint8Array(side * side).fill(MAZE_WALL);
  const open = (r: number, c: number): void => { grid[r * side + c] = MAZE_OPEN; };
  const stack: [number, number][] = [[0, 0]];
  open(0, 0);
  while (stack.length > 0) {
    const [r, c] = stack[stack.length - 1]!;
    const next = STEPS.map(([dr, dc]) => [r + 2 * dr, c + 2 * dc] as const)
      .filter(([nr, nc]) => nr >= 0 && nc >= 0 && nr < side && nc < side && grid[nr * side + nc] === MAZE_WALL);
    if (next.length === 0) {
      stack.pop();
      continue;
    }
    const [nr, nc] = next[rng.int(next.length)]!;
    open((r + nr) / 2, (c + nc) / 2);
    open(nr, nc);
    stack.push([nr, nc]);
  }
  // Loops: a wall cell with corridors on two opposite sides may open.
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      if (grid[r * side + c] !== MAZE_WALL || (r % 2 === 0) === (c % 2 === 0)) continue;
      const between = r % 2 === 1 ? [r - 1, c, r + 1, c] : [r, c - 1, r, c + 1];
      const [r1, c1, r2, c2] = between as [number, number, number, number];
      if (r2 >= side || c2 >= side) continue;
      if (grid[r1 * side + c1] === MAZE_OPEN && grid[r2 * side + c2] === MAZE_OPEN && rng.float() < LOOP_FRACTION) open(r, c);
    }
  }
  return grid;
}

/** BFS from one cell over non-wall cells: distance (-1 unreachable), shortest-path count (capped at 2) and a predecessor. */
function bfs(grid: Uint8Array, side: number, from: number): { dist: Int32Array; paths: Uint8Array; prev: Int32Array } {
  const dist = new Int32Array(grid.length).fill(-1);
  const paths = new Uint8Array(grid.length);
  const prev = new Int32Array(grid.length).fill(-1);
  dist[from] = 0;
  paths[from] = 1;
  const queue = [from];
  for (let head = 0; head < queue.length; head++) {
    const cell = queue[head]!;
    const r = Math.floor(cell / side), c = cell % side;
    for (const [dr, dc] of STEPS) {
      const nr = r + dr, nc = c + dc;
      if (nr < 0 || nc < 0 || nr >= side || nc >= side) continue;
      const n = nr * side + nc;
      if (grid[n] === MAZE_WALL) continue;
      if (dist[n] === -1) {
        dist[n] = dist[cell]! + 1;
        prev[n] = cell;
        queue.push(n);
      }
      if (dist[n] === dist[cell]! + 1) paths[n] = Math.min(2, paths[n]! + paths[cell]!);
    }
  }
  return { dist, paths, prev };
}

/** One maze puzzle whose S-G shortest path is unique and at least minPathLength moves; difficulty (blanks) = its length. */
export function generateMaze(side: number, minPathLength: number, rng: Rng): Puzzle {
  for (let attempt = 0; attempt < ATTEMPTS_PER_MAZE; attempt++) {
    const grid = carve(side, rng);
    const corridors: number[] = [];
    grid.forEach((cell, i) => { if (cell === MAZE_OPEN) corridors.push(i); });
    const start = corridors[rng.int(corridors.length)]!;
    const { dist, paths, prev } = bfs(grid, side, start);
    const goals = corridors.filter((i) => dist[i]! >= minPathLength && paths[i] === 1);
    if (goals.length === 0) continue;
    const goal = goals[rng.int(goals.length)]!;
    const question = new Uint8Array(grid);
    question[start] = MAZE_START;
    question[goal] = MAZE_GOAL;
    const answer = new Uint8Array(question);
    for (let cell = prev[goal]!; cell !== start; cell = prev[cell]!) answer[cell] = MAZE_PATH;
    return { question, answer, blanks: dist[goal]! };
  }
  throw new Error(`generateMaze: no ${side}x${side} maze with a unique shortest path of at least ${minPathLength} moves in ${ATTEMPTS_PER_MAZE} tries; lower minPathLength`);
}

export interface GeneratedMazeOptions {
  size: number;
  trainMazes: number;
  testMazes: number;
  minPathLength: number;
  /** Each training maze becomes a group of its 8 dihedral images (pre-expanded). */
  augment: boolean;
  seed: number;
}

export interface GeneratedMazeDataset {
  trainGroups: Puzzle[][];
  /** Sorted by path length, ascending; no test maze (nor any of its images) is trained on. */
  test: Puzzle[];
}

// Drawing a maze whose class is taken is retried this many times before giving up.
const DRAWS_PER_NEW_MAZE = 100;

export function buildGeneratedMazeDataset(opts: GeneratedMazeOptions): GeneratedMazeDataset {
  const { size, trainMazes, testMazes, minPathLength, augment, seed } = opts;
  if (!Number.isInteger(size) || size < 3) throw new RangeError(`size must be an integer >= 3, got ${size}`);
  const root = new Rng(seed);
  const testRng = root.fork();
  const trainRng = root.fork();
  const seen = new Set<string>();
  const draw = (rng: Rng, what: string): Puzzle => {
    for (let n = 0; n < DRAWS_PER_NEW_MAZE; n++) {
      const p = generateMaze(size, minPathLength, rng);
      const key = dihedralKey(p.question, size);
      if (!seen.has(key)) {
        seen.add(key);
        return p;
      }
    }
    throw new Error(`buildGeneratedMazeDataset: could not draw a new ${what} ${size}x${size} maze in ${DRAWS_PER_NEW_MAZE} tries; ask for fewer mazes`);
  };
  const test = Array.from({ length: testMazes }, () => draw(testRng, 'test')).sort((a, b) => a.blanks - b.blanks);
  const train = Array.from({ length: trainMazes }, () => draw(trainRng, 'training'));
  return { trainGroups: train.map((p) => (augment ? dihedralGroup(p, size) : [p])), test };
}
