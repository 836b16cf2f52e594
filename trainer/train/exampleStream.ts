// The training example stream (reference.md §1.2): epochs over the groups in a fresh random
// order, one random example of each group; for generated data (groups of one puzzle) the drawn
// puzzle is replaced by a random augmentation of itself. Its whole state (RNG, order, position)
// goes into checkpoints.
import type { Puzzle } from '../data/puzzle';
import { augmentPuzzle } from '../data/sudokuAugment';
import type { TaskDescription } from '../data/taskData';
import { encodeTaskAnswer, encodeTaskQuestion } from '../data/taskEncoding';
import { Rng, type RngState } from '../random';
import { emptyBatch, type ExampleBatch } from './exampleBatch';

export interface ExampleStreamState {
  rng: RngState;
  order: number[];
  position: number;
}

export class ExampleStream {
  private rng: Rng;
  private order: number[];
  private position: number;

  constructor(private readonly groups: readonly (readonly Puzzle[])[], private readonly task: TaskDescription, private readonly augment: boolean, seedOrState: number | ExampleStreamState) {
    if (groups.length === 0 || groups.some((g) => g.length === 0)) throw new Error('training set is empty');
    // Only Sudoku augments on the fly; maze groups arrive pre-expanded.
    if (augment && task.kind !== 'sudoku') throw new Error(`on-the-fly augmentation is for Sudoku, not ${task.kind}`);
    if (typeof seedOrState === 'number') {
      this.rng = new Rng(seedOrState);
      this.order = this.rng.permutation(groups.length);
      this.position = 0;
    } else {
      this.rng = new Rng(seedOrState.rng);
      this.order = [...seedOrState.order];
      this.position = seedOrState.position;
    }
  }

  state(): ExampleStreamState {
    return { rng: this.rng.state(), order: [...this.order], position: this.position };
  }

  next(size: number): ExampleBatch {
    const seqLen = this.task.kind === 'sudoku' ? this.task.side * this.task.side : this.task.height * this.task.width;
    const batch = emptyBatch(size, seqLen);
    for (let r = 0; r < size; r++) {
      if (this.position >= this.order.length) {
        this.order = this.rng.permutation(this.groups.length);
        this.position = 0;
      }
      const group = this.groups[this.order[this.position++]!]!;
      const base = group.length === 1 ? group[0]! : group[this.rng.int(group.length)]!;
      const p = this.augment && this.task.kind === 'sudoku' ? augmentPuzzle(base, this.rng, this.task.side) : base;
      writeRow(batch, r, p, this.task);
    }
    return batch;
  }
}

export function writeRow(batch: ExampleBatch, row: number, p: Puzzle, task: TaskDescription): void {
  batch.tokens.set(encodeTaskQuestion(task, p.question), row * batch.seqLen);
  batch.labels.set(encodeTaskAnswer(task, p.answer), row * batch.seqLen);
  batch.blanks[row] = p.blanks;
}

/** Encodes a fixed list of puzzles (a test set) as one batch. */
export function encodePuzzles(puzzles: readonly Puzzle[], seqLen: number, task: TaskDescription): ExampleBatch {
  const batch = emptyBatch(puzzles.length, seqLen);
  puzzles.forEach((p, i) => writeRow(batch, i, p, task));
  return batch;
}
