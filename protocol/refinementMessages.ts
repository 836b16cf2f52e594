// Every message between the extension host and the Puzzle Refinement panel (webview/refinement/).
// The panel shows one refinement trajectory (protocol/refinement.ts) at a time: live, the latest
// `refinement` snapshot of a run's events.jsonl; offline, the file `reclab trace` wrote. The host
// only reads and forwards; each side parses what it receives and rejects anything else with a
// reason. Pure: no vscode, no DOM.
import { decodeTrajectory, MAX_MAZE_SIDE, MIN_MAZE_SIDE, type RefinementTrajectory } from './refinement';
import { runStatuses, type RunStatus } from './webviewMessages';
import { isInt, isObj, isText, MAX_TEXT, need, onlyKeys, parseWith, Reject, type Parsed } from './messageGuards';

export const refinementPanelViewType = 'reclab.refinementPanel';

/** Where the trajectory comes from: a run's latest snapshot (follows the run) or a trace file. */
export type RefinementSource =
  | { kind: 'live'; runKey: string; runName: string; status: RunStatus }
  | { kind: 'trace'; runKey: string; runName: string; tracePath: string; checkpoint: string };

// ---- host -> webview ---------------------------------------------------------------------------
/**
 * A trajectory to show; `snapshotStep` is the training step of a live snapshot (null for a trace),
 * `snapshotSteps` the training steps of all the run's snapshots, ascending (the training-step slider; [] for a trace).
 */
export interface TrajectoryMessage { type: 'trajectory'; source: RefinementSource; snapshotStep: number | null; snapshotSteps: number[]; trajectory: RefinementTrajectory }
/** Nothing to show yet (no snapshot so far, a trace running); `message` says why. */
export interface WaitingMessage { type: 'waiting'; source: RefinementSource; message: string }
/** The trace failed or the trajectory could not be read. */
export interface RefinementFailedMessage { type: 'failed'; source: RefinementSource; message: string }
/** The run's status changed (live); the trajectory stays. */
export interface RunStatusMessage { type: 'status'; status: RunStatus }
export type ToRefinementMessage = TrajectoryMessage | WaitingMessage | RefinementFailedMessage | RunStatusMessage;

// ---- webview -> host ---------------------------------------------------------------------------
export interface RefinementReadyMessage { type: 'ready' }
/** "Inspect Puzzle…" for the panel's run (type a puzzle or pick one from the test set). */
export interface InspectPuzzleMessage { type: 'inspectPuzzle' }
/** Show the live snapshot of training step `step` (null = the latest, following new ones). */
export interface SelectSnapshotMessage { type: 'selectSnapshot'; step: number | null }
export type FromRefinementMessage = RefinementReadyMessage | InspectPuzzleMessage | SelectSnapshotMessage;

/** Playback speeds of the scrubber, in frames per second. */
export const playbackSpeeds = [1, 2, 4, 8, 16] as const;
export const defaultPlaybackSpeed = 4;

/** What the webview keeps across reloads; the host restores the panel from `source`. */
export interface RefinementPanelState {
  source?: { kind: 'live'; runKey: string } | { kind: 'trace'; runKey: string; tracePath: string };
  puzzle: number;
  /** The frame shown; -1 = the last one (follows new snapshots). */
  frame: number;
  /** The training step of the live snapshot shown; null = the latest (follows new snapshots). */
  snapshotStep: number | null;
  speed: number;
}

/** A trace file as `reclab trace --out` writes it (trainer/traceCommand.ts). */
export interface TraceFileContents {
  runDir: string;
  checkpoint: string;
  trajectory: RefinementTrajectory;
}

export type { Parsed };

const MAX_PATH = 4096;
const MAX_PUZZLES = 64;
const MAX_STEPS = 256;
const MAX_CYCLES = 64;
const MAX_BASE64 = 64 << 20;
const MAX_SNAPSHOTS = 100_000;
const isStep = (v: unknown): v is number => isInt(v, 0, Number.MAX_SAFE_INTEGER);

const isBase64 = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_BASE64 && /^[A-Za-z0-9+/]*={0,2}$/.test(v);


/**
 * A refinement trajectory with every field the view relies on checked: Sudoku side 4 or 9 (maze:
 * task "maze", side 2..64), each puzzle's question (and solution) one character per cell, and the
 * decoded arrays of exactly puzzles × frames × cells bytes (qHalt: floats). Throws an Error naming the field.
 */
