// The ONNX step contract (design.md "ONNX step contract", docs/onnx-contract.md): one graph
// computes ONE supervision step of a recursive reasoning model. The fixed-point tools drive it
// step by step, so they work on any model that honours it — ours (`reclab export`) or one
// exported from PyTorch. Pure types and a pure validator: no onnx or onnxruntime import here.
//
//   inputs   tokens          int64   [B, L]
//            <state>         float32 [B, S, D]   one per name in reclab.state_names
//            reset           bool    [B]         true: the step starts from the model's initial states
//   outputs  <state>_next    float32 [B, S, D]   the state after the step
//            <state>_init    float32 [B, S, D]   the initial states that `reset` substitutes
//            logits          float32 [B, L, V]   from the state after the step
//            q_halt          float32 [B]
//            q_continue      float32 [B]         optional (HRM-style Q head)
//            deq_residuals   float32 [B, T, K]   optional (DEQ models): the inner solve's relative
//                                                residual ‖f(z_k) − z_k‖ / ‖f(z_k)‖ at every iteration,
//                                                z_k the solve's own iterate (the Attractor: y_k)
//            deq_inner_map   float32 [B, S, D]   optional (DEQ models): the inner map at the input
//                                                states, as a map of the state named by
//                                                reclab.deq_inner_state (TRM-DEQ: f(z) =
//                                                net(z + z_H + x), z = z_L; the Attractor: the
//                                                offset map z_L ↦ f(c + z_L) − c of its solve's
//                                                f(y) = FPHead(y + c) − y, same Jacobian ∂f/∂y)
//
// B may be symbolic (any batch); L, S and D must be fixed. Metadata properties (ModelProto
// metadata_props) are listed in `contractProperties`.

export const ONNX_CONTRACT_VERSION = 'reclab-onnx-step-1';

export const contractInputs = { tokens: 'tokens', reset: 'reset' } as const;
export const contractOutputs = { logits: 'logits', qHalt: 'q_halt', qContinue: 'q_continue' } as const;
/** The optional outputs of a deep-equilibrium model (present together with reclab.deq_iterations). */
export const contractDeqOutputs = { residuals: 'deq_residuals', innerMap: 'deq_inner_map' } as const;
export const nextStateSuffix = '_next';
export const initStateSuffix = '_init';

export function nextStateName(state: string): string {
  return state + nextStateSuffix;
}

export function initStateName(state: string): string {
  return state + initStateSuffix;
}

/** Metadata property keys. Values are strings (ONNX metadata_props are string pairs). */
export const contractProperties = {
  /** Must equal ONNX_CONTRACT_VERSION. */
  contract: 'reclab.contract',
  /** The task the vocabulary belongs to: "sudoku" enables the Sudoku analyses; any other name is allowed. */
  task: 'reclab.task',
  /** Comma-separated token labels; token id = position, V = count. Sudoku: "<pad>,<blank>,1,...,side". */
  vocab: 'reclab.vocab',
  /** Maze models: the grid as "HxW" (H * W = L). Optional elsewhere. */
  grid: 'reclab.grid',
  /** L, the number of puzzle tokens (16 for 4x4 Sudoku, 81 for 9x9). */
  seqLen: 'reclab.seq_len',
  /** Comma-separated state names in the order the model carries them, e.g. "z_H,z_L". */
  stateNames: 'reclab.state_names',
  /** The state the heads read (the answer, TRM's y / z_H); default the first state. Optional. */
  answerState: 'reclab.answer_state',
  /** Architecture family: "trm", "hrm", or anything else. */
  arch: 'reclab.arch',
  /** Recursion depth of one step: T (H_cycles) and n (L_cycles). */
  hCycles: 'reclab.h_cycles',
  lCycles: 'reclab.l_cycles',
  /** N_sup the model was trained with; the default number of steps to inspect. Optional. */
  haltMaxSteps: 'reclab.halt_max_steps',
  /** Written by `reclab export`: the run and checkpoint step the weights come from (a run's model.onnx is current only when both match). Optional. */
  runId: 'reclab.run_id',
  checkpointStep: 'reclab.checkpoint_step',
  /**
   * Deep-equilibrium models (optional, all or none): the solver the graph unrolls ("fpi": plain
   * fixed-point iteration), the iterations K each solve is unrolled to, the solver the model was
   * trained with (e.g. "anderson"), and the state the solve finds (e.g. "z_L").
   */
  deqSolverExport: 'reclab.deq_solver_export',
  deqIterations: 'reclab.deq_iterations',
  deqSolverTrained: 'reclab.deq_solver_trained',
  deqInnerState: 'reclab.deq_inner_state',
  /** Optional: the solve's map in words, for labels (e.g. "z ↦ net(z + z_H + x)"); without it deqMapLabel goes by the arch. */
  deqMap: 'reclab.deq_map',
} as const;

