// `reclab export <run-dir>`: the run's latest (or a given) checkpoint as runs/<id>/model.onnx,
// one supervision step per the ONNX step contract, from the evaluation weights (the EMA copy
// where the run keeps one; the puzzle embedding is never EMA'd, as in trainState.ts).
// Pure JavaScript: no TensorFlow.js backend is needed to export.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunConfig } from '../../protocol/config';
import { runFiles } from '../../protocol/runDirectory';
import { vocabSize } from '../data/tokenEncoding';
import { TrmModel, type TaskShape } from '../model/trm';
import { writeFileAtomic } from '../run/atomicWrite';
import { readCheckpointFile } from '../run/checkpointFile';
import { RunDirectory } from '../run/runDirectory';
import { buildTrmStepModel, type TrmStepWeights } from './trmStepGraph';

/** Vocabulary and length of the run's task, from its data config (no data is generated). */
export function taskShapeOf(config: RunConfig): TaskShape {
  const side = config.data.kind === 'generated-sudoku' ? config.data.side : 9;
  return { vocabSize: vocabSize(side), seqLen: side * side };
}

/** The evaluation weights of a checkpoint file: ema/<name> where present, else param/<name>. */
export function readEvaluationWeights(path: string, model: TrmModel): TrmStepWeights {
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

export interface ExportResult {
  path: string;
  checkpoint: string;
  step: number;
  bytes: number;
}

export interface ExportOptions {
  checkpoint?: string;
  out?: string;
}

export function exportRun(runPath: string, opts: ExportOptions = {}): ExportResult {
  const runDir = RunDirectory.open(resolve(runPath));
  const { metadata, config } = runDir.readConfigFile();
  const ckpt = opts.checkpoint ? { path: resolve(opts.checkpoint), step: undefined } : runDir.latestCheckpoint();
  if (!ckpt) throw new Error(`${runPath}: no checkpoint to export (train first)`);
  const model = new TrmModel(config.model, taskShapeOf(config));
  const weights = readEvaluationWeights(ckpt.path, model);
  const meta = readCheckpointFile(ckpt.path).meta as { step?: number } | undefined;
  const step = ckpt.step ?? meta?.step ?? 0;
  const bytes = buildTrmStepModel(model, weights, {
    haltMaxSteps: config.train.haltMaxSteps,
    extraMetadata: { 'reclab.run_id': metadata.runId, 'reclab.checkpoint_step': String(step) },
  });
  const out = opts.out ? resolve(opts.out) : join(runDir.path, runFiles.onnxModel);
  writeFileAtomic(out, bytes);
  return { path: out, checkpoint: ckpt.path, step, bytes: bytes.byteLength };
}

/** True when the run's model.onnx exists and is not older than its latest checkpoint. */
export function exportIsCurrent(runPath: string): boolean {
  const runDir = RunDirectory.open(resolve(runPath));
  const onnx = join(runDir.path, runFiles.onnxModel);
  const ckpt = runDir.latestCheckpoint();
  if (!existsSync(onnx) || !ckpt) return false;
  return statSync(onnx).mtimeMs >= statSync(ckpt.path).mtimeMs;
}
