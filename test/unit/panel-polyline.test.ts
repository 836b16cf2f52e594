// The panel's line drawing (polylinePath): tracePolyline's vertices against a brute-force
// reference (every point to its rounded pixel, one by one, repeats of the previous pixel and
// non-finite points dropped), hand-computed pixels, spikes surviving downsampling and drawing, and
// lineExtents (the y data uPlot ranges a scale on) against a scan of every point.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MinMaxBuckets, gridWidth } from '../../webview/training/minMaxBuckets';
import { MinMaxIndex } from '../../webview/training/minMaxIndex';
import { lineExtents, tracePolyline, type PixelMap, type Points } from '../../webview/training/polylinePath';

/** A sink that records what it is given. */
function recorder(): { ops: [string, number, number][]; moveTo(x: number, y: number): void; lineTo(x: number, y: number): void } {
  const ops: [string, number, number][] = [];
  return { ops, moveTo: (x, y) => ops.push(['M', x, y]), lineTo: (x, y) => ops.push(['L', x, y]) };
}

/** The reference: each point's pixel, straight from the formula, skipping non-finite and repeated pixels. */
function reference(p: Points, m: PixelMap): [string, number, number][] {
  const out: [string, number, number][] = [];
  for (let i = 0; i < p.n; i++) {
    const fy = m.log ? Math.log10(p.y[i]!) : p.y[i]!;
    const px = Math.round(m.left + (p.x[i]! - m.xMin) * m.kx);
    const py = Math.round(m.top + (m.yTop - fy) * m.ky);
    if (!Number.isFinite(px) || !Number.isFinite(py)) continue;
    const prev = out[out.length - 1];
    if (prev && prev[1] === px && prev[2] === py) continue;
    out.push([out.length ? 'L' : 'M', px, py]);
  }
  return out;
}

function noisy(n: number, seed: number, nanEvery = 0): Points {
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    x[i] = 3 + 0.37 * i;
    y[i] = nanEvery && i % nanEvery === 2 ? NaN : Math.sin(i / 50) + (s / 2147483648 - 0.5) * 0.3;
  }
  return { x, y, n };
}

test('hand-computed pixels: rounding, a repeated pixel left out, NaN skipped, the line going on after it', () => {
  // px = round(10 + (x - 0) * 2), py = round(5 + (4 - y) * 10)
  const m: PixelMap = { left: 10, xMin: 0, kx: 2, top: 5, yTop: 4, ky: 10, log: false };
  const p: Points = { x: [0, 0.2, 1, 2, 3, 4.26], y: [4, 3.98, NaN, 1, 1.04, 0], n: 6 };
  const r = recorder();
  const v = tracePolyline(p, m, r);
  // (0, 4) -> (10, 5); (0.2, 3.98) -> (10.4, 5.2) -> (10, 5): the same pixel, left out; NaN skipped;
  // (2, 1) -> (14, 35); (3, 1.04) -> (16, 34.6) -> (16, 35); (4.26, 0) -> (18.52, 45) -> (19, 45).
  assert.deepEqual(r.ops, [['M', 10, 5], ['L', 14, 35], ['L', 16, 35], ['L', 19, 45]]);
  assert.equal(v, 4);
});

test('a log scale: pixels of log10(y); zero and negative values are skipped', () => {
  // yTop = log10(100) = 2, ky = 20 per decade: y = 10 -> py = 20, y = 1 -> py = 40, y = 0.1 -> 60.
  const m: PixelMap = { left: 0, xMin: 0, kx: 1, top: 0, yTop: 2, ky: 20, log: true };
  const r = recorder();
  tracePolyline({ x: [0, 1, 2, 3, 4], y: [10, 0, 1, -5, 0.1], n: 5 }, m, r);
  assert.deepEqual(r.ops, [['M', 0, 20], ['L', 2, 40], ['L', 4, 60]]);
});

