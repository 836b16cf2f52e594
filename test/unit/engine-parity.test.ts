// Cross-engine parity (issue 11): from the same training state and the same batch, one TF.js
// `trainStep` and one torch `train_step` (engines/torch, `python -m reclab.parity`) agree on the
// losses, every gradient and the state after the optimizer step (parameters, both Adam moments,
// EMA, carry), for mlp_t and attention + RoPE, AdamATan2 and AdamW, TRM and HRM (issue 12: HRM
// adds the Q-continue loss against its target from an extra forward, and halts on
// q_halt > q_continue, so the carry after the step checks the halting rule too). The state is a mid-run one:
// some rows halted, others carried with non-zero states, moments and EMA away from their start,
// so resets, bias corrections and the EMA are all exercised. The torch side starts from the TF.js
// engine's own training checkpoint; the files between the engines are format 2
// (trainer/run/checkpointFile.ts on this side, the safetensors library on the other).
//
// Tolerance (fp32 on both sides, different summation orders): per tensor
//   max |torch − tfjs| ≤ 1e-4 · max |tfjs| + 1e-6.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../../trainer/backend';
import { RTOL, ATOL, assertClose, f32, runParityCase, venvPython, type ParityCase } from './parityFixtures';
import { readEvaluationWeights } from '../../trainer/run/evaluationWeights';

test.before(async () => { await selectBackend('cpu'); });

const cases: ParityCase[] = [
  { name: 'mlp_t, AdamATan2, HSW paper', model: {}, train: {} },
  { name: 'mlp_t, AdamW, HSW code', model: {}, train: { optimizer: 'adamw', hsw: { mode: 'code', decay: 0.7 } } },
  { name: 'attention + RoPE, AdamATan2', model: { mixer: 'attention', posEncodings: 'rope' }, train: {} },
  { name: 'attention + RoPE, AdamW, softmax CE', model: { mixer: 'attention', posEncodings: 'rope', hCycles: 3, puzzleEmbLen: 1 }, train: { optimizer: 'adamw', lossType: 'softmax', hsw: { mode: 'off', decay: 1 } } },
  // HRM: H 3 + L 2 blocks (different sizes, so a swapped network would fail on shapes); the
  // mid-run carry has rows at their last step (is_last target) and rows before it.
  { name: 'HRM, mlp_t, AdamATan2, HSW paper', model: { arch: 'hrm', hLayers: 3 }, train: {} },
  { name: 'HRM, attention + RoPE, AdamW, HSW code, T=2 n=3', model: { arch: 'hrm', mixer: 'attention', posEncodings: 'rope', lCycles: 3, puzzleEmbLen: 1 }, train: { optimizer: 'adamw', hsw: { mode: 'code', decay: 0.7 } } },
];

const python = venvPython();

for (const c of cases) {
  test(`engine parity: ${c.name} — losses, every gradient and the state after one step agree (rel ${RTOL})`, () => {
    const worst = runParityCase(c, python, ({ model, state, metrics, meta, outPath }) => {
      if (model.learnsQContinue) {
        const ts = metrics.modelStats?.['qContinueLoss'];
        const py = meta.metrics['q_continue_loss'];
        assert.ok(ts !== undefined && ts > 0 && py !== null && py !== undefined, `qContinueLoss: torch ${py} vs tfjs ${ts}`);
        assert.ok(Math.abs(py - ts) <= RTOL * Math.abs(ts) + ATOL, `qContinueLoss: torch ${py} vs tfjs ${ts}`);
      } else {
        assert.equal(metrics.modelStats, undefined);
        assert.equal(meta.metrics['q_continue_loss'], null); // NaN: TRM has no Q-continue loss
      }
      // The torch-written file is read as a checkpoint by export/trace's own reader: the EMA weights.
      const evaluation = readEvaluationWeights(outPath, model);
      for (const [name, shadow] of state.ema!) {
        assertClose(`evaluation weights ${name}`, { dtype: 'float32', shape: shadow.shape, data: evaluation.params.get(name)! }, f32(shadow));
      }
    });
    console.log(`${c.name}: worst max|torch − tfjs| / max|tfjs| over all tensors ${worst.toExponential(2)}`);
  });
}
