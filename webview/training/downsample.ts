// Min/max-per-pixel downsampling: the x-range is cut into `buckets` equal intervals (one per
// pixel column) and each interval keeps the points holding its minimum and its maximum y, in
// their original order, so every spike survives and a million points draw as ~2 per pixel.
// With a MinMaxIndex of the y column each bucket costs ~one step per 64 rows instead of one per row.
// Pure: no DOM.
import { noExtremes, resetExtremes, scanExtremes, type Extremes, type MinMaxIndex } from './minMaxIndex';

export interface Downsampled {
  x: Float64Array;
  y: Float64Array;
  /** Points used in x and y. */
  n: number;
}

/** First index i in [lo, hi) with xs[i] >= v (hi if none); xs ascending. */
export function lowerBound(xs: Float64Array, v: number, lo = 0, hi = xs.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * First index i in [lo, hi) with xs[i] >= v, searched outward from `guess`: for the next bucket
 * edge the answer is near, so this touches a few neighbouring cache lines where a binary search
 * over a million rows would miss the cache twenty times.
 */
export function seekFrom(xs: Float64Array, v: number, lo: number, hi: number, guess: number): number {
  let g = Math.min(Math.max(guess | 0, lo), hi);
  if (g < hi && xs[g]! < v) {
    // The answer is above g: gallop up.
    let step = 1;
    let a = g + 1;
    while (a + step < hi && xs[a + step - 1]! < v) {
      a += step;
      step *= 2;
    }
    return lowerBound(xs, v, a, Math.min(hi, a + step));
  }
  // The answer is at or below g: gallop down.
  let step = 1;
  while (g - step > lo && xs[g - step]! >= v) {
    g -= step;
    step *= 2;
  }
  return lowerBound(xs, v, Math.max(lo, g - step), g);
}

/**
 * Downsamples points (xs[i], ys[i]), i < length, xs ascending, to the x-range [xMin, xMax].
 * Non-finite y are skipped. The nearest point on each side outside the range is kept too, so
 * lines run to the plot's edges. When the range holds at most 2 points per bucket, all are kept.
 */
export function minMaxDownsample(
  xs: Float64Array, ys: Float64Array, length: number,
  xMin: number, xMax: number, buckets: number, out?: Downsampled, index?: MinMaxIndex,
): Downsampled {
  const i0 = lowerBound(xs, xMin, 0, length);
  let i1 = lowerBound(xs, xMax, i0, length);
  while (i1 < length && xs[i1]! <= xMax) i1++; // include points equal to xMax
  const nb = Math.max(1, Math.floor(buckets));
  const direct = i1 - i0 <= 2 * nb || !(xMax > xMin);
  const cap = (direct ? i1 - i0 : 2 * nb) + 2;
  const res = out && out.x.length >= cap ? out : { x: new Float64Array(cap), y: new Float64Array(cap), n: 0 };
  let n = 0;
  const ox = res.x;
  const oy = res.y;
  // The last finite point before the range.
  for (let i = i0 - 1; i >= 0; i--) {
    if (Number.isFinite(ys[i]!)) {
      ox[n] = xs[i]!;
      oy[n++] = ys[i]!;
      break;
    }
  }
  if (direct) {
    for (let i = i0; i < i1; i++) {
      if (Number.isFinite(ys[i]!)) {
        ox[n] = xs[i]!;
        oy[n++] = ys[i]!;
      }
    }
  } else {
    const width = (xMax - xMin) / nb;
    const ext: Extremes = noExtremes();
    let start = i0;
    for (let b = 0; b < nb && start < i1; b++) {
      const edge = xMin + (b + 1) * width;
      // Rows are usually evenly spread in x: guess the edge's row by proportion, then seek.
      const guess = start + Math.round(((i1 - i0) * (edge - xs[start]!)) / (xMax - xMin));
      const end = b === nb - 1 ? i1 : seekFrom(xs, edge, start, i1, guess);
      if (index) index.extremes(ys, start, end, ext);
      else scanExtremes(ys, start, end, resetExtremes(ext));
      const { iMin, iMax } = ext;
      if (iMin >= 0) {
        const first = iMin < iMax ? iMin : iMax;
        const second = iMin < iMax ? iMax : iMin;
        ox[n] = xs[first]!;
        oy[n++] = ys[first]!;
        if (second !== first) {
          ox[n] = xs[second]!;
          oy[n++] = ys[second]!;
        }
      }
      start = end;
    }
  }
  // The first finite point after the range.
  for (let i = i1; i < length; i++) {
    if (Number.isFinite(ys[i]!)) {
      ox[n] = xs[i]!;
      oy[n++] = ys[i]!;
      break;
    }
  }
  res.n = n;
  return res;
}
