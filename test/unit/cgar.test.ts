// CGAR (reference.md §2): the depth curriculum's stages and boundaries, both HSW readings
// against hand-computed weights, the 41.43 % FLOPs figure, the gradient-variance statistic on
// synthetic gradients with a known variance, and evaluation never at reduced depth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { presets } from '../../protocol/presets';
import type { RunConfig } from '../../protocol/config';
import { parseEventLine, type EvalEvent, type StageEvent, type StepEvent, type TrainerEvent } from '../../protocol/events';
import { selectBackend } from '../../trainer/backend';
import { loadTaskData } from '../../trainer/data/taskData';
import { RunDirectory } from '../../trainer/run/runDirectory';
import { Rng } from '../../trainer/random';
import { curriculumSavings, curriculumStages, depthSchedule, derivedStages, stageIndexAt } from '../../trainer/train/depthCurriculum';
import { relativeGradientVariance } from '../../trainer/train/gradientVarianceRatio';
import { codeFaithfulScale, lossWeighting, paperFaithfulWeights } from '../../trainer/train/supervisionWeighting';
import { runTraining } from '../../trainer/trainingRun';

const base = { hCycles: 3, lCycles: 6 };

test('PDC derives (1,2) -> (2,4) -> (3,6) from base (3,6), as the reference code', () => {
  assert.deepEqual(derivedStages(base), [{ hCycles: 1, lCycles: 2 }, { hCycles: 2, lCycles: 4 }, { hCycles: 3, lCycles: 6 }]);
  // Base (2,2): ceil(2/3)=1, max(2, ceil(2/3))=2; ceil(4/3)=2 -> (1,2), (2,2), (2,2).
  assert.deepEqual(derivedStages({ hCycles: 2, lCycles: 2 }), [{ hCycles: 1, lCycles: 2 }, { hCycles: 2, lCycles: 2 }, { hCycles: 2, lCycles: 2 }]);
  // Stage 2 is clamped to the base, min(base, max(s1, ceil(2·base/3))) (reference.md §2.1); stage 1 is not:
  // base (3, 1): s1 = (1, max(2, 1)) = (1, 2), s2 = (min(3, 2), min(1, max(2, 1))) = (2, 1).
  assert.deepEqual(derivedStages({ hCycles: 3, lCycles: 1 }), [{ hCycles: 1, lCycles: 2 }, { hCycles: 2, lCycles: 1 }, { hCycles: 3, lCycles: 1 }]);
  assert.deepEqual(derivedStages({ hCycles: 1, lCycles: 1 }), [{ hCycles: 1, lCycles: 2 }, { hCycles: 1, lCycles: 1 }, { hCycles: 1, lCycles: 1 }]);
});

test('PDC stage boundaries at 30 % and 60 % of training: steps 1-300 / 301-600 / 601-1000 of 1000', () => {
  const s = depthSchedule(base, { enabled: true, boundaries: [0.3, 0.6] });
  const stageOf = (step: number) => s.at(step, 1000).stage;
  assert.equal(stageOf(1), 0);
  assert.equal(stageOf(300), 0);
  assert.equal(stageOf(301), 1);
  assert.equal(stageOf(600), 1);
  assert.equal(stageOf(601), 2);
  assert.equal(stageOf(1000), 2);
  assert.deepEqual(s.at(450, 1000).depth, { hCycles: 2, lCycles: 4 });
  // 10 steps: progress (s-1)/10 -> stage 0 for s=1..3, 1 for 4..6, 2 for 7..10.
  assert.deepEqual([...Array(10)].map((_, i) => stageIndexAt(i + 1, 10, [0.3, 0.6])), [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]);
  // Off: always the base depth.
  assert.deepEqual(depthSchedule(base, { enabled: false, boundaries: [0.3, 0.6] }).at(1, 1000).depth, base);
});

