// The panel's smoothing is TensorBoard's debiased EMA. Expected values are computed by hand from
// the formula  last_k = w*last_{k-1} + (1-w)*v_k (last_0 = 0),  smoothed_k = last_k / (1 - w^k),
// k counting finite values only; a constant series is left as it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SmoothedColumn, smoothDebiasedEma } from '../../webview/training/smoothing';

const close = (actual: ArrayLike<number>, expected: number[]) => {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) assert.ok(Number.isNaN(a), `[${i}] expected NaN, got ${a}`);
    else assert.ok(Math.abs(a - e) < 1e-12, `[${i}] expected ${e}, got ${a}`);
  }
};

test('w = 0.5 on 1, 2, 3: 1, 5/3, 17/7', () => {
  // k=1: last = 0.5        / 0.5   = 1
  // k=2: last = 1.25       / 0.75  = 5/3
  // k=3: last = 2.125      / 0.875 = 17/7
  close(smoothDebiasedEma([1, 2, 3], 0.5), [1, 5 / 3, 17 / 7]);
});

test('w = 0.9 on 10, 0: the first value is kept exactly (debiasing), then 90/19', () => {
  // k=1: last = 1   / (1 - 0.9)  = 10
  // k=2: last = 0.9 / (1 - 0.81) = 90/19
  close(smoothDebiasedEma([10, 0], 0.9), [10, 90 / 19]);
});

test('w = 0.6 (the default) on 2, 4, 8', () => {
  // k=1: 0.8 / 0.4 = 2;  k=2: (0.48 + 1.6) = 2.08 / 0.64 = 3.25;  k=3: (1.248 + 3.2) = 4.448 / 0.784
  close(smoothDebiasedEma([2, 4, 8], 0.6), [2, 3.25, 4.448 / 0.784]);
});

test('non-finite values pass through and do not advance the average', () => {
  // 1 -> 1; NaN -> NaN; 3 is the 2nd finite value: last = 0.25 + 1.5 = 1.75, / 0.75 = 7/3
  close(smoothDebiasedEma([1, NaN, 3], 0.5), [1, NaN, 7 / 3]);
});

test('a constant series is returned unchanged; w = 0 is the raw series', () => {
  close(smoothDebiasedEma([4, 4, 4, 4], 0.99), [4, 4, 4, 4]);
  close(smoothDebiasedEma([3, -1, 7], 0), [3, -1, 7]);
});

test('incremental updates equal the whole-series formula, also after the series stops being constant', () => {
  const values = [5, 5, 5, 2, 8, NaN, 1, 4];
  const s = new SmoothedColumn();
  const direct = (n: number) => {
    // The formula written out independently of the class.
    const w = 0.7;
    const v = values.slice(0, n);
    if (v.every((x) => x === v[0])) return v;
    let last = 0;
    let k = 0;
    return v.map((x) => {
      if (!Number.isFinite(x)) return x;
      last = w * last + (1 - w) * x;
      k++;
      return last / (1 - w ** k);
    });
  };
  for (const n of [1, 2, 3, 4, 5, 6, 8]) close(s.update(values, n, 0.7).subarray(0, n), direct(n));
  // A rewritten table (new version) and a new weight recompute everything.
  const rewritten = [1, 2, 3];
  close(s.update(rewritten, 3, 0.5, 1).subarray(0, 3), [1, 5 / 3, 17 / 7]);
});
