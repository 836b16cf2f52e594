// The task data a PyTorch worker trains and evaluates on (h11 worker interface, item 2): the TS
// loaders' puzzles — the one source of puzzles, so both engines hold out the same test set —
// written to <run-dir>/worker/task-data.safetensors in weights format 2 (docs/weights-format.md).
import { createHash } from 'node:crypto';
import type { TaskData } from '../data/taskData';
import { writeFileAtomic } from '../run/atomicWrite';

export const TASK_DATA_KIND = 'reclab-task-data';

interface Tensor {
  dtype: 'U8' | 'I32';
  shape: number[];
  data: Uint8Array | Int32Array;
}

const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');
const bytesOf = (a: Uint8Array | Int32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

// TODO(lead): replace by issue 9's format-2 `writeWeightsFile` (trainer/run/checkpointFile.ts) once merged.
function writeFormat2(path: string, meta: unknown, tensors: ReadonlyMap<string, Tensor>): void {
  const names = [...tensors.keys()].sort();
  // I32 tensors first so every tensor stays aligned to its element size (the library does not require it).
  const order = [...names].sort((a, b) => Number(tensors.get(a)!.dtype === 'U8') - Number(tensors.get(b)!.dtype === 'U8'));
  const entries: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> = {};
  const checksums: Record<string, string> = {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of order) {
    const t = tensors.get(name)!;
    const bytes = bytesOf(t.data);
    entries[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    checksums[name] = sha256(bytes);
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const metaText = JSON.stringify(meta);
  const checksumText = JSON.stringify(Object.fromEntries(names.map((n) => [n, checksums[n]!])));
  const canonical = [
    ...names.map((n) => { const e = entries[n]!; return [n, e.dtype, e.shape.join(','), e.data_offsets[0], e.data_offsets[1]].join('\t'); }),
    metaText, checksumText,
  ].join('\n');
  const header = {
    __metadata__: {
      'reclab.format': 'reclab-weights', 'reclab.format_version': '2', 'reclab.meta': metaText,
      'reclab.checksums': checksumText, 'reclab.header_sha256': sha256(canonical),
    },
    ...entries,
  };
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - ((8 + Buffer.byteLength(text)) % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(text)));
  writeFileAtomic(path, [prefix, Buffer.from(text, 'utf8'), ...chunks]);
}

function grids(rows: readonly Uint8Array[], cells: number): Uint8Array {
  const out = new Uint8Array(rows.length * cells);
  rows.forEach((g, i) => out.set(g, i * cells));
  return out;
}

/** Writes the task data: train/questions, train/solutions, train/group_offsets, test/questions, test/solutions, test/blanks. */
export function writeTaskDataFile(path: string, data: TaskData): void {
  const L = data.seqLen;
  const train = data.trainGroups.flat();
  const offsets = new Int32Array(data.trainGroups.length + 1);
  data.trainGroups.forEach((g, i) => { offsets[i + 1] = offsets[i]! + g.length; });
  const tensors = new Map<string, Tensor>([
    ['train/questions', { dtype: 'U8', shape: [train.length, L], data: grids(train.map((p) => p.question), L) }],
    ['train/solutions', { dtype: 'U8', shape: [train.length, L], data: grids(train.map((p) => p.answer), L) }],
    ['train/group_offsets', { dtype: 'I32', shape: [offsets.length], data: offsets }],
    ['test/questions', { dtype: 'U8', shape: [data.test.length, L], data: grids(data.test.map((p) => p.question), L) }],
    ['test/solutions', { dtype: 'U8', shape: [data.test.length, L], data: grids(data.test.map((p) => p.answer), L) }],
    ['test/blanks', { dtype: 'I32', shape: [data.test.length], data: Int32Array.from(data.test, (p) => p.blanks) }],
  ]);
  writeFormat2(path, { kind: TASK_DATA_KIND, side: data.side, vocabSize: data.vocabSize, seqLen: L, augmentOnTheFly: data.augmentOnTheFly }, tensors);
}
