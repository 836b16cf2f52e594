// A contract-honouring ONNX step graph whose map is known in closed form, for the inspection
// tests: one state z [B, 2, 4], z_next = z·A + b, logits = one-hot of the tokens (the answer is
// the question itself), q_halt = mean(z_next). Options drop an output, add metadata, or put a
// mismatched weight inside the graph (an error only onnxruntime sees, at run time).
import { DataType, GraphBuilder } from '../../trainer/onnx/graphBuilder';

const S = 2, D = 4, L = 16, V = 6;

export interface AffineGraphOptions {
  dropInit?: boolean;
  metadata?: Record<string, string>;
  /** A has D + 1 rows: MatMul [B, S, D] x [D + 1, D] fails inside the graph. */
  mismatchedWeight?: boolean;
}

export function affineStepGraph(a: number[][], b: number[], init: number[], opts: AffineGraphOptions = {}): Uint8Array {
  const g = new GraphBuilder();
  const [tokens, z, reset] = [g.reserve('tokens'), g.reserve('z'), g.reserve('reset')];
  const initName = g.float('z_init_row', Float32Array.from([...init, ...init]), [S, D]);
  const start = g.op('Where', [g.op('Reshape', [reset, g.int64('shape_reset', [-1, 1, 1])]), initName, z]);
  const rows = opts.mismatchedWeight ? [...a, Array(D).fill(0)] : a;
  const next = g.op('Add', [g.op('MatMul', [start, g.float('A', Float32Array.from(rows.flat()), [rows.length, D])]), g.float('b', Float32Array.from(b), [D])], {}, 'z_next');
  if (!opts.dropInit) g.op('Expand', [initName, g.op('Shape', [z])], {}, 'z_init');
  const eye = Float32Array.from({ length: V * V }, (_, i) => (i % (V + 1) === 0 ? 10 : 0));
  g.op('Gather', [g.float('onehot', eye, [V, V]), tokens], { axis: 0 }, 'logits');
  g.op('ReduceMean', [next], { axes: [1, 2], keepdims: 0 }, 'q_halt');
  const B = 'batch';
  return g.model({
    graphName: 'affine', producer: 'test', producerVersion: '0',
    inputs: [{ name: 'tokens', elemType: DataType.INT64, dims: [B, L] }, { name: 'z', elemType: DataType.FLOAT, dims: [B, S, D] }, { name: 'reset', elemType: DataType.BOOL, dims: [B] }],
    outputs: [
      { name: 'z_next', elemType: DataType.FLOAT, dims: [B, S, D] },
      ...(opts.dropInit ? [] : [{ name: 'z_init', elemType: DataType.FLOAT, dims: [B, S, D] }]),
      { name: 'logits', elemType: DataType.FLOAT, dims: [B, L, V] },
      { name: 'q_halt', elemType: DataType.FLOAT, dims: [B] },
    ],
    metadata: {
      'reclab.contract': 'reclab-onnx-step-1', 'reclab.task': 'sudoku', 'reclab.vocab': '<pad>,<blank>,1,2,3,4', 'reclab.seq_len': String(L),
      'reclab.state_names': 'z', 'reclab.arch': 'affine-test', 'reclab.h_cycles': '1', 'reclab.l_cycles': '1',
      ...opts.metadata,
    },
  });
}

/** z ↦ 0.5·z + b: one fixed point (2b) from every start. */
export const halfA = [[0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 0.5, 0], [0, 0, 0, 0.5]];
