// Min/max-per-pixel downsampling keeps, for every pixel bucket, the point with the bucket's
// minimum and the point with its maximum (checked against buckets computed here independently).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { minMaxDownsample } from '../../webview/training/downsample';
import { MinMaxIndex } from '../../webview/training/minMaxIndex';

/** A deterministic noisy series with spikes. */
function series(n: number): { xs: Float64Array; ys: Float64Array } {
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    xs[i] = i;
    ys[i] = Math.sin(i / 300) + (s / 2147483648 - 0.5) + (i % 997 === 0 ? 25 : 0) - (i % 1231 === 0 ? 30 : 0);
  }
  return { xs, ys };
}

test('every bucket keeps its min and its max, in order, and nothing else is added', () => {
  const n = 100_000;
  const buckets = 640;
  const { xs, ys } = series(n);
  const xMin = 0;
  const xMax = n - 1;
  const d = minMaxDownsample(xs, ys, n, xMin, xMax, buckets);
  assert.ok(d.n <= 2 * buckets, `${d.n} points for ${buckets} buckets`);
  const got = new Set<string>();
  for (let i = 0; i < d.n; i++) got.add(`${d.x[i]}:${d.y[i]}`);
  for (let i = 1; i < d.n; i++) assert.ok(d.x[i]! > d.x[i - 1]!, 'x ascending');
  // Buckets computed here: bucket b holds x in [b*w, (b+1)*w), w = (xMax - xMin) / buckets.
  const w = (xMax - xMin) / buckets;
  const lo = new Array<number>(buckets).fill(-1);
  const hi = new Array<number>(buckets).fill(-1);
  for (let i = 0; i < n; i++) {
    const b = Math.min(buckets - 1, Math.floor((xs[i]! - xMin) / w));
    if (lo[b] === -1 || ys[i]! < ys[lo[b]!]!) lo[b] = i;
    if (hi[b] === -1 || ys[i]! > ys[hi[b]!]!) hi[b] = i;
  }
  for (let b = 0; b < buckets; b++) {
    assert.ok(got.has(`${xs[lo[b]!]}:${ys[lo[b]!]}`), `bucket ${b} lost its minimum`);
    assert.ok(got.has(`${xs[hi[b]!]}:${ys[hi[b]!]}`), `bucket ${b} lost its maximum`);
  }
  // Every kept point is a bucket's min or max.
  const extremes = new Set<number>([...lo, ...hi]);
  for (let i = 0; i < d.n; i++) assert.ok(extremes.has(d.x[i]!), `x=${d.x[i]} is neither a min nor a max`);
  // The spikes survive.
  assert.ok(Array.from(d.y.subarray(0, d.n)).some((v) => v > 20));
  assert.ok(Array.from(d.y.subarray(0, d.n)).some((v) => v < -25));
});

test('a zoomed range keeps the nearest point outside on each side, and its buckets\' extremes', () => {
  const { xs, ys } = series(10_000);
  const d = minMaxDownsample(xs, ys, xs.length, 2000.5, 2999.5, 50);
  assert.equal(d.x[0], 2000); // the last point before the range
  assert.equal(d.x[d.n - 1], 3000); // the first point after it
  for (let i = 1; i < d.n - 1; i++) assert.ok(d.x[i]! > 2000.5 && d.x[i]! < 2999.5);
  const inside = Array.from({ length: 999 }, (_, i) => 2001 + i);
  const max = inside.reduce((a, i) => (ys[i]! > ys[a]! ? i : a), inside[0]!);
  const min = inside.reduce((a, i) => (ys[i]! < ys[a]! ? i : a), inside[0]!);
  const kept = new Set(Array.from(d.x.subarray(0, d.n)));
  assert.ok(kept.has(max) && kept.has(min));
});

test('few points: all kept; non-finite values skipped; an empty series gives nothing', () => {
  const xs = Float64Array.from([0, 1, 2, 3, 4]);
  const ys = Float64Array.from([1, NaN, 3, 2, 5]);
  const d = minMaxDownsample(xs, ys, 5, 0, 4, 100);
  assert.deepEqual(Array.from(d.x.subarray(0, d.n)), [0, 2, 3, 4]);
  assert.deepEqual(Array.from(d.y.subarray(0, d.n)), [1, 3, 2, 5]);
  assert.equal(minMaxDownsample(new Float64Array(0), new Float64Array(0), 0, 0, 1, 10).n, 0);
});

test('with a min/max index (per 64-row blocks) the result is the same, also after appends and with gaps', () => {
  const n = 50_000;
  const { xs, ys } = series(n);
  for (let i = 0; i < n; i += 7) if (i % 5 === 0) ys[i] = NaN;
  const index = new MinMaxIndex();
  for (const length of [1000, 1001, 20_000, n]) {
    index.update(ys, length, 1);
    for (const [lo, hi, buckets] of [[0, length - 1, 300], [123.5, 4567.25, 97], [length / 3, length / 2, 640], [10, 20, 5]] as const) {
      const a = minMaxDownsample(xs, ys, length, lo, hi, buckets);
      const b = minMaxDownsample(xs, ys, length, lo, hi, buckets, undefined, index);
      assert.deepEqual(Array.from(b.x.subarray(0, b.n)), Array.from(a.x.subarray(0, a.n)), `x, length ${length}, [${lo}, ${hi}]`);
      assert.deepEqual(Array.from(b.y.subarray(0, b.n)), Array.from(a.y.subarray(0, a.n)));
    }
  }
});
