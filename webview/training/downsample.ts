// Min/max-per-pixel downsampling: the x-range is cut into `buckets` equal intervals (one per
// pixel column) and each interval keeps the points holding its minimum and its maximum y, in
// their original order, so every spike survives and a million points draw as ~2 per pixel.
// Pure: no DOM.

export interface Downsampled {
  x: Float64Array;
  y: Float64Array;
  /** Points used in x and y. */
  n: number;
}

/** First index i in [lo, hi) with xs[i] >= v (hi if none); xs ascending. */
export function lowerBound(xs: ArrayLike<number>, v: number, lo = 0, hi = xs.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Downsamples points (xs[i], ys[i]), i < length, xs ascending, to the x-range [xMin, xMax].
 * Non-finite y are skipped. The nearest point on each side outside the range is kept too, so
 * lines run to the plot's edges. When the range holds at most 2 points per bucket, all are kept.
 */
export function minMaxDownsample(
  xs: ArrayLike<number>, ys: ArrayLike<number>, length: number,
  xMin: number, xMax: number, buckets: number, out?: Downsampled,
): Downsampled {
  const i0 = lowerBound(xs, xMin, 0, length);
  let i1 = lowerBound(xs, xMax, i0, length);
  while (i1 < length && xs[i1]! <= xMax) i1++; // include points equal to xMax
  const nb = Math.max(1, Math.floor(buckets));
  const direct = i1 - i0 <= 2 * nb || !(xMax > xMin);
  const cap = (direct ? i1 - i0 : 2 * nb) + 2;
  const res = out && out.x.length >= cap ? out : { x: new Float64Array(cap), y: new Float64Array(cap), n: 0 };
  let n = 0;
  const push = (i: number) => {
    res.x[n] = xs[i]!;
    res.y[n] = ys[i]!;
    n++;
  };
  // The last finite point before the range.
  for (let i = i0 - 1; i >= 0; i--) {
    if (Number.isFinite(ys[i]!)) {
      push(i);
      break;
    }
  }
  if (direct) {
    for (let i = i0; i < i1; i++) if (Number.isFinite(ys[i]!)) push(i);
  } else {
    const width = (xMax - xMin) / nb;
    let start = i0;
    for (let b = 0; b < nb && start < i1; b++) {
      const end = b === nb - 1 ? i1 : lowerBound(xs, xMin + (b + 1) * width, start, i1);
      let iMin = -1;
      let iMax = -1;
      let vMin = Infinity;
      let vMax = -Infinity;
      for (let i = start; i < end; i++) {
        const v = ys[i]!;
        if (v < vMin) {
          vMin = v;
          iMin = i;
        }
        if (v > vMax) {
          vMax = v;
          iMax = i;
        }
      }
      if (iMin >= 0) {
        if (iMin === iMax) push(iMin);
        else if (iMin < iMax) {
          push(iMin);
          push(iMax);
        } else {
          push(iMax);
          push(iMin);
        }
      }
      start = end;
    }
  }
  // The first finite point after the range.
  for (let i = i1; i < length; i++) {
    if (Number.isFinite(ys[i]!)) {
      push(i);
      break;
    }
  }
  res.n = n;
  return res;
}
