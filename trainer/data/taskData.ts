// The puzzles of a run, from its data config: the training groups (one example is drawn per
// group per epoch, reference.md §1.2) and the held-out test set.
import { resolve } from 'node:path';
import type { DataConfig } from '../../protocol/config';
import { buildGeneratedSudokuDataset } from './generatedDataset';
import type { Puzzle } from './puzzle';
import { loadSudokuCsv } from './sudokuCsv';
import type { SudokuSide } from './sudokuRules';
import { vocabSize } from './tokenEncoding';

export interface TaskData {
  side: SudokuSide;
  vocabSize: number;
  seqLen: number;
  /** Training groups; generated data has one puzzle per group and augments on the fly. */
  trainGroups: Puzzle[][];
  augmentOnTheFly: boolean;
  test: Puzzle[];
}

export function loadTaskData(data: DataConfig, seed: number, baseDir = process.cwd()): TaskData {
  if (data.kind === 'generated-sudoku') {
    const ds = buildGeneratedSudokuDataset({
      side: data.side, trainPuzzles: data.trainPuzzles, trainBlanks: data.trainBlanks,
      testBlanks: data.testBlanks, testPerBlank: data.testPerBlank, seed,
    });
    return { side: data.side, vocabSize: vocabSize(data.side), seqLen: data.side * data.side, trainGroups: ds.train.map((p) => [p]), augmentOnTheFly: data.augment, test: ds.test };
  }
  // Sudoku-Extreme CSV: pre-augmented groups like the reference builder; the test split unaugmented.
  const train = loadSudokuCsv(resolve(baseDir, data.trainFile), { subsample: data.subsample, augmentationsPerPuzzle: data.augmentationsPerPuzzle, seed });
  const test = loadSudokuCsv(resolve(baseDir, data.testFile), { subsample: data.testLimit, augmentationsPerPuzzle: 0, seed: seed + 1 });
  return { side: 9, vocabSize: vocabSize(9), seqLen: 81, trainGroups: train.groups, augmentOnTheFly: false, test: test.groups.map((g) => g[0]!) };
}
