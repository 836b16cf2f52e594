// Group by arm: the runs of one sweep arm (its seeds) as one line, the mean over the seeds, with a
// band of ± one sample standard deviation. The x-range is cut into `buckets` equal intervals; in
// each, every run contributes the mean of its points there, and the interval's mean and sd are
// taken over the runs that have a point in it (sd 0 with one run). Pure: no DOM.
import { lowerBound } from './downsample';

export interface RunSeriesView {
  x: Float64Array;
  y: Float64Array;
  /** Rows used. */
  n: number;
}

export interface ArmBand {
  /** The interval centres that hold at least one run's point. */
  x: Float64Array;
  mean: Float64Array;
  lo: Float64Array;
  hi: Float64Array;
  /** Runs with a point in each interval. */
  count: Uint16Array;
  n: number;
}

export function armBand(runs: RunSeriesView[], xMin: number, xMax: number, buckets: number): ArmBand {
  const b = Math.max(1, Math.floor(buckets));
  const width = xMax > xMin ? (xMax - xMin) / b : 1;
  const sum = new Float64Array(b);
  const sumSq = new Float64Array(b);
  const count = new Uint16Array(b);
  const runSum = new Float64Array(b);
  const runN = new Uint32Array(b);
  for (const r of runs) {
    runSum.fill(0);
    runN.fill(0);
    const start = lowerBound(r.x, xMin, 0, r.n);
    for (let i = start; i < r.n; i++) {
      const x = r.x[i]!;
      if (x > xMax) break;
      const y = r.y[i]!;
      if (!Number.isFinite(y)) continue;
      const k = Math.min(b - 1, Math.floor((x - xMin) / width));
      runSum[k]! += y;
      runN[k]!++;
    }
    for (let k = 0; k < b; k++) {
      if (runN[k] === 0) continue;
      const m = runSum[k]! / runN[k]!;
      sum[k]! += m;
      sumSq[k]! += m * m;
      count[k]!++;
    }
  }
  const out: ArmBand = { x: new Float64Array(b), mean: new Float64Array(b), lo: new Float64Array(b), hi: new Float64Array(b), count: new Uint16Array(b), n: 0 };
  for (let k = 0; k < b; k++) {
    const c = count[k]!;
    if (c === 0) continue;
    const mean = sum[k]! / c;
    const sd = c > 1 ? Math.sqrt(Math.max(0, (sumSq[k]! - c * mean * mean) / (c - 1))) : 0;
    const j = out.n++;
    out.x[j] = xMin + (k + 0.5) * width;
    out.mean[j] = mean;
    out.lo[j] = mean - sd;
    out.hi[j] = mean + sd;
    out.count[j] = c;
  }
  return out;
}
