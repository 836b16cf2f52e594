// Every message between the extension host and the Fixed-Point Debugging panel
// (webview/fixedpoint/). The report itself is an InspectReport (protocol/inspectReport.ts),
// written by `reclab inspect` in the trainer process; the host only reads the file and forwards
// it. Each side parses what it receives; anything else is rejected with a reason. Pure: no
// vscode, no DOM.
import { inspectReportSchema, type InspectReport } from './inspectReport';
import { checkedReport, isObj, isText, parseWith, Reject, type Parsed } from './messageGuards';
import { parseReportJobMessage, parseReportPanelRequest } from './reportJobMessages';

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

/**
 * The whole report, checked before the view touches it (inspectReportSchema: every field the
 * view reads, with its type, and the lengths it indexes by — one value per step and state, grid
 * strings of L cells). A malformed report is refused with the path of its first bad field.
 */
export function checkInspectReport(v: unknown): InspectReport {
  return checkedReport(inspectReportSchema, v);
}

/** What the webview runs on every message it receives. */
export function parseToFixedPointMessage(m: unknown): Parsed<ToFixedPointMessage> {
  return parseWith(m, (o, type): ToFixedPointMessage => {
    const shared = parseReportJobMessage(o, type, 'inspecting', checkInspectReport);
    if (!shared) throw new Reject(`unknown message type "${type}"`);
    return shared;
  });
}

/** What the host runs on every message from the panel. */
export const parseFromFixedPointMessage: (m: unknown) => Parsed<FromFixedPointMessage> = parseReportPanelRequest;

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
