// Every message between the extension host and the Runs Table panel (webview/runs-table/): one row
// per run (what W&B's runs table, TensorBoard's HParams table and DVC's experiments table show),
// the config fields that differ between the rows, and the rows the user selects to overlay in the
// Live Training panel. Each side parses what it receives; anything else is rejected with a reason.
// Pure: no vscode, no DOM.
import { isInt, isObj, isText, need, onlyKeys, parseWith, Reject, type Obj, type Parsed } from './messageGuards';
import { runStatuses, type RunStatus } from './webviewMessages';

export const runsTablePanelViewType = 'reclab.runsTable';

/** The engine that trained a run: config.json `metadata.engine`, absent = the built-in TF.js engine. */
export const defaultEngine = 'tfjs';

/** A config value as the table shows it (objects and arrays as their JSON text). */
export type ConfigValue = string | number | boolean | null;

export interface RunRow {
  /** Absolute path of the run directory. */
  key: string;
  name: string;
  status: RunStatus;
  preset?: string;
  engine: string;
  /** The sweep arm (runs of an ablation), and the seed (config.json `config.seed`). */
  arm?: string;
  seed?: number;
  /** The sweep folder it belongs to. */
  sweep?: string;
  /** Value of each differing config field (RunsMessage.fields) in this run; absent = the run has no such field. */
  config: Record<string, ConfigValue>;
  /** Held-out exact accuracy: the final evaluation on the whole set, and the best of all evaluations. */
  finalExact?: number;
  bestExact?: number;
  steps?: number;
  wallSeconds?: number;
  /** Training FLOPs, forward + backward. */
  flops?: number;
  samplesPerSecond?: number;
  tags: string[];
}

// ---- host -> webview ---------------------------------------------------------------------------
/** The rows to show; `fields` = the dotted config paths whose values differ between them, in order. */
export interface RowsMessage { type: 'rows'; title: string; scope?: string; fields: string[]; rows: RunRow[] }
export type ToRunsTableMessage = RowsMessage;

// ---- webview -> host ---------------------------------------------------------------------------
export interface RunsTableReadyMessage { type: 'ready' }
/** Show exactly these runs in the Live Training panel (overlaid). */
export interface OverlayRunsMessage { type: 'overlay'; keys: string[] }
export type FromRunsTableMessage = RunsTableReadyMessage | OverlayRunsMessage;

/** What the webview keeps across reloads; the host restores the panel from `scope`. */
export interface RunsTableState {
  /** The sweep folder the table is scoped to; undefined = every run of the workspace. */
  scope?: string;
  sortColumn: string;
  sortDescending: boolean;
  filter: string;
  selected: string[];
}

export type { Parsed };

const MAX_KEY = 4096;
const MAX_ROWS = 10_000;
const MAX_FIELDS = 256;

const optNumber = (o: Obj, k: string, where: string): number | undefined => {
  const v = o[k];
  need(v === undefined || (typeof v === 'number' && Number.isFinite(v)), `${where}.${k} is not a finite number`);
  return v as number | undefined;
};
const optText = (o: Obj, k: string, where: string): string | undefined => {
  const v = o[k];
  need(v === undefined || isText(v, MAX_KEY), `${where}.${k} is not a non-empty string`);
  return v as string | undefined;
};

const rowKeys = ['key', 'name', 'status', 'preset', 'engine', 'arm', 'seed', 'sweep', 'config', 'finalExact', 'bestExact', 'steps', 'wallSeconds', 'flops', 'samplesPerSecond', 'tags'];

