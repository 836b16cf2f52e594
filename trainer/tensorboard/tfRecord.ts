// TensorBoard's event-file encoding: TFRecord framing around `tensorflow.Event` protobufs.
//   record = u64le length, u32le masked_crc32c(length bytes), data, u32le masked_crc32c(data)
//   masked_crc32c(x) = ((crc >>> 15) | (crc << 17)) + 0xa282ead8   (mod 2^32)
// Event (tensorflow/core/util/event.proto): 1 wall_time double, 2 step int64, 3 file_version
// string, 5 summary. Summary.Value (summary.proto): 1 tag string, 2 simple_value float — the
// scalar form TensorBoard's EventAccumulator and `wandb sync --sync-tensorboard` read.
import crc32c from 'crc-32/crc32c';
import { Writer } from 'protobufjs/minimal';

function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c.buf(bytes) >>> 0;
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

export function tfRecord(data: Uint8Array): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(data.byteLength));
  const out = Buffer.alloc(8 + 4 + data.byteLength + 4);
  len.copy(out, 0);
  out.writeUInt32LE(maskedCrc32c(len), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.byteLength);
  return out;
}

/** The first event of every file: its format version. */
export function fileVersionEvent(wallTimeSeconds: number): Uint8Array {
  return Writer.create().uint32((1 << 3) | 1).double(wallTimeSeconds).uint32((3 << 3) | 2).string('brain.Event:2').finish();
}

export function scalarEvent(wallTimeSeconds: number, step: number, tag: string, value: number): Uint8Array {
  const summaryValue = Writer.create().uint32((1 << 3) | 2).string(tag).uint32((2 << 3) | 5).float(value).finish();
  const summary = Writer.create().uint32((1 << 3) | 2).bytes(summaryValue).finish();
  return Writer.create()
    .uint32((1 << 3) | 1).double(wallTimeSeconds)
    .uint32((2 << 3) | 0).int64(step)
    .uint32((5 << 3) | 2).bytes(summary)
    .finish();
}
