// Every message between the extension host and the Live Training panel (webview/training/).
// One union per direction, a request id on the messages that expect a reply (`requestId` ->
// `inReplyTo`), and a parser per direction that each side runs on everything it receives:
// anything that is not exactly one of these messages is rejected with a reason, never half-used.
// Pure: no vscode, no DOM.
import type { Columns } from './columnTable';
import { isObj, isText, MAX_TEXT, need, onlyKeys, parseWith, Reject, type Parsed } from './messageGuards';

export const trainingPanelViewType = 'reclab.trainingPanel';

/**
 * Per-step metrics, one row per `step` event in step order. NaN = no value (e.g. no row halted).
 * gradVariance is the step's running gradient-variance estimate ‖g − m‖² / ‖m‖² (gradVarianceRunning).
 */
export const stepColumnNames = [
  'step', 'time', 'lmLoss', 'qHaltLoss', 'tokenAccuracy', 'exactAccuracy', 'qHaltAccuracy',
  'gradNorm', 'gradVariance', 'samplesPerSecond', 'hCycles', 'lCycles', 'lr',
] as const;
export type StepColumnName = (typeof stepColumnNames)[number];
export type StepColumns = Columns<StepColumnName>;

/**
 * Held-out evaluations, one row per `eval` event; gradientVariance = the eval's V over gradient groups;
 * internalisedExactAccuracy = DEQ runs with eval.internalisation: the exact accuracy with the solver
 * capped at the first listed iteration count (EvalEvent.internalisation[0]; NaN otherwise).
 */
export const evalColumnNames = ['step', 'time', 'exactAccuracy', 'tokenAccuracy', 'qHaltAccuracy', 'gradientVariance', 'internalisedExactAccuracy'] as const;
export type EvalColumnName = (typeof evalColumnNames)[number];
export type EvalColumns = Columns<EvalColumnName>;

/**
 * The fixed-point solver's statistics of DEQ runs (trm-deq, attractor), one row per step event that carries
 * them (modelStats, trainer/model/deqStepStatistics.ts): map evaluations per solve (mean, max), the
 * returned estimates' abs / rel residual (mean, max over solve × row), the converged fraction; with
 * the IFT gradient (torch) the adjoint solves' mean iterations, max abs residual and converged
 * fraction (NaN when absent). A run without them never gets a row (nor a `solver` message).
 */
export const solverColumnNames = [
  'step', 'time', 'deqIterations', 'deqIterationsMax', 'deqAbsMean', 'deqAbsMax', 'deqRelMean', 'deqRelMax', 'deqConvergedFraction',
  'deqAdjointIterations', 'deqAdjointAbsMax', 'deqAdjointConvergedFraction',
] as const;
export type SolverColumnName = (typeof solverColumnNames)[number];
export type SolverColumns = Columns<SolverColumnName>;

export const runStatuses = ['starting', 'running', 'completed', 'stopped', 'failed'] as const;
export type RunStatus = (typeof runStatuses)[number];

export interface RunDescriptor {
  /** Absolute path of the run directory: the identity of a run everywhere in the extension. */
  key: string;
  runId: string;
  name: string;
  status: RunStatus;
  preset?: string;
  /** The step the run is at (the same figure as the status bar and the runs tree) and its total. */
  step?: number;
  totalSteps?: number;
  /** The sweep arm of a run of an ablation (the panel groups runs by it). */
  arm?: string;
}

// ---- host -> webview ---------------------------------------------------------------------------
/** The runs the panel shows, in overlay order, with their current status; `panelId` names the panel across reloads. */
export interface RunsMessage { type: 'runs'; panelId: string; runs: RunDescriptor[] }
/** Step rows [start, start + n) of a run; they replace the panel's rows from `start` on. */
export interface StepsMessage { type: 'steps'; key: string; start: number; columns: StepColumns }
export interface EvalsMessage { type: 'evals'; key: string; start: number; columns: EvalColumns }
/** Solver rows [start, start + n) of a DEQ run (solverColumnNames); they replace the panel's rows from `start` on. */
export interface SolverMessage { type: 'solver'; key: string; start: number; columns: SolverColumns }
export interface ReplyMessage { type: 'reply'; inReplyTo: number; ok: boolean; message: string }
export type ToWebviewMessage = RunsMessage | StepsMessage | EvalsMessage | SolverMessage | ReplyMessage;

// ---- webview -> host ---------------------------------------------------------------------------
export interface ReadyMessage { type: 'ready' }
/** Ask the host to offer runs to add (a quick pick). */
export interface AddRunsMessage { type: 'addRuns'; requestId: number }
export interface RemoveRunMessage { type: 'removeRun'; key: string }
/** Export the panel's runs as CSV (the host asks where to save). */
export interface ExportCsvMessage { type: 'exportCsv'; requestId: number }
export type FromWebviewMessage = ReadyMessage | AddRunsMessage | RemoveRunMessage | ExportCsvMessage;

export type { Parsed };

const MAX_KEY = 4096;
const MAX_RUNS = 256;

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isPanelId = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v);


/** A column as Float64Array; plain arrays (numbers, null = no value) are accepted and converted. */
function column(v: unknown, name: string): Float64Array {
  if (v instanceof Float64Array) return v;
  need(Array.isArray(v), `column "${name}" is not a Float64Array or an array`);
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    need(x === null || typeof x === 'number', `column "${name}"[${i}] is not a number`);
    out[i] = x === null ? NaN : x;
  }
  return out;
}

