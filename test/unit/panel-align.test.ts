// The Live Training charts put all their series on one x axis: alignOnGrid's columns, checked
// against hand-placed points (and against the exact union where both apply).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignOnGrid, alignParts } from '../../webview/training/alignOnGrid';

const part = (xs: number[], ys: number[]) => ({ x: Float64Array.from(xs), y: Float64Array.from(ys), n: xs.length });

test('points land in the column of their x; series share columns; empty columns are dropped', () => {
  // [0, 10] in 5 columns of width 2, centres 1, 3, 5, 7, 9.
  const a = part([0.5, 4.2, 9.9], [1, 2, 3]);
  const b = part([1.5, 8.1], [10, 20]);
  const [xs, ya, yb] = alignOnGrid([a, b], 0, 10, 5);
  assert.deepEqual([...(xs as Float64Array)], [1, 5, 9]);
  assert.deepEqual(ya, [1, 2, 3]);
  // A column without a point of the series holds no value (uPlot draws null and undefined alike as none).
  assert.deepEqual(Array.from(yb as (number | null | undefined)[], (v) => v ?? null), [10, null, 20]);
  assert.equal(yb!.length, 3);
});

test('a second point of a series in the same column moves to the next one; points outside the range get edge columns', () => {
  const a = part([-3, 0.2, 0.4, 12], [5, 1, 2, 6]);
  const [xs, ya] = alignOnGrid([a], 0, 10, 5);
  assert.deepEqual([...(xs as Float64Array)], [-3, 1, 3, 12]);
  assert.deepEqual(ya, [5, 1, 2, 6]);
});

test('many series: the columns stay within the grid (the exact union grows with every series)', () => {
  const parts = Array.from({ length: 20 }, (_, k) => part(Array.from({ length: 200 }, (_, i) => i + k / 20), Array.from({ length: 200 }, (_, i) => i * k)));
  const grid = alignOnGrid(parts, 0, 200, 400);
  const exact = alignParts(parts);
  assert.ok((grid[0] as Float64Array).length <= 402);
  assert.equal((exact[0] as Float64Array).length, 4000);
  // Every value is kept: each series has its 200 points.
  for (let k = 1; k <= 20; k++) assert.equal((grid[k] as (number | null)[]).filter((v) => v !== null).length, 200);
});
