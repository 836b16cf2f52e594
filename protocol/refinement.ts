// Refinement trajectories: the model's answer to a few puzzles after every supervision step
// (and optionally every recursion cycle inside a step). Typed arrays travel base64-encoded, so an
// event stays compact (a 9x9 trajectory of 16 steps x 3 cycles x 4 puzzles is ~40 KB).
// Pure: no Node or DOM (atob/btoa exist in both).
//
// Two tasks share the format (events format v1). A Sudoku trajectory has no `task` field (its
// events are byte-identical to those written before mazes); a maze trajectory says
// `task: "maze"`, its `side` is the maze's side (square mazes), questions and solutions are the
// Maze-Hard characters "# SGo" row-major (REFINEMENT_MAZE_CHARSET), `blanks` is the shortest-path
// length in moves, and `digits` holds the predicted cell (1 wall, 2 open, 3 S, 4 G, 5 path; 0 when
// the argmax is PAD), i.e. the model token, as trainer/data/mazeGrid.ts numbers them.

/** The maze characters by cell value − 1 (trainer/data/mazeGrid.ts MAZE_CHARSET). */
export const REFINEMENT_MAZE_CHARSET = '# SGo';
/** Cell values of a maze trajectory. */
export const MAZE_CELL = { wall: 1, open: 2, start: 3, goal: 4, path: 5 } as const;
/** Maze sides a trajectory may have (Maze-Hard is 30x30). */
export const MAX_MAZE_SIDE = 64;
export const MIN_MAZE_SIDE = 2;

export type RefinementTask = 'sudoku' | 'maze';

export interface RefinementPuzzle {
  /** Row-major; Sudoku: '.' for blanks; maze: the characters "# SGo". */
  question: string;
  /** The unique solution when known (maze: with the path cells 'o'). */
  solution?: string;
  /** Sudoku: blank cells; maze: the shortest path's length in moves. */
  blanks: number;
}

export interface RefinementTrajectory {
  /** Absent for Sudoku; "maze" for a maze run. */
  task?: 'maze';
  /** Sudoku: 4 or 9; maze: the grid side. */
  side: number;
  puzzles: RefinementPuzzle[];
  /** Supervision steps K. */
  steps: number;
  /** Frames per step: 1 (after each step) or T (after each cycle). Frame f is step ⌊f/C⌋+1, cycle f mod C + 1. */
  cyclesPerStep: number;
  /** Uint8 [puzzles, frames, cells]: Sudoku: the predicted digit (1..side; 0 when the argmax is not a digit); maze: the predicted cell 1..5 (0 = PAD). */
  digits: string;
  /** Uint8 [puzzles, frames, cells]: the predicted token's probability × 255, rounded. */
  confidence: string;
  /** Float32 [puzzles, frames]: q_halt logit. */
  qHalt: string;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function base64ToBytes(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export interface DecodedTrajectory {
  frames: number;
  cells: number;
  digits: Uint8Array;
  confidence: Uint8Array;
  qHalt: Float32Array;
}

/** Decodes and checks the sizes; throws an Error naming the field that does not fit. */
export function decodeTrajectory(t: RefinementTrajectory): DecodedTrajectory {
  const cells = t.side * t.side;
  const frames = t.steps * t.cyclesPerStep;
  const n = t.puzzles.length * frames;
  const digits = base64ToBytes(t.digits);
  const confidence = base64ToBytes(t.confidence);
  const q = base64ToBytes(t.qHalt);
  if (digits.length !== n * cells) throw new Error(`trajectory.digits: expected ${n * cells} bytes, got ${digits.length}`);
  if (confidence.length !== n * cells) throw new Error(`trajectory.confidence: expected ${n * cells} bytes, got ${confidence.length}`);
  if (q.length !== n * 4) throw new Error(`trajectory.qHalt: expected ${n * 4} bytes, got ${q.length}`);
  return { frames, cells, digits, confidence, qHalt: new Float32Array(q.buffer, q.byteOffset, n) };
}

export function taskOf(t: Pick<RefinementTrajectory, 'task'>): RefinementTask {
  return t.task === 'maze' ? 'maze' : 'sudoku';
}

/** The cell value a question / solution character stands for: a Sudoku digit ('.' 0), or a maze cell 1..5 (0 when not one of "# SGo"). */
export function cellValueOf(task: RefinementTask, ch: string | undefined): number {
  if (ch === undefined) return 0;
  if (task === 'maze') return ch.length === 1 ? REFINEMENT_MAZE_CHARSET.indexOf(ch) + 1 : 0;
  return ch === '.' ? 0 : Number(ch) || 0;
}

/** The character of a maze cell value ('?' for PAD or anything else). */
export function mazeCharOf(cell: number): string {
  return cell >= 1 && cell <= REFINEMENT_MAZE_CHARSET.length ? REFINEMENT_MAZE_CHARSET[cell - 1]! : '?';
}

/**
 * The first frame from which the whole answer is right and stays right to the end, or -1
 * (needs the solution). For a maze every cell counts: the path exactly, nothing extra.
 */
export function settledFrame(d: DecodedTrajectory, puzzle: number, solution: string, task: RefinementTask = 'sudoku'): number {
  const expected = Array.from({ length: d.cells }, (_, i) => cellValueOf(task, solution[i]));
  const right = (f: number) => {
    const off = (puzzle * d.frames + f) * d.cells;
    for (let i = 0; i < d.cells; i++) if (d.digits[off + i] !== expected[i]) return false;
    return true;
  };
  let first = -1;
  for (let f = d.frames - 1; f >= 0 && right(f); f--) first = f;
  return first;
}
