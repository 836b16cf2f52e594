// A run stopped after step 4 and resumed ends bit-identical to an uninterrupted run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../trainer/backend';
import { runTraining } from '../../trainer/trainingRun';
import { loadTaskData } from '../../trainer/data/taskData';
import { RunDirectory } from '../../trainer/run/runDirectory';
import { readCheckpointFile } from '../../trainer/run/checkpointFile';
import { assertBitIdenticalCheckpoints } from './checkpointComparison';
import { parseEventLine, type TrainerEvent } from '../../protocol/events';
import { presets } from '../../protocol/presets';
import type { RunConfig } from '../../protocol/config';

test.before(async () => { await selectBackend('cpu'); });
const dir = mkdtempSync(join(tmpdir(), 'reclab-resume-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const base = presets['sudoku4']!;
const config: RunConfig = {
  ...base,
  seed: 3,
  backend: 'cpu',
  checkpointEverySteps: 4,
  model: { ...base.model, hiddenSize: 8, layers: 1, hCycles: 2, lCycles: 1 },
  // Two micro-batches, and a short warm-up so the learning rate changes across the stop.
  train: { ...base.train, steps: 8, batchSize: 8, microBatchSize: 4, haltMaxSteps: 3, lrWarmupSteps: 6, haltExplorationProb: 0.5 },
  data: { kind: 'generated-sudoku', side: 4, trainPuzzles: 50, trainBlanks: [4, 10], testBlanks: [4, 6], testPerBlank: 2, augment: true },
  eval: { everySteps: 0, puzzlesPerBlank: 1, batchSize: 16, gradientVarianceGroups: 0 },
};

function events(runPath: string): TrainerEvent[] {
  return readFileSync(join(runPath, 'events.jsonl'), 'utf8').trim().split('\n').map((line) => {
    const e = parseEventLine(line);
    assert.ok(!('error' in e && !('type' in e)), `bad line ${line}`);
    return e as TrainerEvent;
  });
}

test('stop after step 4 + resume gives the same final checkpoint, bit for bit, as an uninterrupted run', async () => {
  const data = loadTaskData(config.data, config.seed);
  const create = (name: string) => RunDirectory.create(join(dir, name), {
    metadata: { runId: name, createdAt: new Date(0).toISOString(), backend: 'cpu', versions: {}, command: [] }, config,
  });

  const a = create('A');
  const sa = await runTraining({ runId: 'A', runDir: a, config, data, backend: 'cpu', resume: false, shouldStop: () => false });
  assert.equal(sa.status, 'completed');
  assert.equal(sa.steps, 8);

  const b = create('B');
  let polls = 0;
  const sb1 = await runTraining({ runId: 'B', runDir: b, config, data, backend: 'cpu', resume: false, shouldStop: () => ++polls >= 4 });
  assert.equal(sb1.status, 'stopped');
  assert.equal(sb1.steps, 4);
  assert.equal(b.latestCheckpoint()?.step, 4);
  const sb2 = await runTraining({ runId: 'B', runDir: b, config, data, backend: 'cpu', resume: true, shouldStop: () => false });
  assert.equal(sb2.status, 'completed');
  assert.equal(sb2.steps, 8);

  const [finalA, finalB] = assertBitIdenticalCheckpoints(a.checkpointPath(8), b.checkpointPath(8));
  const metaA = finalA.meta as { step: number; emaUpdates: number; haltRng: unknown; stream: unknown };
  const metaB = finalB.meta as typeof metaA;
  assert.deepEqual([metaB.step, metaB.emaUpdates, metaB.haltRng, metaB.stream], [metaA.step, metaA.emaUpdates, metaA.haltRng, metaA.stream]);
  // Training moved the weights (the comparison is not of two untouched initialisations).
  const checkpoint4 = readCheckpointFile(b.checkpointPath(4));
  const w4 = checkpoint4.arrays.get('param/lm_head')!.data, w8 = finalA.arrays.get('param/lm_head')!.data;
  assert.ok(w4.some((v, i) => v !== w8[i]));

  // The step metrics of steps 5..8 match too (losses are computed from identical states).
  const stepsA = events(a.path).filter((e) => e.type === 'step');
  const evB = events(b.path);
  const stepsB = evB.filter((e) => e.type === 'step');
  assert.deepEqual(stepsA.map((e) => e.step), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(stepsB.map((e) => e.step), [1, 2, 3, 4, 5, 6, 7, 8]);
  const losses = (es: TrainerEvent[]) => es.map((e) => (e.type === 'step' ? [e.lmLoss, e.qHaltLoss, e.lr, e.haltedRows] : []));
  assert.deepEqual(losses(stepsB), losses(stepsA));

  const starts = evB.filter((e) => e.type === 'run_start');
  assert.deepEqual(starts.map((e) => e.type === 'run_start' && [e.resumed, e.startStep]), [[false, 0], [true, 4]]);
  const dones = evB.filter((e) => e.type === 'done');
  assert.deepEqual(dones.map((e) => e.type === 'done' && e.status), ['stopped', 'completed']);
});
