// Checkpoint and weights files, format 2 (docs/weights-format.md): the safetensors layout plus
// reclab metadata — a SHA-256 per tensor and one over the canonical header text — verified on
// every read, so a flipped byte, a NaN in a weight or a changed shape is refused naming the file
// and the tensor. Format 1 (the "RECLABCK" files written before) is still read, unverified.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomicWrite';

export const CHECKPOINT_FORMAT_VERSION = 2;

export type ArrayDtype = 'float32' | 'int32' | 'uint8' | 'int64' | 'bool';

export interface StoredArray {
  dtype: ArrayDtype;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array | BigInt64Array;
}

export type FileKind = 'reclab-checkpoint' | 'reclab-weights';

export interface CheckpointContents {
  meta: unknown;
  arrays: Map<string, StoredArray>;
  /** 1: a legacy file, read without any verification. */
  formatVersion: 1 | 2;
}

/** A file that is not what it claims: its path and, where one is at fault, the tensor. */
export class CorruptFileError extends Error {
  constructor(readonly path: string, readonly why: string, readonly tensor?: string) {
    super(`${path}: ${tensor === undefined ? '' : `tensor ${tensor}: `}${why}`);
  }
}

interface DtypeInfo { tag: string; bytes: number }
// safetensors dtype tags; a null prototype so `dtype in`/lookups never see inherited names.
const dtypes: Record<ArrayDtype, DtypeInfo> = Object.assign(Object.create(null) as Record<ArrayDtype, DtypeInfo>, {
  float32: { tag: 'F32', bytes: 4 }, int32: { tag: 'I32', bytes: 4 }, uint8: { tag: 'U8', bytes: 1 },
  int64: { tag: 'I64', bytes: 8 }, bool: { tag: 'BOOL', bytes: 1 },
});
const dtypeOfTag = new Map<string, ArrayDtype>(Object.entries(dtypes).map(([d, i]) => [i.tag, d as ArrayDtype]));

/** Tensors the engines compute with: a NaN or infinity in them is refused. */
const mustBeFinite = (name: string): boolean => /^(param|ema|adam_m|adam_v)\//.test(name) || name === 'h_init' || name === 'l_init';

const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');
const rawBytes = (a: StoredArray['data']): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

interface HeaderEntry { dtype: string; shape: number[]; data_offsets: [number, number] }