/** The solve's map as our exports write it in reclab.deq_map, by arch. */
export const deqMapLabels = {
  'trm-deq': 'z ↦ net(z + z_H + x)',
  attractor: 'y ↦ FPHead(y + c) − y',
} as const;

/** The label of a DEQ model's inner map: its reclab.deq_map, else our arch's, else a generic one naming the inner state. */
export function deqMapLabel(c: Pick<StepContract, 'arch' | 'deq'>): string {
  if (c.deq?.map) return c.deq.map;
  if (c.arch in deqMapLabels) return deqMapLabels[c.arch as keyof typeof deqMapLabels];
  return `the solve's map of ${c.deq?.innerState ?? 'its inner state'}`;
}

export type ElementType = 'float32' | 'int64' | 'bool' | 'int32' | 'float16' | 'float64' | 'uint8' | 'int8' | 'other';

/** A graph input or output as read from the model file. A dim is a number, a symbol, or unknown (null). */
export interface ValueDescription {
  name: string;
  elemType: ElementType;
  /** undefined when the model gives no shape at all. */
  dims: (number | string | null)[] | undefined;
}

/** What the validator needs of a model: its graph inputs/outputs and metadata properties. */
export interface ModelDescription {
  inputs: ValueDescription[];
  outputs: ValueDescription[];
  metadata: Record<string, string>;
}

/** A model that honours the contract, as the inspection tools use it. */
export interface StepContract {
  task: string;
  /** Sudoku grid side when task is "sudoku" (from L: 16 -> 4, 81 -> 9). */
  sudokuSide: 4 | 9 | undefined;
  /** Maze grid when task is "maze" (from reclab.grid). */
  mazeGrid?: { height: number; width: number };
  vocab: string[];
  vocabSize: number;
  seqLen: number;
  /** Fixed batch size when the graph fixes it, else undefined (any batch). */
  batch: number | undefined;
  states: { name: string; seq: number; width: number }[];
  answerState: string;
  arch: string;
  hCycles: number;
  lCycles: number;
  haltMaxSteps: number | undefined;
  hasQContinue: boolean;
  /** Deep-equilibrium models: the exported solve and which of its optional outputs the graph has. */
  deq?: DeqContract;
}

export interface DeqContract {
  solverExport: string;
  /** K, iterations per solve (deq_residuals is [B, T, K]). */
  iterations: number;
  solverTrained: string;
  innerState: string;
  /** reclab.deq_map when the model gives it (labels: deqMapLabel). */
  map?: string;
  hasResiduals: boolean;
  hasInnerMap: boolean;
}

export type ContractCheck = { ok: true; contract: StepContract } | { ok: false; problems: string[] };

/** The vocabulary of the reference Sudoku encoding: PAD 0, blank 1, digit d -> d + 1. */
export function sudokuVocab(side: 4 | 9): string[] {
  return ['<pad>', '<blank>', ...Array.from({ length: side }, (_, i) => String(i + 1))];
}

/** The vocabulary of the Maze-Hard encoding (reference.md §1.1): PAD 0, then "# SGo" as 1..5 (open = "<open>"). */
export function mazeVocab(): string[] {
  return ['<pad>', '#', '<open>', 'S', 'G', 'o'];
}

