// The Runs table's columns, sorting, filtering and the parallel-coordinates scaling. Pure: no DOM.
import type { ConfigValue, RunRow } from '../../protocol/runsTableMessages';

export interface Column {
  id: string;
  label: string;
  /** Numbers sort numerically and get a linear axis in the parallel-coordinates chart. */
  numeric: boolean;
  value(r: RunRow): ConfigValue | undefined;
  format(v: ConfigValue | undefined): string;
}

const pct = (v: ConfigValue | undefined) => (typeof v === 'number' ? `${(100 * v).toFixed(1)} %` : '–');
const plain = (v: ConfigValue | undefined) => (v === undefined || v === null ? '–' : typeof v === 'number' ? compactNumber(v) : String(v));

/** 1234567 -> "1,234,567"; 0.00123 -> "0.00123"; 2.5e13 -> "2.50e13". */
export function compactNumber(v: number): string {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e9 || a < 1e-3)) return v.toExponential(2).replace('e+', 'e');
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return String(+v.toPrecision(4));
}

/** "42.0 s", "3.2 min", "1.50 h". */
export function formatSeconds(v: ConfigValue | undefined): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
  if (v < 120) return `${v.toFixed(1)} s`;
  if (v < 7200) return `${(v / 60).toFixed(1)} min`;
  return `${(v / 3600).toFixed(2)} h`;
}

const num = (id: string, label: string, value: (r: RunRow) => number | undefined, format = plain): Column => ({ id, label, numeric: true, value, format });
const text = (id: string, label: string, value: (r: RunRow) => string | undefined): Column => ({ id, label, numeric: false, value, format: plain });

/** The fixed columns before the differing config fields, and the figures after them. */
export function tableColumns(fields: string[]): Column[] {
  return [
    text('name', 'run', (r) => r.name),
    text('status', 'status', (r) => r.status),
    text('preset', 'preset', (r) => r.preset),
    text('engine', 'engine', (r) => r.engine),
    text('arm', 'arm', (r) => r.arm),
    num('seed', 'seed', (r) => r.seed),
    ...fields.map((f): Column => ({ id: `config.${f}`, label: f, numeric: false, value: (r) => r.config[f], format: plain })),
    num('finalExact', 'final exact (held-out)', (r) => r.finalExact, pct),
    num('bestExact', 'best exact (held-out)', (r) => r.bestExact, pct),
    num('steps', 'steps', (r) => r.steps),
    num('wallSeconds', 'wall time', (r) => r.wallSeconds, formatSeconds),
    num('flops', 'training FLOPs', (r) => r.flops, (v) => (typeof v === 'number' ? `${compactNumber(v / 1e9)} G` : '–')),
    num('samplesPerSecond', 'samples/s', (r) => r.samplesPerSecond, (v) => (typeof v === 'number' ? compactNumber(Math.round(v)) : '–')),
    text('tags', 'tags', (r) => (r.tags.length ? r.tags.join(' ') : undefined)),
  ];
}

/** A config column is numeric when every present value is a number. */
export function withNumericConfig(columns: Column[], rows: RunRow[]): Column[] {
  return columns.map((c) => {
    if (!c.id.startsWith('config.')) return c;
    const vals = rows.map((r) => c.value(r)).filter((v) => v !== undefined && v !== null);
    return vals.length > 0 && vals.every((v) => typeof v === 'number') ? { ...c, numeric: true } : c;
  });
}

/** Rows sorted by `column` (missing values last, whichever the direction; ties by name). */
export function sortRows(rows: RunRow[], column: Column, descending: boolean): RunRow[] {
  const dir = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = column.value(a);
    const y = column.value(b);
    const xm = x === undefined || x === null;
    const ym = y === undefined || y === null;
    if (xm !== ym) return xm ? 1 : -1;
    let c = 0;
    if (!xm && !ym) c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), 'en', { numeric: true });
    return c !== 0 ? dir * c : a.name.localeCompare(b.name, 'en', { numeric: true });
  });
}

/**
 * The rows matching `filter`: space-separated terms, all of which must match. `column=value` /
 * `column>n` / `column<n` test one column (by id or label, case-insensitive); any other term
 * matches a row when some cell's text contains it.
 */
export function filterRows(rows: RunRow[], columns: Column[], filter: string): RunRow[] {
  const terms = filter.trim().split(/\s+/).filter(Boolean);
  if (!terms.length) return rows;
  const byName = new Map<string, Column>();
  for (const c of columns) {
    byName.set(c.id.toLowerCase(), c);
    byName.set(c.label.toLowerCase(), c);
    if (c.id.startsWith('config.')) byName.set(c.id.slice(7).toLowerCase(), c);
  }
  // A config field also by its last name ("lr" for train.lr), where that is not ambiguous.
  const last = new Map<string, Column[]>();
  for (const c of columns) if (c.id.startsWith('config.')) last.set(c.id.split('.').pop()!.toLowerCase(), [...(last.get(c.id.split('.').pop()!.toLowerCase()) ?? []), c]);
  for (const [k, cs] of last) if (cs.length === 1 && !byName.has(k)) byName.set(k, cs[0]!);
  const tests = terms.map((t): ((r: RunRow) => boolean) => {
    const m = /^([^=<>]+)(=|<|>)(.*)$/.exec(t);
    const col = m ? byName.get(m[1]!.toLowerCase()) : undefined;
    if (m && col) {
      const [, , op, want] = m;
      return (r) => {
        const v = col.value(r);
        if (v === undefined || v === null) return false;
        if (op === '=') return String(v).toLowerCase() === want!.toLowerCase() || col.format(v).toLowerCase() === want!.toLowerCase();
        const n = Number(want);
        if (typeof v !== 'number' || !Number.isFinite(n)) return false;
        return op === '<' ? v < n : v > n;
      };
    }
    const needle = t.toLowerCase();
    return (r) => columns.some((c) => c.format(c.value(r)).toLowerCase().includes(needle));
  });
  return rows.filter((r) => tests.every((f) => f(r)));
}

export interface Axis {
  column: Column;
  /** Numeric axes: the value range; categorical: the sorted distinct values. */
  min: number;
  max: number;
  categories?: string[];
  /** Where a row's value sits on the axis, 0 (bottom) .. 1 (top); undefined = no value. */
  position(r: RunRow): number | undefined;
}

/** One axis per column that has a value in at least one row and varies (or is numeric). */
export function parallelAxes(columns: Column[], rows: RunRow[]): Axis[] {
  const out: Axis[] = [];
  for (const c of columns) {
    if (c.id === 'name' || c.id === 'tags') continue;
    const vals = rows.map((r) => c.value(r)).filter((v): v is ConfigValue => v !== undefined && v !== null);
    if (!vals.length) continue;
    if (c.numeric) {
      const nums = vals.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      if (!nums.length) continue;
      const min = Math.min(...nums);
      const max = Math.max(...nums);
      out.push({
        column: c, min, max,
        position: (r) => {
          const v = c.value(r);
          if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
          return max > min ? (v - min) / (max - min) : 0.5;
        },
      });
    } else {
      const categories = [...new Set(vals.map(String))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
      out.push({
        column: c, min: 0, max: categories.length - 1, categories,
        position: (r) => {
          const v = c.value(r);
          if (v === undefined || v === null) return undefined;
          const i = categories.indexOf(String(v));
          return categories.length > 1 ? i / (categories.length - 1) : 0.5;
        },
      });
    }
  }
  return out;
}
