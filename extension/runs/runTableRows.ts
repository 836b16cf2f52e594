// The Runs table's rows, read from each run directory: config.json (config, metadata.engine),
// summary.json (final figures), annotations.json (tags) and the tail of events.jsonl (throughput,
// and the figures of a run still training); plus which config fields differ between the rows.
// No vscode import.
import { open, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseEventLine } from '../../protocol/events';
import { annotationsFile, parseRunAnnotations } from '../../protocol/runAnnotations';
import { runFiles } from '../../protocol/runDirectory';
import { defaultEngine, type ConfigValue, type RunRow } from '../../protocol/runsTableMessages';
import type { RunEntry } from './runRegistry';

/** Config fields never shown as "differing": the run's name and seed have their own columns. */
const OWN_COLUMNS = new Set(['name', 'seed']);
/** How much of the end of events.jsonl is read for the throughput and a live run's figures. */
const TAIL_BYTES = 256 * 1024;

/** A config as dotted paths to leaf values; arrays are one leaf (their JSON text). */
export function flattenConfig(v: unknown, prefix = '', out: Record<string, ConfigValue> = {}): Record<string, ConfigValue> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flattenConfig(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = v === undefined ? null : Array.isArray(v) ? JSON.stringify(v) : (v as ConfigValue);
  }
  return out;
}

/** The dotted paths whose values are not the same in every config (a path some lack counts), sorted. */
export function differingFields(configs: Record<string, ConfigValue>[]): string[] {
  const paths = new Set<string>();
  for (const c of configs) for (const k of Object.keys(c)) if (!OWN_COLUMNS.has(k)) paths.add(k);
  const out: string[] = [];
  for (const p of paths) {
    const first = configs[0]?.[p];
    if (configs.some((c) => !(p in c) || c[p] !== first)) out.push(p);
  }
  return out.sort();
}

/** The sweep arm of a run of a sweep folder (`<arm>-seed<k>`, as `reclab ablate` names them). */
export function armOf(runDirName: string): string | undefined {
  return /^(.+)-seed\d+$/.exec(runDirName)?.[1];
}

const median = (xs: number[]) => {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface TailFigures {
  samplesPerSecond?: number;
  bestExact?: number;
  flops?: number;
  firstTime?: number;
  lastTime?: number;
}

/** Figures from the last TAIL_BYTES of events.jsonl: median samples/s of those steps, best eval, FLOPs so far. */
async function tailFigures(eventsPath: string): Promise<TailFigures> {
  let text: string;
  try {
    const fh = await open(eventsPath, 'r');
    try {
      const size = (await fh.stat()).size;
      const start = Math.max(0, size - TAIL_BYTES);
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      text = buf.toString('utf8');
      if (start > 0) text = text.slice(text.indexOf('\n') + 1); // the first line is torn
    } finally {
      await fh.close();
    }
  } catch {
    return {};
  }
  const sps: number[] = [];
  const f: TailFigures = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const e = parseEventLine(line);
    if ('error' in e) continue;
    f.firstTime ??= e.time;
    f.lastTime = e.time;
    if (e.type === 'step' && Number.isFinite(e.samplesPerSecond)) sps.push(e.samplesPerSecond);
    if (e.type === 'eval') {
      f.bestExact = Math.max(f.bestExact ?? 0, e.exactAccuracy);
      f.flops = e.flopsForwardTotal + e.flopsBackwardTotal;
    }
  }
  f.samplesPerSecond = median(sps);
  return f;
}

async function readJsonFile(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export interface RowsResult {
  fields: string[];
  rows: RunRow[];
  /** Files that could not be read as they should (e.g. a malformed annotations.json), with why. */
  problems: string[];
}

/** The table's rows for `runs`, and the config fields that differ between them. */
export async function runTableRows(runs: RunEntry[]): Promise<RowsResult> {
  const problems: string[] = [];
  const flats: Record<string, ConfigValue>[] = [];
  const rows: RunRow[] = [];
  for (const r of runs) {
    const file = (await readJsonFile(join(r.key, runFiles.config))) as { config?: unknown; metadata?: { engine?: unknown } } | undefined;
    const flat = flattenConfig(file?.config ?? {});
    flats.push(flat);
    let tags: string[] = [];
    try {
      tags = parseRunAnnotations(await readFile(join(r.key, annotationsFile), 'utf8')).tags;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`${join(r.key, annotationsFile)}: ${(e as Error).message}`);
    }
    const tail = await tailFigures(join(r.key, runFiles.events));
    const s = r.summary;
    const engine = typeof file?.metadata?.engine === 'string' && file.metadata.engine ? file.metadata.engine : defaultEngine;
    const row: RunRow = { key: r.key, name: r.name, status: r.status, engine, config: {}, tags };
    if (r.preset) row.preset = r.preset;
    if (r.group) {
      row.sweep = r.group;
      const arm = armOf(basename(r.key));
      if (arm) row.arm = arm;
    }
    if (typeof flat['seed'] === 'number') row.seed = flat['seed'];
    const finalExact = s?.finalEval?.exactAccuracy;
    if (finalExact !== undefined) row.finalExact = finalExact;
    const best = s?.bestExactAccuracy ?? r.bestExactAccuracy ?? tail.bestExact;
    if (best !== undefined) row.bestExact = best;
    if (r.step !== undefined) row.steps = r.step;
    const wall = s?.wallSeconds ?? (r.series?.figures.startTime !== undefined && r.series.figures.lastEventTime !== undefined
      ? (r.series.figures.lastEventTime - r.series.figures.startTime) / 1000 : undefined);
    if (wall !== undefined) row.wallSeconds = wall;
    const flops = s ? s.flopsForwardTotal + s.flopsBackwardTotal : tail.flops;
    if (flops !== undefined && Number.isFinite(flops)) row.flops = flops;
    if (tail.samplesPerSecond !== undefined) row.samplesPerSecond = tail.samplesPerSecond;
    rows.push(row);
  }
  const fields = differingFields(flats);
  rows.forEach((row, i) => {
    for (const f of fields) if (f in flats[i]!) row.config[f] = flats[i]![f]!;
  });
  return { fields, rows, problems };
}
