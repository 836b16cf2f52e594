// The checkpoint file format: "RECLABCK", u32 format version, u32 header length, a JSON header
// (free-form metadata plus the table of arrays), then the raw little-endian array data, each
// array 8-byte aligned. Reading validates every field and names the file in its errors.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomicWrite';

const MAGIC = 'RECLABCK';
export const CHECKPOINT_FORMAT_VERSION = 1;

export type ArrayDtype = 'float32' | 'int32' | 'uint8';
export type TypedArrayOf<D extends ArrayDtype> = D extends 'float32' ? Float32Array : D extends 'int32' ? Int32Array : Uint8Array;

export interface StoredArray {
  dtype: ArrayDtype;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

interface ArrayEntry {
  name: string;
  dtype: ArrayDtype;
  shape: number[];
  byteOffset: number;
}

const bytesPer: Record<ArrayDtype, number> = { float32: 4, int32: 4, uint8: 1 };

export function writeCheckpointFile(path: string, meta: unknown, arrays: ReadonlyMap<string, StoredArray>): void {
  const entries: ArrayEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, a] of arrays) {
    const size = a.shape.reduce((x, y) => x * y, 1);
    if (size !== a.data.length) throw new Error(`checkpoint array ${name}: shape [${a.shape}] does not match ${a.data.length} values`);
    entries.push({ name, dtype: a.dtype, shape: a.shape, byteOffset: offset });
    const bytes = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
    chunks.push(bytes);
    const pad = (8 - (bytes.byteLength % 8)) % 8;
    if (pad) chunks.push(new Uint8Array(pad));
    offset += bytes.byteLength + pad;
  }
  const header = Buffer.from(JSON.stringify({ meta, arrays: entries }), 'utf8');
  const headerPad = (8 - ((16 + header.byteLength) % 8)) % 8;
  const prefix = Buffer.alloc(16);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(CHECKPOINT_FORMAT_VERSION, 8);
  prefix.writeUInt32LE(header.byteLength + headerPad, 12);
  writeFileAtomic(path, [prefix, header, Buffer.alloc(headerPad, 0x20), ...chunks]);
}

export interface CheckpointContents {
  meta: unknown;
  arrays: Map<string, StoredArray>;
}

export function readCheckpointFile(path: string): CheckpointContents {
  const fail = (why: string): never => { throw new Error(`${path}: not a valid checkpoint: ${why}`); };
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read checkpoint: ${(e as Error).message}`);
  }
  if (buf.byteLength < 16 || buf.toString('latin1', 0, 8) !== MAGIC) fail('missing the RECLABCK signature');
  const version = buf.readUInt32LE(8);
  if (version !== CHECKPOINT_FORMAT_VERSION) fail(`format version ${version}, this trainer reads ${CHECKPOINT_FORMAT_VERSION}`);
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
  for (const e of header.arrays as ArrayEntry[]) {
    if (typeof e?.name !== 'string' || !(e.dtype in bytesPer) || !Array.isArray(e.shape) || !Number.isInteger(e.byteOffset)) fail(`malformed entry ${JSON.stringify(e)}`);
    if (e.shape.some((d) => !Number.isInteger(d) || d < 0)) fail(`array ${e.name}: bad shape [${e.shape}]`);
    const count = e.shape.reduce((x, y) => x * y, 1);
    const start = dataStart + e.byteOffset;
    const end = start + count * bytesPer[e.dtype];
    if (end > buf.byteLength) fail(`array ${e.name} runs past the end of the file (truncated?)`);
    const copy = new Uint8Array(buf.subarray(start, end)); // aligned copy
    const data = e.dtype === 'float32' ? new Float32Array(copy.buffer) : e.dtype === 'int32' ? new Int32Array(copy.buffer) : copy;
    arrays.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { meta: header.meta, arrays };
}
