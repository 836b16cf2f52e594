// An HRM run end to end through the built CLI: train a tiny HRM config (its step events carry
// modelStats.qContinueLoss), export it (the graph declares arch hrm, the H/L block counts and
// a q_continue output) and inspect it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtCli } from './builtCli';

const { dir, reclab, write } = builtCli('reclab-hrm-cli-', 240_000);

test('reclab train (HRM) -> export -> inspect', () => {
  const config = write('hrm.reclab.json', {
    extends: 'hrm-sudoku4', seed: 2, checkpointEverySteps: 0,
    model: { hiddenSize: 8, expansion: 2, hLayers: 2 },
    train: { steps: 3, batchSize: 8, microBatchSize: 4, haltMaxSteps: 3 },
    data: { kind: 'generated-sudoku', side: 4, trainPuzzles: 40, trainBlanks: [4, 8], testBlanks: [4, 5], testPerBlank: 2, augment: true },
    eval: { everySteps: 0, puzzlesPerBlank: 2, batchSize: 16, gradientVarianceGroups: 4 },
    refinement: { everySteps: 0, probePuzzles: 2, perCycle: true },
  });
  const run = join(dir, 'run');
  const t = reclab('train', '--config', config, '--run-dir', run, '--backend', 'cpu', '--quiet');
  assert.equal(t.code, 0, t.stderr);
  const steps = readFileSync(join(run, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; modelStats?: Record<string, number> })
    .filter((e) => e.type === 'step');
  assert.equal(steps.length, 3);
  for (const s of steps) assert.ok(s.modelStats && Number.isFinite(s.modelStats['qContinueLoss']) && s.modelStats['qContinueLoss']! > 0, JSON.stringify(s.modelStats));

  const e = reclab('export', run, '--json');
  assert.equal(e.code, 0, e.stderr);
  const i = reclab('inspect', run, '--held-out', '2', '--perturbations', '1', '--power-iterations', '2', '--steps', '3', '--json', '--quiet');
  assert.equal(i.code, 0, i.stderr);
  const report = JSON.stringify(JSON.parse(i.stdout));
  assert.match(report, /"arch":"hrm"/);
  assert.match(report, /"hasQContinue":true/);
});
