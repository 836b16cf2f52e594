// The Runs table: rows read from real run directories (config.json, summary.json, annotations.json,
// events.jsonl) through the real RunRegistry, the config fields that differ, the webview's sorting,
// filtering and parallel-coordinates positions, and the typed messages both ways. Expected values
// are written by hand from the files the test writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvalEvent, StepEvent } from '../../protocol/events';
import { parseFromRunsTableMessage, parseToRunsTableMessage, runsTableStateOf, type RunRow } from '../../protocol/runsTableMessages';
import { RunRegistry } from '../../extension/runs/runRegistry';
import { armOf, differingFields, flattenConfig, runTableRows } from '../../extension/runs/runTableRows';
import { compactNumber, filterRows, formatSeconds, parallelAxes, sortRows, tableColumns, withNumericConfig } from '../../webview/runs-table/tableModel';

test('config fields that differ: dotted paths, a field some runs lack counts, name and seed excluded', () => {
  const a = flattenConfig({ name: 'a', seed: 0, model: { hiddenSize: 32, hCycles: 3 }, train: { lr: 1e-3, hsw: { mode: 'paper' }, boundaries: [0.3, 0.6] } });
  const b = flattenConfig({ name: 'b', seed: 1, model: { hiddenSize: 32, hCycles: 2 }, train: { lr: 1e-3, boundaries: [0.3, 0.6] } });
  assert.deepEqual(a, { name: 'a', seed: 0, 'model.hiddenSize': 32, 'model.hCycles': 3, 'train.lr': 1e-3, 'train.hsw.mode': 'paper', 'train.boundaries': '[0.3,0.6]' });
  assert.deepEqual(differingFields([a, b]), ['model.hCycles', 'train.hsw.mode']);
  assert.deepEqual(differingFields([a]), []);
  assert.equal(armOf('pdc-seed0'), 'pdc');
  assert.equal(armOf('cgar-code-seed12'), 'cgar-code');
  assert.equal(armOf('my-run'), undefined);
});

const step = (n: number, sps: number): StepEvent => ({
  v: 1, time: 1_700_000_000_000 + 1000 * n, type: 'step', step: n, lmLoss: 1, qHaltLoss: 0.5, tokenAccuracy: 0.5, exactAccuracy: null,
  qHaltAccuracy: 0.9, meanHaltSteps: null, haltedRows: 0, lr: 1e-3, gradNorm: 1, samplesPerSecond: sps, flopsForward: 1, flopsBackward: 2,
  hCycles: 2, lCycles: 2, stage: 0, stepSeconds: 0.1, gradVarianceRunning: 0.5, lossScale: 1,
});
const evalAt = (n: number, exact: number): EvalEvent => ({
  v: 1, time: 1_700_000_000_000 + 1000 * n, type: 'eval', step: n, scope: 'periodic', puzzles: 10, exactAccuracy: exact, tokenAccuracy: 0.5,
  qHaltAccuracy: 0.9, byBlanks: [], seconds: 0.1, hCycles: 2, lCycles: 2, earlyExit: { meanSteps: 2, exactAccuracy: 0, qHaltAccuracy: 0.9 },
  gradientVariance: null, trainSeconds: n, flopsForwardTotal: 100 * n, flopsBackwardTotal: 200 * n,
});

function writeRun(dir: string, o: { config: object; engine?: string; summary?: object; tags?: string[] | string; sps: number[]; evals: [number, number][] }): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ metadata: { runId: dir.split('/').pop(), preset: 'sudoku4-hard', backend: 'wasm', ...(o.engine ? { engine: o.engine } : {}) }, config: o.config }));
  const lines = [...o.sps.map((s, i) => step(i + 1, s)), ...o.evals.map(([n, x]) => evalAt(n, x))];
  writeFileSync(join(dir, 'events.jsonl'), lines.map((e) => JSON.stringify(e)).join('\n') + '\n');
  if (o.summary) writeFileSync(join(dir, 'summary.json'), JSON.stringify(o.summary));
  if (o.tags !== undefined) writeFileSync(join(dir, 'annotations.json'), typeof o.tags === 'string' ? o.tags : JSON.stringify({ v: 1, tags: o.tags, note: '' }));
}

