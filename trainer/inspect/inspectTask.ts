// What `reclab inspect` needs to know about a task, so its measurements (inspectModel.ts) stay
// task-neutral: how a question becomes tokens and an argmax becomes an answer grid, how grids are
// written in the report, the label-free check of an answer (Sudoku: constraint violations; maze:
// 0 when the answer is one simple S→G path over the open cells that keeps the walls, else 1 —
// trainer/data/mazeRules.ts), the difficulty, and the census's symmetries of the puzzle (Sudoku:
// the cyclic digit relabellings, reference.md §3.2; maze: the seven other rotations / reflections,
// each answer mapped back to the puzzle's own frame).
import type { StepContract } from '../../protocol/onnxContract';
import { formatPuzzleString } from '../data/puzzleString';
import { applyDihedral, inverseDihedral, type DihedralIndex } from '../data/mazeAugment';
import { MAZE_CHARSET, MAZE_PATH, MAZE_WALL, mazeCellOf, pathLength } from '../data/mazeGrid';
import { isValidMazeAnswer } from '../data/mazeRules';
import { cyclicDigitShift } from '../data/sudokuAugment';
import { constraintViolations } from '../data/sudokuRules';

export interface InspectTask {
  kind: 'sudoku' | 'maze';
  side: number;
  encode(question: Uint8Array): Int32Array;
  /** The answer grid of argmax tokens (cells the task does not know become 0). */
  decode(tokens: ArrayLike<number>): Uint8Array;
  /** A grid as the report writes it: Sudoku digits, '.' for 0; maze "# SGo", '?' for 0. */
  format(grid: Uint8Array): string;
  parse(text: string): Uint8Array;
  /** The label-free check of an answer to `question` (0 = none broken). */
  violations(question: Uint8Array, answer: Uint8Array): number;
  /** Sudoku blanks; maze path length (0 without a solution). */
  difficulty(question: Uint8Array, solution: Uint8Array | null): number;
  /** Census symmetries besides the identity: 1..count. */
  symmetries: number;
  transform(question: Uint8Array, k: number): Uint8Array;
  /** An answer in the transformed frame mapped back to the puzzle's own. */
  transformBack(answer: Uint8Array, k: number): Uint8Array;
  /** Whether the one-unknown probe (blanks on solved grids) means anything for the task. */
  probe: boolean;
}

function sudokuTask(side: 4 | 9): InspectTask {
  return {
    kind: 'sudoku', side,
    // Question tokens: blank -> 1, digit d -> d + 1 (the reference encoding the contract checks for Sudoku).
    encode: (grid) => Int32Array.from(grid, (d) => d + 1),
    decode: (tokens) => Uint8Array.from({ length: tokens.length }, (_, i) => {
      const t = tokens[i]!;
      return t >= 2 && t <= side + 1 ? t - 1 : 0;
    }),
    format: formatPuzzleString,
    parse: (text) => Uint8Array.from(text, (ch) => (ch === '.' ? 0 : Number(ch))),
    violations: (_q, answer) => constraintViolations(answer, side),
    difficulty: (q) => q.reduce((a, d) => a + Number(d === 0), 0),
    symmetries: side - 1,
    transform: (q, k) => cyclicDigitShift(q, k, side),
    transformBack: (a, k) => cyclicDigitShift(a, -k, side),
    probe: true,
  };
}

function mazeTask(side: number): InspectTask {
  return {
    kind: 'maze', side,
    // Maze cells are their tokens (trainer/data/mazeGrid.ts).
    encode: (grid) => Int32Array.from(grid),
    decode: (tokens) => Uint8Array.from({ length: tokens.length }, (_, i) => {
      const t = tokens[i]!;
      return t >= MAZE_WALL && t <= MAZE_PATH ? t : 0;
    }),
    format: (grid) => Array.from(grid, (c) => MAZE_CHARSET[c - 1] ?? '?').join(''),
    parse: (text) => Uint8Array.from(text, (ch) => mazeCellOf(ch)),
    violations: (q, answer) => (isValidMazeAnswer(q, answer, side) ? 0 : 1),
    difficulty: (_q, solution) => (solution ? pathLength(solution) : 0),
    symmetries: 7,
    transform: (q, k) => applyDihedral(q, k as DihedralIndex, side),
    transformBack: (a, k) => applyDihedral(a, inverseDihedral(k as DihedralIndex), side),
    probe: false,
  };
}

/** The task of a model that honours the contract; throws for one inspect cannot read answers of. */
export function inspectTaskOf(c: StepContract): InspectTask {
  if (c.sudokuSide !== undefined) return sudokuTask(c.sudokuSide);
  if (c.task === 'maze') {
    const g = c.mazeGrid ?? (Number.isInteger(Math.sqrt(c.seqLen)) ? { height: Math.sqrt(c.seqLen), width: Math.sqrt(c.seqLen) } : undefined);
    if (!g || g.height !== g.width) throw new Error(`inspect: a maze model's grid must be square (reclab.grid "NxN"), got ${g ? `${g.height}x${g.width}` : `L = ${c.seqLen}`}`);
    return mazeTask(g.height);
  }
  throw new Error(`inspect: the model's task is "${c.task}"; the puzzle analyses need a Sudoku or maze model (reclab.task "sudoku" or "maze")`);
}
