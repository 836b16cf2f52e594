// Cross-engine parity of one TRM-DEQ training step (issue 13): from the same mid-run training
// state and batch, one TF.js `trainStep` and one torch `train_step` (`python -m reclab.parity`)
// agree on the solver statistics (iterations exactly; residuals), the losses, every gradient
// (the phantom gradient through K steps from the solved z_L*) and the state after the optimizer
// step, including the carried z_L (the solution the phantom steps start from, advanced K steps).
// Cases: Anderson on mlp_t (minIter 4, maxIter 8, rel tol), plain iteration on attention + RoPE
// with K = 1 and damping τ = 0.5 (abs tol), Broyden on mlp_t; and the Attractor form (y* of
// y ↦ FPHead(y + c) − y) on mlp_t with Anderson and on attention + RoPE with plain iteration.
//
// Tolerance (fp32 on both sides, different summation orders; Anderson's mixing weights in float64
// on both): per tensor max |torch − tfjs| ≤ 1e-4 · max |tfjs| + 1e-6; residual statistics within
// 1e-4 relative.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../../trainer/backend';
import { RTOL, runParityCase, venvPython, type ParityCase } from './parityFixtures';
import { DEQ_STEP_STATISTICS } from '../../trainer/model/deqStepStatistics';

test.before(async () => { await selectBackend('cpu'); });

const cases: ParityCase[] = [
  { name: 'TRM-DEQ, mlp_t, Anderson (min 4, max 8, rel 1e-3), phantom K 2, AdamATan2',
    model: { arch: 'trm-deq', deq: { solver: 'anderson', maxIter: 8, minIter: 4, tol: 1e-3, stopMode: 'rel', phantomSteps: 2 } }, train: {} },
  { name: 'TRM-DEQ, attention + RoPE, FPI (max 6, abs 1e-2), phantom K 1 τ 0.5, AdamW',
    model: { arch: 'trm-deq', mixer: 'attention', posEncodings: 'rope', hCycles: 3, puzzleEmbLen: 1, deq: { solver: 'fpi', maxIter: 6, minIter: 0, tol: 1e-2, stopMode: 'abs', phantomSteps: 1, phantomDamping: 0.5 } },
    train: { optimizer: 'adamw', hsw: { mode: 'code', decay: 0.7 } } },
  { name: 'TRM-DEQ, mlp_t, Broyden (max 6), phantom K 2', model: { arch: 'trm-deq', deq: { solver: 'broyden', maxIter: 6, minIter: 2, memory: 4 } }, train: {} },
  // The Attractor form: backbone c, the gated pre-norm head, y* = FP(y ↦ FPHead(y + c) − y); the
  // undecayed LayerScale gates (weight decay 0.1 on everything else) change as the optimizer says.
  { name: 'Attractor, mlp_t, 1 backbone + 2 head blocks, Anderson (min 2, max 8, rel 1e-3), phantom K 2, AdamATan2',
    model: { arch: 'attractor', hCycles: 1, lCycles: 1, deq: { solver: 'anderson', maxIter: 8, minIter: 2, tol: 1e-3, stopMode: 'rel', phantomSteps: 2 } }, train: {} },
  { name: 'Attractor, attention + RoPE, 2 backbone blocks, gates 0.3 of 1.0, T 2 solves, FPI (max 5, abs 1e-2), phantom K 1 τ 0.5, AdamW',
    model: { arch: 'attractor', mixer: 'attention', posEncodings: 'rope', hCycles: 2, lCycles: 1, attractor: { backboneLayers: 2, layerScaleInit: 0.3, gammaMax: 1 },
      deq: { solver: 'fpi', maxIter: 5, minIter: 0, tol: 1e-2, stopMode: 'abs', phantomSteps: 1, phantomDamping: 0.5 } },
    train: { optimizer: 'adamw' } },
];

const python = venvPython();

for (const c of cases) {
  test(`DEQ engine parity: ${c.name} — losses, every gradient and the state after one step agree (rel ${RTOL})`, () => {
    const worst = runParityCase(c, python, ({ metrics, meta }) => {
      // The solver statistics of the step (every solve: T per micro-batch).
      const tsStats = metrics.modelStats!;
      const pyStats = (meta.metrics as unknown as { model_stats: Record<string, number> }).model_stats;
      assert.deepEqual(Object.keys(tsStats).sort(), [...DEQ_STEP_STATISTICS].sort());
      assert.equal(pyStats['deqIterations'], tsStats['deqIterations'], 'deqIterations');
      for (const k of DEQ_STEP_STATISTICS) {
        assert.ok(Math.abs(pyStats[k]! - tsStats[k]!) <= 1e-4 * Math.abs(tsStats[k]!) + 1e-7, `${k}: torch ${pyStats[k]} vs tfjs ${tsStats[k]}`);
      }
      console.log(`${c.name}: solver stats ${JSON.stringify(tsStats)}`);
    });
    console.log(`${c.name}: worst max|torch − tfjs| / max|tfjs| over all tensors ${worst.toExponential(2)}`);
  });
}