test('PDC with explicit stages, and malformed stage lists are refused with the field named', () => {
  const s = depthSchedule(base, { enabled: true, boundaries: [0.5], stages: [[1, 1], [3, 6]] });
  assert.deepEqual(s.at(1, 4).depth, { hCycles: 1, lCycles: 1 });
  assert.deepEqual(s.at(3, 4).depth, { hCycles: 3, lCycles: 6 });
  assert.throws(() => curriculumStages(base, { enabled: true, boundaries: [0.3], stages: [[1, 2], [2, 4], [3, 6]] }), /train\.curriculum/);
  assert.throws(() => curriculumStages(base, { enabled: true, boundaries: [0.6, 0.3] }), /train\.curriculum\.boundaries/);
});

test('the paper schedule saves 41.43 % of forward FLOPs (0.3·6 + 0.3·20 + 0.4·42 of 42) and ~35.1 % forward+backward', () => {
  const s = depthSchedule(base, { enabled: true, boundaries: [0.3, 0.6] });
  const saved = curriculumSavings(s, base);
  // Forward layer applications per stage with 2 layers: 2·T·(n+1) = 6, 20, 42.
  assert.ok(Math.abs(saved.forward - (1 - (0.3 * 6 + 0.3 * 20 + 0.4 * 42) / 42)) < 1e-12);
  assert.equal((100 * saved.forward).toFixed(2), '41.43');
  // Forward + backward (backward = 2 x the last cycle's n+1 calls): 9, 20, 35 call units.
  assert.ok(Math.abs(saved.forwardBackward - (1 - (0.3 * 9 + 0.3 * 20 + 0.4 * 35) / 35)) < 1e-12);
  assert.equal((100 * saved.forwardBackward).toFixed(2), '35.14');
});

test('HSW, code-faithful: one scalar 0.7^floor(mean incoming steps) on the whole batch', () => {
  // Incoming steps 0, 3, 5, 7: mean 3.75 -> floor 3 -> 0.7^3 = 0.343.
  assert.ok(Math.abs(codeFaithfulScale([0, 3, 5, 7], 0.7) - 0.343) < 1e-12);
  assert.equal(codeFaithfulScale([0, 0, 0, 0], 0.7), 1);
  const w = lossWeighting({ mode: 'code', decay: 0.5 }, [2, 2, 3, 3], [1, 1, 1, 1], 16);
  assert.equal(w.scale, 0.25);
  assert.equal(w.rowWeights, undefined);
});

