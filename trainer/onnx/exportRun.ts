// `reclab export <run-dir>`: the run's latest (or a given) checkpoint as runs/<id>/model.onnx,
// one supervision step per the ONNX step contract, from the evaluation weights (the EMA copy
// where the run keeps one; the puzzle embedding is never EMA'd, as in trainState.ts).
// Pure JavaScript: no TensorFlow.js backend is needed to export.
import { taskDescriptionOf } from '../data/taskData';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDeqArch } from '../../protocol/config';
import { contractProperties } from '../../protocol/onnxContract';
import { runFiles } from '../../protocol/runDirectory';
import { createModel } from '../model/modelFactory';
import { writeFileAtomic } from '../run/atomicWrite';
import { readCheckpointFile } from '../run/checkpointFile';
import { RunDirectory } from '../run/runDirectory';
import { readEvaluationWeights, taskShapeOf } from '../run/evaluationWeights';
import { InputError } from '../inputError';
import { describeOnnxFile } from './modelDescription';
import { buildAttractorStepModel } from './attractorStepGraph';
import { buildTrmStepModel } from './trmStepGraph';

export interface ExportResult {
  path: string;
  checkpoint: string;
  step: number;
  bytes: number;
}

export interface ExportOptions {
  checkpoint?: string;
  out?: string;
  /** trm-deq, attractor: fixed-point iterations each solve is unrolled to (default the model's deq.maxIter). */
  deqIterations?: number;
}

export function exportRun(runPath: string, opts: ExportOptions = {}): ExportResult {
  const runDir = RunDirectory.open(resolve(runPath));
  const { metadata, config } = runDir.readConfigFile();
  const ckpt = opts.checkpoint ? { path: resolve(opts.checkpoint), step: undefined } : runDir.latestCheckpoint();
  if (!ckpt) throw new Error(`${runPath}: no checkpoint to export (train first)`);
  const model = createModel(config.model, taskShapeOf(config));
  if (opts.deqIterations !== undefined && !isDeqArch(model.arch)) throw new InputError(`--deq-iterations: the run's model is ${model.arch}, not trm-deq or attractor`);
  const weights = readEvaluationWeights(ckpt.path, model);
  const meta = readCheckpointFile(ckpt.path).meta as { step?: number } | undefined;
  const step = ckpt.step ?? meta?.step ?? 0;
  const build = model.arch === 'attractor' ? buildAttractorStepModel : buildTrmStepModel;
  const bytes = build(model, weights, {
    haltMaxSteps: config.train.haltMaxSteps,
    task: taskDescriptionOf(config.data),
    deqIterations: opts.deqIterations,
    extraMetadata: { [contractProperties.runId]: metadata.runId, [contractProperties.checkpointStep]: String(step) },
  });
  const out = opts.out ? resolve(opts.out) : join(runDir.path, runFiles.onnxModel);
  writeFileAtomic(out, bytes);
  return { path: out, checkpoint: ckpt.path, step, bytes: bytes.byteLength };
}

/**
 * True when the run's model.onnx is this run's export of its latest checkpoint: the run id and
 * checkpoint step in its metadata match (a file copied from another run, or an export of an
 * earlier step, is not current whatever its mtime), and it is not older than that checkpoint.
 */
export function exportIsCurrent(runPath: string): boolean {
  const runDir = RunDirectory.open(resolve(runPath));
  const onnx = join(runDir.path, runFiles.onnxModel);
  const ckpt = runDir.latestCheckpoint();
  if (!existsSync(onnx) || !ckpt) return false;
  let md: Record<string, string>;
  try {
    md = describeOnnxFile(onnx).description.metadata;
  } catch {
    return false; // unreadable or not ONNX: export again
  }
  const { metadata } = runDir.readConfigFile();
  return md[contractProperties.runId] === metadata.runId && md[contractProperties.checkpointStep] === String(ckpt.step)
    && statSync(onnx).mtimeMs >= statSync(ckpt.path).mtimeMs;
}
