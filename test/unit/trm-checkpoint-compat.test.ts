// A TRM run directory written by the code BEFORE the recursive-model interface (commit 6922cc5,
// test/fixtures/trm-run-6922cc5: D=8, 1 layer, 4 steps on the cpu backend, checkpoints at
// steps 2 and 4) still works with the current code: resuming from its step-2 checkpoint
// reproduces the old run's steps 3 and 4 exactly, evaluating its step-4 checkpoint gives the
// old run's final evaluation, and it exports to ONNX and inspects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runConfigSchema } from '../../protocol/config';
import { builtCli } from './builtCli';

const fixture = resolve(__dirname, '../fixtures/trm-run-6922cc5');
const { dir, reclab } = builtCli('reclab-trm-compat-', 180_000);

interface Event { type: string; step: number; scope?: string; [k: string]: unknown }
const events = (runDir: string): Event[] => readFileSync(join(runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Event);
const old = events(fixture);

test('resuming the old run from its step-2 checkpoint reproduces its steps 3 and 4 bit for bit', () => {
  const run = join(dir, 'resumed');
  cpSync(fixture, run, { recursive: true });
  const r = reclab('resume', run, '--checkpoint', join(run, 'checkpoints/step-0000002.ckpt'), '--backend', 'cpu', '--quiet');
  assert.equal(r.code, 0, r.stderr);
  const wantSteps = old.filter((e) => e.type === 'step' && e.step > 2);
  const gotSteps = events(run).filter((e) => e.type === 'step' && e.step > 2).slice(-2);
  assert.deepEqual(gotSteps.map((e) => e.step), [3, 4]);
  for (const [i, want] of wantSteps.entries()) {
    for (const k of ['lmLoss', 'qHaltLoss', 'gradNorm', 'flopsForward', 'flopsBackward'] as const) {
      assert.equal(gotSteps[i]![k], want[k], `step ${want.step} ${k}`);
    }
    assert.equal(gotSteps[i]!['modelStats'], undefined, 'TRM declares no model statistics');
  }
});

test('evaluating the old step-4 checkpoint gives the old final evaluation; export and inspect work', () => {
  const run = join(dir, 'evaluated');
  cpSync(fixture, run, { recursive: true });
  const r = reclab('eval', run, '--backend', 'cpu', '--json');
  assert.equal(r.code, 0, r.stderr);
  const got = JSON.parse(r.stdout.trim().split('\n').pop()!) as Event;
  const want = old.find((e) => e.type === 'eval' && e.scope === 'final')!;
  for (const k of ['step', 'puzzles', 'exactAccuracy', 'tokenAccuracy', 'qHaltAccuracy', 'byBlanks', 'earlyExit'] as const) {
    assert.deepEqual(got[k], want[k], k);
  }

  const e = reclab('export', run);
  assert.equal(e.code, 0, e.stderr);
  assert.ok(existsSync(join(run, 'model.onnx')));
  const i = reclab('inspect', run, '--held-out', '2', '--perturbations', '1', '--power-iterations', '2', '--steps', '3', '--json', '--quiet');
  assert.equal(i.code, 0, i.stderr);
  const report = JSON.parse(i.stdout) as { contract?: { arch?: string }; model?: { arch?: string } };
  assert.match(JSON.stringify(report), /"arch":"trm"/);
});

test('a run config without model.arch (written before HRM existed) means TRM', () => {
  const { config } = JSON.parse(readFileSync(join(fixture, 'config.json'), 'utf8')) as { config: { model: Record<string, unknown> } };
  delete config.model['arch'];
  const parsed = runConfigSchema.safeParse(config);
  assert.ok(parsed.success, parsed.success ? '' : parsed.error.message);
  assert.equal(parsed.data.model.arch, 'trm');
});