test('HSW, paper-faithful: per row 0.7^(t-1)/Z with Z = (1 - 0.7^16)/0.3 = 3.3223 (reference.md §2.2)', () => {
  const w = paperFaithfulWeights([1, 2, 3, 4, 16], 0.7, 16);
  const expected = [0.301, 0.211, 0.148, 0.103, 0.0014]; // the values quoted in reference.md
  expected.forEach((e, i) => assert.ok(Math.abs(w[i]! - e) < 6e-4, `w_${i} = ${w[i]} vs ${e}`));
  const Z = (1 - 0.7 ** 16) / 0.3;
  assert.ok(Math.abs(w[0]! - 1 / Z) < 1e-7);
  // Over t = 1..16 the weights sum to 1.
  const all = paperFaithfulWeights([...Array(16)].map((_, i) => i + 1), 0.7, 16);
  assert.ok(Math.abs(all.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  const off = lossWeighting({ mode: 'off', decay: 0.7 }, [5], [6], 16);
  assert.deepEqual(off, { scale: 1 });
});

test('gradient variance V = mean ||g_k - g||^2 / ||g||^2: hand-computed, and on synthetic gradients with a known variance', () => {
  // g1 = (1, 0), g2 = (3, 0): mean (2, 0); spread (1 + 1)/2 = 1; ||mean||^2 = 4 -> 0.25.
  assert.equal(relativeGradientVariance([[1, 0], [3, 0]]), 0.25);
  // g_k = mu + sigma z, P = 20000 dims, K = 8: E||g_k - mean||^2 = (K-1)/K P sigma^2.
  const rng = new Rng(5);
  const P = 20000, K = 8, sigma = 0.5;
  const mu = Float64Array.from({ length: P }, () => rng.normal());
  const gs = [...Array(K)].map(() => Float64Array.from(mu, (m) => m + sigma * rng.normal()));
  const muSq = mu.reduce((a, m) => a + m * m, 0);
  const expected = ((K - 1) / K) * P * sigma * sigma / (muSq + (P * sigma * sigma) / K);
  const v = relativeGradientVariance(gs);
  assert.ok(Math.abs(v - expected) / expected < 0.03, `V ${v} vs expected ${expected}`);
  // Scale invariance: a constant factor on every gradient (HSW code form) leaves V unchanged.
  const scaled = relativeGradientVariance(gs.map((g) => g.map((x) => 0.343 * x)));
  assert.ok(Math.abs(scaled - v) / v < 1e-9);
});

test('with the curriculum on, training steps run at reduced depth but every evaluation runs at the full depth', async () => {
  await selectBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'reclab-cgar-'));
  try {
    const p = presets['sudoku4']!;
    const config: RunConfig = {
      ...p, seed: 1, backend: 'cpu', checkpointEverySteps: 0,
      model: { ...p.model, hiddenSize: 8, layers: 1, hCycles: 3, lCycles: 6 },
      train: { ...p.train, steps: 10, batchSize: 8, microBatchSize: 8, haltMaxSteps: 2, curriculum: { enabled: true, boundaries: [0.3, 0.6] }, hsw: { mode: 'paper', decay: 0.7 } },
      data: { kind: 'generated-sudoku', side: 4, trainPuzzles: 30, trainBlanks: [4, 8], testBlanks: [4, 5], testPerBlank: 2, augment: true },
      eval: { everySteps: 2, puzzlesPerBlank: 1, batchSize: 16, gradientVarianceGroups: 2 },
    };
    const runDir = RunDirectory.create(join(dir, 'run'), { metadata: { runId: 'run', createdAt: new Date(0).toISOString(), backend: 'cpu', versions: {}, command: [] }, config });
    await runTraining({ runId: 'run', runDir, config, data: loadTaskData(config.data, config.seed), backend: 'cpu', resume: false, shouldStop: () => false });
    const events = readFileSync(join(dir, 'run', 'events.jsonl'), 'utf8').trim().split('\n').map((l) => parseEventLine(l) as TrainerEvent);
    const steps = events.filter((e): e is StepEvent => e.type === 'step');
    const evals = events.filter((e): e is EvalEvent => e.type === 'eval');
    const stages = events.filter((e): e is StageEvent => e.type === 'stage');
    assert.deepEqual(steps.map((s) => [s.hCycles, s.lCycles]), [[1, 2], [1, 2], [1, 2], [2, 4], [2, 4], [2, 4], [3, 6], [3, 6], [3, 6], [3, 6]]);
    assert.deepEqual(stages.map((s) => [s.step, s.hCycles, s.lCycles]), [[1, 1, 2], [4, 2, 4], [7, 3, 6]]);
    // Steps 2 and 4 are evaluated in stages 1 and 2 (at reduced training depth): still (3, 6).
    assert.deepEqual(evals.map((e) => [e.step, e.hCycles, e.lCycles]), [[2, 3, 6], [4, 3, 6], [6, 3, 6], [8, 3, 6], [10, 3, 6]]);
    // Forward FLOPs follow the depth: a (1,2) step does 3/21 of a (3,6) step's network calls.
    const perCall = (steps[6]!.flopsForward - steps[0]!.flopsForward) / (21 - 3);
    assert.ok(Math.abs(steps[3]!.flopsForward - steps[0]!.flopsForward - (10 - 3) * perCall) < 1e-6 * steps[6]!.flopsForward);
    assert.ok(evals.every((e) => typeof e.gradientVariance === 'number' && e.gradientVariance > 0));
    assert.ok(evals.every((e) => e.earlyExit.meanSteps >= 1 && e.earlyExit.meanSteps <= 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
