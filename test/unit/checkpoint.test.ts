// The checkpoint file (format 2, safetensors + checksums; checkpoint-format.test.ts checks it
// against the safetensors library): round trips are bit-exact; every malformed file is refused
// with an error naming it; writes are atomic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../trainer/backend';
import { readCheckpointFile, writeCheckpointFile, type StoredArray } from '../../trainer/run/checkpointFile';
import { writeFileAtomic } from '../../trainer/run/atomicWrite';
import { restoreTrainingCheckpoint, saveTrainingCheckpoint } from '../../trainer/run/trainingCheckpoint';
import { RunDirectory } from '../../trainer/run/runDirectory';
import { TrmModel } from '../../trainer/model/trm';
import { createTrainState, disposeTrainState } from '../../trainer/train/trainState';
import { presets } from '../../protocol/presets';
import { Rng } from '../../trainer/random';

test.before(async () => { await selectBackend('cpu'); });
const dir = mkdtempSync(join(tmpdir(), 'reclab-ckpt-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (name = 'c.ckpt') => { const d = join(dir, `case${++n}`); mkdirSync(d); return join(d, name); };

const bytes = (a: StoredArray['data']) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function sampleArrays(): Map<string, StoredArray> {
  const specials = Float32Array.from([NaN, -0, Infinity, -Infinity, 1e-45, 3.4e38, 1 / 3]);
  // A NaN with a payload, to prove bits (not values) are copied.
  new Uint32Array(specials.buffer)[0] = 0x7fc01234;
  return new Map<string, StoredArray>([
    ['specials', { dtype: 'float32', shape: [7], data: specials }],
    ['matrix', { dtype: 'float32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
    ['ints', { dtype: 'int32', shape: [2, 2], data: Int32Array.from([-(2 ** 31), 2 ** 31 - 1, 0, -1]) }],
    ['bytes', { dtype: 'uint8', shape: [3], data: Uint8Array.from([0, 255, 7]) }],
    ['empty', { dtype: 'float32', shape: [0], data: new Float32Array(0) }],
    ['after_odd', { dtype: 'float32', shape: [1], data: Float32Array.from([-2.5]) }],
  ]);
}

test('write/read round trip is bit-exact for float32, int32 and uint8 arrays, with the metadata', () => {
  const path = fresh();
  const arrays = sampleArrays();
  const meta = { step: 12, nested: { s: 'x', list: [1, 2] } };
  writeCheckpointFile(path, meta, arrays);
  const back = readCheckpointFile(path);
  assert.deepEqual(back.meta, meta);
  assert.deepEqual([...back.arrays.keys()].sort(), [...arrays.keys()].sort());
  for (const [name, a] of arrays) {
    const b = back.arrays.get(name)!;
    assert.equal(b.dtype, a.dtype, name);
    assert.deepEqual(b.shape, a.shape, name);
    assert.equal(b.data.constructor, a.data.constructor, name);
    assert.ok(bytes(b.data).equals(bytes(a.data)), `${name} bit-exact`);
  }
});

test('a truncated file and a corrupted JSON header are refused, naming the file', () => {
  const good = fresh();
  writeCheckpointFile(good, { a: 1 }, sampleArrays());
  const original = readFileSync(good);
  const variant = (name: string, edit: (b: Buffer) => Buffer) => {
    const p = join(dir, `bad-${name}.ckpt`);
    writeFileSync(p, edit(Buffer.from(original)));
    return p;
  };
  const cases: [string, string, RegExp][] = [
    ['truncated-data', variant('truncated-data', (b) => b.subarray(0, b.length - 5)), /truncated/],
    ['truncated-header', variant('truncated-header', (b) => b.subarray(0, 40)), /truncated/],
    ['too-short', variant('too-short', (b) => b.subarray(0, 6)), /truncated/],
    ['json', variant('json', (b) => { b[8] = '#'.charCodeAt(0); return b; }), /JSON/],
    ['empty', variant('empty', () => Buffer.alloc(0)), /truncated/],
  ];
  for (const [label, path, why] of cases) {
    assert.throws(() => readCheckpointFile(path), (e: Error) => {
      assert.ok(e.message.includes(path), `${label}: message names the file: ${e.message}`);
      assert.match(e.message, why, label);
      return true;
    });
  }
  const missing = join(dir, 'no-such.ckpt');
  assert.throws(() => readCheckpointFile(missing), (e: Error) => e.message.includes(missing));
});

test('writing refuses an array whose shape does not match its data, and leaves no file', () => {
  const path = fresh();
  assert.throws(() => writeCheckpointFile(path, {}, new Map([['x', { dtype: 'float32', shape: [2, 2], data: new Float32Array(3) } as StoredArray]])), /shape/);
  assert.equal(existsSync(path), false);
});

test('writes are atomic: when writing throws there is no file at the final name and no *.tmp-* left', () => {
  const path = fresh('target.bin');
  const bogus = { byteLength: 10 } as unknown as Uint8Array; // writeSync throws on it, after a first good part
  assert.throws(() => writeFileAtomic(path, [Buffer.from('first part'), bogus]));
  assert.deepEqual(readdirSync(join(path, '..')), []);
  // An existing file at the final name survives a failed rewrite unchanged.
  writeFileAtomic(path, 'old contents');
  assert.throws(() => writeFileAtomic(path, [Buffer.from('new'), bogus]));
  assert.equal(readFileSync(path, 'utf8'), 'old contents');
  assert.deepEqual(readdirSync(join(path, '..')), ['target.bin']);
  // A successful checkpoint write leaves exactly the final file.
  const ckpt = join(path, '..', 'step-0000001.ckpt');
  writeCheckpointFile(ckpt, {}, sampleArrays());
  assert.deepEqual(readdirSync(join(path, '..')).sort(), ['step-0000001.ckpt', 'target.bin']);
});

test('RunDirectory.latestCheckpoint takes the highest complete step and ignores temporary files', () => {
  const runPath = join(dir, 'run-latest');
  const run = RunDirectory.create(runPath, { metadata: { runId: 'r', createdAt: '', backend: 'cpu', versions: {}, command: [] }, config: presets['sudoku4']! });
  assert.equal(run.latestCheckpoint(), undefined);
  for (const name of ['step-0000002.ckpt', 'step-0000010.ckpt', 'step-0000020.ckpt.tmp-123', 'notes.txt']) writeFileSync(join(runPath, 'checkpoints', name), '');
  assert.deepEqual(run.latestCheckpoint(), { step: 10, path: join(runPath, 'checkpoints', 'step-0000010.ckpt') });
  assert.equal(run.checkpointPath(3), join(runPath, 'checkpoints', 'step-0000003.ckpt'));
  assert.throws(() => RunDirectory.create(runPath, run.readConfigFile()), /already holds a run/);
});

// createTrainState names its variables after the parameters (trainStep reads the gradients by
// name), so only one train state can be alive at a time: each test disposes one before the next.
function makeState(width: number, seed: number) {
  const cfg = presets['sudoku4']!;
  const model = new TrmModel({ ...cfg.model, hiddenSize: width, layers: 1 }, { vocabSize: 6, seqLen: 16 });
  return createTrainState(model, { ...cfg.train, batchSize: 3 }, new Rng(seed));
}

const extra = () => ({
  haltRng: new Rng(5).state(), stream: { rng: new Rng(6).state(), order: [2, 0, 1], position: 1 },
  progress: { wallSeconds: 1, trainSeconds: 0.5, flopsForwardTotal: 2, flopsBackwardTotal: 3, bestExactAccuracy: undefined },
});

/** Every array of a train state, copied out, keyed like the checkpoint. */
function snapshot(s: ReturnType<typeof makeState>): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const put = (k: string, t: tf.Tensor) => out.set(k, Buffer.from(bytes(t.dataSync() as Float32Array)));
  for (const [name, v] of s.params) put(`param/${name}`, v);
  for (const [name, sl] of s.slots) { put(`adam_m/${name}`, sl.m); put(`adam_v/${name}`, sl.v); }
  for (const [name, v] of s.ema ?? []) put(`ema/${name}`, v);
  put('h_init', s.hInit);
  put('l_init', s.lInit);
  put('carry/z_h', s.carry.zH);
  put('carry/z_l', s.carry.zL);
  out.set('carry/steps', Buffer.from(bytes(s.carry.steps)));
  out.set('carry/halted', Buffer.from(bytes(s.carry.halted)));
  out.set('carry/tokens', Buffer.from(bytes(s.carry.data.tokens)));
  return out;
}

test('training checkpoint: restore reproduces every array of the saved state bit for bit', () => {
  const path = fresh();
  const a = makeState(8, 1);
  a.step = 7;
  a.emaUpdates = 7;
  a.carry.steps.set([1, 2, 3]);
  a.carry.halted.set([0, 1, 0]);
  a.carry.data.tokens.fill(4);
  // Make the Adam slots and the EMA differ from a fresh state's.
  for (const sl of a.slots.values()) { sl.m.assign(tf.fill(sl.m.shape, 0.25)); sl.v.assign(tf.fill(sl.v.shape, 0.5)); }
  for (const v of a.ema!.values()) v.assign(tf.fill(v.shape, -1.5));
  saveTrainingCheckpoint(path, a, extra());
  const saved = snapshot(a);
  disposeTrainState(a);

  const b = makeState(8, 2);
  const meta = restoreTrainingCheckpoint(path, b);
  assert.equal(meta.step, 7);
  assert.deepEqual(meta.stream.order, [2, 0, 1]);
  assert.equal(b.step, 7);
  assert.equal(b.emaUpdates, 7);
  const restored = snapshot(b);
  assert.deepEqual([...restored.keys()].sort(), [...saved.keys()].sort());
  for (const [k, v] of saved) assert.ok(restored.get(k)!.equals(v), `${k} bit-exact`);
  disposeTrainState(b);
});

test('training checkpoint of another model shape is refused whole, naming the file and the array', () => {
  const path = fresh();
  const small = makeState(8, 1);
  saveTrainingCheckpoint(path, small, extra());
  disposeTrainState(small);

  const big = makeState(12, 3);
  const before = snapshot(big);
  assert.throws(() => restoreTrainingCheckpoint(path, big), (e: Error) => {
    assert.ok(e.message.includes(path), e.message);
    assert.match(e.message, /param\/embed_tokens has shape \[6,8\].*\[6,12\]/);
    return true;
  });
  // Nothing was changed.
  for (const [k, v] of snapshot(big)) assert.ok(before.get(k)!.equals(v), `${k} untouched`);
  assert.equal(big.step, 0);
  // A checkpoint file that is not a training checkpoint is refused too.
  const plain = fresh();
  writeCheckpointFile(plain, { kind: 'something-else' }, new Map());
  assert.throws(() => restoreTrainingCheckpoint(plain, big), (e: Error) => e.message.includes(plain));
  disposeTrainState(big);

  // A training checkpoint missing one array names it; a truncated one names the file.
  const ck = readCheckpointFile(path);
  ck.arrays.delete('adam_v/lm_head');
  const partial = fresh();
  writeCheckpointFile(partial, ck.meta, ck.arrays);
  const other = makeState(8, 4);
  assert.throws(() => restoreTrainingCheckpoint(partial, other), (e: Error) => e.message.includes(partial) && e.message.includes('adam_v/lm_head'));
  truncateSync(partial, 100);
  assert.throws(() => restoreTrainingCheckpoint(partial, other), (e: Error) => e.message.includes(partial));
  disposeTrainState(other);
});
