// The weights a run is evaluated, exported and traced with, read straight from a checkpoint
// file (no TF.js needed), and the task shape its config implies.
import type { RunConfig } from '../../protocol/config';
import { MAZE_VOCAB_SIZE } from '../data/mazeGrid';
import { vocabSize } from '../data/tokenEncoding';
import type { RecursiveModel, TaskShape } from '../model/recursiveModel';
import type { StepWeights } from '../onnx/stepGraph';
import { readCheckpointFile } from './checkpointFile';

/** Vocabulary and length of the run's task, from its data config (no data is generated). */
export function taskShapeOf(config: RunConfig): TaskShape {
  // Maze-Hard CSVs are 30x30 (reference.md §1.1).
  if (config.data.kind === 'generated-maze' || config.data.kind === 'maze-csv') {
    const side = config.data.kind === 'generated-maze' ? config.data.size : 30;
    return { vocabSize: MAZE_VOCAB_SIZE, seqLen: side * side };
  }
  const side = config.data.kind === 'generated-sudoku' ? config.data.side : 9;
  return { vocabSize: vocabSize(side), seqLen: side * side };
}

/** The evaluation weights of a checkpoint file: ema/<name> where present, else param/<name>. */
export function readEvaluationWeights(path: string, model: RecursiveModel): StepWeights {
  const { arrays } = readCheckpointFile(path);
  const params = new Map<string, Float32Array>();
  const take = (name: string, shape: readonly number[]): Float32Array => {
    const a = arrays.get(name);
    if (!a) throw new Error(`${path}: array ${name} is missing`);
    if (a.dtype !== 'float32' || a.shape.length !== shape.length || a.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${path}: array ${name} is ${a.dtype} [${a.shape}], the run's model needs float32 [${shape}]`);
    }
    return a.data as Float32Array;
  };
  for (const s of model.parameterSpecs()) {
    params.set(s.name, arrays.has(`ema/${s.name}`) ? take(`ema/${s.name}`, s.shape) : take(`param/${s.name}`, s.shape));
  }
  return { params, hInit: take('h_init', [model.width]), lInit: take('l_init', [model.width]) };
}