/** docs/weights-format.md "Canonical header text". */
function canonicalHeaderText(entries: ReadonlyMap<string, HeaderEntry>, metaText: string, checksumsText: string): string {
  const names = [...entries.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const lines = names.map((n) => {
    const e = entries.get(n)!;
    return [n, e.dtype, e.shape.join(','), e.data_offsets[0], e.data_offsets[1]].join('\t');
  });
  return [...lines, metaText, checksumsText].join('\n');
}

function writeFormat2(path: string, kind: FileKind, meta: unknown, arrays: ReadonlyMap<string, StoredArray>): void {
  // safetensors allows no gaps between tensors: the widest dtypes go first, so every tensor stays
  // aligned to its element size (the header is padded to 8 bytes).
  const order = [...arrays.keys()].sort((a, b) => dtypes[arrays.get(b)!.dtype].bytes - dtypes[arrays.get(a)!.dtype].bytes || (a < b ? -1 : a > b ? 1 : 0));
  const entries = new Map<string, HeaderEntry>();
  const checksums: Record<string, string> = {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of order) {
    const a = arrays.get(name)!;
    const size = a.shape.reduce((x, y) => x * y, 1);
    if (!(a.dtype in dtypes)) throw new Error(`checkpoint array ${name}: unknown dtype ${String(a.dtype)}`);
    if (size !== a.data.length) throw new Error(`checkpoint array ${name}: shape [${a.shape}] does not match ${a.data.length} values`);
    const bad = a.dtype === 'float32' && mustBeFinite(name) ? (a.data as Float32Array).findIndex((x) => !Number.isFinite(x)) : -1;
    if (bad >= 0) throw new Error(`not writing ${path}: tensor ${name} value ${bad} is ${(a.data as Float32Array)[bad]}, not finite (a corrupt or diverged state is never saved)`);
    const bytes = rawBytes(a.data);
    entries.set(name, { dtype: dtypes[a.dtype].tag, shape: [...a.shape], data_offsets: [offset, offset + bytes.byteLength] });
    checksums[name] = sha256(bytes);
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const metaText = JSON.stringify(meta);
  const checksumsText = JSON.stringify(checksums);
  const metadata = {
    'reclab.format': kind, 'reclab.format_version': String(CHECKPOINT_FORMAT_VERSION), 'reclab.meta': metaText,
    'reclab.checksums': checksumsText, 'reclab.header_sha256': sha256(canonicalHeaderText(entries, metaText, checksumsText)),
  };
  const header = Buffer.from(JSON.stringify({ __metadata__: metadata, ...Object.fromEntries(entries) }), 'utf8');
  const pad = (8 - (header.byteLength % 8)) % 8;
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(header.byteLength + pad));
  writeFileAtomic(path, [prefix, header, Buffer.alloc(pad, 0x20), ...chunks]);
}

/** Parses and verifies a format-2 file; every check of docs/weights-format.md "Reading". */
function readFormat2(path: string, buf: Buffer, kind: FileKind): CheckpointContents {
  const fail = (why: string, tensor?: string): never => { throw new CorruptFileError(path, why, tensor); };
  const what = kind === 'reclab-checkpoint' ? 'checkpoint' : 'weights file';
  if (buf.byteLength < 8) fail(`not a valid ${what}: ${buf.byteLength} bytes, shorter than the 8-byte header length (truncated?)`);
  const headerLen = buf.readBigUInt64LE(0);
  if (headerLen > BigInt(buf.byteLength - 8)) fail(`not a valid ${what}: the header runs past the end of the file (truncated?)`);
  const dataStart = 8 + Number(headerLen);
  let header: unknown;
  try {
    header = JSON.parse(buf.toString('utf8', 8, dataStart));
  } catch {
    return fail(`not a valid ${what}: the header is not valid JSON`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail(`not a valid ${what}: the header is not a JSON object`);
  const { __metadata__: rawMeta, ...tensors } = header as Record<string, unknown>;
  const md = (typeof rawMeta === 'object' && rawMeta !== null ? rawMeta : {}) as Record<string, unknown>;
  const field = (key: string): string => {
    const v = Object.hasOwn(md, key) ? md[key] : undefined;
    return typeof v === 'string' ? v : fail(`not a reclab ${what}: metadata "${key}" is missing`);
  };
  const format = field('reclab.format');
  if (format !== kind) fail(`not a reclab ${what}: reclab.format is "${format}", expected "${kind}"`);
  const version = field('reclab.format_version');
  if (version !== String(CHECKPOINT_FORMAT_VERSION)) fail(`format version ${version}, this trainer reads ${CHECKPOINT_FORMAT_VERSION} (and 1)`);
  const metaText = field('reclab.meta');
  const checksumsText = field('reclab.checksums');
  const headerSha = field('reclab.header_sha256');

  const dataLen = buf.byteLength - dataStart;
  const entries = new Map<string, HeaderEntry>();
  for (const [name, raw] of Object.entries(tensors)) {
    const e = raw as Partial<HeaderEntry> | null;
    const dtype = e?.dtype;
    if (typeof dtype !== 'string' || !dtypeOfTag.has(dtype)) fail(`dtype ${JSON.stringify(dtype)} is not one of ${[...dtypeOfTag.keys()].join(', ')}`, name);
    const shape = e!.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(`bad shape ${JSON.stringify(shape)}`, name);
    const offs = e!.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0) || offs[1] < offs[0]) fail(`bad data_offsets ${JSON.stringify(offs)}`, name);
    const count = shape!.reduce((x, y) => x * y, 1);
    if (count * dtypes[dtypeOfTag.get(dtype!)!].bytes !== offs![1] - offs![0]) fail(`shape [${shape}] of ${dtype} does not match its ${offs![1] - offs![0]} bytes`, name);
    if (offs![1] > dataLen) fail('runs past the end of the file (truncated?)', name);
    entries.set(name, { dtype: dtype!, shape: shape!, data_offsets: offs as [number, number] });
  }
  // The byte ranges must tile the data buffer exactly.
  let end = 0;
  for (const [name, e] of [...entries].sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0])) {
    if (e.data_offsets[0] !== end) fail(`data_offsets ${JSON.stringify(e.data_offsets)} ${e.data_offsets[0] < end ? 'overlap the tensor before' : 'leave a hole before it'}`, name);
    end = e.data_offsets[1];
  }
  if (end !== dataLen) fail(`the tensors cover ${end} bytes of a ${dataLen}-byte data buffer`);

  if (sha256(canonicalHeaderText(entries, metaText, checksumsText)) !== headerSha) fail('reclab.header_sha256 does not match the header (a changed dtype, shape, offset or metadata)');
  let checksums: Record<string, unknown>;
  let meta: unknown;
  try {
    checksums = JSON.parse(checksumsText) as Record<string, unknown>;
    meta = JSON.parse(metaText);
  } catch {
    return fail('reclab.checksums or reclab.meta is not valid JSON');
  }
  const arrays = new Map<string, StoredArray>();
  for (const [name, e] of entries) {
    const bytes = buf.subarray(dataStart + e.data_offsets[0], dataStart + e.data_offsets[1]);
    const expected = Object.hasOwn(checksums, name) ? checksums[name] : undefined;
    if (typeof expected !== 'string') fail('has no checksum in reclab.checksums', name);
    if (sha256(bytes) !== expected) fail('SHA-256 of its bytes does not match reclab.checksums (the data is corrupt)', name);
    const dtype = dtypeOfTag.get(e.dtype)!;
    arrays.set(name, { dtype, shape: e.shape, data: typedCopy(dtype, bytes) });
  }
  for (const name of Object.keys(checksums)) if (!entries.has(name)) fail('is listed in reclab.checksums but is not in the file', name);
  return { meta, arrays, formatVersion: 2 };
}

