// Every message between the extension host and the Sweep Report panel (webview/sweep-report/), and
// the check of the file it shows: a sweep folder's ablation.json (`reclab ablate`). The host
// renders the report's content with the same code as ablation.html (trainer/ablation/ablationReport.ts)
// and the panel themes it with the VS Code colours. Pure: no vscode, no DOM.
import { isObj, isText, MAX_TEXT, need, onlyKeys, parseWith, Reject, type Parsed } from './messageGuards';

export const sweepReportPanelViewType = 'reclab.sweepReport';
export const sweepReportFile = 'ablation.json';

// ---- host -> webview ---------------------------------------------------------------------------
/** The report of sweep folder `sweepKey`: its content as HTML (escaped text, tables and SVG, no scripts). */
export interface SweepReportMessage { type: 'report'; sweepKey: string; title: string; html: string; runKeys: string[] }
/** The sweep has no readable ablation.json (yet): why. */
export interface SweepReportMissingMessage { type: 'missing'; sweepKey: string; message: string }
export type ToSweepReportMessage = SweepReportMessage | SweepReportMissingMessage;

// ---- webview -> host ---------------------------------------------------------------------------
export interface SweepReportReadyMessage { type: 'ready' }
export interface OpenRunsTableMessage { type: 'openRunsTable' }
/** Overlay every completed run of the sweep in the Live Training panel. */
export interface OverlaySweepMessage { type: 'overlaySweep' }
export type FromSweepReportMessage = SweepReportReadyMessage | OpenRunsTableMessage | OverlaySweepMessage;

/** What the webview keeps across reloads; the host restores the panel from it. */
export interface SweepReportState { sweepKey?: string }

export type { Parsed };

const MAX_KEY = 4096;
const MAX_HTML = 4 << 20;

const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const isNumOrAbsent = (v: unknown) => v === undefined || v === null || typeof v === 'number';

/**
 * Checks the fields of an ablation.json the report is drawn from (sweep description, per-arm
 * summaries, per-run results with their curves); throws an Error naming the field at fault.
 */
export function checkSweepFile(v: unknown): void {
  const fail = (why: string): never => {
    throw new Error(why);
  };
  if (!isObj(v)) fail('not a JSON object');
  const o = v as Record<string, unknown>;
  const sweep = o['sweep'];
  if (!isObj(sweep)) fail('sweep: expected an object');
  const s = sweep as Record<string, unknown>;
  if (!isText(s['preset'])) fail('sweep.preset: expected a string');
  if (!isText(s['setting'])) fail('sweep.setting: expected a string');
  for (const k of ['steps', 'seeds', 'target']) if (!isNum(s[k])) fail(`sweep.${k}: expected a number`);
  const depth = s['depth'];
  if (!isObj(depth) || !isNum(depth['hCycles']) || !isNum(depth['lCycles'])) fail('sweep.depth: expected { hCycles, lCycles }');
  const arms = o['arms'];
  if (!Array.isArray(arms) || arms.length === 0) fail('arms: expected a non-empty array');
  (arms as unknown[]).forEach((a, i) => {
    if (!isObj(a) || !isText(a['arm'])) fail(`arms[${i}].arm: expected a string`);
    const arm = a as Record<string, unknown>;
    for (const k of ['seeds', 'failed']) if (!isNum(arm[k])) fail(`arms[${i}].${k}: expected a number`);
    for (const [k, x] of Object.entries(arm)) if (k !== 'arm' && k !== 'description' && k !== 'stageStepSeconds' && !isNumOrAbsent(x)) fail(`arms[${i}].${k}: expected a number`);
    const stages = arm['stageStepSeconds'];
    if (!Array.isArray(stages) || !stages.every((st) => isObj(st) && ['hCycles', 'lCycles', 'steps', 'meanSeconds'].every((k) => isNum(st[k])))) {
      fail(`arms[${i}].stageStepSeconds: expected an array of { hCycles, lCycles, steps, meanSeconds }`);
    }
  });
  const runs = o['runs'];
  if (!Array.isArray(runs)) fail('runs: expected an array');
  (runs as unknown[]).forEach((r, i) => {
    if (!isObj(r) || !isText(r['arm'])) fail(`runs[${i}].arm: expected a string`);
    const run = r as Record<string, unknown>;
    if (!isNum(run['seed'])) fail(`runs[${i}].seed: expected a number`);
    if (run['status'] !== 'completed' && run['status'] !== 'failed') fail(`runs[${i}].status: expected "completed" or "failed"`);
    if (!isText(run['runDir'], MAX_KEY)) fail(`runs[${i}].runDir: expected a path`);
    const curve = run['curve'];
    if (!Array.isArray(curve) || !curve.every((p) => isObj(p) && ['step', 'trainSeconds', 'flops', 'exact'].every((k) => isNum(p[k])))) {
      fail(`runs[${i}].curve: expected an array of { step, trainSeconds, flops, exact }`);
    }
  });
}

/** What the webview runs on every message it receives. */
export function parseToSweepReportMessage(m: unknown): Parsed<ToSweepReportMessage> {
  return parseWith(m, (o, type): ToSweepReportMessage => {
    switch (type) {
      case 'report': {
        onlyKeys(o, ['type', 'sweepKey', 'title', 'html', 'runKeys']);
        need(isText(o['sweepKey'], MAX_KEY), 'sweepKey is not a non-empty string');
        need(isText(o['title'], MAX_KEY), 'title is not a non-empty string');
        need(isText(o['html'], MAX_HTML), 'html is not a non-empty string');
        const keys = o['runKeys'];
        need(Array.isArray(keys) && keys.length <= 10_000 && keys.every((k) => isText(k, MAX_KEY)), 'runKeys is not an array of run keys');
        return { type, sweepKey: o['sweepKey'], title: o['title'], html: o['html'], runKeys: [...(keys as string[])] };
      }
      case 'missing':
        onlyKeys(o, ['type', 'sweepKey', 'message']);
        need(isText(o['sweepKey'], MAX_KEY), 'sweepKey is not a non-empty string');
        need(typeof o['message'] === 'string' && o['message'].length <= MAX_TEXT, 'message is not a string');
        return { type, sweepKey: o['sweepKey'], message: o['message'] };
      default:
        throw new Reject(`unknown message type "${type}"`);
    }
  });
}

/** What the host runs on every message from the panel. */
export function parseFromSweepReportMessage(m: unknown): Parsed<FromSweepReportMessage> {
  return parseWith(m, (o, type): FromSweepReportMessage => {
    switch (type) {
      case 'ready':
      case 'openRunsTable':
      case 'overlaySweep':
        onlyKeys(o, ['type']);
        return { type };
      default:
        throw new Reject(`unknown message type "${type}"`);
    }
  });
}

/** The panel state from whatever getState() returned. */
export function sweepReportStateOf(raw: unknown): SweepReportState {
  return isObj(raw) && isText(raw['sweepKey'], MAX_KEY) ? { sweepKey: raw['sweepKey'] } : {};
}