test('rows of a sweep read from its run directories: engine, arm, seed, differing fields, figures, tags', async () => {
  const root = mkdtempSync(join(tmpdir(), 'reclab-table-'));
  const sweep = join(root, 'ablation-20260101-000000');
  const base = { name: 'x', seed: 0, model: { hiddenSize: 32 }, train: { steps: 3, curriculum: { enabled: false } } };
  writeRun(join(sweep, 'baseline-seed0'), {
    config: { ...base, name: 'baseline-seed0' }, tags: ['keep', 'v2'], sps: [100, 300, 200], evals: [[3, 0.25]],
    summary: { runId: 'b', status: 'completed', steps: 3, wallSeconds: 42.5, backend: 'wasm', finalEval: { exactAccuracy: 0.2, tokenAccuracy: 0.6, byBlanks: [] }, bestExactAccuracy: 0.25, flopsForwardTotal: 1e9, flopsBackwardTotal: 2e9 },
  });
  writeRun(join(sweep, 'pdc-seed1'), {
    config: { ...base, name: 'pdc-seed1', seed: 1, train: { steps: 3, curriculum: { enabled: true } } }, engine: 'torch', tags: 'not json', sps: [50, 70], evals: [[2, 0.5]],
  });
  const registry = new RunRegistry({ roots: () => [root], log: { info() {}, warn() {}, error() {} }, staleAfterMs: 1e12 });
  try {
    await registry.poll();
    const runs = registry.runs.filter((r) => r.group === sweep).sort((a, b) => a.key.localeCompare(b.key));
    assert.equal(runs.length, 2);
    const { fields, rows, problems } = await runTableRows(runs);
    assert.deepEqual(fields, ['train.curriculum.enabled']);
    const [b, p] = rows as [RunRow, RunRow];
    assert.deepEqual(
      { name: b.name, status: b.status, preset: b.preset, engine: b.engine, arm: b.arm, seed: b.seed, config: b.config, finalExact: b.finalExact, bestExact: b.bestExact, steps: b.steps, wallSeconds: b.wallSeconds, flops: b.flops, samplesPerSecond: b.samplesPerSecond, tags: b.tags },
      { name: 'baseline-seed0', status: 'completed', preset: 'sudoku4-hard', engine: 'tfjs', arm: 'baseline', seed: 0, config: { 'train.curriculum.enabled': false }, finalExact: 0.2, bestExact: 0.25, steps: 3, wallSeconds: 42.5, flops: 3e9, samplesPerSecond: 200, tags: ['keep', 'v2'] },
    );
    // No summary (still training): the figures come from its events; the median of 50 and 70 samples/s is 60.
    assert.equal(p.engine, 'torch');
    assert.equal(p.arm, 'pdc');
    assert.equal(p.seed, 1);
    assert.equal(p.finalExact, undefined);
    assert.equal(p.bestExact, 0.5);
    assert.equal(p.flops, 600);
    assert.equal(p.samplesPerSecond, 60);
    assert.deepEqual(p.tags, []);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /pdc-seed1\/annotations\.json: not valid JSON/);
    // What the host sends passes the webview's parser.
    const parsed = parseToRunsTableMessage(JSON.parse(JSON.stringify({ type: 'rows', title: 't', scope: sweep, fields, rows })));
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  } finally {
    registry.dispose();
  }
});

const row = (name: string, o: Partial<RunRow> = {}): RunRow => ({ key: `/r/${name}`, name, status: 'completed', engine: 'tfjs', config: {}, tags: [], ...o });

test('sorting: numbers numerically, missing values last in both directions, ties by name', () => {
  const rows = [row('a', { finalExact: 0.5 }), row('b'), row('c', { finalExact: 0.9 }), row('d', { finalExact: 0.05 })];
  const col = tableColumns([]).find((c) => c.id === 'finalExact')!;
  assert.deepEqual(sortRows(rows, col, true).map((r) => r.name), ['c', 'a', 'd', 'b']);
  assert.deepEqual(sortRows(rows, col, false).map((r) => r.name), ['d', 'a', 'c', 'b']);
  const name = tableColumns([]).find((c) => c.id === 'name')!;
  assert.deepEqual(sortRows([row('run10'), row('run9'), row('run1')], name, false).map((r) => r.name), ['run1', 'run9', 'run10']);
});

