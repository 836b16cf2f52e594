// Our recursive models (trainer/model/trm.ts, hrm.ts) as an ONNX graph of ONE supervision step,
// per the step contract (protocol/onnxContract.ts): the T cycles of n latent updates plus one
// answer update are unrolled, every network call reusing the same weight initializers.
//   reset -> z = where(reset, init, z)
//   x = sqrt(D) · [puzzle-embedding prefix ; embed(tokens)]
//   repeat T:  repeat n: z_L = L_net(z_L + z_H + x);   z_H = H_net(z_H + z_L)
//   (TRM: L_net = H_net = `layers.*`; HRM: `l_layers.*` and `h_layers.*`)
//   logits = lm_head(z_H[:, prefix:]);  q = q_head(z_H[:, 0])
// TRM-DEQ: each cycle's n-loop is the solve z_L = FP(z ↦ net(z + z_H + x)) unrolled as K plain
// fixed-point iterations (no early stop) returning, per sample, the iterate with the lowest
// residual (as trainer/deq/fixedPointIteration.ts does); two optional outputs: deq_residuals
// [B, T, K] (the relative residual of every iteration) and deq_inner_map [B, S, D], the inner map
// net(z_L + z_H + x) at the step's (post-reset) input states, for the inner map's spectral radius.
// Fused weights are split at export time (gate/up, q/k/v), constant scales folded into tables.
import { InputError } from '../inputError';
import {
  contractInputs, contractOutputs, contractProperties, initStateName, nextStateName, ONNX_CONTRACT_VERSION, mazeVocab, sudokuVocab,
} from '../../protocol/onnxContract';
import { contractDeqOutputs } from '../../protocol/onnxContract';
import { resolveDeq } from '../../protocol/config';
import { ropeTables } from '../model/layers';
import type { RecursiveModel } from '../model/recursiveModel';
import type { TaskDescription } from '../data/taskData';
import { DataType, GraphBuilder, type ValueSpec } from './graphBuilder';

/** The weights a step needs: parameters by name ([in, out] layout, as trm.ts stores them) and the initial states. */
export interface TrmStepWeights {
  params: ReadonlyMap<string, Float32Array>;
  hInit: Float32Array;
  lInit: Float32Array;
}

export interface TrmExportInfo {
  /** N_sup the model was trained with. */
  haltMaxSteps: number;
  /** The task (default: Sudoku, its side from L); mazes get task "maze", their vocab and grid. */
  task?: TaskDescription;
  /** Extra metadata properties (run id, checkpoint step, ...). */
  extraMetadata?: Record<string, string>;
  producerVersion?: string;
  /** trm-deq: K, the fixed-point iterations each solve is unrolled to (default the model's deq.maxIter). */
  deqIterations?: number;
}

/** K of a trm-deq export: the given count (an integer 1..256) or the model's deq.maxIter. */
export function deqExportIterations(model: RecursiveModel, given: number | undefined): number {
  const k = given ?? resolveDeq(model.config).maxIter;
  if (!Number.isInteger(k) || k < 1 || k > 256) throw new InputError(`export: --deq-iterations must be an integer 1..256, got ${given}`);
  return k;
}

/** Columns [start, start + count) of a row-major [rows, cols] matrix. */
function columns(w: Float32Array, rows: number, cols: number, start: number, count: number): Float32Array {
  const out = new Float32Array(rows * count);
  for (let r = 0; r < rows; r++) out.set(w.subarray(r * cols + start, r * cols + start + count), r * count);
  return out;
}

function scaled(a: Float32Array, s: number): Float32Array {
  return a.map((v) => v * s);
}

/** The task properties: Sudoku (4x4 or 9x9) or a maze. */
function taskMetadata(model: RecursiveModel, task: TaskDescription | undefined): Record<string, string> {
  if (task?.kind === 'maze') {
    if (model.task.seqLen !== task.height * task.width || model.task.vocabSize !== mazeVocab().length) {
      throw new Error(`export: a ${task.height}x${task.width} maze model needs seqLen ${task.height * task.width} and vocab ${mazeVocab().length}, got ${model.task.seqLen}, ${model.task.vocabSize}`);
    }
    return { [contractProperties.task]: 'maze', [contractProperties.vocab]: mazeVocab().join(','), [contractProperties.grid]: `${task.height}x${task.width}` };
  }
  const side = model.task.seqLen === 16 ? 4 : model.task.seqLen === 81 ? 9 : undefined;
  if (side === undefined || model.task.vocabSize !== side + 2) {
    throw new Error(`export: only Sudoku models (4x4 or 9x9) and mazes are exported, got seqLen ${model.task.seqLen}, vocab ${model.task.vocabSize}`);
  }
  return { [contractProperties.task]: 'sudoku', [contractProperties.vocab]: sudokuVocab(side).join(',') };
}

