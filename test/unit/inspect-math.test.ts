// The fixed-point arithmetic against hand-computed facts: residuals, the critical step of
// hand-made answer trajectories, the spectral-radius estimate, clustering and the PCA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterByDistance, criticalStep, pca2, project, relativeResiduals, rightThenLeft, spectralRadiusEstimate } from '../../trainer/inspect/fixedPointMath';
import { decodeAnswer } from '../../trainer/inspect/inspectModel';
import { evenlySpaced } from '../../trainer/inspect/inspectCommand';

test('relative residuals per row: ‖next − prev‖ / ‖prev‖', () => {
  // Row 0: prev (3, 4) -> next (3, 0): |(0, −4)| / 5 = 0.8. Row 1: prev (1, 0) -> next (1, 0): 0.
  const r = relativeResiduals(Float32Array.of(3, 4, 1, 0), Float32Array.of(3, 0, 1, 0), 2, 2);
  assert.deepEqual(r, [0.8, 0]);
});

test('critical step: the first step after which the answer is right and stays right', () => {
  const T = true, F = false;
  assert.equal(criticalStep([F, F, T, T, T]), 3);
  assert.equal(criticalStep([T, T, T]), 1);
  assert.equal(criticalStep([T, F, T, T]), 3); // right at 1, lost at 2: the answer "flips" for good at 3
  assert.equal(criticalStep([F, T, F, F, T]), 5);
  assert.equal(criticalStep([T, T, F]), null); // wrong at the end
  assert.equal(criticalStep([]), null);
  assert.equal(rightThenLeft([T, T, F]), true);
  assert.equal(rightThenLeft([F, T, F, F]), true);
  assert.equal(rightThenLeft([F, F, F]), false);
  assert.equal(rightThenLeft([F, T, T]), false);
});

test('spectral radius estimate: geometric mean of the second half of the power-iteration ratios', () => {
  assert.ok(Math.abs(spectralRadiusEstimate([5, 3, 0.9, 0.9, 0.9, 0.9]) - 0.9) < 1e-12);
  // A complex pair seen by power iteration: ratios alternate 0.5 and 2 (product 1 per two steps).
  assert.ok(Math.abs(spectralRadiusEstimate([7, 7, 7, 7, 0.5, 2, 0.5, 2]) - 1) < 1e-12);
});

test('single-linkage clustering by relative distance, ids by first appearance', () => {
  const v = (...x: number[]) => Float32Array.from(x);
  // a ~ b (distance 0.01 of norm 10), c far; d chains to c (linked through c, not to a).
  const ids = clusterByDistance([v(10, 0), v(5, 5), v(10, 0.1), v(5, 5.2), v(10, 0.2)], 0.05);
  assert.deepEqual(ids, [0, 1, 0, 1, 0]);
  assert.deepEqual(clusterByDistance([v(1, 0), v(0, 1)], 0.05), [0, 1]);
});

test('PCA of points spread along two known orthogonal directions', () => {
  // Points c + a·u + b·w with u = (1,1,0,0)/√2, w = (0,0,3,4)/5; variance along u (a = ±3) > along w (b = ±1).
  const u = [Math.SQRT1_2, Math.SQRT1_2, 0, 0], w = [0, 0, 0.6, 0.8], c = [1, 2, 3, 4];
  const pts = [[3, 0], [-3, 0], [0, 1], [0, -1]].map(([a, b]) => Float32Array.from(c, (ci, i) => ci + a! * u[i]! + b! * w[i]!));
  const p = pca2(pts);
  const dot = (x: ArrayLike<number>, y: number[]) => y.reduce((s, yi, i) => s + x[i]! * yi, 0);
  assert.ok(Math.abs(Math.abs(dot(p.components[0], u)) - 1) < 1e-6);
  assert.ok(Math.abs(Math.abs(dot(p.components[1], w)) - 1) < 1e-6);
  // Variances 2·9 and 2·1 of a total 20.
  assert.ok(Math.abs(p.explained[0] - 0.9) < 1e-6);
  assert.ok(Math.abs(p.explained[1] - 0.1) < 1e-6);
  const [x, y] = project(pts[0]!, p);
  assert.ok(Math.abs(Math.abs(x) - 3) < 1e-5 && Math.abs(y) < 1e-5);
});

test('answers decode with the reference encoding; held-out puzzles are picked evenly', () => {
  // 4x4: tokens 2..5 are digits 1..4; PAD (0), blank (1) decode as blank.
  assert.deepEqual([...decodeAnswer([2, 5, 0, 1, 3, 4], 4)], [1, 4, 0, 0, 2, 3]);
  assert.deepEqual(evenlySpaced(10, 4), [0, 2, 5, 7]);
  assert.deepEqual(evenlySpaced(3, 5), [0, 1, 2]);
});
