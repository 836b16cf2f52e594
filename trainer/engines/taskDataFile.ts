// The task data a PyTorch worker trains and evaluates on (h11 worker interface, item 2): the TS
// loaders' puzzles — the one source of puzzles, so both engines hold out the same test set —
// written to <run-dir>/worker/task-data.safetensors in weights format 2 (docs/weights-format.md).
import type { TaskData, TaskDescription } from '../data/taskData';
import { writeWeightsFile, type StoredArray } from '../run/checkpointFile';

export const TASK_DATA_KIND = 'reclab-task-data';

function grids(rows: readonly Uint8Array[], cells: number): Uint8Array {
  const out = new Uint8Array(rows.length * cells);
  rows.forEach((g, i) => out.set(g, i * cells));
  return out;
}

/** Sudoku files carry `side` (as before mazes); maze files `task: "maze"`, height and width. */
function taskMeta(task: TaskDescription): Record<string, unknown> {
  return task.kind === 'sudoku' ? { side: task.side } : { task: 'maze', height: task.height, width: task.width };
}

/** Writes the task data (test/blanks: each test puzzle's difficulty, blanks or maze path length): train/questions, train/solutions, train/group_offsets, test/questions, test/solutions, test/blanks. */
export function writeTaskDataFile(path: string, data: TaskData): void {
  const L = data.seqLen;
  const train = data.trainGroups.flat();
  const offsets = new Int32Array(data.trainGroups.length + 1);
  data.trainGroups.forEach((g, i) => { offsets[i + 1] = offsets[i]! + g.length; });
  const tensors = new Map<string, StoredArray>([
    ['train/questions', { dtype: 'uint8', shape: [train.length, L], data: grids(train.map((p) => p.question), L) }],
    ['train/solutions', { dtype: 'uint8', shape: [train.length, L], data: grids(train.map((p) => p.answer), L) }],
    ['train/group_offsets', { dtype: 'int32', shape: [offsets.length], data: offsets }],
    ['test/questions', { dtype: 'uint8', shape: [data.test.length, L], data: grids(data.test.map((p) => p.question), L) }],
    ['test/solutions', { dtype: 'uint8', shape: [data.test.length, L], data: grids(data.test.map((p) => p.answer), L) }],
    ['test/blanks', { dtype: 'int32', shape: [data.test.length], data: Int32Array.from(data.test, (p) => p.blanks) }],
  ]);
  writeWeightsFile(path, { kind: TASK_DATA_KIND, ...taskMeta(data.task), vocabSize: data.vocabSize, seqLen: L, augmentOnTheFly: data.augmentOnTheFly }, tensors);
}
