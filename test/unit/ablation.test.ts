// `reclab ablate` as a child process: bad requests are refused before anything starts, and an
// arm whose run fails is reported as failed while the other arms finish and are summarised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { checkSweepFile } from '../../protocol/sweepReportMessages';
import { sweepReportMessage } from '../../extension/runs/sweepReportFile';

const cli = resolve('dist/trainer/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'reclab-ablate-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [cli, 'ablate', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });

test('unknown arm, unknown preset and a bad seed count are refused before anything starts', () => {
  assert.ok(existsSync(cli), 'run `npm run build` first');
  const cases: [string[], RegExp][] = [
    [['--arms', 'baseline,warp', '--seeds', '2'], /unknown arm "warp"/],
    [['--preset', 'sudoku5', '--arms', 'baseline', '--seeds', '2'], /unknown preset "sudoku5"/],
    [['--arms', 'baseline', '--seeds', '0'], /--seeds/],
    [['--arms', 'baseline', '--seeds', 'two'], /--seeds/],
    [['--arms', 'baseline'], /--seeds/],
  ];
  for (const [i, [args, message]] of cases.entries()) {
    const out = join(dir, `refused-${i}`);
    const r = run([...args, '--out', out]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.ok(!existsSync(out), `${args.join(' ')} must not create ${out}`);
  }
});

test('a crashing arm is reported as failed; the other arms finish and are in ablation.json, the table and the HTML report', async () => {
  const config = join(dir, 'tiny.reclab.json');
  writeFileSync(config, JSON.stringify({
    extends: 'sudoku4-hard', backend: 'cpu', // not the default preset: the arms must still say which preset they are
    model: { hiddenSize: 8, layers: 1 },
    train: { batchSize: 8, microBatchSize: 8, haltMaxSteps: 2 },
    data: { trainPuzzles: 30, trainBlanks: [4, 6], testBlanks: [4, 5], testPerBlank: 2 },
    eval: { puzzlesPerBlank: 1, batchSize: 16, gradientVarianceGroups: 2 },
  }));
  const out = join(dir, 'sweep');
  const r = run(['--config', config, '--arms', 'baseline,pdc,hsw', '--seeds', '1', '--steps', '6', '--depth', '2,2', '--eval-every', '3', '--out', out], { RECLAB_FAULT_INJECT_ARMS: 'hsw' });
  assert.equal(r.status, 1, `a failed arm makes the sweep exit 1: ${r.stderr}`);
  const report = JSON.parse(readFileSync(join(out, 'ablation.json'), 'utf8'));
  const status = Object.fromEntries(report.runs.map((x: { arm: string; status: string }) => [x.arm, x.status]));
  assert.deepEqual(status, { baseline: 'completed', pdc: 'completed', hsw: 'failed' });
  const hsw = report.arms.find((a: { arm: string }) => a.arm === 'hsw');
  assert.equal(hsw.failed, 1);
  // The finished arms are complete run directories, and the PDC arm ran cheaper steps.
  for (const arm of ['baseline', 'pdc']) assert.ok(existsSync(join(out, `${arm}-seed0`, 'summary.json')));
  // Each arm's run records the sweep's preset (the runs tree labels the arms with it), not the default one.
  for (const arm of ['baseline', 'pdc']) assert.equal(JSON.parse(readFileSync(join(out, `${arm}-seed0`, 'config.json'), 'utf8')).metadata.preset, 'sudoku4-hard');
  const base = report.arms.find((a: { arm: string }) => a.arm === 'baseline');
  const pdc = report.arms.find((a: { arm: string }) => a.arm === 'pdc');
  assert.equal(base.speedupVsBaseline, 1);
  assert.ok(pdc.flopsRatioVsBaseline > 1, `PDC FLOP ratio ${pdc.flopsRatioVsBaseline}`);
  const table = readFileSync(join(out, 'ablation.md'), 'utf8');
  assert.match(table, /\| hsw \| 1 \(1\) \|/);
  assert.match(r.stdout, /\| baseline \| 1 \(0\) \|/);
  const html = readFileSync(join(out, 'ablation.html'), 'utf8');
  assert.equal((html.match(/<svg class="chart"/g) ?? []).length, 2);
  assert.match(html, /Failed runs[\s\S]*hsw seed 0: exit code 2/);
  // The extension's Sweep Report view shows the same table and plots, with the sweep's runs.
  const view = await sweepReportMessage(out);
  assert.equal(view.type, 'report', view.type === 'missing' ? view.message : '');
  if (view.type === 'report') {
    assert.equal((view.html.match(/<svg class="chart"/g) ?? []).length, 2);
    assert.ok(html.includes(view.html), 'the view shows the HTML report\'s content');
    assert.deepEqual(view.runKeys.map((k) => basename(k)).sort(), ['baseline-seed0', 'hsw-seed0', 'pdc-seed0']);
  }

  // --rerun-failed runs only the failed run again; the finished ones are kept as they are.
  const baselineSummary = readFileSync(join(out, 'baseline-seed0', 'summary.json'), 'utf8');
  const again = run(['--config', config, '--arms', 'baseline,pdc,hsw', '--seeds', '1', '--steps', '6', '--depth', '2,2', '--eval-every', '3', '--out', out, '--rerun-failed']);
  assert.equal(again.status, 0, again.stderr);
  const report2 = JSON.parse(readFileSync(join(out, 'ablation.json'), 'utf8'));
  assert.ok(report2.runs.every((x: { status: string }) => x.status === 'completed'));
  assert.equal(readFileSync(join(out, 'baseline-seed0', 'summary.json'), 'utf8'), baselineSummary);
  assert.match(readFileSync(join(out, 'ablation.md'), 'utf8'), /\| hsw \| 1 \(0\) \|/);
});

test('a sweep report view of a malformed or missing ablation.json says which field or file', async () => {
  const sweep = join(dir, 'broken-sweep');
  const missing = await sweepReportMessage(sweep);
  assert.equal(missing.type, 'missing');
  assert.match(missing.type === 'missing' ? missing.message : '', /broken-sweep\/ablation\.json: no report yet/);
  const good = {
    sweep: { preset: 'sudoku4', steps: 6, seeds: 1, depth: { hCycles: 2, lCycles: 2 }, target: 0.95, setting: 's' },
    arms: [{ arm: 'baseline', description: 'd', seeds: 1, failed: 0, finalExactMean: 0.5, stageStepSeconds: [] }],
    runs: [{ arm: 'baseline', seed: 0, runDir: '/r/baseline-seed0', status: 'completed', curve: [{ step: 3, trainSeconds: 1, flops: 10, exact: 0.5 }] }],
  };
  checkSweepFile(good);
  assert.throws(() => checkSweepFile({ ...good, sweep: { ...good.sweep, preset: 3 } }), /^Error: sweep.preset: expected a string/);
  assert.throws(() => checkSweepFile({ ...good, runs: [{ ...good.runs[0], curve: [{ step: 3 }] }] }), /runs\[0\]\.curve: expected an array of/);
  assert.throws(() => checkSweepFile({ ...good, arms: [{ ...good.arms[0], finalExactMean: 'high' }] }), /arms\[0\]\.finalExactMean: expected a number/);
  assert.throws(() => checkSweepFile({ ...good, runs: [{ ...good.runs[0], status: 'done' }] }), /runs\[0\]\.status/);
});
