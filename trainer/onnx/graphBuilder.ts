// A small writer of ONNX graphs on top of the generated protobuf classes of `onnx-proto`:
// named initializers (raw little-endian data), nodes with generated output names, typed graph
// inputs/outputs and model metadata. It knows nothing about any model.
import { onnx } from 'onnx-proto';

export const DataType = onnx.TensorProto.DataType;
export type DataTypeValue = onnx.TensorProto.DataType;

/** Attribute values: an integer, a list of integers, a float ({ f }), or a string. */
export type AttributeValue = number | number[] | { f: number } | string;

export interface ValueSpec {
  name: string;
  elemType: DataTypeValue;
  /** A number is a fixed dim, a string a symbolic one (e.g. "batch"). */
  dims: (number | string)[];
}

/** The opset our graphs use (ReduceMean still takes `axes` as an attribute in 17). */
export const OPSET = 17;

function bytesOf(a: Float32Array | BigInt64Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function attribute(name: string, v: AttributeValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer (use { f: ${v} } for a float)`);
    return { name, type: T.INT, i: v };
  }
  return { name, type: T.FLOAT, f: v.f };
}

export function valueInfo(v: ValueSpec): onnx.IValueInfoProto {
  return {
    name: v.name,
    type: { tensorType: { elemType: v.elemType, shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

export class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  private claim(name: string): string {
    if (this.used.has(name)) throw new Error(`graph name "${name}" is used twice`);
    this.used.add(name);
    return name;
  }

  /** A fresh value name: `${hint}_${n}`. */
  fresh(hint: string): string {
    return this.claim(`${hint}_${this.counter++}`);
  }

  /** Reserves a name given from outside (graph inputs and outputs). */
  reserve(name: string): string {
    return this.claim(name);
  }

  /** One node with one output; returns the output's name (given, or generated from the op). */
  op(opType: string, inputs: string[], attrs: Record<string, AttributeValue> = {}, output?: string): string {
    const out = output !== undefined ? this.claim(output) : this.fresh(opType.toLowerCase());
    this.nodes.push({
      opType, input: inputs, output: [out], name: `${opType}_${this.nodes.length}`,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return out;
  }

  float(name: string, data: Float32Array, dims: number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new Error(`initializer ${name}: dims [${dims}] need ${size} values, got ${data.length}`);
    this.initializers.push({ name: this.claim(name), dataType: DataType.FLOAT, dims, rawData: bytesOf(Float32Array.from(data)) });
    return name;
  }

  int64(name: string, values: readonly number[], dims: number[] = [values.length]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name: this.claim(name), dataType: DataType.INT64, dims, rawData: bytesOf(data) });
    return name;
  }

  /** A scalar (dims []) int64 constant. */
  int64Scalar(name: string, value: number): string {
    return this.int64(name, [value], []);
  }

  model(opts: {
    graphName: string; inputs: ValueSpec[]; outputs: ValueSpec[]; metadata: Record<string, string>;
    producer: string; producerVersion: string; docString?: string;
  }): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: opts.producer,
      producerVersion: opts.producerVersion,
      docString: opts.docString ?? '',
      graph: {
        name: opts.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: opts.inputs.map(valueInfo),
        output: opts.outputs.map(valueInfo),
      },
      metadataProps: Object.entries(opts.metadata).map(([key, value]) => ({ key, value })),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