const STATE_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;

function describeDims(dims: ValueDescription['dims']): string {
  return dims === undefined ? 'no shape' : `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

function positiveInt(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*\d+\s*$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * Checks a model against the contract. Every problem is reported, each naming the input, output
 * or property concerned and what was expected, e.g.
 *   input "reset": expected bool, got float32
 *   output "z_H_next": expected shape [B, 97, 512], got [?, 97, 256]
 *   property "reclab.seq_len" is missing (the number of puzzle tokens L)
 */
export function validateStepContract(model: ModelDescription): ContractCheck {
  const problems: string[] = [];
  const md = model.metadata;
  const prop = (key: string, what: string): string | undefined => {
    const v = md[key];
    if (v === undefined || v.trim() === '') {
      problems.push(`property "${key}" is missing (${what})`);
      return undefined;
    }
    return v.trim();
  };
  const intProp = (key: string, what: string): number | undefined => {
    const v = prop(key, what);
    if (v === undefined) return undefined;
    const n = positiveInt(v);
    if (n === undefined) problems.push(`property "${key}": expected a positive integer (${what}), got "${v}"`);
    return n;
  };

  const version = prop(contractProperties.contract, `the contract version, "${ONNX_CONTRACT_VERSION}"`);
  if (version !== undefined && version !== ONNX_CONTRACT_VERSION) {
    problems.push(`property "${contractProperties.contract}": expected "${ONNX_CONTRACT_VERSION}", got "${version}"`);
  }
  const task = prop(contractProperties.task, 'the task, e.g. "sudoku"') ?? '';
  const vocabText = prop(contractProperties.vocab, 'comma-separated token labels');
  const vocab = vocabText === undefined ? [] : vocabText.split(',').map((s) => s.trim());
  if (vocabText !== undefined && (vocab.length < 2 || vocab.some((s) => s === ''))) {
    problems.push(`property "${contractProperties.vocab}": expected at least two non-empty comma-separated labels, got "${vocabText}"`);
  }
  const seqLen = intProp(contractProperties.seqLen, 'the number of puzzle tokens L');
  const stateText = prop(contractProperties.stateNames, 'comma-separated state names, e.g. "z_H,z_L"');
  const stateNames = stateText === undefined ? [] : stateText.split(',').map((s) => s.trim());
  if (stateText !== undefined) {
    const bad = stateNames.filter((s) => !STATE_NAME.test(s));
    if (bad.length > 0) problems.push(`property "${contractProperties.stateNames}": invalid state name(s) ${bad.map((s) => JSON.stringify(s)).join(', ')}`);
    if (new Set(stateNames).size !== stateNames.length) problems.push(`property "${contractProperties.stateNames}": state names repeat in "${stateText}"`);
  }
  const arch = prop(contractProperties.arch, 'the architecture, e.g. "trm"') ?? '';
  const hCycles = intProp(contractProperties.hCycles, 'T, cycles per step');
  const lCycles = intProp(contractProperties.lCycles, 'n, latent updates per cycle');
  let haltMaxSteps: number | undefined;
  if (md[contractProperties.haltMaxSteps] !== undefined) haltMaxSteps = intProp(contractProperties.haltMaxSteps, 'N_sup');
  const answerState = md[contractProperties.answerState]?.trim() || stateNames[0] || '';
  if (md[contractProperties.answerState] !== undefined && stateNames.length > 0 && !stateNames.includes(answerState)) {
    problems.push(`property "${contractProperties.answerState}": "${answerState}" is not one of the states ${stateNames.join(', ')}`);
  }
  let sudokuSide: 4 | 9 | undefined;
  if (task === 'sudoku' && seqLen !== undefined) {
    if (seqLen === 16 || seqLen === 81) {
      sudokuSide = seqLen === 16 ? 4 : 9;
      const expected = sudokuVocab(sudokuSide);
      if (vocabText !== undefined && vocab.join(',') !== expected.join(',')) {
        problems.push(`property "${contractProperties.vocab}": a ${sudokuSide}x${sudokuSide} Sudoku model uses the reference encoding "${expected.join(',')}", got "${vocabText}"`);
      }
    } else {
      problems.push(`property "${contractProperties.seqLen}": a Sudoku model has 16 or 81 puzzle tokens, got ${seqLen}`);
    }
  }
  let mazeGrid: { height: number; width: number } | undefined;
  if (task === 'maze') {
    if (vocabText !== undefined && vocab.join(',') !== mazeVocab().join(',')) {
      problems.push(`property "${contractProperties.vocab}": a maze model uses the Maze-Hard encoding "${mazeVocab().join(',')}", got "${vocabText}"`);
    }
    const gridText = prop(contractProperties.grid, 'the maze grid as "HxW"');
    const m = gridText === undefined ? null : /^(\d+)x(\d+)$/.exec(gridText.trim());
    if (gridText !== undefined && (!m || Number(m[1]) * Number(m[2]) !== seqLen)) {
      problems.push(`property "${contractProperties.grid}": expected "HxW" with H * W = ${seqLen ?? 'L'}, got "${gridText}"`);
    } else if (m) {
      mazeGrid = { height: Number(m[1]), width: Number(m[2]) };
    }
  }

  // Batch: every B dim must be the same symbol or the same number.
  const batchDims: (number | string | null)[] = [];
  // Inputs fix the shapes: their L, S and D must be numbers. Outputs may leave a dim symbolic or
  // unknown (exporters often cannot infer it); a number there must agree, and the runtime checks
  // the actual shapes on every step.
  const checkValue = (kind: 'input' | 'output', v: ValueDescription | undefined, name: string, type: ElementType,
    shape: (number | 'B' | undefined)[], shapeText: string): void => {
    if (!v) {
      problems.push(`${kind} "${name}" is missing (expected ${type} ${shapeText})`);
      return;
    }
    if (v.elemType !== type) problems.push(`${kind} "${name}": expected ${type}, got ${v.elemType}`);
    const dims = v.dims;
    if (dims === undefined && kind === 'output') return;
    const fits = dims !== undefined && dims.length === shape.length && shape.every((want, i) => {
      const got = dims[i];
      if (want === 'B') return true;
      if (kind === 'output' && typeof got !== 'number') return true;
      if (want === undefined) return typeof got === 'number' && got > 0;
      return got === want;
    });
    if (!fits) {
      problems.push(`${kind} "${name}": expected shape ${shapeText}, got ${describeDims(dims)}`);
    } else if (kind === 'input') {
      shape.forEach((want, i) => { if (want === 'B') batchDims.push(dims[i]!); });
    }
  };
  const byName = (list: ValueDescription[]) => new Map(list.map((v) => [v.name, v] as const));
  const inputs = byName(model.inputs);
  const outputs = byName(model.outputs);
  const L = seqLen;
  const V = vocabText !== undefined ? vocab.length : undefined;
  const fmt = (...d: (number | string | undefined)[]) => `[${d.map((x) => x ?? '?').join(', ')}]`;

  checkValue('input', inputs.get(contractInputs.tokens), contractInputs.tokens, 'int64', ['B', L], fmt('B', L ?? 'L'));
  checkValue('input', inputs.get(contractInputs.reset), contractInputs.reset, 'bool', ['B'], '[B]');
  const states: StepContract['states'] = [];
  for (const s of stateNames) {
    const input = inputs.get(s);
    // The state's S and D come from its input; its outputs must match them.
    const dims = input?.dims;
    const S = dims && typeof dims[1] === 'number' ? dims[1] : undefined;
    const D = dims && typeof dims[2] === 'number' ? dims[2] : undefined;
    const text = fmt('B', S ?? 'S', D ?? 'D');
    checkValue('input', input, s, 'float32', ['B', undefined, undefined], '[B, S, D] with S and D fixed');
    checkValue('output', outputs.get(nextStateName(s)), nextStateName(s), 'float32', ['B', S, D], text);
    checkValue('output', outputs.get(initStateName(s)), initStateName(s), 'float32', ['B', S, D], text);
    if (S !== undefined && D !== undefined) states.push({ name: s, seq: S, width: D });
  }
  checkValue('output', outputs.get(contractOutputs.logits), contractOutputs.logits, 'float32', ['B', L, V], fmt('B', L ?? 'L', V ?? 'V'));
  checkValue('output', outputs.get(contractOutputs.qHalt), contractOutputs.qHalt, 'float32', ['B'], '[B]');
  const qContinue = outputs.get(contractOutputs.qContinue);
  if (qContinue) checkValue('output', qContinue, contractOutputs.qContinue, 'float32', ['B'], '[B]');
  let deq: DeqContract | undefined;
  const deqKeys = [contractProperties.deqSolverExport, contractProperties.deqIterations, contractProperties.deqSolverTrained, contractProperties.deqInnerState];
  if (deqKeys.some((k) => md[k] !== undefined)) {
    const solverExport = prop(contractProperties.deqSolverExport, 'the solver the graph unrolls, e.g. "fpi"');
    const iterations = intProp(contractProperties.deqIterations, 'K, fixed-point iterations per solve');
    const solverTrained = prop(contractProperties.deqSolverTrained, 'the solver the model was trained with');
    const innerState = prop(contractProperties.deqInnerState, 'the state the solve finds, e.g. "z_L"');
    if (innerState !== undefined && stateNames.length > 0 && !stateNames.includes(innerState)) {
      problems.push(`property "${contractProperties.deqInnerState}": "${innerState}" is not one of the states ${stateNames.join(', ')}`);
    }
    const residuals = outputs.get(contractDeqOutputs.residuals);
    if (residuals) checkValue('output', residuals, contractDeqOutputs.residuals, 'float32', ['B', hCycles, iterations], fmt('B', hCycles ?? 'T', iterations ?? 'K'));
    const innerMap = outputs.get(contractDeqOutputs.innerMap);
    const inner = states.find((s) => s.name === innerState);
    if (innerMap) checkValue('output', innerMap, contractDeqOutputs.innerMap, 'float32', ['B', inner?.seq, inner?.width], fmt('B', inner?.seq ?? 'S', inner?.width ?? 'D'));
    if (solverExport !== undefined && iterations !== undefined && solverTrained !== undefined && innerState !== undefined) {
      const map = md[contractProperties.deqMap]?.trim();
      deq = { solverExport, iterations, solverTrained, innerState, ...(map ? { map } : {}), hasResiduals: residuals !== undefined, hasInnerMap: innerMap !== undefined };
    }
  }
  const known = new Set([contractInputs.tokens, contractInputs.reset, ...stateNames]);
  for (const i of model.inputs) if (!known.has(i.name)) problems.push(`input "${i.name}" is not part of the contract (inputs: tokens, ${stateNames.length ? stateNames.join(', ') + ', ' : ''}reset)`);

  const fixed = batchDims.filter((d): d is number => typeof d === 'number');
  const symbols = new Set(batchDims.filter((d): d is string => typeof d === 'string'));
  if (new Set(fixed).size > 1 || (fixed.length > 0 && symbols.size > 0) || symbols.size > 1) {
    problems.push(`the batch dimension B differs between the inputs (${[...new Set(batchDims.map(String))].join(', ')})`);
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    contract: {
      task, sudokuSide, ...(mazeGrid ? { mazeGrid } : {}), vocab, vocabSize: vocab.length, seqLen: seqLen!, batch: fixed[0], states, answerState, arch,
      hCycles: hCycles!, lCycles: lCycles!, haltMaxSteps, hasQContinue: qContinue !== undefined, ...(deq ? { deq } : {}),
    },
  };
}

/** One message for an error: the model's path and every problem on its own line. */
export function formatContractProblems(source: string, problems: readonly string[]): string {
  return `${source} does not honour the ONNX step contract (${ONNX_CONTRACT_VERSION}, docs/onnx-contract.md):\n${problems.map((p) => `  - ${p}`).join('\n')}`;
}
