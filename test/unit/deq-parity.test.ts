// Cross-engine parity of the DEQ solvers: the same tanh map z ↦ tanh(zW + x) (W, x, z0 and the
// loss weights written by this side as a format-2 weights file) solved by trainer/deq (TF.js) and
// by engines/torch reclab.deq (`python -m reclab.deq.parity`, the venv's torch, float32 both):
// equal iteration counts and lowest-residual steps, and solutions, residual traces, the adjoint
// and the phantom / IFT gradients within
//   solutions, u, gradients: max |torch − tfjs| ≤ 1e-4 · max |tfjs| + 1e-6
//   traces, per entry:       |torch − tfjs| ≤ 1e-3 · |tfjs| + 2e-6  (fp32 noise in f(z) − z near tolerance)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../trainer/backend';
import { anderson } from '../../trainer/deq/anderson';
import { broyden } from '../../trainer/deq/broyden';
import { implicitGradients, phantomUnroll, type AdjointOptions } from '../../trainer/deq/deqGradients';
import { fixedPointIteration, type SolveResult } from '../../trainer/deq/fixedPointIteration';
import type { AndersonOptions, SolverName } from '../../trainer/deq/solverOptions';
import { readWeightsFile, writeWeightsFile, type StoredArray } from '../../trainer/run/checkpointFile';
import { f32Tensor, maxAbs, maxAbsDiff, tanhMap, tanhProblem } from './deqFixtures';

const REPO = resolve(__dirname, '../..');

test.before(async () => { await selectBackend('cpu'); });

function venvPython(): string {
  const out = execFileSync('bash', [join(REPO, 'test/setup/python-env.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').pop()!;
}

const cases: { solver: SolverName; options: Partial<AndersonOptions> }[] = [
  { solver: 'anderson', options: { maxIter: 30, tol: 1e-4, stopMode: 'abs' } },
  { solver: 'fixed_point_iter', options: { maxIter: 60, tol: 3e-4, stopMode: 'rel' } },
  { solver: 'anderson', options: { maxIter: 30, minIter: 4, tol: 1e-4, stopMode: 'rel', memory: 3, beta: 0.7, lambda: 1e-3 } },
  { solver: 'anderson', options: { maxIter: 7, tol: 1e-8, returnFinal: true } },
  { solver: 'broyden', options: { maxIter: 40, tol: 1e-4, stopMode: 'rel', memory: 8 } },
];
const phantom = { steps: 2, tau: 0.8 };
const adjoint: AdjointOptions = { solver: 'broyden', options: { maxIter: 40, tol: 1e-6 } };

const f32 = (t: tf.Tensor): StoredArray => ({ dtype: 'float32', shape: t.shape, data: t.dataSync() as Float32Array });

function closeTo(name: string, torch: StoredArray | undefined, tfjs: ArrayLike<number>): number {
  assert.ok(torch, `torch output lacks ${name}`);
  assert.equal(torch.data.length, tfjs.length, `${name}: size`);
  const scale = maxAbs(tfjs);
  const diff = maxAbsDiff(torch.data as Float32Array, tfjs);
  assert.ok(scale > 0, `${name}: all zero`);
  assert.ok(diff <= 1e-4 * scale + 1e-6, `${name}: max |torch − tfjs| = ${diff.toExponential(3)} (scale ${scale.toExponential(3)})`);
  return diff / scale;
}

test('DEQ solvers and gradients agree across the TF.js and PyTorch engines', () => {
  const d = 24;
  const B = 3;
  const p = tanhProblem(21, d, B, 0.97, 0.4);
  const W = tf.variable(f32Tensor(p.W, [d, d]), true, 'parityW');
  const x = f32Tensor(p.x, [B, d]);
  const z0 = f32Tensor(Float64Array.from({ length: B * d }, (_, i) => 0.1 * Math.sin(i)), [B, d]);
  const c = f32Tensor(Float64Array.from({ length: B * d }, (_, i) => Math.cos(0.3 * i)), [B, d]);
  const map = tanhMap(W, x);
  const dir = mkdtempSync(join(tmpdir(), 'reclab-deq-parity-'));
  try {
    const inPath = join(dir, 'in.safetensors');
    const outPath = join(dir, 'out.safetensors');
    writeWeightsFile(inPath, { d, batch: B, cases, phantom, adjoint }, new Map([
      ['param/W', f32(W)], ['param/x', f32(x)], ['state/z0', f32(z0)], ['loss/c', f32(c)],
    ]));
    const run = spawnSync(venvPython(), ['-m', 'reclab.deq.parity', inPath, outPath], {
      encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(REPO, 'engines/torch'), OPENBLAS_CORETYPE: 'SkylakeX', OMP_NUM_THREADS: '1' },
    });
    assert.equal(run.status, 0, `python -m reclab.deq.parity failed:\n${run.stderr}`);
    const out = readWeightsFile(outPath);
    const meta = out.meta as { cases: { iterations: number; nstep: number[]; fallbacks: number; converged: boolean[] }[]; adjoint: { iterations: number } };

    let worst = 0;
    const solvers = { anderson, broyden, fixed_point_iter: fixedPointIteration };
    const results: SolveResult[] = cases.map((k) => solvers[k.solver](map, z0, k.options));
    results.forEach((r, i) => {
      const py = meta.cases[i]!;
      const label = `case ${i} (${cases[i]!.solver} ${JSON.stringify(cases[i]!.options)})`;
      assert.equal(py.iterations, r.stats.iterations, `${label}: iterations`);
      assert.deepEqual(py.nstep, r.stats.nstep, `${label}: lowest-residual step per sample`);
      assert.deepEqual(py.converged, r.stats.converged, `${label}: converged`);
      assert.equal(py.fallbacks, r.stats.fallbacks, `${label}: fallbacks`);
      worst = Math.max(worst, closeTo(`${label} solution`, out.tensors.get(`case${i}/solution`), r.solution.dataSync()));
      for (const kind of ['abs', 'rel'] as const) {
        const torchTrace = out.tensors.get(`case${i}/${kind}_trace`)!.data as Float32Array;
        const trace = r.stats[`${kind}Trace`].flat();
        trace.forEach((v, j) => assert.ok(Math.abs(torchTrace[j]! - v) <= 1e-3 * Math.abs(v) + 2e-6, `${label} ${kind} trace [${j}]: torch ${torchTrace[j]} vs tfjs ${v}`));
      }
    });
    console.log(`iterations per case (both engines): ${results.map((r) => r.stats.iterations).join(', ')}`);

    // Gradients of L = Σ c ⊙ z at case 0's solution.
    const zStar = results[0]!.solution;
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(phantomUnroll(map, zStar, phantom), c)), [W]);
    worst = Math.max(worst, closeTo('phantom gradient', out.tensors.get('grad/phantom'), grads[W.name]!.dataSync()));
    const ift = implicitGradients(map, zStar, c, [W], adjoint);
    assert.equal(meta.adjoint.iterations, ift.stats.iterations, 'adjoint iterations');
    worst = Math.max(worst, closeTo('adjoint u', out.tensors.get('adjoint/u'), ift.u.dataSync()));
    worst = Math.max(worst, closeTo('IFT gradient', out.tensors.get('grad/ift'), ift.grads[W.name]!.dataSync()));
    console.log(`worst max|torch − tfjs| / max|tfjs| over solutions and gradients: ${worst.toExponential(2)}`);
    tf.dispose([value, ...Object.values(grads), ift.u, ...Object.values(ift.grads), ...results.map((r) => r.solution)]);
  } finally {
    tf.dispose([W, x, z0, c]);
    rmSync(dir, { recursive: true, force: true });
  }
});