test('filtering: free text in any cell, column=value, column>n, all terms must match', () => {
  const rows = [
    row('baseline-seed0', { arm: 'baseline', finalExact: 0.4, config: { 'train.lr': 0.001 }, tags: ['keep'] }),
    row('pdc-seed0', { arm: 'pdc', finalExact: 0.7, config: { 'train.lr': 0.003 } }),
    row('pdc-seed1', { arm: 'pdc', finalExact: 0.2, status: 'failed', config: { 'train.lr': 0.003 } }),
  ];
  const cols = withNumericConfig(tableColumns(['train.lr']), rows);
  const names = (f: string) => filterRows(rows, cols, f).map((r) => r.name);
  assert.deepEqual(names(''), ['baseline-seed0', 'pdc-seed0', 'pdc-seed1']);
  assert.deepEqual(names('arm=pdc'), ['pdc-seed0', 'pdc-seed1']);
  assert.deepEqual(names('arm=pdc finalExact>0.5'), ['pdc-seed0']);
  assert.deepEqual(names('train.lr<0.002'), ['baseline-seed0']);
  assert.deepEqual(names('lr=0.003 failed'), ['pdc-seed1']);
  assert.deepEqual(names('keep'), ['baseline-seed0']);
  assert.ok(cols.find((c) => c.id === 'config.train.lr')!.numeric, 'a config field of numbers is numeric');
});

test('parallel coordinates: numeric axes span min..max, categorical axes their sorted values', () => {
  const rows = [row('a', { arm: 'pdc', finalExact: 0.2 }), row('b', { arm: 'baseline', finalExact: 0.6 }), row('c', { arm: 'cgar', finalExact: 0.4 })];
  const axes = parallelAxes(tableColumns([]), rows);
  const arm = axes.find((a) => a.column.id === 'arm')!;
  assert.deepEqual(arm.categories, ['baseline', 'cgar', 'pdc']);
  assert.deepEqual(rows.map((r) => arm.position(r)), [1, 0, 0.5]);
  const exact = axes.find((a) => a.column.id === 'finalExact')!;
  assert.deepEqual([exact.min, exact.max], [0.2, 0.6]);
  assert.ok(Math.abs(exact.position(rows[2]!)! - 0.5) < 1e-12);
  assert.equal(axes.find((a) => a.column.id === 'bestExact'), undefined, 'no run has a value: no axis');
  assert.ok(!axes.some((a) => a.column.id === 'name'));
});

test('cell formats', () => {
  assert.equal(compactNumber(1234567), '1,234,567');
  assert.equal(compactNumber(0.00123), '0.00123');
  assert.equal(compactNumber(0.000123), '1.23e-4');
  assert.equal(compactNumber(2.5e13), '2.50e13');
  assert.equal(compactNumber(0.125), '0.125');
  assert.equal(formatSeconds(42.46), '42.5 s');
  assert.equal(formatSeconds(600), '10.0 min');
  assert.equal(formatSeconds(9000), '2.50 h');
  const cols = tableColumns([]);
  assert.equal(cols.find((c) => c.id === 'finalExact')!.format(0.4567), '45.7 %');
  assert.equal(cols.find((c) => c.id === 'flops')!.format(3e9), '3 G');
});

test('runs table messages: malformed ones are rejected with a reason; state defaults', () => {
  const good = { type: 'rows', title: 't', fields: ['model.hCycles'], rows: [row('a', { config: { 'model.hCycles': 3 } })] };
  assert.ok(parseToRunsTableMessage(good).ok);
  const bad: [unknown, RegExp][] = [
    [{ ...good, rows: [row('a', { config: { 'train.lr': 1 } })] }, /config\.train\.lr is not one of the fields/],
    [{ ...good, rows: [row('a', { finalExact: NaN })] }, /finalExact is not a finite number/],
    [{ ...good, rows: [{ ...row('a'), status: 'paused' }] }, /status is not a run status/],
    [{ ...good, rows: [{ ...row('a'), extra: 1 }] }, /unexpected field "extra"/],
    [{ ...good, type: 'cells' }, /unknown message type/],
  ];
  for (const [m, re] of bad) {
    const r = parseToRunsTableMessage(m);
    assert.ok(!r.ok && re.test(r.error), `${JSON.stringify(m).slice(0, 120)} -> ${r.ok ? 'accepted' : r.error}`);
  }
  assert.deepEqual(parseFromRunsTableMessage({ type: 'overlay', keys: ['/r/a', '/r/b'] }), { ok: true, message: { type: 'overlay', keys: ['/r/a', '/r/b'] } });
  assert.ok(!parseFromRunsTableMessage({ type: 'overlay', keys: [] }).ok);
  assert.deepEqual(runsTableStateOf(null), { sortColumn: 'name', sortDescending: false, filter: '', selected: [] });
  assert.deepEqual(runsTableStateOf({ scope: '/w/runs/s', sortColumn: 'finalExact', sortDescending: true, filter: 'arm=pdc', selected: ['/r/a', 3] }),
    { scope: '/w/runs/s', sortColumn: 'finalExact', sortDescending: true, filter: 'arm=pdc', selected: ['/r/a'] });
});
