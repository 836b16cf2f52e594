// What every step graph of ours shares (the ONNX step contract, protocol/onnxContract.ts): the
// weights and export options, the metadata, the contract's inputs (tokens, z_H, z_L, reset) with
// the reset substitution z = where(reset, init, z) and the `_init` outputs, the heads
//   logits = lm_head(z_H'[:, prefix:]);  q = q_head(z_H'[:, 0])
// and the typed outputs. trmStepGraph.ts (TRM, HRM, TRM-DEQ) and attractorStepGraph.ts (the
// Attractor form) build the step in between.
import { resolveDeq } from '../../protocol/config';
import {
  contractDeqOutputs, contractInputs, contractOutputs, contractProperties, initStateName, mazeVocab, nextStateName, ONNX_CONTRACT_VERSION, sudokuVocab,
} from '../../protocol/onnxContract';
import type { TaskDescription } from '../data/taskData';
import { InputError } from '../inputError';
import type { RecursiveModel } from '../model/recursiveModel';
import { DataType, GraphBuilder, type ValueSpec } from './graphBuilder';

/** The weights a step needs: parameters by name ([in, out] layout, as the models store them) and the initial states. */
export interface StepWeights {
  params: ReadonlyMap<string, Float32Array>;
  hInit: Float32Array;
  lInit: Float32Array;
}

export interface StepExportInfo {
  /** N_sup the model was trained with. */
  haltMaxSteps: number;
  /** The task (default: Sudoku, its side from L); mazes get task "maze", their vocab and grid. */
  task?: TaskDescription;
  /** Extra metadata properties (run id, checkpoint step, ...). */
  extraMetadata?: Record<string, string>;
  producerVersion?: string;
  /** trm-deq, attractor: K, the fixed-point iterations each solve is unrolled to (default the model's deq.maxIter). */
  deqIterations?: number;
}

/** K of a DEQ export: the given count (an integer 1..256) or the model's deq.maxIter. */
export function deqExportIterations(model: RecursiveModel, given: number | undefined): number {
  const k = given ?? resolveDeq(model.config).maxIter;
  if (!Number.isInteger(k) || k < 1 || k > 256) throw new InputError(`export: --deq-iterations must be an integer 1..256, got ${given}`);
  return k;
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

/** The contract's properties and the shape description every export carries, then the model's own (`own`), then info's extras. */
export function stepMetadata(model: RecursiveModel, info: StepExportInfo, own: Record<string, string>): Record<string, string> {
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
    'reclab.puzzle_emb_len': String(model.prefixLen),
    ...own,
    ...info.extraMetadata,
  };
}

/**
 * What a DEQ export records: the solve as exported (plain fixed-point iteration, K iterations,
 * lowest-residual return, no early stop), the solver the model was trained with, the state the
 * solve finds and the solve's map (`map`, for labels). At a converged fixed point FPI and
 * Anderson (or Broyden) return the same solution; Anderson's least-squares mixing is not unrolled.
 */
export function deqMetadata(model: RecursiveModel, info: StepExportInfo, innerState: string, map: string): Record<string, string> {
  const d = resolveDeq(model.config);
  return {
    [contractProperties.deqSolverExport]: 'fpi',
    [contractProperties.deqIterations]: String(deqExportIterations(model, info.deqIterations)),
    [contractProperties.deqSolverTrained]: d.solver,
    [contractProperties.deqInnerState]: innerState,
    [contractProperties.deqMap]: map,
    'reclab.deq_stop_mode': d.stopMode,
    'reclab.deq_trained_max_iter': String(d.maxIter),
    'reclab.deq_trained_min_iter': String(d.minIter),
    'reclab.deq_trained_tol': String(d.tol),
  };
}

/** The DEQ outputs a step hands to `finish`: the per-iteration residual names ([B] each, T·K, solve after solve) and f at the input states. */
export interface DeqStepOutputs {
  residuals: string[];
  iterations: number;
  innerMap: string;
}

/**
 * One step graph under construction: the checked weights, the builder, the contract's inputs, the
 * states after the reset substitution (made on first use), and `finish`, which adds the heads and
 * the outputs and serializes the ModelProto.
 */
export class StepGraph {
  readonly g = new GraphBuilder();
  readonly tokens: string;
  private readonly zHIn: string;
  private readonly zLIn: string;
  private readonly reset: string;
  private readonly inits: { zH: string; zL: string };
  private resetStates: { zH?: string; zL?: string } = {};
  private resetB = '';