function runRow(v: unknown, i: number, fields: Set<string>): RunRow {
  const w = `rows[${i}]`;
  need(isObj(v), `${w} is not an object`);
  onlyKeys(v, rowKeys);
  need(isText(v['key'], MAX_KEY), `${w}.key is not a non-empty string`);
  need(isText(v['name'], MAX_KEY), `${w}.name is not a non-empty string`);
  need((runStatuses as readonly unknown[]).includes(v['status']), `${w}.status is not a run status`);
  need(isText(v['engine'], 64), `${w}.engine is not a non-empty string`);
  need(v['seed'] === undefined || isInt(v['seed'], 0, Number.MAX_SAFE_INTEGER), `${w}.seed is not a non-negative integer`);
  const config = v['config'];
  need(isObj(config), `${w}.config is not an object`);
  for (const [k, x] of Object.entries(config)) {
    need(fields.has(k), `${w}.config.${k} is not one of the fields`);
    need(x === null || ['string', 'number', 'boolean'].includes(typeof x), `${w}.config.${k} is not a string, number, boolean or null`);
  }
  const tags = v['tags'];
  need(Array.isArray(tags) && tags.length <= 64 && tags.every((t) => isText(t, 64)), `${w}.tags is not an array of tags`);
  const row: RunRow = {
    key: v['key'], name: v['name'], status: v['status'] as RunStatus, engine: v['engine'], config: { ...(config as Record<string, ConfigValue>) }, tags: [...(tags as string[])],
  };
  const preset = optText(v, 'preset', w);
  const arm = optText(v, 'arm', w);
  const sweep = optText(v, 'sweep', w);
  if (preset !== undefined) row.preset = preset;
  if (arm !== undefined) row.arm = arm;
  if (sweep !== undefined) row.sweep = sweep;
  if (v['seed'] !== undefined) row.seed = v['seed'] as number;
  for (const k of ['finalExact', 'bestExact', 'steps', 'wallSeconds', 'flops', 'samplesPerSecond'] as const) {
    const x = optNumber(v, k, w);
    if (x !== undefined) row[k] = x;
  }
  return row;
}

/** What the webview runs on every message it receives. */
export function parseToRunsTableMessage(m: unknown): Parsed<ToRunsTableMessage> {
  return parseWith(m, (o, type): ToRunsTableMessage => {
    if (type !== 'rows') throw new Reject(`unknown message type "${type}"`);
    onlyKeys(o, ['type', 'title', 'scope', 'fields', 'rows']);
    need(isText(o['title'], MAX_KEY), 'title is not a non-empty string');
    need(o['scope'] === undefined || isText(o['scope'], MAX_KEY), 'scope is not a non-empty string');
    const fields = o['fields'];
    need(Array.isArray(fields) && fields.length <= MAX_FIELDS && fields.every((f) => isText(f, 256)), 'fields is not an array of field names');
    const rows = o['rows'];
    need(Array.isArray(rows) && rows.length <= MAX_ROWS, `rows is not an array of at most ${MAX_ROWS} rows`);
    const set = new Set(fields as string[]);
    const out: RowsMessage = { type, title: o['title'], fields: [...(fields as string[])], rows: rows.map((r, i) => runRow(r, i, set)) };
    if (typeof o['scope'] === 'string') out.scope = o['scope'];
    return out;
  });
}

/** What the host runs on every message from the panel. */
export function parseFromRunsTableMessage(m: unknown): Parsed<FromRunsTableMessage> {
  return parseWith(m, (o, type): FromRunsTableMessage => {
    switch (type) {
      case 'ready':
        onlyKeys(o, ['type']);
        return { type };
      case 'overlay': {
        onlyKeys(o, ['type', 'keys']);
        const keys = o['keys'];
        need(Array.isArray(keys) && keys.length >= 1 && keys.length <= 256 && keys.every((k) => isText(k, MAX_KEY)), 'keys is not an array of 1 to 256 run keys');
        return { type, keys: [...(keys as string[])] };
      }
      default:
        throw new Reject(`unknown message type "${type}"`);
    }
  });
}

/** The panel state from whatever getState() returned (defaults for anything missing or wrong). */
export function runsTableStateOf(raw: unknown): RunsTableState {
  const s: RunsTableState = { sortColumn: 'name', sortDescending: false, filter: '', selected: [] };
  if (!isObj(raw)) return s;
  if (isText(raw['scope'], MAX_KEY)) s.scope = raw['scope'];
  if (isText(raw['sortColumn'], 256)) s.sortColumn = raw['sortColumn'];
  if (typeof raw['sortDescending'] === 'boolean') s.sortDescending = raw['sortDescending'];
  if (typeof raw['filter'] === 'string' && raw['filter'].length <= 1024) s.filter = raw['filter'];
  if (Array.isArray(raw['selected'])) s.selected = raw['selected'].filter((k): k is string => isText(k, MAX_KEY)).slice(0, 256);
  return s;
}
