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
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../trainer/backend';
import { createModel } from '../../trainer/model/modelFactory';
import type { ModelConfig, TrainConfig } from '../../protocol/config';
import { Rng } from '../../trainer/random';
import { createTrainState, disposeTrainState } from '../../trainer/train/trainState';
import { trainStep } from '../../trainer/train/trainStep';
import type { ExampleBatch } from '../../trainer/train/exampleBatch';
import { readCheckpointFile, writeWeightsFile, type StoredArray } from '../../trainer/run/checkpointFile';
import { saveTrainingCheckpoint, trainStateArrays } from '../../trainer/run/trainingCheckpoint';
import { ATOL, REPO, RTOL, assertClose, baseModel, baseTrain, f32, midRun, nextStepGradients, task, venvPython } from './parityFixtures';
import { readEvaluationWeights } from '../../trainer/run/evaluationWeights';

test.before(async () => { await selectBackend('cpu'); });

const cases: { name: string; model: Partial<ModelConfig>; train: Partial<TrainConfig> }[] = [
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
    const modelCfg = { ...baseModel, ...c.model };
    const train = { ...baseTrain, ...c.train };
    const model = createModel(modelCfg, task);
    const state = createTrainState(model, train, new Rng(11));
    const dir = mkdtempSync(join(tmpdir(), 'reclab-parity-'));
    try {
      const rng = new Rng(12);
      midRun(state, rng);
      const B = train.batchSize;
      const incoming: ExampleBatch = {
        size: B, seqLen: task.seqLen,
        tokens: Int32Array.from({ length: B * task.seqLen }, () => 1 + rng.int(5)),
        labels: Int32Array.from({ length: B * task.seqLen }, () => 2 + rng.int(4)),
        blanks: Int32Array.from({ length: B }, () => rng.int(16)),
      };
      const depth = model.depth;
      const lr = 2e-3;
      // The state as a real TF.js training checkpoint, the batch and the step's settings beside it.
      const checkpointPath = join(dir, 'step-0000005.ckpt');
      saveTrainingCheckpoint(checkpointPath, state, {
        haltRng: new Rng(0).state(), stream: { rng: new Rng(1).state(), order: [0], position: 0 },
        progress: { wallSeconds: 0, trainSeconds: 0, flopsForwardTotal: 0, flopsBackwardTotal: 0, bestExactAccuracy: undefined },
      });
      const batchPath = join(dir, 'batch.safetensors');
      writeWeightsFile(batchPath, { model: modelCfg, train, lr, depth: [depth.hCycles, depth.lCycles] }, new Map<string, StoredArray>([
        ['batch/tokens', { dtype: 'int32', shape: [B, task.seqLen], data: incoming.tokens }],
        ['batch/labels', { dtype: 'int32', shape: [B, task.seqLen], data: incoming.labels }],
        ['batch/blanks', { dtype: 'int32', shape: [B], data: incoming.blanks }],
      ]));
      const outPath = join(dir, 'out.safetensors');

      const grads = nextStepGradients(state, incoming, train, depth);
      const metrics = trainStep(state, incoming, train, depth, lr, new Rng(0));
      const after = trainStateArrays(state);

      const run = spawnSync(python, ['-m', 'reclab.parity', checkpointPath, batchPath, outPath], {
        encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(REPO, 'engines/torch'), OPENBLAS_CORETYPE: 'SkylakeX' },
      });
      assert.equal(run.status, 0, `python -m reclab.parity failed:\n${run.stderr}`);
      const read = readCheckpointFile(outPath);
      const out = { meta: read.meta, tensors: read.arrays };
      const meta = out.meta as { metrics: Record<string, number | null>; flops: { forward: number; backward: number } };

      // Losses (per batch row, as the step event logs them).
      for (const [key, ts] of [['lm_loss', metrics.lmLoss], ['q_halt_loss', metrics.qHaltLoss], ['grad_norm', metrics.gradNorm], ['grad_variance_running', metrics.gradVarianceRunning]] as const) {
        const py = meta.metrics[key]!;
        assert.ok(Math.abs(py - ts) <= RTOL * Math.abs(ts) + ATOL, `${key}: torch ${py} vs tfjs ${ts}`);
      }
      if (model.learnsQContinue) {
        const ts = metrics.modelStats?.['qContinueLoss'];
        const py = meta.metrics['q_continue_loss'];
        assert.ok(ts !== undefined && ts > 0 && py !== null && py !== undefined, `qContinueLoss: torch ${py} vs tfjs ${ts}`);
        assert.ok(Math.abs(py - ts) <= RTOL * Math.abs(ts) + ATOL, `qContinueLoss: torch ${py} vs tfjs ${ts}`);
      } else {
        assert.equal(metrics.modelStats, undefined);
        assert.equal(meta.metrics['q_continue_loss'], null); // NaN: TRM has no Q-continue loss
      }
      assert.equal(meta.metrics['halted_rows'], metrics.haltedRows);
      assert.equal(meta.metrics['loss_scale'], metrics.lossScale);
      const flops = model.stepFlops(depth, B, true);
      assert.deepEqual(meta.flops, { forward: flops.forward, backward: flops.backward });

      // Every gradient, then everything the step changed.
      assert.equal(grads.size, state.params.size);
      let worst = 0;
      for (const [name, g] of grads) worst = Math.max(worst, assertClose(name, out.tensors.get(name), g));
      for (const [name, a] of after) {
        if (a.dtype === 'float32') worst = Math.max(worst, assertClose(name, out.tensors.get(name), a));
        else assert.deepEqual(Array.from(out.tensors.get(name)!.data as Int32Array, Number), Array.from(a.data as Int32Array, Number), name);
      }
      // The torch-written file is read as a checkpoint by export/trace's own reader: the EMA weights.
      const evaluation = readEvaluationWeights(outPath, model);
      for (const [name, shadow] of state.ema!) {
        assertClose(`evaluation weights ${name}`, { dtype: 'float32', shape: shadow.shape, data: evaluation.params.get(name)! }, f32(shadow));
      }
      console.log(`${c.name}: worst max|torch − tfjs| / max|tfjs| over all tensors ${worst.toExponential(2)}`);
    } finally {
      disposeTrainState(state);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
