// Axis tick labels that read: every label of an axis with the same number of decimals, as many as
// the tick spacing needs (0, 25, 50, 75, 100, never 75.000 beside 100; 7.425, 7.430 rather than
// 7.43 three times), percentages for accuracies, powers of ten on log axes. Pure: no DOM.

export type TickKind = 'number' | 'percent' | 'log';

/** Decimals needed to tell ticks `incr` apart (0 for whole steps). */
export function decimalsFor(incr: number): number {
  if (!(incr > 0) || !Number.isFinite(incr)) return 0;
  const d = Math.ceil(-Math.log10(incr) - 1e-9);
  // 0.25 needs 2, 0.5 needs 1: check the rounded increment is exact at d decimals.
  for (let k = Math.max(0, d); k < 12; k++) if (Math.abs(Math.round(incr * 10 ** k) - incr * 10 ** k) < 1e-6) return k;
  return Math.max(0, d);
}

function compact(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) {
    const e = Math.floor(Math.log10(a) + 1e-9);
    const m = v / 10 ** e;
    return `${Math.abs(m - Math.round(m)) < 1e-6 ? Math.round(m) : +m.toFixed(1)}e${e}`;
  }
  return String(+v.toPrecision(3));
}

// One Intl.NumberFormat per decimals: toLocaleString builds a formatter on every call, and the
// axes are labelled on every redraw of every chart.
const formats = new Map<number, Intl.NumberFormat>();

/** `v` in en-US digit grouping with exactly `decimals` decimals (what v.toLocaleString('en-US', ...) gives). */
export function groupedNumber(v: number, decimals = 0): string {
  let f = formats.get(decimals);
  if (!f) formats.set(decimals, (f = new Intl.NumberFormat('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals })));
  return f.format(v);
}

/** The labels of ticks `splits` spaced `incr` apart. */
export function tickLabels(splits: number[], incr: number, kind: TickKind): string[] {
  if (kind === 'log') return splits.map((v) => (v == null ? '' : compact(v)));
  if (kind === 'percent') {
    const d = decimalsFor(incr * 100);
    return splits.map((v) => (v == null ? '' : `${(v * 100).toFixed(d)}%`));
  }
  const d = decimalsFor(incr);
  const big = splits.some((v) => Math.abs(v) >= 1e5) && d === 0;
  return splits.map((v) => (v == null ? '' : big ? compact(v) : groupedNumber(v, d)));
}

/** A value in the hover readout: 4 significant digits, exponent form when tiny or huge. */
export function readoutValue(v: number, kind: TickKind): string {
  if (!Number.isFinite(v)) return '–';
  if (kind === 'percent') return `${(100 * v).toFixed(1)}%`;
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2).replace('e+', 'e');
  return String(+v.toPrecision(4));
}