function columns<K extends string>(v: unknown, names: readonly K[]): Columns<K> {
  need(isObj(v), 'columns is not an object');
  onlyKeys(v, names);
  const out = {} as Columns<K>;
  let n = -1;
  for (const name of names) {
    const c = column(v[name], name);
    need(n < 0 || c.length === n, `column "${name}" has ${c.length} rows, expected ${n}`);
    n = c.length;
    out[name] = c;
  }
  return out;
}

function runDescriptor(v: unknown, i: number): RunDescriptor {
  need(isObj(v), `runs[${i}] is not an object`);
  onlyKeys(v, ['key', 'runId', 'name', 'status', 'preset', 'step', 'totalSteps', 'arm']);
  need(isText(v['key'], MAX_KEY), `runs[${i}].key is not a non-empty string`);
  need(isText(v['runId'], MAX_KEY), `runs[${i}].runId is not a non-empty string`);
  need(isText(v['name'], MAX_KEY), `runs[${i}].name is not a non-empty string`);
  need((runStatuses as readonly unknown[]).includes(v['status']), `runs[${i}].status is not a run status`);
  need(v['preset'] === undefined || isText(v['preset'], MAX_KEY), `runs[${i}].preset is not a string`);
  need(v['arm'] === undefined || isText(v['arm'], MAX_KEY), `runs[${i}].arm is not a string`);
  for (const k of ['step', 'totalSteps']) need(v[k] === undefined || isIndex(v[k]), `runs[${i}].${k} is not a non-negative integer`);
  const d: RunDescriptor = { key: v['key'], runId: v['runId'], name: v['name'], status: v['status'] as RunStatus };
  if (typeof v['preset'] === 'string') d.preset = v['preset'];
  if (typeof v['arm'] === 'string') d.arm = v['arm'];
  if (typeof v['step'] === 'number') d.step = v['step'];
  if (typeof v['totalSteps'] === 'number') d.totalSteps = v['totalSteps'];
  return d;
}

/** What the webview runs on every message it receives. */
export function parseToWebviewMessage(m: unknown): Parsed<ToWebviewMessage> {
  return parseWith(m, (o, type): ToWebviewMessage => {
    switch (type) {
      case 'runs': {
        onlyKeys(o, ['type', 'panelId', 'runs']);
        need(isPanelId(o['panelId']), 'panelId is not a panel id');
        const runs = o['runs'];
        need(Array.isArray(runs) && runs.length <= MAX_RUNS, 'runs is not an array of at most 256 runs');
        return { type, panelId: o['panelId'], runs: runs.map(runDescriptor) };
      }
      case 'steps':
      case 'evals':
      case 'solver': {
        onlyKeys(o, ['type', 'key', 'start', 'columns']);
        need(isText(o['key'], MAX_KEY), 'key is not a non-empty string');
        need(isIndex(o['start']), 'start is not a non-negative integer');
        return type === 'steps'
          ? { type, key: o['key'], start: o['start'], columns: columns(o['columns'], stepColumnNames) }
          : type === 'evals' ? { type, key: o['key'], start: o['start'], columns: columns(o['columns'], evalColumnNames) }
            : { type, key: o['key'], start: o['start'], columns: columns(o['columns'], solverColumnNames) };
      }
      case 'reply':
        onlyKeys(o, ['type', 'inReplyTo', 'ok', 'message']);
        need(isIndex(o['inReplyTo']), 'inReplyTo is not a non-negative integer');
        need(typeof o['ok'] === 'boolean', 'ok is not a boolean');
        need(typeof o['message'] === 'string' && o['message'].length <= MAX_TEXT, 'message is not a string');
        return { type, inReplyTo: o['inReplyTo'], ok: o['ok'], message: o['message'] };
      default:
        throw new Reject(`unknown message type "${type}"`);
    }
  });
}

/** What the host runs on every message a panel sends. */
export function parseFromWebviewMessage(m: unknown): Parsed<FromWebviewMessage> {
  return parseWith(m, (o, type): FromWebviewMessage => {
    switch (type) {
      case 'ready':
        onlyKeys(o, ['type']);
        return { type };
      case 'addRuns':
      case 'exportCsv':
        onlyKeys(o, ['type', 'requestId']);
        need(isIndex(o['requestId']), 'requestId is not a non-negative integer');
        return { type, requestId: o['requestId'] };
      case 'removeRun':
        onlyKeys(o, ['type', 'key']);
        need(isText(o['key'], MAX_KEY), 'key is not a non-empty string');
        return { type, key: o['key'] };
      default:
        throw new Reject(`unknown message type "${type}"`);
    }
  });
}

/** The state a panel keeps across reloads (webview getState/setState, and the serializer). */
export interface TrainingPanelState {
  /** Set by the host's first `runs` message; the host remembers each panel's runs under it. */
  panelId?: string;
  keys: string[];
  smoothing: number;
  logY: boolean;
  xAxis: XAxisMode;
  /** Run key -> index into the colour palette, so a run keeps its colour. */
  colours: Record<string, number>;
  /** Series hidden with the charts' key toggles (`${chart id}:${metric}`). */
  hidden: string[];
  /** The runs of a sweep arm drawn as their mean over seeds with a ± sd band. */
  groupByArm: boolean;
}
export const xAxisModes = ['step', 'relative', 'wall'] as const;
export type XAxisMode = (typeof xAxisModes)[number];

/** The run keys of a saved panel state (the serializer's input is untrusted too). */
export function runKeysOfState(state: unknown): string[] {
  if (!isObj(state) || !Array.isArray(state['keys'])) return [];
  return state['keys'].filter((k): k is string => isText(k, MAX_KEY)).slice(0, MAX_RUNS);
}

/** The panel id of a saved panel state, if it has a valid one. */
export function panelIdOfState(state: unknown): string | undefined {
  return isObj(state) && isPanelId(state['panelId']) ? state['panelId'] : undefined;
}