export function trmStepMetadata(model: RecursiveModel, info: TrmExportInfo): Record<string, string> {
  return {
    [contractProperties.contract]: ONNX_CONTRACT_VERSION,
    ...taskMetadata(model, info.task),
    [contractProperties.seqLen]: String(model.task.seqLen),
    [contractProperties.stateNames]: 'z_H,z_L',
    [contractProperties.answerState]: 'z_H',
    [contractProperties.arch]: model.arch,
    [contractProperties.hCycles]: String(model.config.hCycles),
    [contractProperties.lCycles]: String(model.config.lCycles),
    [contractProperties.haltMaxSteps]: String(info.haltMaxSteps),
    'reclab.mixer': model.config.mixer,
    'reclab.hidden_size': String(model.width),
    'reclab.layers': String(model.config.layers),
    ...(model.arch === 'hrm' ? { 'reclab.h_layers': String(model.config.hLayers ?? model.config.layers) } : {}),
    'reclab.puzzle_emb_len': String(model.prefixLen),
    ...(model.arch === 'trm-deq' ? deqMetadata(model, info) : {}),
    ...info.extraMetadata,
  };
}

/**
 * What a trm-deq export records: the solve as exported (plain fixed-point iteration, K iterations,
 * lowest-residual return, no early stop) and the solver the model was trained with. At a converged
 * fixed point FPI and Anderson (or Broyden) return the same z_L*; Anderson's least-squares mixing
 * is not unrolled in the graph.
 */
function deqMetadata(model: RecursiveModel, info: TrmExportInfo): Record<string, string> {
  const d = resolveDeq(model.config);
  return {
    [contractProperties.deqSolverExport]: 'fpi',
    [contractProperties.deqIterations]: String(deqExportIterations(model, info.deqIterations)),
    [contractProperties.deqSolverTrained]: d.solver,
    [contractProperties.deqInnerState]: 'z_L',
    'reclab.deq_stop_mode': d.stopMode,
    'reclab.deq_trained_max_iter': String(d.maxIter),
    'reclab.deq_trained_min_iter': String(d.minIter),
    'reclab.deq_trained_tol': String(d.tol),
  };
}

