// The up-front memory check (trainer/run/memoryBudget.ts): the estimate on a small model worked out
// by hand from the documented formula, the limit's sources, and refusals that name the figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import { presets } from '../../protocol/presets';
import type { RunConfig } from '../../protocol/config';
import { TrmModel } from '../../trainer/model/trm';
import { checkFitsInMemory, estimateTrainingMemory, memoryLimit } from '../../trainer/run/memoryBudget';

const base = presets['sudoku4']!;
const small: RunConfig = {
  ...base,
  model: { ...base.model, hiddenSize: 8, layers: 1, hCycles: 1, lCycles: 1 },
  train: { ...base.train, batchSize: 4, microBatchSize: 4 },
};

test('the estimate of a D=8 mlp_t model, by hand', () => {
  const model = new TrmModel(small.model, { vocabSize: 6, seqLen: 16 });
  // L = 16 + 1 prefix token = 17; F = ceil(round(4*8*2/3) / 8) * 8 = 24; sequence hidden = ceil(round(4*17*2/3) / 8) * 8 = 48.
  assert.deepEqual([model.totalLen, model.channelFfn, model.sequenceFfn], [17, 24, 48]);
  // Per row: (n + 1 = 2 calls) x 1 layer x (17 x (2*8 + 3*24) + 8 x 2 x 48) + 17 x 6 x 2 logits = 2 x (1496 + 768) + 204 = 4732 floats.
  // Activations: 4 bytes x (4 rows x 4732 + carry 4 x 17 x 8 x 2) = 4 x (18928 + 1088) = 80064 bytes.
  const params = model.parameterSpecs().reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  const est = estimateTrainingMemory(model, small);
  assert.equal(est.activationBytes, 80064);
  assert.equal(est.stateBytes, 20 * params);
  assert.equal(est.totalBytes, 80064 + 20 * params);
});

test('the limit: RECLAB_MEMORY_LIMIT_MB, else 75 % of RAM; wasm at most 4 GiB; a bad value is an error', () => {
  assert.deepEqual(memoryLimit('cpu', { RECLAB_MEMORY_LIMIT_MB: '512' }), { bytes: 512 * 2 ** 20, source: 'RECLAB_MEMORY_LIMIT_MB' });
  assert.equal(memoryLimit('cpu', {}).bytes, 0.75 * totalmem());
  assert.equal(memoryLimit('wasm', {}).bytes, Math.min(0.75 * totalmem(), 4 * 2 ** 30));
  assert.throws(() => memoryLimit('cpu', { RECLAB_MEMORY_LIMIT_MB: 'lots' }), /RECLAB_MEMORY_LIMIT_MB: expected a positive number/);
});

test('sudoku-extreme (5M parameters, batch 768) needs at least 100 MB of state; refused under a small limit, accepted under a large one', () => {
  const cfg = presets['sudoku-extreme']!;
  const model = new TrmModel(cfg.model, { vocabSize: 11, seqLen: 81 });
  const est = estimateTrainingMemory(model, cfg);
  assert.ok(est.stateBytes >= 20 * 5_028_866, `${est.stateBytes}`);
  assert.throws(() => checkFitsInMemory(model, cfg, 'tensorflow', { RECLAB_MEMORY_LIMIT_MB: '100' }), (e: Error) => {
    assert.match(e.message, /does not fit in memory: at least [\d.]+ GiB .* limit of 0\.098 GiB \(RECLAB_MEMORY_LIMIT_MB\)/);
    assert.match(e.message, /model\.hiddenSize/);
    return true;
  });
  assert.doesNotThrow(() => checkFitsInMemory(model, cfg, 'tensorflow', { RECLAB_MEMORY_LIMIT_MB: String(64 * 1024) }));
});

test('hiddenSize 100000 is refused at this machine\'s limit; the default presets fit', () => {
  const huge = new TrmModel({ ...base.model, hiddenSize: 100000 }, { vocabSize: 6, seqLen: 16 });
  assert.throws(() => checkFitsInMemory(huge, { ...base, model: huge.config }, 'cpu', {}), /does not fit in memory/);
  for (const name of ['sudoku4', 'sudoku4-hard', 'cgar', 'sudoku9-easy']) {
    const c = presets[name]!;
    const side = c.data.kind === 'generated-sudoku' ? c.data.side : 9;
    assert.doesNotThrow(() => checkFitsInMemory(new TrmModel(c.model, { vocabSize: side + 2, seqLen: side * side }), c, 'wasm', {}), name);
  }
});
