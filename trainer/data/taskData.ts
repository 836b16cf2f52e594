// The puzzles of a run, from its data config: the training groups (one example is drawn per
// group per epoch, reference.md §1.2) and the held-out test set, plus the task they pose.
import { resolve } from 'node:path';
import type { DataConfig } from '../../protocol/config';
import { Rng } from '../random';
import { withHintExamples } from './hintAugment';
import { buildGeneratedSudokuDataset } from './generatedDataset';
import { loadMazeCsv } from './mazeCsv';
import { buildGeneratedMazeDataset } from './mazeGenerator';
import { MAZE_VOCAB_SIZE } from './mazeGrid';
import type { Puzzle } from './puzzle';
import { loadSudokuCsv } from './sudokuCsv';
import type { SudokuSide } from './sudokuRules';
import { vocabSize } from './tokenEncoding';

/**
 * What the puzzles are. Sudoku cells are 0 (blank) and digits 1..side, tokens cell + 1; maze
 * cells are already tokens (trainer/data/mazeGrid.ts). A puzzle's `blanks` is its difficulty:
 * blank cells for Sudoku, shortest-path length in moves for a maze.
 */
export type TaskDescription =
  | { kind: 'sudoku'; side: SudokuSide }
  | { kind: 'maze'; height: number; width: number };

export interface TaskData {
  task: TaskDescription;
  vocabSize: number;
  seqLen: number;
  /** Training groups; generated Sudoku data has one puzzle per group and augments on the fly. */
  trainGroups: Puzzle[][];
  augmentOnTheFly: boolean;
  test: Puzzle[];
}

/** What the per-example difficulty number counts, for tables and charts. */
export function difficultyLabel(task: TaskDescription): string {
  return task.kind === 'maze' ? 'path length' : 'blanks';
}

/** The task a data config poses, without generating or reading any data (Maze-Hard CSVs are 30x30). */
export function taskDescriptionOf(data: DataConfig): TaskDescription {
  if (data.kind === 'generated-maze') return { kind: 'maze', height: data.size, width: data.size };
  if (data.kind === 'maze-csv') return { kind: 'maze', height: 30, width: 30 };
  return { kind: 'sudoku', side: data.kind === 'generated-sudoku' ? data.side : 9 };
}

function mazeTask(side: number): Pick<TaskData, 'task' | 'vocabSize' | 'seqLen'> {
  return { task: { kind: 'maze', height: side, width: side }, vocabSize: MAZE_VOCAB_SIZE, seqLen: side * side };
}

export function loadTaskData(data: DataConfig, seed: number, baseDir = process.cwd()): TaskData {
  const loaded = loadTaskDataWithoutHints(data, seed, baseDir);
  // Hint examples (Augmented HRM, §3.1) join every training group; the test split never has them.
  return data.hints ? { ...loaded, trainGroups: withHintExamples(loaded.trainGroups, new Rng(seed + 7919)) } : loaded;
}

function loadTaskDataWithoutHints(data: DataConfig, seed: number, baseDir: string): TaskData {
  if (data.kind === 'generated-sudoku') {
    const ds = buildGeneratedSudokuDataset({
      side: data.side, trainPuzzles: data.trainPuzzles, trainBlanks: data.trainBlanks,
      testBlanks: data.testBlanks, testPerBlank: data.testPerBlank, seed,
    });
    return { task: { kind: 'sudoku', side: data.side }, vocabSize: vocabSize(data.side), seqLen: data.side * data.side, trainGroups: ds.train.map((p) => [p]), augmentOnTheFly: data.augment, test: ds.test };
  }
  if (data.kind === 'generated-maze') {
    // Augmented mazes are pre-expanded into groups of 8, so no engine needs maze code.
    const ds = buildGeneratedMazeDataset({ ...data, seed });
    return { ...mazeTask(data.size), trainGroups: ds.trainGroups, augmentOnTheFly: false, test: ds.test };
  }
  if (data.kind === 'maze-csv') {
    const train = loadMazeCsv(resolve(baseDir, data.trainFile), { subsample: data.subsample, augment: data.augment, seed });
    const test = loadMazeCsv(resolve(baseDir, data.testFile), { subsample: data.testLimit, augment: false, seed: seed + 1 });
    if (test.side !== train.side) throw new Error(`${data.testFile}: ${test.side}x${test.side} mazes, ${data.trainFile} has ${train.side}x${train.side}`);
    return { ...mazeTask(train.side), trainGroups: train.groups, augmentOnTheFly: false, test: test.groups.map((g) => g[0]!) };
  }
  // Sudoku-Extreme CSV: pre-augmented groups like the reference builder; the test split unaugmented.
  const train = loadSudokuCsv(resolve(baseDir, data.trainFile), { subsample: data.subsample, augmentationsPerPuzzle: data.augmentationsPerPuzzle, seed });
  const test = loadSudokuCsv(resolve(baseDir, data.testFile), { subsample: data.testLimit, augmentationsPerPuzzle: 0, seed: seed + 1 });
  return { task: { kind: 'sudoku', side: 9 }, vocabSize: vocabSize(9), seqLen: 81, trainGroups: train.groups, augmentOnTheFly: false, test: test.groups.map((g) => g[0]!) };
}
