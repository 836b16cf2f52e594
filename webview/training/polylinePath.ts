// A uPlot path builder for lines that were already min/max downsampled to the pixel width, drawn
// straight from their downsampled points (not from uPlot's aligned data: walking a column of the
// shared x grid per series, mostly holes, was most of the redraw with 3 runs × 18 series), with
// the scale maths inlined, and a vertex on the pixel of the one before it left out. Not for band
// edges (they need uPlot's band clips); the arm bands keep uPlot's builder.
import type uPlot from 'uplot';

/** The points to draw: (x[i], y[i]) for i < n, x ascending. */
export interface Points {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  n: number;
}

/** Data to canvas pixels: px = round(left + (x − xMin)·kx), py = round(top + (yTop − f(y))·ky), f = log10 on a log scale. */
export interface PixelMap {
  left: number;
  xMin: number;
  kx: number;
  top: number;
  yTop: number;
  ky: number;
  log: boolean;
}

export interface PathSink {
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
}

/**
 * Traces `pts` into `sink` in whole canvas pixels (as uPlot's pxAlign does for its own lines),
 * leaving out a vertex on the pixel of the vertex before it (a segment of length zero draws
 * nothing); points with a non-finite pixel (NaN y, or y <= 0 on a log scale) are skipped and the
 * line goes on from the next (uPlot's spanGaps). Returns the number of vertices given to the sink.
 */
export function tracePolyline(pts: Points, map: PixelMap, sink: PathSink): number {
  const xs = pts.x;
  const ys = pts.y;
  const n = pts.n;
  const left = map.left;
  const xMin = map.xMin;
  const kx = map.kx;
  const top = map.top;
  const yTop = map.yTop;
  const ky = map.ky;
  const log = map.log;
  let vertices = 0;
  let lastX = NaN;
  let lastY = NaN;
  for (let i = 0; i < n; i++) {
    const y = log ? Math.log10(ys[i]!) : ys[i]!;
    const px = Math.round(left + (xs[i]! - xMin) * kx);
    const py = Math.round(top + (yTop - y) * ky);
    // NaN or ±Infinity in either (a gap; y <= 0 on a log scale) gives NaN here: no vertex.
    if (px - px + (py - py) !== 0 || (px === lastX && py === lastY)) continue;
    if (vertices === 0) sink.moveTo(px, py);
    else sink.lineTo(px, py);
    lastX = px;
    lastY = py;
    vertices++;
  }
  return vertices;
}

/** uPlot's pixel mapping of series `seriesIdx` (x scale 'x', its own y scale; linear or log 10). */
export function pixelMap(u: uPlot, seriesIdx: number): PixelMap {
  const sx = u.scales['x']!;
  const sy = u.scales[u.series[seriesIdx]!.scale ?? 'y']!;
  const { left, top, width, height } = u.bbox;
  const log = sy.distr === 3;
  const xMin = sx.min!;
  const yTop = log ? Math.log10(sy.max!) : sy.max!;
  return { left, xMin, kx: width / (sx.max! - xMin), top, yTop, ky: height / (yTop - (log ? Math.log10(sy.min!) : sy.min!)), log };
}

/** The uPlot paths of one line series drawn from `pts` (its downsampled points; undefined: none). */
export function polylinePath(u: uPlot, seriesIdx: number, pts: Points | undefined): uPlot.Series.Paths {
  const stroke = new Path2D();
  const sy = u.scales[u.series[seriesIdx]!.scale ?? 'y'];
  if (pts && pts.n > 0 && sy && sy.min != null && sy.max != null && u.scales['x']!.min != null) tracePolyline(pts, pixelMap(u, seriesIdx), stroke);
  return { stroke, fill: null, clip: null, band: null, flags: 0 };
}

/**
 * Per y scale, the lowest and highest y of its lines' points inside [xMin, xMax], the data uPlot
 * would range the scale on had it drawn them (it leaves out the points outside the x-range). A
 * line's points are in x order (the downsampling keeps one point beyond each end of the range,
 * so only the first and the last are usually outside). A scale without any point inside (zoomed in between two rows)
 * is ranged on the lines that cross the range: their points either side.
 */
export function lineExtents(lines: Iterable<{ scale: string; points: Points }>, xMin: number, xMax: number): Map<string, [number, number]> {
  const inside = new Map<string, [number, number]>();
  const outside = new Map<string, [number, number]>();
  const widen = (m: Map<string, [number, number]>, key: string, lo: number, hi: number) => {
    if (!(lo <= hi)) return;
    const e = m.get(key);
    m.set(key, e ? [Math.min(e[0], lo), Math.max(e[1], hi)] : [lo, hi]);
  };
  for (const { scale, points: p } of lines) {
    if (p.n === 0) continue;
    const { x, y } = p;
    let i0 = 0;
    while (i0 < p.n && x[i0]! < xMin) i0++;
    let i1 = p.n;
    while (i1 > i0 && x[i1 - 1]! > xMax) i1--;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = i0; i < i1; i++) {
      const v = y[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    widen(inside, scale, lo, hi);
    // A line crossing the range without a point inside it.
    if (i0 === i1 && i0 > 0 && i1 < p.n) widen(outside, scale, Math.min(y[i0 - 1]!, y[i1]!), Math.max(y[i0 - 1]!, y[i1]!));
  }
  for (const [key, e] of outside) if (!inside.has(key)) inside.set(key, e);
  return inside;
}
