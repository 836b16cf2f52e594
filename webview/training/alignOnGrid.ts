// Putting the downsampled series of a chart on one x axis for uPlot. alignParts: the sorted union
// of their x (exact; its length grows with the number of series). alignOnGrid: the x-range cut into
// `slots` columns (4 per pixel), each point in the column of its x (a later point of the same series
// in an occupied column moves to the next free one), so the data has at most slots + 2 columns
// whatever the number of series, at an x error under a quarter pixel. Pure: no DOM.
import type uPlot from 'uplot';
import type { Downsampled } from './downsample';

export interface Part extends Downsampled {
  x: Float64Array;
}

/** The sorted union of the parts' x values, and each part's y at those x (null elsewhere). */
export function alignParts(parts: Part[]): uPlot.AlignedData {
  let total = 0;
  for (const p of parts) total += p.n;
  const all = new Float64Array(total);
  let k = 0;
  for (const p of parts) {
    all.set(p.x.subarray(0, p.n), k);
    k += p.n;
  }
  all.sort();
  let m = 0;
  for (let i = 0; i < total; i++) if (i === 0 || all[i] !== all[m - 1]) all[m++] = all[i]!;
  const xs = all.slice(0, m);
  const out: [Float64Array, ...(number | null)[][]] = [xs];
  for (const p of parts) {
    const ys: (number | null)[] = new Array<number | null>(m).fill(null);
    let j = 0;
    for (let i = 0; i < p.n; i++) {
      const x = p.x[i]!;
      while (xs[j]! < x) j++;
      ys[j] = p.y[i]!;
    }
    out.push(ys);
  }
  return out;
}

/**
 * The parts on a grid of `slots` columns over [xMin, xMax] (xMax > xMin), plus one column each side
 * for the points kept outside the range (the lines run to the edges); unused columns are dropped.
 */
export function alignOnGrid(parts: Part[], xMin: number, xMax: number, slots: number): uPlot.AlignedData {
  const S = Math.max(1, Math.floor(slots));
  const w = (xMax - xMin) / S;
  // Column c in [0, S + 2): 0 = left of the range, 1..S = the grid, S + 1 = right of it.
  const cols = S + 2;
  const used = new Uint8Array(cols);
  const slotOf: Int32Array[] = [];
  let leftX = Infinity;
  let rightX = -Infinity;
  for (const p of parts) {
    const at = new Int32Array(p.n);
    let last = -1;
    for (let i = 0; i < p.n; i++) {
      const x = p.x[i]!;
      let c: number;
      if (x < xMin) {
        c = 0;
        leftX = Math.min(leftX, x);
      } else if (x > xMax) {
        c = cols - 1;
        rightX = Math.max(rightX, x);
      } else c = 1 + Math.min(S - 1, Math.floor((x - xMin) / w));
      if (c <= last && last + 1 < cols - 1 && c > 0) c = last + 1; // keep the series' order
      at[i] = c;
      used[c] = 1;
      last = c;
    }
    slotOf.push(at);
  }
  const index = new Int32Array(cols).fill(-1);
  let m = 0;
  for (let c = 0; c < cols; c++) if (used[c]) index[c] = m++;
  const xs = new Float64Array(m);
  for (let c = 0; c < cols; c++) {
    const j = index[c]!;
    if (j < 0) continue;
    xs[j] = c === 0 ? leftX : c === cols - 1 ? rightX : xMin + (c - 0.5) * w;
  }
  const out: [Float64Array, ...(number | undefined)[][]] = [xs];
  parts.forEach((p, k) => {
    // A holey array, not one filled with null: V8 then keeps the numbers unboxed (a null-filled
    // array boxes every number stored in it, ~1,500 allocations per series per redraw). Its holes
    // read as undefined, which uPlot, like null, draws as no point.
    const ys: (number | undefined)[] = new Array<number | undefined>(m);
    const at = slotOf[k]!;
    for (let i = 0; i < p.n; i++) ys[index[at[i]!]!] = p.y[i]!;
    out.push(ys);
  });
  return out;
}
