// Reads what the step contract checks — graph inputs, outputs and metadata properties — from an
// .onnx file, with the generated protobuf classes of `onnx-proto` (no inference runtime needed).
import { readFileSync } from 'node:fs';
import { onnx } from 'onnx-proto';
import type { ElementType, ModelDescription, ValueDescription } from '../../protocol/onnxContract';

const elementTypes: Record<number, ElementType> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64' };

function toNumber(v: unknown): number {
  return typeof v === 'number' ? v : Number(String(v));
}

function describeValue(v: onnx.IValueInfoProto): ValueDescription {
  const tensor = v.type?.tensorType;
  const elemType = elementTypes[tensor?.elemType ?? 0] ?? 'other';
  const dims = tensor?.shape ? (tensor.shape.dim ?? []).map((d) => {
    const which = (d as onnx.TensorShapeProto.Dimension).value;
    if (which === 'dimValue') return toNumber(d.dimValue);
    if (which === 'dimParam') return d.dimParam ?? null;
    return null;
  }) : undefined;
  return { name: v.name ?? '', elemType, dims };
}

/** The contract-relevant description of a serialized ModelProto. */
export function describeOnnxBytes(bytes: Uint8Array, source = 'model'): ModelDescription {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`${source}: not an ONNX model (${(e as Error).message})`);
  }
  if (!model.graph) throw new Error(`${source}: not an ONNX model (no graph)`);
  // Older exporters also list the initializers among the inputs; those are weights, not inputs.
  const initializers = new Set((model.graph.initializer ?? []).map((t) => t.name));
  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  return {
    inputs: (model.graph.input ?? []).filter((i) => !initializers.has(i.name ?? '')).map(describeValue),
    outputs: (model.graph.output ?? []).map(describeValue),
    metadata,
  };
}

export function describeOnnxFile(path: string): { bytes: Uint8Array; description: ModelDescription } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read: ${(e as Error).message}`);
  }
  return { bytes, description: describeOnnxBytes(bytes, path) };
}
