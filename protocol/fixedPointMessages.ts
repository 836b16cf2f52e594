// Every message between the extension host and the Fixed-Point Debugging panel
// (webview/fixedpoint/). The report itself is an InspectReport (protocol/inspectReport.ts),
// written by `reclab inspect` in the trainer process; the host only reads the file and forwards
// it. Each side parses what it receives; anything else is rejected with a reason. Pure: no
// vscode, no DOM.
import { INSPECT_REPORT_VERSION, type InspectReport } from './inspectReport';
import { isObj, isText, need, onlyKeys, parseWith, Reject, type Obj, type Parsed } from './messageGuards';

export const fixedPointPanelViewType = 'reclab.fixedPointPanel';

// ---- host -> webview ---------------------------------------------------------------------------
/** The inspection is running (or re-running) for `target`. */
export interface InspectingMessage { type: 'inspecting'; target: string }
/** The inspection failed; `message` is the trainer's error (e.g. which contract input is missing). */
export interface InspectFailedMessage { type: 'failed'; target: string; message: string }
/** A finished report, and the file it was read from. */
export interface ReportMessage { type: 'report'; target: string; reportPath: string; report: InspectReport }
export type ToFixedPointMessage = InspectingMessage | InspectFailedMessage | ReportMessage;

// ---- webview -> host ---------------------------------------------------------------------------
export interface FixedPointReadyMessage { type: 'ready' }
/** Run the inspection again (same target and options). */
export interface RerunMessage { type: 'rerun' }
/** Open the JSON report in an editor. */
export interface OpenReportMessage { type: 'openReport' }
export type FromFixedPointMessage = FixedPointReadyMessage | RerunMessage | OpenReportMessage;

/** What the webview keeps across reloads (getState/setState); the host restores the panel from `target`/`reportPath`. */
export interface FixedPointPanelState {
  target?: string;
  reportPath?: string;
  puzzle: number;
  step: number;
  /** The puzzle picker lists only the puzzles that end on, or reach in the census, a wrong fixed point. */
  wrongOnly: boolean;
}

export type { Parsed };

const isNumberArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number' || x === null);

/**
 * The structural checks the view relies on: version, contract states, and per puzzle the traces
 * (one value per step for every state), the answers and the census shape. Values the view only
 * prints are not re-validated one by one.
 */
export function checkInspectReport(v: unknown): InspectReport {
  need(isObj(v), 'report is not an object');
  need(v['version'] === INSPECT_REPORT_VERSION, `report version is not ${INSPECT_REPORT_VERSION}`);
  const contract = v['contract'];
  need(isObj(contract) && Array.isArray(contract['states']) && contract['states'].length > 0, 'report.contract.states is missing');
  const states = (contract['states'] as unknown[]).map((s, i) => {
    need(isObj(s) && isText(s['name']), `report.contract.states[${i}] has no name`);
    return s['name'] as string;
  });
  const options = v['options'];
  need(isObj(options) && Number.isInteger(options['steps']) && (options['steps'] as number) >= 1, 'report.options.steps is missing');
  const steps = options['steps'] as number;
  need(isObj(v['summary']), 'report.summary is missing');
  need(Array.isArray(v['puzzles']), 'report.puzzles is not an array');
  need(Array.isArray(v['probe']), 'report.probe is not an array');
  (v['puzzles'] as unknown[]).forEach((p, i) => {
    need(isObj(p) && isText(p['question']), `report.puzzles[${i}].question is missing`);
    const t = p['trace'];
    need(isObj(t) && isObj(t['residuals']), `report.puzzles[${i}].trace.residuals is missing`);
    for (const s of states) {
      const r = (t['residuals'] as Obj)[s];
      need(isNumberArray(r) && r.length === steps, `report.puzzles[${i}].trace.residuals.${s} does not have ${steps} values`);
    }
    need(Array.isArray(t['answers']) && t['answers'].length === steps && t['answers'].every((a) => isText(a)), `report.puzzles[${i}].trace.answers does not have ${steps} answers`);
    need(isNumberArray(t['qHalt']) && t['qHalt'].length === steps, `report.puzzles[${i}].trace.qHalt does not have ${steps} values`);
    need(p['census'] === null || (isObj(p['census']) && Array.isArray(p['census']['fixedPoints'])), `report.puzzles[${i}].census is malformed`);
    const traj = p['trajectory'];
    need(traj === null || (isObj(traj) && Array.isArray(traj['main']) && Array.isArray(traj['perturbed'])), `report.puzzles[${i}].trajectory is malformed`);
  });
  return v as unknown as InspectReport;
}

/** What the webview runs on every message it receives. */
export function parseToFixedPointMessage(m: unknown): Parsed<ToFixedPointMessage> {
  return parseWith(m, (o, type): ToFixedPointMessage => {
    switch (type) {
      case 'inspecting':
        onlyKeys(o, ['type', 'target']);
        need(isText(o['target']), 'target is not a non-empty string');
        return { type, target: o['target'] };
      case 'failed':
        onlyKeys(o, ['type', 'target', 'message']);
        need(isText(o['target']), 'target is not a non-empty string');
        need(typeof o['message'] === 'string', 'message is not a string');
        return { type, target: o['target'], message: o['message'] };
      case 'report':
        onlyKeys(o, ['type', 'target', 'reportPath', 'report']);
        need(isText(o['target']), 'target is not a non-empty string');
        need(isText(o['reportPath']), 'reportPath is not a non-empty string');
        return { type, target: o['target'], reportPath: o['reportPath'], report: checkInspectReport(o['report']) };
      default:
        throw new Reject(`unknown message type "${type}"`);
    }
  });
}

/** What the host runs on every message from the panel. */
export function parseFromFixedPointMessage(m: unknown): Parsed<FromFixedPointMessage> {
  return parseWith(m, (o, type): FromFixedPointMessage => {
    switch (type) {
      case 'ready':
      case 'rerun':
      case 'openReport':
        onlyKeys(o, ['type']);
        return { type };
      default:
        throw new Reject(`unknown message type "${type}"`);
    }
  });
}

/** The panel state from whatever getState() returned (defaults for anything missing or wrong). */
export function fixedPointStateOf(raw: unknown): FixedPointPanelState {
  const s: FixedPointPanelState = { puzzle: 0, step: 0, wrongOnly: false };
  if (!isObj(raw)) return s;
  if (isText(raw['target'])) s.target = raw['target'];
  if (isText(raw['reportPath'])) s.reportPath = raw['reportPath'];
  if (Number.isInteger(raw['puzzle']) && (raw['puzzle'] as number) >= 0) s.puzzle = raw['puzzle'] as number;
  if (Number.isInteger(raw['step']) && (raw['step'] as number) >= 0) s.step = raw['step'] as number;
  if (typeof raw['wrongOnly'] === 'boolean') s.wrongOnly = raw['wrongOnly'];
  return s;
}