/** The serialized ModelProto of one supervision step of `model` (TRM or HRM) with weights `w`. */
export function buildTrmStepModel(model: RecursiveModel, w: TrmStepWeights, info: TrmExportInfo): Uint8Array {
  const deq = model.arch === 'trm-deq';
  const K = deq ? deqExportIterations(model, info.deqIterations) : 0;
  const cfg = model.config;
  const D = model.width;
  const S = model.totalLen;
  const L = model.task.seqLen;
  const V = model.task.vocabSize;
  const P = model.prefixLen;
  const eps = cfg.rmsNormEps;
  for (const spec of model.parameterSpecs()) {
    const v = w.params.get(spec.name);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (!v) throw new Error(`export: parameter ${spec.name} is missing`);
    if (v.length !== size) throw new Error(`export: parameter ${spec.name} has ${v.length} values, the model needs [${spec.shape}]`);
  }
  if (w.hInit.length !== D || w.lInit.length !== D) throw new Error(`export: initial states must have ${D} values`);
  const p = (name: string) => w.params.get(name)!;
  const g = new GraphBuilder();

  const tokens = g.reserve(contractInputs.tokens);
  const zHIn = g.reserve('z_H');
  const zLIn = g.reserve('z_L');
  const reset = g.reserve(contractInputs.reset);

  // Constants shared by every call.
  const epsName = g.float('rms_eps', Float32Array.of(eps), []);
  const reshapeReset = g.int64('shape_reset', [-1, 1, 1]);

  // Input embedding with the scales folded in.
  const learned = cfg.posEncodings === 'learned';
  const scale = Math.sqrt(D) * (learned ? Math.SQRT1_2 : 1);
  const embed = g.float('embed_tokens_scaled', scaled(p('embed_tokens'), scale), [V, D]);
  let x = g.op('Gather', [embed, tokens], { axis: 0 }); // [B, L, D]
  if (P > 0) {
    const prefix = new Float32Array(P * D);
    prefix.set(p('puzzle_emb'));
    const prefixName = g.float('prefix_scaled', scaled(prefix, scale), [1, P, D]);
    const batchDim = g.op('Slice', [g.op('Shape', [tokens]), g.int64('slice0_start', [0]), g.int64('slice0_end', [1])]);
    const prefixShape = g.op('Concat', [batchDim, g.int64('prefix_PD', [P, D])], { axis: 0 });
    x = g.op('Concat', [g.op('Expand', [prefixName, prefixShape]), x], { axis: 1 }); // [B, S, D]
  }
  if (learned) x = g.op('Add', [x, g.float('pos_emb_scaled', scaled(p('pos_emb'), scale), [S, D])]);

  // Initial states and reset.
  const hInit = g.float('H_init', w.hInit, [D]);
  const lInit = g.float('L_init', w.lInit, [D]);
  const resetB = g.op('Reshape', [reset, reshapeReset]); // [B, 1, 1]
  g.op('Expand', [hInit, g.op('Shape', [zHIn])], {}, initStateName('z_H'));
  g.op('Expand', [lInit, g.op('Shape', [zLIn])], {}, initStateName('z_L'));
  let zH = g.op('Where', [resetB, hInit, zHIn]);
  let zL = g.op('Where', [resetB, lInit, zLIn]);

  // Written as onnxruntime's SimplifiedLayerNormFusion pattern (Pow 2, ReduceMean, Add eps, Sqrt,
  // Div, Mul by a 1-D scale of ones), which it fuses into one kernel: a third of a step's time was
  // these elementwise passes.
  const two = g.float('pow_two', Float32Array.of(2), []);
  const ones = new Map<number, string>();
  const rmsNorm = (h: string, width: number): string => {
    if (!ones.has(width)) ones.set(width, g.float(`rms_scale_${width}`, new Float32Array(width).fill(1), [width]));
    const ms = g.op('ReduceMean', [g.op('Pow', [h, two])], { axes: [-1], keepdims: 1 });
    return g.op('Mul', [g.op('Div', [h, g.op('Sqrt', [g.op('Add', [ms, epsName])])]), ones.get(width)!]);
  };
  const swiglu = (h: string, gate: string, up: string, down: string): string => {
    const a = g.op('MatMul', [h, gate]);
    const silu = g.op('Mul', [a, g.op('Sigmoid', [a])]);
    return g.op('MatMul', [g.op('Mul', [silu, g.op('MatMul', [h, up])]), down]);
  };

  // Per-layer weights, split at export time.
  interface LayerWeights { mix: string[]; mlp: [string, string, string] }
  const F = model.channelFfn;
  const stackWeights = (prefix: string, count: number): LayerWeights[] => {
  const layers: LayerWeights[] = [];
  for (let i = 0; i < count; i++) {
    const name = (n: string) => `${prefix}.${i}.${n}`;
    const gu = p(name('mlp.gate_up'));
    const mlp: [string, string, string] = [
      g.float(name('mlp.gate'), columns(gu, D, 2 * F, 0, F), [D, F]),
      g.float(name('mlp.up'), columns(gu, D, 2 * F, F, F), [D, F]),
      g.float(name('mlp.down'), p(name('mlp.down')), [F, D]),
    ];
    let mix: string[];
    if (cfg.mixer === 'mlp_t') {
      const Fs = model.sequenceFfn;
      const sgu = p(name('seq_mlp.gate_up'));
      mix = [
        g.float(name('seq_mlp.gate'), columns(sgu, S, 2 * Fs, 0, Fs), [S, Fs]),
        g.float(name('seq_mlp.up'), columns(sgu, S, 2 * Fs, Fs, Fs), [S, Fs]),
        g.float(name('seq_mlp.down'), p(name('seq_mlp.down')), [Fs, S]),
      ];
    } else {
      const qkv = p(name('attn.qkv'));
      mix = [
        g.float(name('attn.q'), columns(qkv, D, 3 * D, 0, D), [D, D]),
        g.float(name('attn.k'), columns(qkv, D, 3 * D, D, D), [D, D]),
        g.float(name('attn.v'), columns(qkv, D, 3 * D, 2 * D, D), [D, D]),
        g.float(name('attn.o'), p(name('attn.o')), [D, D]),
      ];
    }
    layers.push({ mix, mlp });
  }
  return layers;
  };
  const lLayers = stackWeights(model.arch === 'hrm' ? 'l_layers' : 'layers', cfg.layers);
  const hLayers = model.arch === 'hrm' ? stackWeights('h_layers', cfg.hLayers ?? cfg.layers) : lLayers;

  // Attention constants.
  const H = cfg.numHeads;
  const hd = D / H;
  let rope: { cos: string; sin: string; rot: string } | undefined;
  let headShape = '', mergeShape = '', attnScale = '';
  if (cfg.mixer === 'attention') {
    headShape = g.int64('shape_heads', [0, 0, H, hd]);
    mergeShape = g.int64('shape_merge', [0, 0, D]);
    attnScale = g.float('attn_scale', Float32Array.of(1 / Math.sqrt(hd)), []);
    if (cfg.posEncodings === 'rope') {
      const t = ropeTables(S, hd, cfg.ropeTheta);
      const r = new Float32Array(hd * hd);
      const half = hd / 2;
      for (let j = 0; j < half; j++) {
        r[(j + half) * hd + j] = -1; // out[j] = -x[j + half]
        r[j * hd + j + half] = 1; // out[j + half] = x[j]
      }
      rope = { cos: g.float('rope_cos', t.cos, [S, hd]), sin: g.float('rope_sin', t.sin, [S, hd]), rot: g.float('rope_rotate_half', r, [hd, hd]) };
    }
  }
  const attention = (h: string, [wq, wk, wv, wo]: string[]): string => {
    const heads = (t: string) => g.op('Transpose', [g.op('Reshape', [t, headShape])], { perm: [0, 2, 1, 3] }); // [B, H, S, hd]
    let q = heads(g.op('MatMul', [h, wq!]));
    let k = heads(g.op('MatMul', [h, wk!]));
    const v = heads(g.op('MatMul', [h, wv!]));
    if (rope) {
      const apply = (t: string) => g.op('Add', [g.op('Mul', [t, rope!.cos]), g.op('Mul', [g.op('MatMul', [t, rope!.rot]), rope!.sin])]);
      q = apply(q);
      k = apply(k);
    }
    const scores = g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]), attnScale]);
    const attended = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v]);
    const merged = g.op('Reshape', [g.op('Transpose', [attended], { perm: [0, 2, 1, 3] }), mergeShape]);
    return g.op('MatMul', [merged, wo!]);
  };

  const net = (layers: LayerWeights[], h: string, injection: string): string => {
    let y = g.op('Add', [h, injection]);
    for (const lw of layers) {
      if (cfg.mixer === 'mlp_t') {
        const yt = g.op('Transpose', [y], { perm: [0, 2, 1] }); // [B, D, S]: mix across positions
        const mixed = swiglu(yt, lw.mix[0]!, lw.mix[1]!, lw.mix[2]!);
        y = g.op('Transpose', [rmsNorm(g.op('Add', [yt, mixed]), S)], { perm: [0, 2, 1] });
      } else {
        y = rmsNorm(g.op('Add', [y, attention(y, lw.mix)]), D);
      }
      y = rmsNorm(g.op('Add', [y, swiglu(y, ...lw.mlp)]), D);
    }
    return y;
  };

  const deqResiduals: string[] = [];
  if (deq) {
    // The inner map at the input states (for its spectral radius), then T cycles of a K-iteration solve.
    g.op('Identity', [net(lLayers, zL, g.op('Add', [zH, x]))], {}, contractDeqOutputs.innerMap);
    const relEps = g.float('deq_rel_eps', Float32Array.of(1e-9), []);
    const stopAbs = resolveDeq(cfg).stopMode === 'abs';
    const shapeB11 = K > 1 ? g.int64('shape_B11', [-1, 1, 1]) : ''; // only the lowest-residual selection uses it
    for (let c = 0; c < cfg.hCycles; c++) {
      const injection = g.op('Add', [zH, x]);
      let z = zL;
      let best = '', lowest = '';
      for (let k = 0; k < K; k++) {
        const f = net(lLayers, z, injection);
        const abs = g.op('ReduceL2', [g.op('Sub', [f, z])], { axes: [1, 2], keepdims: 0 }); // [B]
        const rel = g.op('Div', [abs, g.op('Add', [g.op('ReduceL2', [f], { axes: [1, 2], keepdims: 0 }), relEps])]);
        deqResiduals.push(rel);
        const m = stopAbs ? abs : rel;
        if (k === 0) {
          best = f;
          lowest = g.op('Where', [g.op('IsNaN', [m]), g.float(`deq_inf_${c}`, Float32Array.of(Infinity), []), m]);
        } else {
          // The lowest residual so far wins (a NaN never does), per sample.
          const better = g.op('Less', [m, lowest]);
          best = g.op('Where', [g.op('Reshape', [better, shapeB11]), f, best]);
          lowest = g.op('Where', [better, m, lowest]);
        }
        z = f;
      }
      zL = best;
      zH = net(hLayers, zH, zL);
    }
  } else {
    for (let c = 0; c < cfg.hCycles; c++) {
      for (let i = 0; i < cfg.lCycles; i++) zL = net(lLayers, zL, g.op('Add', [zH, x]));
      zH = net(hLayers, zH, zL);
    }
  }
  g.op('Identity', [zH], {}, nextStateName('z_H'));
  g.op('Identity', [zL], {}, nextStateName('z_L'));

  // Heads.
  const puzzle = g.op('Slice', [zH, g.int64('slice_puzzle_start', [P]), g.int64('slice_puzzle_end', [P + L]), g.int64('slice_puzzle_axes', [1])]);
  g.op('MatMul', [puzzle, g.float('lm_head', p('lm_head'), [D, V])], {}, contractOutputs.logits);
  const first = g.op('Gather', [zH, g.int64Scalar('index_0', 0)], { axis: 1 }); // [B, D]
  const q = g.op('Add', [g.op('MatMul', [first, g.float('q_head.w', p('q_head.w'), [D, 2])]), g.float('q_head.b', p('q_head.b'), [2])]);
  g.op('Gather', [q, 'index_0'], { axis: 1 }, contractOutputs.qHalt);
  g.op('Gather', [q, g.int64Scalar('index_1', 1)], { axis: 1 }, contractOutputs.qContinue);
  if (deq) {
    // [B, T·K] -> [B, T, K]: every iteration's relative residual, cycle by cycle.
    const axis1 = g.int64('deq_axis_1', [1]);
    const stacked = g.op('Concat', deqResiduals.map((r) => g.op('Unsqueeze', [r, axis1])), { axis: 1 });
    g.op('Reshape', [stacked, g.int64('shape_deq_residuals', [-1, cfg.hCycles, K])], {}, contractDeqOutputs.residuals);
  }

  const B = 'batch';
  const f32 = DataType.FLOAT;
  const stateSpec = (name: string): ValueSpec => ({ name, elemType: f32, dims: [B, S, D] });
  return g.model({
    graphName: `${model.arch}_${cfg.mixer}_step`,
    producer: 'reclab', producerVersion: info.producerVersion ?? '',
    docString: `One supervision step of a ${model.arch.toUpperCase()} (${cfg.mixer}, D=${D}, ${model.arch === 'hrm' ? `${cfg.hLayers ?? cfg.layers} H + ${cfg.layers} L` : cfg.layers} layers, T=${cfg.hCycles}, ${deq ? `each solve ${K} fixed-point iterations (trained with ${resolveDeq(cfg).solver})` : `n=${cfg.lCycles}`}); ONNX step contract ${ONNX_CONTRACT_VERSION}.`,
    inputs: [
      { name: tokens, elemType: DataType.INT64, dims: [B, L] },
      stateSpec(zHIn), stateSpec(zLIn),
      { name: reset, elemType: DataType.BOOL, dims: [B] },
    ],
    outputs: [
      stateSpec(nextStateName('z_H')), stateSpec(nextStateName('z_L')),
      { name: contractOutputs.logits, elemType: f32, dims: [B, L, V] },
      { name: contractOutputs.qHalt, elemType: f32, dims: [B] },
      { name: contractOutputs.qContinue, elemType: f32, dims: [B] },
      stateSpec(initStateName('z_H')), stateSpec(initStateName('z_L')),
      ...(deq ? [
        { name: contractDeqOutputs.residuals, elemType: f32, dims: [B, cfg.hCycles, K] },
        stateSpec(contractDeqOutputs.innerMap),
      ] : []),
    ],
    metadata: trmStepMetadata(model, info),
  });
}
