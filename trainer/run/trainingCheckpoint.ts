// Saving and restoring the whole training state (trainer/train/trainState.ts) plus the data
// stream, the halting RNG and the run's counters. Restoring checks every array's name and shape
// against the model built from the run's config, so a mismatched checkpoint is refused whole.
import * as tf from '@tensorflow/tfjs-core';
import type { RngState } from '../random';
import type { ExampleStreamState } from '../train/exampleStream';
import type { TrainState } from '../train/trainState';
import { readCheckpointFile, writeCheckpointFile, type StoredArray } from './checkpointFile';

/** Counters of the run that continue across a resume. */
export interface RunProgress {
  wallSeconds: number;
  /** Step time only (evaluation excluded). */
  trainSeconds: number;
  flopsForwardTotal: number;
  flopsBackwardTotal: number;
  bestExactAccuracy: number | undefined;
  /** The step of the first evaluation reaching bestExactAccuracy (kept by checkpoint retention). */
  bestStep?: number;
}

export interface TrainingCheckpointMeta {
  kind: 'reclab-training-checkpoint';
  /** Which engine wrote it (docs/weights-format.md); absent in format-1 checkpoints. */
  engine?: 'tfjs' | 'torch';
  step: number;
  emaUpdates: number;
  haltRng: RngState;
  stream: ExampleStreamState;
  progress: RunProgress;
  model: { width: number; totalLen: number; vocabSize: number; seqLen: number };
}

function floatArray(t: tf.Tensor): StoredArray {
  return { dtype: 'float32', shape: t.shape, data: t.dataSync() as Float32Array };
}

export function saveTrainingCheckpoint(path: string, state: TrainState, extra: Pick<TrainingCheckpointMeta, 'haltRng' | 'stream' | 'progress'>): void {
  const arrays = new Map<string, StoredArray>();
  for (const [name, v] of state.params) arrays.set(`param/${name}`, floatArray(v));
  for (const [name, s] of state.slots) {
    arrays.set(`adam_m/${name}`, floatArray(s.m));
    arrays.set(`adam_v/${name}`, floatArray(s.v));
  }
  for (const [name, v] of state.ema ?? []) arrays.set(`ema/${name}`, floatArray(v));
  arrays.set('h_init', floatArray(state.hInit));
  arrays.set('l_init', floatArray(state.lInit));
  const c = state.carry;
  arrays.set('carry/z_h', floatArray(c.zH));
  arrays.set('carry/z_l', floatArray(c.zL));
  arrays.set('carry/steps', { dtype: 'int32', shape: [c.steps.length], data: c.steps });
  arrays.set('carry/halted', { dtype: 'uint8', shape: [c.halted.length], data: c.halted });
  arrays.set('carry/tokens', { dtype: 'int32', shape: [c.data.size, c.data.seqLen], data: c.data.tokens });
  arrays.set('carry/labels', { dtype: 'int32', shape: [c.data.size, c.data.seqLen], data: c.data.labels });
  arrays.set('carry/blanks', { dtype: 'int32', shape: [c.data.size], data: c.data.blanks });
  const m = state.model;
  const meta: TrainingCheckpointMeta = {
    kind: 'reclab-training-checkpoint', engine: 'tfjs', step: state.step, emaUpdates: state.emaUpdates, ...extra,
    model: { width: m.width, totalLen: m.totalLen, vocabSize: m.task.vocabSize, seqLen: m.task.seqLen },
  };
  writeCheckpointFile(path, meta, arrays);
}

/** Overwrites `state` with the checkpoint; returns its metadata. */
export function restoreTrainingCheckpoint(path: string, state: TrainState): TrainingCheckpointMeta {
  const { meta, arrays } = readCheckpointFile(path);
  const m = meta as TrainingCheckpointMeta;
  if (m?.kind !== 'reclab-training-checkpoint') throw new Error(`${path}: not a training checkpoint`);
  const take = (name: string, shape: readonly number[], dtype: StoredArray['dtype'] = 'float32'): StoredArray => {
    const a = arrays.get(name);
    if (!a) throw new Error(`${path}: array ${name} is missing`);
    if (a.dtype !== dtype) throw new Error(`${path}: array ${name} is ${a.dtype}, the run's model needs ${dtype}`);
    if (a.shape.length !== shape.length || a.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${path}: array ${name} has shape [${a.shape}], the run's model needs [${shape}]`);
    }
    return a;
  };
  // Check everything before changing anything.
  const assignments: [tf.Variable, StoredArray][] = [];
  for (const [name, v] of state.params) assignments.push([v, take(`param/${name}`, v.shape)]);
  for (const [name, s] of state.slots) {
    assignments.push([s.m, take(`adam_m/${name}`, s.m.shape)], [s.v, take(`adam_v/${name}`, s.v.shape)]);
  }
  for (const [name, v] of state.ema ?? []) assignments.push([v, take(`ema/${name}`, v.shape)]);
  const c = state.carry;
  const hInit = take('h_init', state.hInit.shape);
  const lInit = take('l_init', state.lInit.shape);
  const zH = take('carry/z_h', c.zH.shape);
  const zL = take('carry/z_l', c.zL.shape);
  const steps = take('carry/steps', [c.steps.length], 'int32');
  const halted = take('carry/halted', [c.halted.length], 'uint8');
  const tokens = take('carry/tokens', [c.data.size, c.data.seqLen], 'int32');
  const labels = take('carry/labels', [c.data.size, c.data.seqLen], 'int32');
  const blanks = take('carry/blanks', [c.data.size], 'int32');

  for (const [v, a] of assignments) tf.tidy(() => v.assign(tf.tensor(a.data as Float32Array, a.shape)));
  tf.dispose([state.hInit, state.lInit, c.zH, c.zL]);
  state.hInit = tf.keep(tf.tensor1d(hInit.data as Float32Array));
  state.lInit = tf.keep(tf.tensor1d(lInit.data as Float32Array));
  c.zH = tf.keep(tf.tensor3d(zH.data as Float32Array, zH.shape as [number, number, number]));
  c.zL = tf.keep(tf.tensor3d(zL.data as Float32Array, zL.shape as [number, number, number]));
  c.steps = Int32Array.from(steps.data as Int32Array);
  c.halted = Uint8Array.from(halted.data as Uint8Array);
  c.data = { ...c.data, tokens: Int32Array.from(tokens.data as Int32Array), labels: Int32Array.from(labels.data as Int32Array), blanks: Int32Array.from(blanks.data as Int32Array) };
  state.step = m.step;
  state.emaUpdates = m.emaUpdates;
  return m;
}