export function checkTrajectory(v: unknown, where = 'trajectory'): RefinementTrajectory {
  try {
    need(isObj(v), `${where} is not an object`);
    onlyKeys(v, ['task', 'side', 'puzzles', 'steps', 'cyclesPerStep', 'digits', 'confidence', 'qHalt']);
    need(v['task'] === undefined || v['task'] === 'maze', `${where}.task is not "maze" (absent for Sudoku)`);
    const maze = v['task'] === 'maze';
    if (maze) need(isInt(v['side'], MIN_MAZE_SIDE, MAX_MAZE_SIDE), `${where}.side is not an integer from ${MIN_MAZE_SIDE} to ${MAX_MAZE_SIDE}`);
    else need(v['side'] === 4 || v['side'] === 9, `${where}.side is not 4 or 9`);
    const side = v['side'] as number;
    const cells = side * side;
    need(isInt(v['steps'], 1, MAX_STEPS), `${where}.steps is not an integer from 1 to ${MAX_STEPS}`);
    need(isInt(v['cyclesPerStep'], 1, MAX_CYCLES), `${where}.cyclesPerStep is not an integer from 1 to ${MAX_CYCLES}`);
    const puzzles = v['puzzles'];
    need(Array.isArray(puzzles) && puzzles.length >= 1 && puzzles.length <= MAX_PUZZLES, `${where}.puzzles is not an array of 1 to ${MAX_PUZZLES} puzzles`);
    // Maze: questions hold walls, open cells, S and G; solutions add the path.
    const digitsRe = maze ? new RegExp(`^[# SGo]{${cells}}$`) : new RegExp(`^[1-${side}]{${cells}}$`);
    const questionRe = maze ? new RegExp(`^[# SG]{${cells}}$`) : new RegExp(`^[.0-${side}]{${cells}}$`);
    const questionWhat = maze ? `${cells} of the characters "# SG"` : `${cells} characters of ".", 0 and 1-${side}`;
    const solutionWhat = maze ? `${cells} of the characters "# SGo"` : `${cells} digits 1-${side}`;
    const checked = puzzles.map((p: unknown, i) => {
      need(isObj(p), `${where}.puzzles[${i}] is not an object`);
      onlyKeys(p, ['question', 'solution', 'blanks']);
      need(typeof p['question'] === 'string' && questionRe.test(p['question']), `${where}.puzzles[${i}].question is not ${questionWhat}`);
      need(p['solution'] === undefined || (typeof p['solution'] === 'string' && digitsRe.test(p['solution'])), `${where}.puzzles[${i}].solution is not ${solutionWhat}`);
      need(isInt(p['blanks'], 0, cells), `${where}.puzzles[${i}].blanks is not an integer from 0 to ${cells}`);
      return { question: p['question'], blanks: p['blanks'], ...(typeof p['solution'] === 'string' ? { solution: p['solution'] } : {}) };
    });
    for (const k of ['digits', 'confidence', 'qHalt'] as const) need(isBase64(v[k]), `${where}.${k} is not a base64 string`);
    const t: RefinementTrajectory = {
      ...(maze ? { task: 'maze' as const } : {}),
      side, puzzles: checked, steps: v['steps'], cyclesPerStep: v['cyclesPerStep'],
      digits: v['digits'] as string, confidence: v['confidence'] as string, qHalt: v['qHalt'] as string,
    };
    try {
      decodeTrajectory(t);
    } catch (e) {
      throw new Reject((e as Error).message.replace(/^trajectory/, where));
    }
    return t;
  } catch (e) {
    if (e instanceof Reject) throw new Error(e.message);
    throw e;
  }
}

/** A trace file's contents (what `reclab trace --out` wrote), checked like a message. */
export function checkTraceFile(v: unknown): TraceFileContents {
  if (!isObj(v)) throw new Error('the trace file is not a JSON object');
  if (!isText(v['runDir'], MAX_PATH)) throw new Error('the trace file has no runDir');
  if (!isText(v['checkpoint'], MAX_PATH)) throw new Error('the trace file has no checkpoint');
  return { runDir: v['runDir'], checkpoint: v['checkpoint'], trajectory: checkTrajectory(v['trajectory']) };
}

