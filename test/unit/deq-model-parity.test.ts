// Cross-engine parity of one TRM-DEQ training step (issue 13): from the same mid-run training
// state and batch, one TF.js `trainStep` and one torch `train_step` (`python -m reclab.parity`)
// agree on the solver statistics (iterations exactly; residuals), the losses, every gradient
// (the phantom gradient through K steps from the solved z_L*) and the state after the optimizer
// step, including the carried z_L (the solution the phantom steps start from, advanced K steps).
// Cases: Anderson on mlp_t (minIter 4, maxIter 8, rel tol), plain iteration on attention + RoPE
// with K = 1 and damping τ = 0.5 (abs tol), Broyden on mlp_t.
//
// Tolerance (fp32 on both sides, different summation orders; Anderson's mixing weights in float64
// on both): per tensor max |torch − tfjs| ≤ 1e-4 · max |tfjs| + 1e-6; residual statistics within
// 1e-4 relative.
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
import { ATOL, REPO, RTOL, assertClose, baseModel, baseTrain, midRun, nextStepGradients, task, venvPython } from './parityFixtures';
import { DEQ_STEP_STATISTICS } from '../../trainer/model/deqStepStatistics';

test.before(async () => { await selectBackend('cpu'); });

const cases: { name: string; model: Partial<ModelConfig>; train: Partial<TrainConfig> }[] = [
  { name: 'TRM-DEQ, mlp_t, Anderson (min 4, max 8, rel 1e-3), phantom K 2, AdamATan2',
    model: { arch: 'trm-deq', deq: { solver: 'anderson', maxIter: 8, minIter: 4, tol: 1e-3, stopMode: 'rel', phantomSteps: 2 } }, train: {} },
  { name: 'TRM-DEQ, attention + RoPE, FPI (max 6, abs 1e-2), phantom K 1 τ 0.5, AdamW',
    model: { arch: 'trm-deq', mixer: 'attention', posEncodings: 'rope', hCycles: 3, puzzleEmbLen: 1, deq: { solver: 'fpi', maxIter: 6, minIter: 0, tol: 1e-2, stopMode: 'abs', phantomSteps: 1, phantomDamping: 0.5 } },
    train: { optimizer: 'adamw', hsw: { mode: 'code', decay: 0.7 } } },
  { name: 'TRM-DEQ, mlp_t, Broyden (max 6), phantom K 2', model: { arch: 'trm-deq', deq: { solver: 'broyden', maxIter: 6, minIter: 2, memory: 4 } }, train: {} },
];

const python = venvPython();

for (const c of cases) {
  test(`DEQ engine parity: ${c.name} — losses, every gradient and the state after one step agree (rel ${RTOL})`, () => {
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
      // The solver statistics of the step (every solve: T per micro-batch).
      const tsStats = metrics.modelStats!;
      const pyStats = (meta.metrics as unknown as { model_stats: Record<string, number> }).model_stats;
      assert.deepEqual(Object.keys(tsStats).sort(), [...DEQ_STEP_STATISTICS].sort());
      assert.equal(pyStats['deqIterations'], tsStats['deqIterations'], 'deqIterations');
      for (const k of DEQ_STEP_STATISTICS) {
        assert.ok(Math.abs(pyStats[k]! - tsStats[k]!) <= 1e-4 * Math.abs(tsStats[k]!) + 1e-7, `${k}: torch ${pyStats[k]} vs tfjs ${tsStats[k]}`);
      }
      console.log(`${c.name}: solver stats ${JSON.stringify(tsStats)}`);
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
      console.log(`${c.name}: worst max|torch − tfjs| / max|tfjs| over all tensors ${worst.toExponential(2)}`);
    } finally {
      disposeTrainState(state);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
