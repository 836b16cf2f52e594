// Equilibrium internalisation through the built CLI on both engines: a tiny trm-deq run with
// eval.internalisation.iterations [0, 100] reports, in every eval event, the cap-0 row and a cap-100
// row equal to the full evaluation (100 >= maxIter: nothing lost); `reclab eval` prints the same
// figures (JSON and text); a non-DEQ config with the field is refused before a run directory exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEventLine, type EvalEvent, type TrainerEvent } from '../../protocol/events';
import { builtCli } from './builtCli';

const { dir, reclab, write } = builtCli('reclab-deq-internalisation-', 240_000);
const python = execFileSync('bash', [resolve(__dirname, '../setup/python-env.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;

const tiny = (engine: 'tfjs' | 'torch') => ({
  extends: 'attractor-sudoku4', engine, seed: 1, checkpointEverySteps: 0,
  model: { hiddenSize: 8, layers: 1, hCycles: 2, lCycles: 1, deq: { maxIter: 3, minIter: 1 } },
  train: { batchSize: 4, microBatchSize: 4, haltMaxSteps: 2 },
  data: { trainPuzzles: 20, testBlanks: [4, 5], testPerBlank: 3 },
  eval: { everySteps: 2, puzzlesPerBlank: 2, batchSize: 8, gradientVarianceGroups: 0, internalisation: { iterations: [0, 100] } },
  refinement: { everySteps: 0 },
});

const evalsOf = (runDir: string): EvalEvent[] => readFileSync(join(runDir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean)
  .map((l) => parseEventLine(l) as TrainerEvent).filter((e): e is EvalEvent => e.type === 'eval');

function checkRows(e: EvalEvent, where: string): void {
  const rows = e.internalisation;
  assert.ok(rows && rows.length === 2, `${where}: ${JSON.stringify(e)}`);
  assert.deepEqual(rows.map((r) => r.iterations), [0, 100]);
  for (const r of rows) {
    assert.ok(r.exactAccuracy >= 0 && r.exactAccuracy <= 1 && r.tokenAccuracy >= 0 && r.tokenAccuracy <= 1, where);
    assert.equal(r.exactLost, e.exactAccuracy - r.exactAccuracy, `${where}: exactLost`);
    assert.equal(r.tokenLost, e.tokenAccuracy - r.tokenAccuracy, `${where}: tokenLost`);
  }
  assert.equal(rows[1]!.exactAccuracy, e.exactAccuracy, `${where}: cap 100 >= maxIter is the full evaluation`);
  assert.equal(rows[1]!.tokenAccuracy, e.tokenAccuracy, `${where}: cap 100 token`);
}

for (const engine of ['tfjs', 'torch'] as const) {
  test(`${engine}: every eval event carries the internalisation rows; reclab eval prints them`, () => {
    const runDir = join(dir, `run-${engine}`);
    const r = reclab('train', '--config', write(`${engine}.reclab.json`, tiny(engine)), '--run-dir', runDir, '--steps', '4', '--backend', 'cpu', '--quiet', ...(engine === 'torch' ? ['--python', python] : []));
    assert.equal(r.code, 0, r.stderr);
    const evals = evalsOf(runDir);
    const at = evals.map((e) => `${e.scope}@${e.step}`);
    assert.ok(at[0] === 'periodic@2' && at.at(-1) === 'final@4', at.join());
    for (const e of evals) checkRows(e, `${engine} ${e.scope}@${e.step}`);
    // reclab eval (TF.js, whatever engine trained) on the final checkpoint: the same full figures, the same rows.
    const ev = reclab('eval', runDir, '--json', '--backend', 'cpu');
    assert.equal(ev.code, 0, ev.stderr);
    const e = parseEventLine(ev.stdout.trim()) as EvalEvent;
    checkRows(e, `${engine} reclab eval`);
    const final = evals.find((x) => x.scope === 'final')!;
    if (engine === 'tfjs') assert.deepEqual(e.internalisation, final.internalisation, 'the same weights and puzzles score the same');
    const text = reclab('eval', runDir, '--backend', 'cpu', '--internalisation', '0,1');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /solver capped at 0 iterations \(no solve\): exact \d+\.\d\d % \(lost -?\d+\.\d\d points\)/);
    assert.match(text.stdout, /solver capped at 1 iteration: exact/);
  });
}

test('eval.internalisation on a non-DEQ model: exit 2 naming the field, no run directory', () => {
  const runDir = join(dir, 'run-trm');
  const cfg = { ...tiny('tfjs'), extends: 'sudoku4', model: { hiddenSize: 8, layers: 1, hCycles: 1, lCycles: 1 } };
  const r = reclab('train', '--config', write('trm.reclab.json', cfg), '--run-dir', runDir, '--steps', '2', '--backend', 'cpu', '--quiet');
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /eval\.internalisation: only for a model with a fixed-point solve \(model\.arch "trm-deq" or "attractor"\)/);
  assert.equal(existsSync(runDir), false);
});