function source(v: unknown): RefinementSource {
  need(isObj(v), 'source is not an object');
  need(isText(v['runKey'], MAX_PATH), 'source.runKey is not a non-empty string');
  need(isText(v['runName'], MAX_PATH), 'source.runName is not a non-empty string');
  if (v['kind'] === 'live') {
    onlyKeys(v, ['kind', 'runKey', 'runName', 'status']);
    need((runStatuses as readonly unknown[]).includes(v['status']), 'source.status is not a run status');
    return { kind: 'live', runKey: v['runKey'], runName: v['runName'], status: v['status'] as RunStatus };
  }
  need(v['kind'] === 'trace', 'source.kind is not "live" or "trace"');
  onlyKeys(v, ['kind', 'runKey', 'runName', 'tracePath', 'checkpoint']);
  need(isText(v['tracePath'], MAX_PATH), 'source.tracePath is not a non-empty string');
  need(isText(v['checkpoint'], MAX_PATH), 'source.checkpoint is not a non-empty string');
  return { kind: 'trace', runKey: v['runKey'], runName: v['runName'], tracePath: v['tracePath'], checkpoint: v['checkpoint'] };
}

/** What the webview runs on every message it receives. */
export function parseToRefinementMessage(m: unknown): Parsed<ToRefinementMessage> {
  return parseWith(m, (o, type): ToRefinementMessage => {
    switch (type) {
      case 'trajectory': {
        onlyKeys(o, ['type', 'source', 'snapshotStep', 'snapshotSteps', 'trajectory']);
        const s = source(o['source']);
        need(o['snapshotStep'] === null || isStep(o['snapshotStep']), 'snapshotStep is not null or a non-negative integer');
        const steps = o['snapshotSteps'];
        need(Array.isArray(steps) && steps.length <= MAX_SNAPSHOTS && steps.every((x, i) => isStep(x) && (i === 0 || x > (steps[i - 1] as number))),
          'snapshotSteps is not an ascending array of non-negative integers');
        need(o['snapshotStep'] === null || steps.includes(o['snapshotStep']), 'snapshotStep is not one of snapshotSteps');
        let trajectory: RefinementTrajectory;
        try {
          trajectory = checkTrajectory(o['trajectory']);
        } catch (e) {
          throw new Reject((e as Error).message);
        }
        return { type, source: s, snapshotStep: o['snapshotStep'] as number | null, snapshotSteps: [...steps as number[]], trajectory };
      }
      case 'waiting':
      case 'failed':
        onlyKeys(o, ['type', 'source', 'message']);
        need(typeof o['message'] === 'string' && o['message'].length <= MAX_TEXT, 'message is not a string');
        return { type, source: source(o['source']), message: o['message'] };
      case 'status':
        onlyKeys(o, ['type', 'status']);
        need((runStatuses as readonly unknown[]).includes(o['status']), 'status is not a run status');
        return { type, status: o['status'] as RunStatus };
      default:
        throw new Reject(`unknown message type "${type}"`);
    }
  });
}

/** What the host runs on every message from the panel. */
export function parseFromRefinementMessage(m: unknown): Parsed<FromRefinementMessage> {
  return parseWith(m, (o, type): FromRefinementMessage => {
    switch (type) {
      case 'ready':
      case 'inspectPuzzle':
        onlyKeys(o, ['type']);
        return { type };
      case 'selectSnapshot':
        onlyKeys(o, ['type', 'step']);
        need(o['step'] === null || isStep(o['step']), 'step is not null or a non-negative integer');
        return { type, step: o['step'] as number | null };
      default:
        throw new Reject(`unknown message type "${type}"`);
    }
  });
}

/** The panel state from whatever getState() returned (defaults for anything missing or wrong). */
export function refinementStateOf(raw: unknown): RefinementPanelState {
  const s: RefinementPanelState = { puzzle: 0, frame: -1, speed: defaultPlaybackSpeed, snapshotStep: null };
  if (!isObj(raw)) return s;
  const src = raw['source'];
  if (isObj(src) && isText(src['runKey'], MAX_PATH)) {
    if (src['kind'] === 'live') s.source = { kind: 'live', runKey: src['runKey'] };
    else if (src['kind'] === 'trace' && isText(src['tracePath'], MAX_PATH)) s.source = { kind: 'trace', runKey: src['runKey'], tracePath: src['tracePath'] };
  }
  if (isInt(raw['puzzle'], 0, MAX_PUZZLES - 1)) s.puzzle = raw['puzzle'];
  if (isInt(raw['frame'], -1, MAX_STEPS * MAX_CYCLES)) s.frame = raw['frame'];
  if ((playbackSpeeds as readonly unknown[]).includes(raw['speed'])) s.speed = raw['speed'] as number;
  if (isStep(raw['snapshotStep'])) s.snapshotStep = raw['snapshotStep'];
  return s;
}
