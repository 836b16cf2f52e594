// Loader for the Sudoku-Extreme CSV (HF sapientinc/sudoku-extreme): header
// `source,question,answer,rating`, then one puzzle per line with 81-character question (digits
// and '.') and answer (digits), rating an integer. Mirrors the reference build_sudoku_dataset.py:
// uniform subsample, then each kept puzzle becomes a group of itself plus augmented copies.
// Node-only (reads the file synchronously in chunks, so a 3.8M-row file never sits in memory).
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { InputError } from '../inputError';
import { Rng } from '../random';
import { ReservoirSample } from './reservoirSample';
import type { Puzzle } from './puzzle';
import { parseCellsInto } from './puzzleString';
import { augmentPuzzle } from './sudokuAugment';
import { constraintViolations, isCompleteValidGrid, keepsGivens } from './sudokuRules';

export { parsePuzzleString } from './puzzleString';

export const SUDOKU_CSV_HEADER = 'source,question,answer,rating';

export interface SudokuCsvOptions {
  /** Keep this many rows, drawn uniformly without replacement; all rows when absent. */
  subsample?: number;
  /** Augmented copies added to each kept puzzle (reference: 1000 for train, 0 for test). */
  augmentationsPerPuzzle?: number;
  seed: number;
}

export interface SudokuCsv {
  /** One group per kept row, in file order: the original puzzle, then its augmented copies. */
  groups: Puzzle[][];
}

const CHUNK_BYTES = 1 << 20;

/** Calls `onLine(text, lineNumber)` for every line of the file (1-based, '\r' stripped). */
export function forEachLine(path: string, onLine: (text: string, lineNumber: number) => void): void {
  let fd: number;
  try {
    if (statSync(path).isDirectory()) throw new InputError(`${path}: is a directory, expected a CSV file`);
    fd = openSync(path, 'r');
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: cannot read the CSV file: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    const buffer = new Uint8Array(CHUNK_BYTES);
    const decoder = new TextDecoder('utf-8');
    let pending = '';
    let lineNumber = 0;
    for (;;) {
      const bytes = readSync(fd, buffer, 0, CHUNK_BYTES, null);
      const text = pending + decoder.decode(buffer.subarray(0, bytes), { stream: bytes > 0 });
      const lines = text.split('\n');
      pending = bytes > 0 ? lines.pop()! : '';
      for (const line of lines) onLine(line.endsWith('\r') ? line.slice(0, -1) : line, ++lineNumber);
      if (bytes === 0) return;
    }
  } finally {
    closeSync(fd);
  }
}

interface KeptRow {
  lineNumber: number;
  puzzle: Puzzle;
}

const RATING = /^-?\d+$/;

/**
 * Checks one data line, filling `question` and `answer`; returns null when it is valid, else
 * what is wrong with it (without the location).
 */
function rowProblem(line: string, question: Uint8Array, answer: Uint8Array): string | null {
  const fields = line.split(',');
  if (fields.length !== 4) return `expected 4 fields (${SUDOKU_CSV_HEADER}), got ${fields.length}`;
  const [, questionText, answerText, ratingText] = fields as [string, string, string, string];
  const questionProblem = parseCellsInto(questionText, 9, question, true);
  if (questionProblem !== null) return `field "question": ${questionProblem}`;
  const answerProblem = parseCellsInto(answerText, 9, answer, false);
  if (answerProblem !== null) return `field "answer": ${answerProblem}`;
  if (!isCompleteValidGrid(answer, 9)) {
    const conflicts = constraintViolations(answer, 9);
    return `field "answer": not a valid Sudoku solution (${conflicts} repeated digits in rows, columns or boxes)`;
  }
  if (!keepsGivens(question, answer)) {
    const cell = question.findIndex((given, i) => given !== 0 && given !== answer[i]);
    return `field "answer": character ${cell + 1} is ${answer[cell]} but the question gives ${question[cell]} there`;
  }
  if (!RATING.test(ratingText)) return `field "rating": expected an integer, got ${JSON.stringify(ratingText)}`;
  return null;
}

export function loadSudokuCsv(path: string, opts: SudokuCsvOptions): SudokuCsv {
  const { subsample, augmentationsPerPuzzle = 0, seed } = opts;
  if (subsample !== undefined && (!Number.isInteger(subsample) || subsample < 0)) {
    throw new RangeError(`loadSudokuCsv: subsample must be a non-negative integer, got ${subsample}`);
  }
  if (!Number.isInteger(augmentationsPerPuzzle) || augmentationsPerPuzzle < 0) {
    throw new RangeError(`loadSudokuCsv: augmentationsPerPuzzle must be a non-negative integer, got ${augmentationsPerPuzzle}`);
  }
  const root = new Rng(seed);
  const sampleRng = root.fork();
  const augmentRng = root.fork();

  const question = new Uint8Array(81);
  const answer = new Uint8Array(81);
  const sample = new ReservoirSample<KeptRow>(subsample, sampleRng);
  let sawHeader = false;

  forEachLine(path, (line, lineNumber) => {
    if (!sawHeader) {
      if (line.replace(/^\uFEFF/, '') !== SUDOKU_CSV_HEADER) {
        throw new InputError(`${path}:${lineNumber}: expected the header ${JSON.stringify(SUDOKU_CSV_HEADER)}, `
          + `got ${JSON.stringify(line.slice(0, 80))}`);
      }
      sawHeader = true;
      return;
    }
    if (line === '') return; // blank lines (e.g. after the final newline) carry nothing
    const problem = rowProblem(line, question, answer);
    if (problem !== null) throw new InputError(`${path}:${lineNumber}: ${problem}`);

    sample.offer(() => {
      let blanks = 0;
      for (const cell of question) if (cell === 0) blanks++;
      return { lineNumber, puzzle: { question: new Uint8Array(question), answer: new Uint8Array(answer), blanks } };
    });
  });
  if (!sawHeader) throw new InputError(`${path}:1: empty file, expected the header ${JSON.stringify(SUDOKU_CSV_HEADER)}`);
  if (sample.seen === 0) throw new InputError(`${path}:2: no puzzles, the file holds only the header (a run needs at least one training and one test puzzle)`);

  const kept = sample.kept.sort((a, b) => a.lineNumber - b.lineNumber);
  const groups = kept.map(({ puzzle }) => {
    const group = [puzzle];
    for (let k = 0; k < augmentationsPerPuzzle; k++) group.push(augmentPuzzle(puzzle, augmentRng, 9));
    return group;
  });
  return { groups };
}
