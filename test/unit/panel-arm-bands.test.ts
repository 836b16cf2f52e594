// Group by arm in the Live Training panel: the mean ± sample sd over an arm's seeds, per x interval,
// against values computed by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { armBand } from '../../webview/training/armBands';

const series = (xs: number[], ys: number[]) => ({ x: Float64Array.from(xs), y: Float64Array.from(ys), n: xs.length });

test('three seeds: mean and sample sd per interval; an interval one seed lacks uses the others', () => {
  // Steps 1..4 in 2 intervals of width 1.5 over [1, 4]: {1, 2} and {3, 4}.
  const a = series([1, 2, 3, 4], [1, 3, 5, 7]); // interval means 2 and 6
  const b = series([1, 2, 3, 4], [3, 5, 7, 9]); // 4 and 8
  const c = series([1, 2], [6, 6]); // 6 and no point
  const band = armBand([a, b, c], 1, 4, 2);
  assert.equal(band.n, 2);
  assert.deepEqual([...band.x.subarray(0, 2)], [1.75, 3.25]);
  // Interval 1: 2, 4, 6 -> mean 4, sd 2. Interval 2: 6, 8 -> mean 7, sd √2.
  assert.deepEqual([...band.mean.subarray(0, 2)], [4, 7]);
  assert.deepEqual([...band.count.subarray(0, 2)], [3, 2]);
  assert.ok(Math.abs(band.hi[0]! - 6) < 1e-12 && Math.abs(band.lo[0]! - 2) < 1e-12);
  assert.ok(Math.abs(band.hi[1]! - (7 + Math.SQRT2)) < 1e-12 && Math.abs(band.lo[1]! - (7 - Math.SQRT2)) < 1e-12);
});

test('one seed: the band is the line itself; NaN values and points outside the range are left out', () => {
  const band = armBand([series([0, 1, 2, 3, 10], [NaN, 2, 4, 6, 100])], 1, 3, 1);
  assert.equal(band.n, 1);
  assert.equal(band.mean[0], 4);
  assert.equal(band.lo[0], 4);
  assert.equal(band.hi[0], 4);
});
