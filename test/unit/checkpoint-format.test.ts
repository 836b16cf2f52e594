// Checkpoint / weights format 2 (docs/weights-format.md) against the real safetensors library
// (Python, test/setup/python-env.sh): what the TS writer writes, the library loads with the same
// values and metadata; what the library writes (reclab checksums computed in Python with hashlib)
// the TS reader reads. Corruptions (a flipped byte in an EMA or optimizer array, a NaN in a weight,
// a bad dtype, a truncated file, a changed shape) are each refused naming the file and the tensor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readCheckpointFile, readWeightsFile, writeCheckpointFile, writeWeightsFile, type StoredArray } from '../../trainer/run/checkpointFile';

const root = resolve(__dirname, '../..');
const script = join(__dirname, 'safetensors_interop.py');
const python = execFileSync('bash', [join(root, 'test/setup/python-env.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 15 * 60_000 }).trim().split('\n').pop()!;
const dir = mkdtempSync(join(tmpdir(), 'reclab-format2-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `f${++n}.ckpt`);

interface PyTensor { dtype: string; shape: number[]; values: (number | string)[] }
function py(mode: 'read' | 'write', path: string): unknown {
  const r = spawnSync(python, [script, mode, path], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}
const values = (a: StoredArray['data']): (number | string)[] => Array.from(a as ArrayLike<number | bigint>, (v) => {
  const x = Number(v);
  return Number.isFinite(x) ? x : String(x).replace('Infinity', 'inf').replace('NaN', 'nan');
});

function sample(): Map<string, StoredArray> {
  return new Map<string, StoredArray>([
    ['param/w', { dtype: 'float32', shape: [2, 3], data: Float32Array.from([1, -2, 1 / 3, 4e-39, 5, 6]) }],
    ['ema/w', { dtype: 'float32', shape: [2, 3], data: Float32Array.from([0.5, 0.25, 0.125, -1, -2, -3]) }],
    ['adam_m/w', { dtype: 'float32', shape: [2, 3], data: Float32Array.from([1e-8, 2e-8, 3e-8, 4e-8, 5e-8, 6e-8]) }],
    ['adam_v/w', { dtype: 'float32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
    ['carry/steps', { dtype: 'int32', shape: [3], data: Int32Array.from([1, -(2 ** 31), 2 ** 31 - 1]) }],
    ['carry/halted', { dtype: 'uint8', shape: [3], data: Uint8Array.from([0, 1, 255]) }],
    ['carry/z_h', { dtype: 'float32', shape: [1, 2, 2], data: Float32Array.from([NaN, Infinity, -0, 2]) }], // not a weight: non-finite allowed
    ['scalar', { dtype: 'float32', shape: [], data: Float32Array.from([7.5]) }],
    ['empty', { dtype: 'float32', shape: [0], data: new Float32Array(0) }],
  ]);
}
const meta = { kind: 'reclab-training-checkpoint', engine: 'tfjs', step: 12, nested: { s: 'ü', list: [1, 2] } };

/** The header of a format-2 file, and a function that writes the file back with an edited header. */
function header(path: string) {
  const buf = readFileSync(path);
  const len = Number(buf.readBigUInt64LE(0));
  const json = JSON.parse(buf.toString('utf8', 8, 8 + len)) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> & { __metadata__: Record<string, string> };
  return {
    json, dataStart: 8 + len, buf,
    rewrite(edit: (h: typeof json) => void): void {
      edit(json);
      const text = Buffer.from(JSON.stringify(json));
      const prefix = Buffer.alloc(8);
      prefix.writeBigUInt64LE(BigInt(text.byteLength));
      writeFileSync(path, Buffer.concat([prefix, text, buf.subarray(8 + len)]));
    },
  };
}

function refused(path: string, tensor: string | undefined, why: RegExp, read: (p: string) => unknown = readCheckpointFile): void {
  assert.throws(() => read(path), (e: Error) => {
    assert.ok(e.message.includes(path), `names the file: ${e.message}`);
    if (tensor) assert.ok(e.message.includes(`tensor ${tensor}`), `names ${tensor}: ${e.message}`);
    assert.match(e.message, why);
    return true;
  });
}

test('a checkpoint the TS writer wrote loads with safetensors (load_file and safe_open): same values, dtypes, shapes and metadata', () => {
  const path = fresh();
  const arrays = sample();
  writeCheckpointFile(path, meta, arrays);
  const got = py('read', path) as { metadata: Record<string, string>; tensors: Record<string, PyTensor> };
  assert.equal(got.metadata['reclab.format'], 'reclab-checkpoint');
  assert.equal(got.metadata['reclab.format_version'], '2');
  assert.deepEqual(JSON.parse(got.metadata['reclab.meta']!), meta);
  const numpyDtype = { float32: 'float32', int32: 'int32', uint8: 'uint8' } as Record<string, string>;
  assert.deepEqual(Object.keys(got.tensors).sort(), [...arrays.keys()].sort());
  const checksums = JSON.parse(got.metadata['reclab.checksums']!) as Record<string, string>;
  for (const [name, a] of arrays) {
    const t = got.tensors[name]!;
    assert.equal(t.dtype, numpyDtype[a.dtype], name);
    assert.deepEqual(t.shape, a.shape, name);
    assert.deepEqual(t.values, values(a.data), name);
    // The checksum is SHA-256 of the tensor's little-endian bytes, computed here independently.
    assert.equal(checksums[name], createHash('sha256').update(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength)).digest('hex'), name);
  }
  // And the reader gives back exactly what was written.
  const back = readCheckpointFile(path);
  assert.equal(back.formatVersion, 2);
  assert.deepEqual(back.meta, meta);
  for (const [name, a] of arrays) assert.ok(Buffer.from(back.arrays.get(name)!.data.buffer).equals(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength)), `${name} bit-exact`);
});

test('the canonical header text and its SHA-256, recomputed by hand from the written header', () => {
  const path = fresh();
  writeCheckpointFile(path, { step: 1 }, new Map<string, StoredArray>([
    ['b', { dtype: 'uint8', shape: [3], data: Uint8Array.from([1, 2, 3]) }],
    ['a', { dtype: 'float32', shape: [], data: Float32Array.from([1]) }],
  ]));
  const { json, dataStart, buf } = header(path);
  assert.equal(dataStart % 8, 0, 'header padded to 8 bytes');
  // The widest dtype first (no gaps allowed): a (F32) at 0..4, b (U8) at 4..7.
  assert.deepEqual(json['a']!.data_offsets, [0, 4]);
  assert.deepEqual(json['b']!.data_offsets, [4, 7]);
  assert.equal(buf.byteLength, dataStart + 7);
  const md = json.__metadata__;
  const expected = `a\tF32\t\t0\t4\nb\tU8\t3\t4\t7\n${md['reclab.meta']}\n${md['reclab.checksums']}`;
  assert.equal(md['reclab.header_sha256'], createHash('sha256').update(expected).digest('hex'));
});

test('a weights file the safetensors library wrote (checksums computed in Python) is read by the TS reader', () => {
  const path = join(dir, 'from-python.safetensors');
  const written = py('write', path) as Record<string, PyTensor>;
  const { meta: m, tensors } = readWeightsFile(path);
  assert.deepEqual(m, { kind: 'parity-fixture', engine: 'torch', note: 'written by safetensors.numpy' });
  const ourDtype: Record<string, string> = { float32: 'float32', int32: 'int32', uint8: 'uint8', int64: 'int64', bool: 'bool' };
  assert.deepEqual([...tensors.keys()].sort(), Object.keys(written).sort());
  for (const [name, t] of Object.entries(written)) {
    const a = tensors.get(name)!;
    assert.equal(a.dtype, ourDtype[t.dtype], name);
    assert.deepEqual(a.shape, t.shape, name);
    assert.deepEqual(values(a.data), t.values, name);
  }
  // A weights file is not a checkpoint, and the other way round.
  refused(path, undefined, /reclab\.format is "reclab-weights", expected "reclab-checkpoint"/);
  const ckpt = fresh();
  writeCheckpointFile(ckpt, meta, sample());
  refused(ckpt, undefined, /expected "reclab-weights"/, readWeightsFile);
});

test('writeWeightsFile / readWeightsFile round-trip a name -> tensor map with its metadata; the library reads it', () => {
  const path = join(dir, 'w.safetensors');
  const w = new Map<string, StoredArray>([
    ['param/lm_head', { dtype: 'float32', shape: [2, 2], data: Float32Array.from([0.1, 0.2, 0.3, 0.4]) }],
    ['ids', { dtype: 'int64', shape: [2], data: BigInt64Array.from([BigInt(5), BigInt(-(2 ** 40))]) }],
    ['flags', { dtype: 'bool', shape: [2], data: Uint8Array.from([1, 0]) }],
  ]);
  writeWeightsFile(path, { source: 'tfjs', seed: 3 }, w);
  const back = readWeightsFile(path);
  assert.deepEqual(back.meta, { source: 'tfjs', seed: 3 });
  for (const [name, a] of w) assert.deepEqual(values(back.tensors.get(name)!.data), values(a.data), name);
  const got = py('read', path) as { metadata: Record<string, string>; tensors: Record<string, PyTensor> };
  assert.equal(got.metadata['reclab.format'], 'reclab-weights');
  assert.deepEqual(got.tensors['ids'], { dtype: 'int64', shape: [2], values: [5, -(2 ** 40)] });
  assert.deepEqual(got.tensors['flags'], { dtype: 'bool', shape: [2], values: [1, 0] });
});

test('a flipped byte in an EMA or an optimizer array is refused naming the tensor', () => {
  for (const name of ['ema/w', 'adam_m/w', 'adam_v/w', 'carry/steps']) {
    const path = fresh();
    writeCheckpointFile(path, meta, sample());
    const { json, dataStart, buf } = header(path);
    const at = dataStart + json[name]!.data_offsets[0] + 1;
    buf[at]! ^= 0x10;
    writeFileSync(path, buf);
    refused(path, name, /SHA-256 .* does not match/);
  }
});

/** Recomputes reclab.checksums and reclab.header_sha256 of a file (by the document, written here). */
function reseal(path: string): void {
  const { json, dataStart, buf } = header(path);
  const names = Object.keys(json).filter((k) => k !== '__metadata__').sort();
  const checksums = Object.fromEntries(names.map((k) => [k, createHash('sha256').update(buf.subarray(dataStart + json[k]!.data_offsets[0], dataStart + json[k]!.data_offsets[1])).digest('hex')]));
  const md = json.__metadata__;
  md['reclab.checksums'] = JSON.stringify(checksums);
  const lines = names.map((k) => [k, json[k]!.dtype, json[k]!.shape.join(','), ...json[k]!.data_offsets].join('\t'));
  md['reclab.header_sha256'] = createHash('sha256').update([...lines, md['reclab.meta'], md['reclab.checksums']].join('\n')).digest('hex');
  header(path).rewrite((h) => { h.__metadata__ = md; });
}

test('a NaN or an infinity in a weight, an EMA or a moment is refused naming the tensor (with valid checksums)', () => {
  for (const [name, bad] of [['param/w', NaN], ['ema/w', Infinity], ['adam_v/w', -Infinity]] as const) {
    const path = fresh();
    writeCheckpointFile(path, meta, sample());
    const { json, dataStart, buf } = header(path);
    buf.writeFloatLE(bad, dataStart + json[name]!.data_offsets[0] + 4 * 4);
    writeFileSync(path, buf);
    reseal(path);
    refused(path, name, new RegExp(`value 4 is ${String(bad)}.*finite`));
  }
  // The writer never saves such a state: it refuses, naming the tensor, and leaves no file.
  const arrays = sample();
  (arrays.get('ema/w')!.data as Float32Array)[2] = NaN;
  const path = fresh();
  assert.throws(() => writeCheckpointFile(path, meta, arrays), /tensor ema\/w value 2 is NaN, not finite/);
  assert.throws(() => readFileSync(path), /ENOENT/);
});

test('a bad dtype ("valueOf", an inherited name; "F16", not in the table) is refused naming the tensor', () => {
  for (const dtype of ['valueOf', '__proto__', 'F16', 'float32']) {
    const path = fresh();
    writeCheckpointFile(path, meta, sample());
    header(path).rewrite((h) => { h['param/w']!.dtype = dtype; });
    refused(path, 'param/w', /dtype .* is not one of F32, I32, U8, I64, BOOL/);
  }
});

test('a truncated file is refused: in the data naming the tensor cut off, in the header or the length prefix naming the file', () => {
  const path = fresh();
  writeCheckpointFile(path, meta, sample());
  const { json, buf } = header(path);
  const last = (Object.entries(json) as [string, { data_offsets: [number, number] }][]).filter(([k]) => k !== '__metadata__').sort((a, b) => b[1].data_offsets[1] - a[1].data_offsets[1])[0]![0];
  truncateSync(path, buf.byteLength - 3);
  refused(path, last, /truncated/);
  truncateSync(path, 40);
  refused(path, undefined, /truncated/);
  truncateSync(path, 5);
  refused(path, undefined, /truncated/);
  writeFileSync(path, '');
  refused(path, undefined, /truncated/);
});

test('a changed shape, offsets or metadata in the header are refused', () => {
  const edits: [string, (h: ReturnType<typeof header>['json']) => void, string | undefined, RegExp][] = [
    ['shape with another size', (h) => { h['param/w']!.shape = [3, 3]; }, 'param/w', /shape \[3,3\] of F32 does not match its 24 bytes/],
    ['negative dimension', (h) => { h['param/w']!.shape = [-2, -3]; }, 'param/w', /bad shape/],
    ['transposed shape (same size)', (h) => { h['param/w']!.shape = [3, 2]; }, undefined, /header_sha256 does not match/],
    ['swapped offsets', (h) => { const a = h['adam_m/w']!.data_offsets; h['adam_m/w']!.data_offsets = h['adam_v/w']!.data_offsets; h['adam_v/w']!.data_offsets = a; }, undefined, /header_sha256 does not match/],
    ['overlap', (h) => { h['ema/w']!.data_offsets = [h['param/w']!.data_offsets[0], h['param/w']!.data_offsets[1]]; }, undefined, /overlap|hole/],
    ['changed meta', (h) => { h.__metadata__['reclab.meta'] = h.__metadata__['reclab.meta']!.replace('"step":12', '"step":13'); }, undefined, /header_sha256 does not match/],
    ['checksum removed', (h) => {
      const c = JSON.parse(h.__metadata__['reclab.checksums']!) as Record<string, string>;
      delete c['adam_v/w'];
      h.__metadata__['reclab.checksums'] = JSON.stringify(c);
    }, undefined, /header_sha256 does not match/],
    ['no reclab metadata', (h) => { delete (h as Partial<typeof h>).__metadata__; }, undefined, /reclab\.format" is missing/],
    ['another format version', (h) => { h.__metadata__['reclab.format_version'] = '3'; }, undefined, /format version 3/],
  ];
  for (const [label, edit, tensor, why] of edits) {
    const path = fresh();
    writeCheckpointFile(path, meta, sample());
    header(path).rewrite(edit);
    assert.doesNotThrow(() => readFileSync(path), label);
    refused(path, tensor, why);
  }
});

test('a format-1 checkpoint (RECLABCK, no checksums) is still read, with one note on stderr', () => {
  // A format-1 file built here byte by byte: signature, u32 version 1, u32 header length, JSON header, data.
  const data = Buffer.from(Float32Array.from([1.5, -2]).buffer);
  const headerText = Buffer.from(JSON.stringify({ meta: { step: 3 }, arrays: [{ name: 'param/w', dtype: 'float32', shape: [2], byteOffset: 0 }] }));
  const pad = (8 - ((16 + headerText.byteLength) % 8)) % 8;
  const prefix = Buffer.alloc(16);
  prefix.write('RECLABCK', 0, 'latin1');
  prefix.writeUInt32LE(1, 8);
  prefix.writeUInt32LE(headerText.byteLength + pad, 12);
  const path = fresh();
  writeFileSync(path, Buffer.concat([prefix, headerText, Buffer.alloc(pad, 0x20), data]));
  const readTwice = `const { readCheckpointFile } = require(${JSON.stringify(join(root, 'trainer/run/checkpointFile.ts'))});
    const a = readCheckpointFile(${JSON.stringify(path)}); readCheckpointFile(${JSON.stringify(path)});
    process.stdout.write(JSON.stringify({ v: a.formatVersion, meta: a.meta, w: Array.from(a.arrays.get('param/w').data) }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', readTwice], { encoding: 'utf8', cwd: root, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { v: 1, meta: { step: 3 }, w: [1.5, -2] });
  assert.equal(r.stderr.match(/format-1 checkpoint/g)?.length, 1, r.stderr);
  assert.ok(r.stderr.includes(path));
});
