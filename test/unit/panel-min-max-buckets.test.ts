// MinMaxBuckets (the panel's incremental min/max downsampling) against buckets computed here by
// brute force over every row: the same points whether the series arrived at once or a row at a
// time, rewrites and zooms refill, spikes survive, and the grid width is the largest 2^(j/8)
// not above range / pixels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gridWidth, MinMaxBuckets } from '../../webview/training/minMaxBuckets';
import { MinMaxIndex } from '../../webview/training/minMaxIndex';

/** A deterministic noisy series with spikes and gaps (NaN every 7th row), x = 10 + 2.5 i. */
function series(n: number, seed = 777): { xs: Float64Array; ys: Float64Array } {
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    xs[i] = 10 + 2.5 * i;
    ys[i] = i % 7 === 3 ? NaN : Math.cos(i / 90) + (s / 2147483648 - 0.5) + (i % 613 === 0 ? 40 : 0) - (i % 829 === 0 ? 35 : 0);
  }
  return { xs, ys };
}

/**
 * The expected points, by brute force: a row with origin <= x <= xMax is in bucket b when
 * origin + b·w <= x < origin + (b+1)·w; each bucket gives its first minimum and first maximum
 * (finite values only) in row order; plus the last finite row before the range and the first after.
 */
function expected(xs: Float64Array, ys: Float64Array, length: number, origin: number, xMax: number, w: number): [number, number][] {
  const lo = new Map<number, number>();
  const hi = new Map<number, number>();
  let before = -1;
  let after = -1;
  for (let i = 0; i < length; i++) {
    const x = xs[i]!;
    const y = ys[i]!;
    if (!Number.isFinite(y)) continue;
    if (x < origin) {
      before = i;
      continue;
    }
    if (x > xMax) {
      if (after < 0) after = i;
      continue;
    }
    let b = 0;
    while (x >= origin + (b + 1) * w) b++;
    if (!lo.has(b) || y < ys[lo.get(b)!]!) lo.set(b, i);
    if (!hi.has(b) || y > ys[hi.get(b)!]!) hi.set(b, i);
  }
  const rows: number[] = [];
  if (before >= 0) rows.push(before);
  for (const b of [...lo.keys()].sort((a, c) => a - c)) {
    const a = lo.get(b)!;
    const c = hi.get(b)!;
    rows.push(Math.min(a, c));
    if (a !== c) rows.push(Math.max(a, c));
  }
  if (after >= 0) rows.push(after);
  return rows.map((i) => [xs[i]!, ys[i]!]);
}

const pointsOf = (d: { x: Float64Array; y: Float64Array; n: number }): [number, number][] =>
  Array.from({ length: d.n }, (_, i) => [d.x[i]!, d.y[i]!]);

test('gridWidth: the largest power of 2^(1/8) not above range / pixels', () => {
  for (const [range, px] of [[1_000_000, 1400], [99_999, 694], [3, 700], [1.7e9, 1234], [2 ** 20, 2 ** 10]] as const) {
    const w = gridWidth(range, px);
    const j = 8 * Math.log2(w);
    assert.ok(Math.abs(j - Math.round(j)) < 1e-9, `${w} is 2^(${j}/8)`);
    assert.ok(w <= range / px, `${w} <= ${range / px}`);
    assert.ok(w * 2 ** (1 / 8) > range / px * (1 - 1e-12), `${w} is the largest such`);
  }
  // An exact power: 2^20 / 2^10 = 2^10 = 2^(80/8) itself.
  assert.equal(gridWidth(2 ** 20, 2 ** 10), 1024);
});