/** An aligned copy of the bytes as the dtype's typed array. */
function typedCopy(dtype: ArrayDtype, bytes: Uint8Array): StoredArray['data'] {
  const copy = new Uint8Array(bytes);
  switch (dtype) {
    case 'float32': return new Float32Array(copy.buffer);
    case 'int32': return new Int32Array(copy.buffer);
    case 'int64': return new BigInt64Array(copy.buffer);
    default: return copy;
  }
}

function checkFinite(path: string, arrays: ReadonlyMap<string, StoredArray>): void {
  for (const [name, a] of arrays) {
    if (a.dtype !== 'float32' || !mustBeFinite(name)) continue;
    const i = (a.data as Float32Array).findIndex((x) => !Number.isFinite(x));
    if (i >= 0) throw new CorruptFileError(path, `value ${i} is ${(a.data as Float32Array)[i]} (weights, EMA and optimizer moments must be finite)`, name);
  }
}

function readBytes(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read ${what}: ${(e as Error).message}`);
  }
}

// ---- format 1 (legacy): "RECLABCK", u32 version 1, u32 header length, JSON header, data ----
const LEGACY_MAGIC = 'RECLABCK';
const legacyNoted = new Set<string>();

function readFormat1(path: string, buf: Buffer): CheckpointContents {
  const fail = (why: string): never => { throw new CorruptFileError(path, `not a valid checkpoint: ${why}`); };
  const version = buf.readUInt32LE(8);
  if (version !== 1) fail(`format version ${version}, this trainer reads ${CHECKPOINT_FORMAT_VERSION} (and 1)`);
  const headerLen = buf.readUInt32LE(12);
  if (16 + headerLen > buf.byteLength) fail('header runs past the end of the file (truncated?)');
  let header: { meta?: unknown; arrays?: unknown };
  try {
    header = JSON.parse(buf.toString('utf8', 16, 16 + headerLen));
  } catch {
    return fail('header is not valid JSON');
  }
  if (!Array.isArray(header.arrays)) fail('header has no "arrays" table');
  const dataStart = 16 + headerLen;
  const arrays = new Map<string, StoredArray>();
  for (const e of header.arrays as { name: unknown; dtype: unknown; shape: unknown; byteOffset: unknown }[]) {
    const dtype = e?.dtype;
    if (typeof e?.name !== 'string' || (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'uint8') || !Array.isArray(e.shape) || !Number.isInteger(e.byteOffset)) fail(`malformed entry ${JSON.stringify(e)}`);
    const shape = e.shape as number[];
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail(`array ${e.name as string}: bad shape [${shape}]`);
    const start = dataStart + (e.byteOffset as number);
    const end = start + shape.reduce((x, y) => x * y, 1) * dtypes[dtype as ArrayDtype].bytes;
    if (end > buf.byteLength) fail(`array ${e.name as string} runs past the end of the file (truncated?)`);
    arrays.set(e.name as string, { dtype: dtype as ArrayDtype, shape, data: typedCopy(dtype as ArrayDtype, buf.subarray(start, end)) });
  }
  if (!legacyNoted.has(path)) {
    legacyNoted.add(path);
    process.stderr.write(`${path}: a format-1 checkpoint (before checksums): read without verification\n`);
  }
  return { meta: header.meta, arrays, formatVersion: 1 };
}

// ---- the API ----

export function writeCheckpointFile(path: string, meta: unknown, arrays: ReadonlyMap<string, StoredArray>): void {
  writeFormat2(path, 'reclab-checkpoint', meta, arrays);
}

/** Reads and verifies a checkpoint (format 2), or reads a legacy format-1 one. */
export function readCheckpointFile(path: string): CheckpointContents {
  const buf = readBytes(path, 'checkpoint');
  const contents = buf.byteLength >= 16 && buf.toString('latin1', 0, 8) === LEGACY_MAGIC ? readFormat1(path, buf) : readFormat2(path, buf, 'reclab-checkpoint');
  checkFinite(path, contents.arrays);
  return contents;
}

/** A plain weights file (`reclab.format = "reclab-weights"`): a name -> tensor map with metadata. */
export function writeWeightsFile(path: string, meta: unknown, tensors: ReadonlyMap<string, StoredArray>): void {
  writeFormat2(path, 'reclab-weights', meta, tensors);
}

export function readWeightsFile(path: string): { meta: unknown; tensors: Map<string, StoredArray> } {
  const { meta, arrays } = readFormat2(path, readBytes(path, 'weights file'), 'reclab-weights');
  checkFinite(path, arrays);
  return { meta, tensors: arrays };
}
