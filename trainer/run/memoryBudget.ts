// Does a run fit in memory? A lower-bound estimate of the bytes a training run holds, from the
// config alone, checked before the run directory exists (a model that cannot fit is refused up
// front instead of dying half-written). Counted, all float32:
//   state        parameters x 5 (weights, gradients, two Adam moments, EMA)
//   carry        z_H and z_L: batchSize x totalLen x D x 2
//   activations  what the backward pass must keep for one micro-batch: the n + 1 network calls of
//                the last cycle x layers x (per token: the residual stream, the SwiGLU gate/up
//                outputs, 2D + 3F; per row the sequence mixer's hidden, D x 2S for mlp_t, or
//                heads x L^2 x 2 attention scores), plus the logits (L x vocab x 2)
// The limit: RECLAB_MEMORY_LIMIT_MB when set, else 75 % of the machine's memory; the wasm backend
// also caps at 4 GiB (a 32-bit heap).
import { totalmem } from 'node:os';
import type { RunConfig } from '../../protocol/config';
import type { RecursiveModel } from '../model/recursiveModel';

export interface MemoryEstimate {
  stateBytes: number;
  activationBytes: number;
  totalBytes: number;
}

export function estimateTrainingMemory(model: RecursiveModel, config: RunConfig): MemoryEstimate {
  const params = model.parameterSpecs().reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  const D = model.width, L = model.totalLen, F = model.channelFfn;
  const c = model.config;
  const mixerPerRow = c.mixer === 'mlp_t' ? D * 2 * model.sequenceFfn : c.numHeads * L * L * 2;
  // Blocks on the tape: TRM's last cycle (n + 1 calls), HRM's one L and one H call.
  const tapedBlocks = model.arch === 'hrm' ? c.layers + (c.hLayers ?? c.layers) : (c.lCycles + 1) * c.layers;
  const perRow = tapedBlocks * (L * (2 * D + 3 * F) + mixerPerRow) + L * model.task.vocabSize * 2;
  const micro = Math.min(config.train.microBatchSize, config.train.batchSize);
  const stateBytes = 4 * params * 5;
  const activationBytes = 4 * (micro * perRow + config.train.batchSize * L * D * 2);
  return { stateBytes, activationBytes, totalBytes: stateBytes + activationBytes };
}

const WASM_HEAP_BYTES = 4 * 2 ** 30;

/** The bytes a run may use on this machine with this backend, and where that figure comes from. */
export function memoryLimit(backend: string, env: NodeJS.ProcessEnv = process.env): { bytes: number; source: string } {
  const set = env['RECLAB_MEMORY_LIMIT_MB'];
  if (set !== undefined && set !== '') {
    const mb = Number(set);
    if (!(mb > 0)) throw new Error(`RECLAB_MEMORY_LIMIT_MB: expected a positive number of MiB, got "${set}"`);
    return { bytes: mb * 2 ** 20, source: 'RECLAB_MEMORY_LIMIT_MB' };
  }
  const ram = 0.75 * totalmem();
  return backend === 'wasm' && ram > WASM_HEAP_BYTES ? { bytes: WASM_HEAP_BYTES, source: 'the wasm backend\'s 4 GiB heap' } : { bytes: ram, source: '75 % of this machine\'s memory' };
}

const gib = (b: number): string => `${(b / 2 ** 30).toFixed(b < 2 ** 30 ? 3 : 1)} GiB`;

/** Throws (a message naming the model fields to change) when the estimate exceeds the limit. */
export function checkFitsInMemory(model: RecursiveModel, config: RunConfig, backend: string, env: NodeJS.ProcessEnv = process.env): MemoryEstimate {
  const est = estimateTrainingMemory(model, config);
  const limit = memoryLimit(backend, env);
  if (est.totalBytes > limit.bytes) {
    throw new Error(`the model does not fit in memory: at least ${gib(est.totalBytes)} (parameters, gradients, moments and EMA ${gib(est.stateBytes)}, `
      + `activations ${gib(est.activationBytes)}) against a limit of ${gib(limit.bytes)} (${limit.source}); `
      + `make model.hiddenSize, model.layers or train.microBatchSize smaller (or set RECLAB_MEMORY_LIMIT_MB)`);
  }
  return est;
}
