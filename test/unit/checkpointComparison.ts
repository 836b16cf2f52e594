// Test helper (not a test): two training checkpoints hold the same arrays, bit for bit.
import assert from 'node:assert/strict';
import { readCheckpointFile, type CheckpointContents } from '../../trainer/run/checkpointFile';

/** Asserts both files hold the same parameter, Adam-moment and EMA arrays, bit for bit; returns both. */
export function assertBitIdenticalCheckpoints(pathA: string, pathB: string): [CheckpointContents, CheckpointContents] {
  const a = readCheckpointFile(pathA);
  const b = readCheckpointFile(pathB);
  const names = [...a.arrays.keys()];
  for (const prefix of ['param/', 'adam_m/', 'adam_v/', 'ema/']) assert.ok(names.some((k) => k.startsWith(prefix)), `has ${prefix} arrays`);
  assert.deepEqual([...b.arrays.keys()].sort(), [...names].sort());
  for (const name of names) {
    const x = a.arrays.get(name)!.data, y = b.arrays.get(name)!.data;
    assert.ok(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength)), `${name} bit-identical`);
  }
  return [a, b];
}