test('a whole series: each bucket its min and max in row order, spikes kept, exact count', () => {
  const n = 50_000;
  const { xs, ys } = series(n);
  const index = new MinMaxIndex();
  index.update(ys, n, 0);
  const origin = xs[0]!;
  const xMax = xs[n - 1]!;
  const w = gridWidth(xMax - origin, 640);
  const d = new MinMaxBuckets().downsample(xs, ys, n, origin, xMax, w, index);
  const want = expected(xs, ys, n, origin, xMax, w);
  assert.deepEqual(pointsOf(d), want);
  // Every bucket here holds many finite rows with distinct min and max: exactly 2 points each.
  const buckets = Math.floor((xMax - origin) / w) + 1;
  assert.equal(d.n, 2 * buckets);
  assert.ok(buckets >= 640 && buckets < 640 * 2 ** (1 / 8) + 1, `${buckets} buckets for 640 px`);
  // The spikes: every +40 row and every -35 row is drawn.
  const drawn = new Set(pointsOf(d).map(([x]) => x));
  for (let i = 0; i < n; i += 613) if (Number.isFinite(ys[i]!)) assert.ok(drawn.has(xs[i]!), `spike at row ${i}`);
  for (let i = 0; i < n; i += 829) if (Number.isFinite(ys[i]!)) assert.ok(drawn.has(xs[i]!), `dip at row ${i}`);
});

test('rows appended one redraw at a time give the points of a fresh downsampling, every time', () => {
  const n = 6_000;
  const { xs, ys } = series(n, 4242);
  const index = new MinMaxIndex();
  const live = new MinMaxBuckets();
  const origin = xs[0]!;
  // The x-range grows with the run, as in the unzoomed panel; the grid width steps now and then.
  for (let length = 2; length <= n; length += length < 200 ? 1 : 37) {
    index.update(ys, length, 0);
    const xMax = xs[length - 1]!;
    const w = gridWidth(xMax - origin, 100);
    const got = pointsOf(live.downsample(xs, ys, length, origin, xMax, w, index));
    assert.deepEqual(got, expected(xs, ys, length, origin, xMax, w), `after ${length} rows`);
  }
});

test('rewritten rows (a new index version) and a narrower zoom refill every bucket', () => {
  const n = 4_000;
  const { xs, ys } = series(n, 99);
  const index = new MinMaxIndex();
  index.update(ys, n, 0);
  const b = new MinMaxBuckets();
  const w = gridWidth(xs[n - 1]! - xs[0]!, 50);
  b.downsample(xs, ys, n, xs[0]!, xs[n - 1]!, w, index);
  // A resume rewrote the first half: a spike that was not there before must appear.
  const ys2 = ys.slice();
  ys2[100] = 1000;
  index.update(ys2, n, 1);
  const got = pointsOf(b.downsample(xs, ys2, n, xs[0]!, xs[n - 1]!, w, index));
  assert.deepEqual(got, expected(xs, ys2, n, xs[0]!, xs[n - 1]!, w));
  assert.ok(got.some(([x, y]) => x === xs[100] && y === 1000));
  // Zoomed in to [x(1000), x(2000)] (same width for the test), then to a narrower end.
  const z = pointsOf(b.downsample(xs, ys2, n, xs[1000]!, xs[2000]!, 2.5 * 7, index));
  assert.deepEqual(z, expected(xs, ys2, n, xs[1000]!, xs[2000]!, 2.5 * 7));
  const z2 = pointsOf(b.downsample(xs, ys2, n, xs[1000]!, xs[1500]!, 2.5 * 7, index));
  assert.deepEqual(z2, expected(xs, ys2, n, xs[1000]!, xs[1500]!, 2.5 * 7));
  // The nearest finite points outside the zoom are kept, so the line runs to the edges.
  assert.ok(z2[0]![0] < xs[1000]! && z2[z2.length - 1]![0] > xs[1500]!);
});

test('buckets without finite values are left out; an all-NaN series draws nothing', () => {
  const xs = Float64Array.from({ length: 400 }, (_, i) => i);
  const ys = Float64Array.from({ length: 400 }, (_, i) => (i >= 100 && i < 300 ? NaN : i % 10));
  const index = new MinMaxIndex();
  index.update(ys, 400, 0);
  const d = new MinMaxBuckets().downsample(xs, ys, 400, 0, 399, 10, index);
  assert.deepEqual(pointsOf(d), expected(xs, ys, 400, 0, 399, 10));
  // 20 buckets of 10 rows with values 0..9: min (the 0) and max (the 9); 20 of them are all NaN.
  assert.equal(d.n, 2 * 20);
  const nan = new Float64Array(400).fill(NaN);
  const ix2 = new MinMaxIndex();
  ix2.update(nan, 400, 0);
  assert.equal(new MinMaxBuckets().downsample(xs, nan, 400, 0, 399, 10, ix2).n, 0);
});