test('many points per pixel, gaps, a log scale: the same vertices as the point-by-point reference', () => {
  for (const [n, kx, nanEvery] of [[5000, 0.05, 0], [5000, 0.2, 7], [300, 3.1, 5], [1, 1, 0], [0, 1, 0]] as const) {
    const p = noisy(n, 17 + n, nanEvery);
    for (const log of [false, true]) {
      const q: Points = log ? { x: p.x, y: Float64Array.from(p.y as Float64Array, (v) => v + 1.2), n } : p;
      const m: PixelMap = { left: 40.5, xMin: 3, kx, top: 12, yTop: log ? Math.log10(3) : 1.5, ky: log ? 300 : 70, log };
      const r = recorder();
      const v = tracePolyline(q, m, r);
      const want = reference(q, m);
      assert.deepEqual(r.ops, want, `n ${n}, kx ${kx}, log ${log}`);
      assert.equal(v, want.length);
      // No two vertices in a row on one pixel.
      for (let i = 1; i < r.ops.length; i++) assert.ok(r.ops[i]![1] !== r.ops[i - 1]![1] || r.ops[i]![2] !== r.ops[i - 1]![2]);
    }
  }
});

test('a spike in a million rows survives the min/max buckets and is a vertex of the drawn line', () => {
  const n = 1_000_000;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const spikes = [12_345, 500_001, 999_990];
  for (let i = 0; i < n; i++) {
    xs[i] = i + 1;
    ys[i] = 1 + 0.01 * Math.sin(i);
  }
  ys[spikes[0]!] = 9;
  ys[spikes[1]!] = -7;
  ys[spikes[2]!] = 5;
  const index = new MinMaxIndex();
  index.update(ys, n, 0);
  const pixels = 600;
  const d = new MinMaxBuckets().downsample(xs, ys, n, 1, n, gridWidth(n - 1, pixels), index);
  const m: PixelMap = { left: 0, xMin: 1, kx: pixels / (n - 1), top: 0, yTop: 10, ky: 10, log: false };
  const r = recorder();
  tracePolyline({ x: d.x, y: d.y, n: d.n }, m, r);
  for (const i of spikes) {
    const px = Math.round((xs[i]! - 1) * m.kx);
    const py = Math.round((10 - ys[i]!) * m.ky);
    assert.ok(r.ops.some(([, x, y]) => x === px && y === py), `spike at row ${i} drawn at (${px}, ${py})`);
  }
  // ~2 vertices per pixel column at most: the drawing follows the width, not the rows.
  assert.ok(r.ops.length <= 2 * 1.1 * pixels + 4, `${r.ops.length} vertices`);
});

test('lineExtents: per scale, the y range of the points inside the x-range, as a scan of every point gives', () => {
  const lines: { scale: string; points: Points }[] = [];
  for (let k = 0; k < 6; k++) {
    const p = noisy(400, 100 + k);
    // Shift each line's y so the scales' extremes come from different lines; a far point outside on each side.
    const y = Float64Array.from(p.y as Float64Array, (v) => v * (k + 1) + 3 * k);
    const x = Float64Array.from(p.x as Float64Array);
    x[0] = -50;
    y[0] = -1000;
    x[399] = 500;
    y[399] = 1000;
    lines.push({ scale: k % 2 ? 'y2' : 'y', points: { x, y, n: 400 } });
  }
  const [xMin, xMax] = [10, 120];
  const got = lineExtents(lines, xMin, xMax);
  for (const scale of ['y', 'y2']) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const l of lines) {
      if (l.scale !== scale) continue;
      for (let i = 0; i < l.points.n; i++) {
        const x = l.points.x[i]!;
        if (x < xMin || x > xMax) continue;
        lo = Math.min(lo, l.points.y[i]!);
        hi = Math.max(hi, l.points.y[i]!);
      }
    }
    assert.deepEqual(got.get(scale), [lo, hi], scale);
  }
  // Zoomed in between two points: the scale ranges on the points either side of the lines that
  // cross the range (a line that ends before it is not drawn there).
  const between = lineExtents([
    { scale: 'y', points: { x: [1, 5], y: [7, 2], n: 2 } },
    { scale: 'y', points: { x: [0.5], y: [100], n: 1 } },
    { scale: 'y2', points: { x: [4, 9], y: [-3, -4], n: 2 } },
  ], 2, 3);
  assert.deepEqual([...between], [['y', [2, 7]]]);
  // Points on the range's ends are inside; an empty line adds nothing.
  const ends = lineExtents([{ scale: 'y', points: { x: [2, 3], y: [4, -1], n: 2 } }, { scale: 'y2', points: { x: [], y: [], n: 0 } }], 2, 3);
  assert.deepEqual([...ends], [['y', [-1, 4]]]);
});