  constructor(readonly model: RecursiveModel, readonly weights: StepWeights) {
    const D = model.width;
    for (const spec of model.parameterSpecs()) {
      const v = weights.params.get(spec.name);
      const size = spec.shape.reduce((a, b) => a * b, 1);
      if (!v) throw new Error(`export: parameter ${spec.name} is missing`);
      if (v.length !== size) throw new Error(`export: parameter ${spec.name} has ${v.length} values, the model needs [${spec.shape}]`);
    }
    if (weights.hInit.length !== D || weights.lInit.length !== D) throw new Error(`export: initial states must have ${D} values`);
    const g = this.g;
    this.tokens = g.reserve(contractInputs.tokens);
    this.zHIn = g.reserve('z_H');
    this.zLIn = g.reserve('z_L');
    this.reset = g.reserve(contractInputs.reset);
    this.inits = { zH: g.float('H_init', weights.hInit, [D]), zL: g.float('L_init', weights.lInit, [D]) };
    g.op('Expand', [this.inits.zH, g.op('Shape', [this.zHIn])], {}, initStateName('z_H'));
    g.op('Expand', [this.inits.zL, g.op('Shape', [this.zLIn])], {}, initStateName('z_L'));
  }

  /** The step's z_H input after the reset substitution where(reset, H_init, z_H). */
  get zH(): string {
    return this.resetStates.zH ??= this.afterReset(this.inits.zH, this.zHIn);
  }

  /** The step's z_L input after the reset substitution where(reset, L_init, z_L). */
  get zL(): string {
    return this.resetStates.zL ??= this.afterReset(this.inits.zL, this.zLIn);
  }

  private afterReset(init: string, state: string): string {
    const g = this.g;
    this.resetB ||= g.op('Reshape', [this.reset, g.int64('shape_reset', [-1, 1, 1])]); // [B, 1, 1]
    return g.op('Where', [this.resetB, init, state]);
  }

  /** The heads on z_H', the state outputs, the DEQ outputs when given; the serialized model. */
  finish(next: { zH: string; zL: string }, opts: { graphName: string; docString: string; metadata: Record<string, string>; producerVersion?: string; deq?: DeqStepOutputs }): Uint8Array {
    const { g, model } = this;
    const cfg = model.config;
    const D = model.width, S = model.totalLen, L = model.task.seqLen, V = model.task.vocabSize, P = model.prefixLen;
    const p = (name: string) => this.weights.params.get(name)!;
    g.op('Identity', [next.zH], {}, nextStateName('z_H'));
    g.op('Identity', [next.zL], {}, nextStateName('z_L'));
    const puzzle = g.op('Slice', [next.zH, g.int64('slice_puzzle_start', [P]), g.int64('slice_puzzle_end', [P + L]), g.int64('slice_puzzle_axes', [1])]);
    g.op('MatMul', [puzzle, g.float('lm_head', p('lm_head'), [D, V])], {}, contractOutputs.logits);
    const first = g.op('Gather', [next.zH, g.int64Scalar('index_0', 0)], { axis: 1 }); // [B, D]
    const q = g.op('Add', [g.op('MatMul', [first, g.float('q_head.w', p('q_head.w'), [D, 2])]), g.float('q_head.b', p('q_head.b'), [2])]);
    g.op('Gather', [q, 'index_0'], { axis: 1 }, contractOutputs.qHalt);
    g.op('Gather', [q, g.int64Scalar('index_1', 1)], { axis: 1 }, contractOutputs.qContinue);
    const deq = opts.deq;
    if (deq) {
      g.op('Identity', [deq.innerMap], {}, contractDeqOutputs.innerMap);
      // [B, T·K] -> [B, T, K]: every iteration's relative residual, solve by solve.
      if (deq.residuals.length !== cfg.hCycles * deq.iterations) throw new Error(`export: ${deq.residuals.length} residuals for T = ${cfg.hCycles} solves of K = ${deq.iterations}`);
      const axis1 = g.int64('deq_axis_1', [1]);
      const stacked = g.op('Concat', deq.residuals.map((r) => g.op('Unsqueeze', [r, axis1])), { axis: 1 });
      g.op('Reshape', [stacked, g.int64('shape_deq_residuals', [-1, cfg.hCycles, deq.iterations])], {}, contractDeqOutputs.residuals);
    }

    const B = 'batch';
    const f32 = DataType.FLOAT;
    const stateSpec = (name: string): ValueSpec => ({ name, elemType: f32, dims: [B, S, D] });
    return g.model({
      graphName: opts.graphName,
      producer: 'reclab', producerVersion: opts.producerVersion ?? '',
      docString: opts.docString,
      inputs: [
        { name: this.tokens, elemType: DataType.INT64, dims: [B, L] },
        stateSpec(this.zHIn), stateSpec(this.zLIn),
        { name: this.reset, elemType: DataType.BOOL, dims: [B] },
      ],
      outputs: [
        stateSpec(nextStateName('z_H')), stateSpec(nextStateName('z_L')),
        { name: contractOutputs.logits, elemType: f32, dims: [B, L, V] },
        { name: contractOutputs.qHalt, elemType: f32, dims: [B] },
        { name: contractOutputs.qContinue, elemType: f32, dims: [B] },
        stateSpec(initStateName('z_H')), stateSpec(initStateName('z_L')),
        ...(deq ? [
          { name: contractDeqOutputs.residuals, elemType: f32, dims: [B, cfg.hCycles, deq.iterations] },
          stateSpec(contractDeqOutputs.innerMap),
        ] : []),
      ],
      metadata: opts.metadata,
    });
  }
}
