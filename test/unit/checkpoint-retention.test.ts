// Checkpoint retention (train.checkpoints): the newest keepLast plus the best evaluation's; an
// evaluation that sets a new best writes a checkpoint at its step; pruning touches only complete
// checkpoints of the run (not temporary files, not checkpoints/superseded-*/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../trainer/backend';
import { loadTaskData } from '../../trainer/data/taskData';
import { RunDirectory } from '../../trainer/run/runDirectory';
import { runTraining } from '../../trainer/trainingRun';
import { parseEventLine, type TrainerEvent } from '../../protocol/events';
import { presets } from '../../protocol/presets';
import type { RunConfig } from '../../protocol/config';

test.before(async () => { await selectBackend('cpu'); });
const dir = mkdtempSync(join(tmpdir(), 'reclab-retention-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const meta = (id: string) => ({ metadata: { runId: id, createdAt: new Date(0).toISOString(), backend: 'cpu', versions: {}, command: [] }, config: presets['sudoku4']! });

test('pruneCheckpoints keeps the newest N and the given step; keepLast 0 keeps all; other files are left alone', () => {
  const run = RunDirectory.create(join(dir, 'prune'), meta('prune'));
  const ck = join(run.path, 'checkpoints');
  for (let s = 1; s <= 6; s++) writeFileSync(run.checkpointPath(s), `${s}`);
  writeFileSync(join(ck, 'step-0000007.ckpt.tmp-1'), 'partial');
  mkdirSync(join(ck, 'superseded-x'));
  writeFileSync(join(ck, 'superseded-x', 'step-0000009.ckpt'), 'old');
  assert.deepEqual(run.pruneCheckpoints(0, undefined), []);
  assert.deepEqual(run.pruneCheckpoints(2, 2).map((c) => c.step), [1, 3, 4]);
  assert.deepEqual(readdirSync(ck).sort(), ['step-0000002.ckpt', 'step-0000005.ckpt', 'step-0000006.ckpt', 'step-0000007.ckpt.tmp-1', 'superseded-x']);
  // The newest is always kept, even with keepLast 1 and a best elsewhere.
  assert.deepEqual(run.pruneCheckpoints(1, 2).map((c) => c.step), [5]);
  assert.deepEqual(run.checkpoints().map((c) => c.step), [2, 6]);
  assert.deepEqual(readdirSync(join(ck, 'superseded-x')), ['step-0000009.ckpt']);
});

test('a run keeps its last checkpoint plus the best evaluation\'s, written when that evaluation set the best', async () => {
  const base = presets['sudoku4']!;
  const config: RunConfig = {
    ...base, seed: 2, backend: 'cpu', checkpointEverySteps: 0,
    model: { ...base.model, hiddenSize: 8, layers: 1, hCycles: 1, lCycles: 1 },
    train: { ...base.train, steps: 9, batchSize: 8, microBatchSize: 8, haltMaxSteps: 2, lr: 0.02, lrWarmupSteps: 1, checkpoints: { keepLast: 1 } },
    data: { kind: 'generated-sudoku', side: 4, trainPuzzles: 30, trainBlanks: [4, 6], testBlanks: [4, 5], testPerBlank: 4, augment: true },
    eval: { everySteps: 2, puzzlesPerBlank: 4, batchSize: 16, gradientVarianceGroups: 0 },
    refinement: { ...base.refinement, everySteps: 0 },
  };
  const run = RunDirectory.create(join(dir, 'best'), { ...meta('best'), config });
  const s = await runTraining({ runId: 'best', runDir: run, config, data: loadTaskData(config.data, config.seed), backend: 'cpu', resume: false, shouldStop: () => false });
  assert.equal(s.status, 'completed');
  const events = readFileSync(join(run.path, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => parseEventLine(l) as TrainerEvent);
  // New bests, from the eval events alone: strictly above every earlier evaluation.
  const newBests: number[] = [];
  let best = -1;
  for (const e of events) if (e.type === 'eval' && e.exactAccuracy > best) { best = e.exactAccuracy; newBests.push(e.step); }
  const written = events.filter((e) => e.type === 'checkpoint').map((e) => e.step);
  const periodicBests = newBests.filter((st) => st !== 9);
  assert.deepEqual(written, [...periodicBests, 9], 'a checkpoint at every new best, and the final one');
  const bestStep = newBests.at(-1)!;
  assert.deepEqual(run.checkpoints().map((c) => c.step), [...new Set([bestStep, 9])].sort((a, b) => a - b));
});
