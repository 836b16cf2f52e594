// Config resolution: presets, config files merged on a preset, command-line overrides, and
// errors that name the file and the field; the emitted JSON Schema is strict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, presetConfig, resolveConfig } from '../../trainer/configResolution';
import { runConfigSchema } from '../../protocol/config';
import { defaultPresetName, presets } from '../../protocol/presets';
import { configJsonSchema } from '../../protocol/configSchemaJson';
import { createModel } from '../../trainer/model/modelFactory';

const dir = mkdtempSync(join(tmpdir(), 'reclab-config-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function configFile(content: unknown): string {
  const path = join(dir, `c${++n}.reclab.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function assertConfigError(fn: () => unknown, ...mustContain: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `a ConfigError, got ${String(e)}`);
    for (const s of mustContain) assert.ok(e.message.includes(s), `message "${e.message}" names ${s}`);
    return true;
  });
}

test('every preset validates against the run schema and builds a model', () => {
  assert.ok(Object.keys(presets).length >= 3);
  assert.ok(defaultPresetName in presets);
  for (const [name, p] of Object.entries(presets)) {
    const r = runConfigSchema.safeParse(p);
    assert.ok(r.success, `${name}: ${r.success ? '' : r.error.message}`);
    const side = p.data.kind === 'generated-sudoku' ? p.data.side : 9;
    assert.doesNotThrow(() => createModel(p.model, { vocabSize: side + 2, seqLen: side * side }), name);
    assert.ok(p.train.microBatchSize <= p.train.batchSize, `${name}: micro-batch fits the batch`);
    assert.deepEqual(resolveConfig({ preset: name }).config, p);
  }
});

test('the sudoku-extreme preset is the reference TRM-MLP recipe (reference.md §1.9)', () => {
  const c = presets['sudoku-extreme']!;
  assert.deepEqual(
    [c.model.hiddenSize, c.model.mixer, c.model.posEncodings, c.model.layers, c.model.hCycles, c.model.lCycles, c.model.puzzleEmbLen, c.model.expansion, c.model.ffnMultipleOf, c.model.qHeadBiasInit],
    [512, 'mlp_t', 'none', 2, 3, 6, 16, 4, 256, -5]);
  assert.deepEqual(
    [c.train.batchSize, c.train.haltMaxSteps, c.train.haltExplorationProb, c.train.optimizer, c.train.lr, c.train.lrWarmupSteps, c.train.lrMinRatio, c.train.weightDecay, c.train.beta1, c.train.beta2, c.train.puzzleEmbLr, c.train.puzzleEmbWeightDecay, c.train.lossType, c.train.qLossWeight, c.train.ema.rate],
    [768, 16, 0.1, 'adam_atan2', 1e-4, 2000, 1, 1.0, 0.9, 0.95, 1e-4, 1.0, 'stablemax', 0.5, 0.999]);
  // 50,000 epochs × 1000 groups / 768 per batch = 65,104 steps (reference.md §1.2).
  assert.equal(c.train.steps, Math.floor((50_000 * 1000) / 768));
});

test('the hrm-sudoku-extreme preset is the reference HRM recipe (reference.md §1.9) with 27.3 M main parameters', () => {
  const c = presets['hrm-sudoku-extreme']!;
  assert.deepEqual(
    [c.model.arch, c.model.hiddenSize, c.model.numHeads, c.model.mixer, c.model.posEncodings, c.model.hLayers, c.model.layers, c.model.hCycles, c.model.lCycles, c.model.puzzleEmbLen, c.model.expansion],
    ['hrm', 512, 8, 'attention', 'rope', 4, 4, 2, 2, 1, 4]);
  assert.deepEqual(
    [c.train.batchSize, c.train.haltMaxSteps, c.train.haltExplorationProb, c.train.optimizer, c.train.lr, c.train.lrWarmupSteps, c.train.lrMinRatio, c.train.weightDecay, c.train.puzzleEmbLr, c.train.puzzleEmbWeightDecay, c.train.lossType, c.train.ema.enabled],
    [768, 16, 0.1, 'adam_atan2', 1e-4, 2000, 1, 1.0, 1e-4, 1.0, 'stablemax', false]);
  // 20,000 epochs of 1000 groups / 768 = 26,041.7 -> 26,040 steps; evaluation every 2,000 epochs' worth.
  assert.deepEqual([c.train.steps, c.eval.everySteps], [26_040, 2_604]);
  // Per block: qkv 512·1536 + o 512·512 + SwiGLU gate_up 512·3072 + down 1536·512 (hidden round(4·512·2/3) = 1365 -> 1536)
  // = 3,407,872; 8 blocks, + embed 11·512 + lm_head 512·11 + q_head 512·2 + 2 = 27,275,266 (the paper's "27M").
  const model = createModel(c.model, { vocabSize: 11, seqLen: 81 });
  const main = model.parameterSpecs().filter((s) => s.group === 'main').reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  assert.equal(main, 8 * 3_407_872 + 2 * 11 * 512 + 512 * 2 + 2);
});

test('an unknown top-level field names the file and the field', () => {
  const path = configFile({ extends: 'sudoku4', hiddenSize: 32 });
  assertConfigError(() => resolveConfig({ configFile: path }), path, 'hiddenSize', 'unknown field');
});

test('an ill-typed field names the file and the field path model.hiddenSize', () => {
  const path = configFile({ model: { hiddenSize: '32' } });
  assertConfigError(() => resolveConfig({ configFile: path }), path, 'model.hiddenSize');
});

test('a nested unknown field names its full path', () => {
  const p1 = configFile({ model: { hiddenSize: 16, hidenSize: 16 } });
  assertConfigError(() => resolveConfig({ configFile: p1 }), p1, 'model.hidenSize');
  const p2 = configFile({ train: { ema: { rate: 0.9, decay: 0.9 } } });
  assertConfigError(() => resolveConfig({ configFile: p2 }), p2, 'train.ema.decay');
  // data is checked after merging; its errors still name the file and data.<field>.
  const p3 = configFile({ data: { trainPuzzle: 10 } });
  assertConfigError(() => resolveConfig({ configFile: p3 }), p3, 'data.trainPuzzle');
  const p4 = configFile({ data: { side: 5 } });
  assertConfigError(() => resolveConfig({ configFile: p4 }), p4, 'data.side');
});

test('invalid JSON, a missing file and an unknown preset are ConfigErrors naming what is wrong', () => {
  const bad = configFile('{ "model": ');
  assertConfigError(() => resolveConfig({ configFile: bad }), bad, 'JSON');
  const missing = join(dir, 'nope.json');
  assertConfigError(() => resolveConfig({ configFile: missing }), missing);
  assertConfigError(() => resolveConfig({ preset: 'sudoku5' }), 'sudoku5');
  const unknownExtends = configFile({ extends: 'sudoku5' });
  assertConfigError(() => resolveConfig({ configFile: unknownExtends }), unknownExtends, 'extends', 'sudoku5');
  const conflict = configFile({ extends: 'sudoku9-easy' });
  assertConfigError(() => resolveConfig({ configFile: conflict, preset: 'sudoku4' }), conflict, 'extends');
  // Out-of-range values are refused too.
  const neg = configFile({ train: { haltExplorationProb: 1.5 } });
  assertConfigError(() => resolveConfig({ configFile: neg }), neg, 'train.haltExplorationProb');
});

test('extends + partial overrides merge field by field onto the named preset', () => {
  const path = configFile({ extends: 'sudoku9-easy', model: { hiddenSize: 48 }, train: { ema: { rate: 0.99 }, lr: 1e-3 }, eval: { everySteps: 7 } });
  const { config, presetName } = resolveConfig({ configFile: path });
  const base = presets['sudoku9-easy']!;
  assert.equal(presetName, 'sudoku9-easy');
  assert.deepEqual(config.model, { ...base.model, hiddenSize: 48 });
  assert.deepEqual(config.train, { ...base.train, lr: 1e-3, ema: { ...base.train.ema, rate: 0.99 } });
  assert.deepEqual(config.eval, { ...base.eval, everySteps: 7 });
  assert.deepEqual(config.data, base.data);
  assert.equal(config.seed, base.seed);
  // The presets themselves are not modified by resolution.
  assert.equal(presets['sudoku9-easy']!.model.hiddenSize, 64);
  // Without extends the default preset is the base; with --preset that preset.
  const plain = configFile({ seed: 5 });
  assert.deepEqual(resolveConfig({ configFile: plain }).config, { ...presetConfig(defaultPresetName), seed: 5 });
  assert.deepEqual(resolveConfig({ configFile: plain, preset: 'sudoku9-easy' }).config, { ...presetConfig('sudoku9-easy'), seed: 5 });
});

test('a data section of another kind replaces the preset data whole', () => {
  const data = { kind: 'sudoku-csv', trainFile: 'train.csv', testFile: 'test.csv', augmentationsPerPuzzle: 3 };
  const path = configFile({ extends: 'sudoku4', data });
  assert.deepEqual(resolveConfig({ configFile: path }).config.data, data);
  // Same kind: merged field by field.
  const same = configFile({ extends: 'sudoku4', data: { trainPuzzles: 12 } });
  assert.deepEqual(resolveConfig({ configFile: same }).config.data, { ...presets['sudoku4']!.data, trainPuzzles: 12 });
});

test('--steps, --seed, --backend and --name override the preset and the file', () => {
  const { config } = resolveConfig({ preset: 'sudoku4', steps: 7, seed: 3, backend: 'cpu', name: 'x' });
  const base = presets['sudoku4']!;
  assert.deepEqual(config, { ...base, seed: 3, backend: 'cpu', name: 'x', train: { ...base.train, steps: 7 } });
  const path = configFile({ seed: 9, train: { steps: 100, lr: 0.5 } });
  const r = resolveConfig({ configFile: path, steps: 11, seed: 4 });
  assert.equal(r.config.train.steps, 11);
  assert.equal(r.config.seed, 4);
  assert.equal(r.config.train.lr, 0.5);
});

test('the JSON Schema of config files rejects additional properties at the top level and in sections', () => {
  const schema = configJsonSchema() as { type?: string; additionalProperties?: unknown; properties: Record<string, { additionalProperties?: unknown; anyOf?: unknown[]; properties?: Record<string, { additionalProperties?: unknown }> }> };
  assert.equal(schema.type, 'object');
  assert.equal(schema.additionalProperties, false);
  for (const key of ['extends', 'seed', 'model', 'train', 'data', 'eval', '$schema']) assert.ok(key in schema.properties, key);
  assert.equal(schema.properties['model']!.additionalProperties, false);
  assert.equal(schema.properties['train']!.additionalProperties, false);
  assert.equal(schema.properties['train']!.properties!['ema']!.additionalProperties, false);
  // Data: one strict, partial object per kind.
  const variants = schema.properties['data']!.anyOf as { additionalProperties?: unknown; properties: Record<string, unknown>; required?: string[] }[];
  assert.equal(variants.length, 2);
  for (const v of variants) {
    assert.equal(v.additionalProperties, false);
    assert.ok('kind' in v.properties);
    assert.ok(!v.required || v.required.length === 0, 'partial: no required fields');
  }
  assert.doesNotThrow(() => JSON.stringify(schema));
});
