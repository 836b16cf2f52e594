// Loader for the Maze-Hard CSV (reference.md §1.1; HF sapientinc/maze-30x30-hard-1k): header
// `source,question,answer,rating`, then one maze per line, question and answer H*W characters of
// "# SGo" row-major (30x30 = 900 there). The answer is the question with its path cells marked
// 'o'. Kept rows become groups of their 8 dihedral images (original first) when augmenting, as the
// reference builder does; the test split is loaded without augmentation.
import { InputError } from '../inputError';
import { Rng } from '../random';
import { ReservoirSample } from './reservoirSample';
import { dihedralGroup } from './mazeAugment';
import { MAZE_CHARSET, MAZE_GOAL, MAZE_OPEN, MAZE_PATH, MAZE_START, mazeCellOf, pathLength } from './mazeGrid';
import type { Puzzle } from './puzzle';
import { forEachLine, SUDOKU_CSV_HEADER } from './sudokuCsv';

export const MAZE_CSV_HEADER = SUDOKU_CSV_HEADER;

export interface MazeCsvOptions {
  /** Keep this many rows, drawn uniformly without replacement; all rows when absent. */
  subsample?: number;
  /** Groups of the 8 dihedral images of each kept maze (else groups of one). */
  augment: boolean;
  seed: number;
}

export interface MazeCsv {
  /** Side of the (square) mazes, from the first row. */
  side: number;
  groups: Puzzle[][];
}

function parseCells(text: string, cells: number, into: Uint8Array, allowPath: boolean): string | null {
  if (text.length !== cells) return `expected ${cells} characters, got ${text.length}`;
  for (let i = 0; i < cells; i++) {
    const cell = mazeCellOf(text[i]!);
    if (cell === 0 || (!allowPath && cell === MAZE_PATH)) {
      const allowed = allowPath ? MAZE_CHARSET : MAZE_CHARSET.replace('o', '');
      return `character ${i + 1} is ${JSON.stringify(text[i])}, expected one of ${JSON.stringify(allowed)}`;
    }
    into[i] = cell;
  }
  return null;
}

function countOf(grid: Uint8Array, value: number): number {
  let n = 0;
  for (const cell of grid) if (cell === value) n++;
  return n;
}

/** What is wrong with one data row (null when it is valid), filling question and answer. */
function rowProblem(fields: string[], cells: number, question: Uint8Array, answer: Uint8Array): string | null {
  if (fields.length !== 4) return `expected 4 fields (${MAZE_CSV_HEADER}), got ${fields.length}`;
  const [, questionText, answerText, ratingText] = fields as [string, string, string, string];
  const q = parseCells(questionText, cells, question, false);
  if (q !== null) return `field "question": ${q}`;
  const a = parseCells(answerText, cells, answer, true);
  if (a !== null) return `field "answer": ${a}`;
  for (const [value, name] of [[MAZE_START, 'start S'], [MAZE_GOAL, 'goal G']] as const) {
    const n = countOf(question, value);
    if (n !== 1) return `field "question": expected exactly one ${name}, found ${n}`;
  }
  for (let i = 0; i < cells; i++) {
    const pathHere = answer[i] === MAZE_PATH && question[i] === MAZE_OPEN;
    if (answer[i] !== question[i] && !pathHere) {
      return `field "answer": character ${i + 1} is ${JSON.stringify(MAZE_CHARSET[answer[i]! - 1])} but the question has `
        + `${JSON.stringify(MAZE_CHARSET[question[i]! - 1])} there (only open cells may become path 'o')`;
    }
  }
  if (!/^-?\d+$/.test(ratingText)) return `field "rating": expected an integer, got ${JSON.stringify(ratingText)}`;
  return null;
}

export function loadMazeCsv(path: string, opts: MazeCsvOptions): MazeCsv {
  const { subsample, augment, seed } = opts;
  if (subsample !== undefined && (!Number.isInteger(subsample) || subsample < 0)) {
    throw new RangeError(`loadMazeCsv: subsample must be a non-negative integer, got ${subsample}`);
  }
  const sampleRng = new Rng(seed);
  let side = 0;
  let question = new Uint8Array(0);
  let answer = new Uint8Array(0);
  const sample = new ReservoirSample<{ lineNumber: number; puzzle: Puzzle }>(subsample, sampleRng);
  let sawHeader = false;
  forEachLine(path, (line, lineNumber) => {
    if (!sawHeader) {
      if (line.replace(/^\uFEFF/, '') !== MAZE_CSV_HEADER) {
        throw new InputError(`${path}:${lineNumber}: expected the header ${JSON.stringify(MAZE_CSV_HEADER)}, got ${JSON.stringify(line.slice(0, 80))}`);
      }
      sawHeader = true;
      return;
    }
    if (line === '') return;
    const fields = line.split(',');
    if (side === 0) {
      // The first row fixes the maze size; it must be a square grid.
      const length = (fields[1] ?? '').length;
      side = Math.round(Math.sqrt(length));
      if (side < 2 || side * side !== length) throw new InputError(`${path}:${lineNumber}: field "question": ${length} characters is not a square maze`);
      question = new Uint8Array(side * side);
      answer = new Uint8Array(side * side);
    }
    const problem = rowProblem(fields, side * side, question, answer);
    if (problem !== null) throw new InputError(`${path}:${lineNumber}: ${problem}`);
    sample.offer(() => ({ lineNumber, puzzle: { question: new Uint8Array(question), answer: new Uint8Array(answer), blanks: pathLength(answer) } }));
  });
  if (!sawHeader) throw new InputError(`${path}:1: empty file, expected the header ${JSON.stringify(MAZE_CSV_HEADER)}`);
  if (sample.seen === 0) throw new InputError(`${path}:2: no mazes, the file holds only the header`);
  const kept = sample.kept.sort((a, b) => a.lineNumber - b.lineNumber);
  return { side, groups: kept.map(({ puzzle }) => (augment ? dihedralGroup(puzzle, side) : [puzzle])) };
}
