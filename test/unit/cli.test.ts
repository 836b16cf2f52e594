// The built CLI (dist/trainer/cli.js, from `npm run build`) as a child process: bad input fails
// before any run directory exists, with messages that name the file and the field or line; a
// tiny training run leaves a complete run directory; eval prints an eval event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEventLine, type TrainerEvent } from '../../protocol/events';
import type { RunConfigFile } from '../../trainer/run/runDirectory';
import type { RunSummary } from '../../protocol/runDirectory';
import { builtCli, cli } from './builtCli';

const { dir, reclab, write } = builtCli('reclab-cli-');

const tiny = {
  extends: 'sudoku4', seed: 1, checkpointEverySteps: 0,
  model: { hiddenSize: 8, layers: 1, hCycles: 1, lCycles: 1 },
  train: { batchSize: 4, microBatchSize: 4, haltMaxSteps: 2 },
  data: { trainPuzzles: 20, testBlanks: [4, 5], testPerBlank: 2 },
  eval: { everySteps: 0, puzzlesPerBlank: 1, batchSize: 8, gradientVarianceGroups: 2 },
};

test('the CLI bundle exists (run `npm run build` first)', () => {
  assert.ok(existsSync(cli), `${cli} is missing`);
});

test('a config file with an unknown field: exit 2, stderr names file and field, no run directory', () => {
  const path = write('unknown-field.reclab.json', { ...tiny, model: { ...tiny.model, hiddenSise: 8 } });
  const runDir = join(dir, 'run-unknown-field');
  const r = reclab('train', '--config', path, '--run-dir', runDir, '--backend', 'cpu');
  assert.equal(r.code, 2, r.stderr);
  assert.ok(r.stderr.includes(path), r.stderr);
  assert.ok(r.stderr.includes('model.hiddenSise'), r.stderr);
  assert.equal(existsSync(runDir), false);
});

test('a bad flag value: exit 2 with the usage, no run directory', () => {
  const runDir = join(dir, 'run-bad-flag');
  const r = reclab('train', '--config', write('ok.reclab.json', tiny), '--run-dir', runDir, '--steps', '0');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--steps/);
  assert.match(r.stderr, /usage/);
  assert.equal(existsSync(runDir), false);
});

test('a malformed CSV data file: non-zero exit, file:line in the message, no run directory', () => {
  const puzzle = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';
  const solution = '534678912672195348198342567859761423426853791713924856961537284287419635345286179';
  const broken = '534678912672195348198342567859761423426853791713924856961537284287419635345286177'; // last digit repeated
  write('train.csv', ['source,question,answer,rating', `a,${puzzle},${solution},0`, `b,${puzzle},${broken},0`, ''].join('\n'));
  write('test.csv', ['source,question,answer,rating', `a,${puzzle},${solution},0`, ''].join('\n'));
  const path = write('csv.reclab.json', { ...tiny, data: { kind: 'sudoku-csv', trainFile: 'train.csv', testFile: 'test.csv', augmentationsPerPuzzle: 0 } });
  const runDir = join(dir, 'run-csv');
  const r = reclab('train', '--config', path, '--run-dir', runDir, '--backend', 'cpu');
  assert.notEqual(r.code, 0);
  assert.ok(r.stderr.includes(`${join(dir, 'train.csv')}:3:`), r.stderr);
  assert.equal(existsSync(runDir), false);
});

test('train --steps 3 on a tiny config leaves a complete run directory; eval --json prints an eval event', () => {
  const path = write('tiny.reclab.json', tiny);
  const runDir = join(dir, 'run-ok');
  const r = reclab('train', '--config', path, '--run-dir', runDir, '--steps', '3', '--backend', 'cpu', '--quiet');
  assert.equal(r.code, 0, r.stderr);

  const file = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as RunConfigFile;
  assert.equal(file.metadata.backend, 'cpu');
  assert.equal(typeof file.metadata.versions['@tensorflow/tfjs-core'], 'string');
  assert.equal(file.metadata.versions['node'], process.versions.node);
  assert.equal(file.metadata.configFile, path);
  assert.equal(file.config.train.steps, 3);
  assert.equal(file.config.model.hiddenSize, 8);
  assert.equal(file.config.backend, 'cpu');

  const lines = readFileSync(join(runDir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
  const events = lines.map((l) => {
    const e = parseEventLine(l);
    assert.ok('type' in e, `line parses: ${l}`);
    return e as TrainerEvent;
  });
  assert.deepEqual(events.map((e) => e.type), ['run_start', 'stage', 'step', 'step', 'step', 'eval', 'refinement', 'checkpoint', 'done']);
  assert.deepEqual(events.filter((e) => e.type === 'step').map((e) => e.step), [1, 2, 3]);
  const evalEvent = events.find((e) => e.type === 'eval');
  assert.ok(evalEvent?.type === 'eval' && evalEvent.scope === 'final' && evalEvent.step === 3);
  const ckpt = events.find((e) => e.type === 'checkpoint');
  assert.ok(ckpt?.type === 'checkpoint' && ckpt.path === 'checkpoints/step-0000003.ckpt');
  const done = events.at(-1);
  assert.ok(done?.type === 'done' && done.status === 'completed' && done.step === 3);
  assert.ok(existsSync(join(runDir, 'checkpoints', 'step-0000003.ckpt')));
  const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
  assert.equal(summary.status, 'completed');
  assert.equal(summary.steps, 3);
  assert.equal(summary.finalEval?.exactAccuracy, evalEvent.exactAccuracy);

  const ev = reclab('eval', runDir, '--json', '--backend', 'cpu');
  assert.equal(ev.code, 0, ev.stderr);
  const out = ev.stdout.trim().split('\n');
  assert.equal(out.length, 1);
  const e = parseEventLine(out[0]!);
  assert.ok('type' in e && e.type === 'eval', ev.stdout);
  assert.equal(e.step, 3);
  assert.equal(e.puzzles, evalEvent.puzzles);
  // The same weights on the same test set score the same.
  assert.equal(e.exactAccuracy, evalEvent.exactAccuracy);
  assert.equal(e.tokenAccuracy, evalEvent.tokenAccuracy);

  // train refuses an existing run directory.
  const again = reclab('train', '--config', path, '--run-dir', runDir, '--steps', '3', '--backend', 'cpu', '--quiet');
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /already holds a run/);
});
