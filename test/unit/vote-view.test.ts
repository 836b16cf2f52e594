// The Test-Time Scaling view's model (webview/vote/viewModel.ts) and its messages
// (protocol/voteMessages.ts) on a report built here by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ruleNames, type RuleName, type VoteReport, type VoteRow } from '../../protocol/voteReport';
import { checkVoteReport, parseFromVoteMessage, parseToVoteMessage } from '../../protocol/voteMessages';
import { votingRules } from '../../trainer/vote/votingRules';
import { curveSeries, summaryLine, tableLines } from '../../webview/vote/viewModel';

const acc = (base: number): Record<RuleName, number> => Object.fromEntries(ruleNames.map((r, i) => [r, Math.min(1, base + i / 100)])) as Record<RuleName, number>;
const row = (label: string, perturbations: number, checkpoints: number, runs: number, base: number): VoteRow => ({
  label, perturbations, checkpoints, runs, passesPerPuzzle: perturbations * checkpoints * runs, modelCallsPerPuzzle: 8 * perturbations * checkpoints * runs, accuracy: acc(base),
});

const report: VoteReport = {
  version: 1, createdAt: '2026-12-02T00:00:00Z', task: 'sudoku', puzzles: { count: 10, source: 'given' },
  perturbation: { kind: 'shift', names: ['identity', 'shift+1'] }, steps: 8,
  models: [{ model: 'a.onnx', runDirectory: null, run: 0, checkpoint: 0, step: null }, { model: 'b.onnx', runDirectory: null, run: 0, checkpoint: 1, step: null }],
  rules: votingRules.map((r) => ({ ...r })),
  table: [row('single model', 1, 1, 1, 0.5), row('+ perturbation', 2, 1, 1, 0.6), row('+ bootstrapping', 1, 2, 1, 0.55), row('+ both', 2, 2, 1, 0.7)],
  curve: [row('1 pass', 1, 1, 1, 0.5), row('2 relabellings', 2, 1, 1, 0.6), row('2 × 2', 2, 2, 1, 0.7)],
  depth: [{ step: 1, accuracy: 0.1 }, { step: 2, accuracy: 0.3 }, { step: 8, accuracy: 0.5 }],
  seconds: 2, stepCallsPerSecond: 320,
};

test('results table: one line per rule, a cell per table row in percent, the best column, the label-using rule marked', () => {
  const lines = tableLines(report);
  assert.equal(lines.length, ruleNames.length);
  const single = lines.find((l) => l.rule === 'single')!;
  assert.deepEqual(single.cells, ['50.0%', '60.0%', '55.0%', '70.0%']);
  assert.equal(single.best, 3);
  const ref = lines.find((l) => l.rule === 'reference')!;
  assert.ok(ref.usesLabels && /uses labels/.test(ref.label));
  assert.ok(lines.filter((l) => l.usesLabels).length === 1, 'only the reference rule uses the labels');
});

test('compute curve: x is the union of model calls (curve) and steps (depth), sorted; each series null where it has no point', () => {
  const { x, series } = curveSeries(report);
  assert.deepEqual(x, [1, 2, 8, 16, 32]);
  const single = series.find((s) => s.label === 'single')!;
  assert.deepEqual(single.values, [null, null, 50, 60, 70]);
  const depth = series.at(-1)!;
  assert.deepEqual(depth.values.map((v) => (v === null ? null : Math.round(v))), [10, 30, 50, null, null]);
  assert.equal(series.length, ruleNames.length + 1);
  assert.match(summaryLine(report), /10 puzzles .* 1 run\(s\) × 2 checkpoint\(s\) · 2 perturbations \(shift\) · 8 steps per pass/);
});

test('messages: a report is checked field by field; unknown messages and fields are refused', () => {
  assert.deepEqual(checkVoteReport(JSON.parse(JSON.stringify(report))), report);
  const bad = JSON.parse(JSON.stringify(report)) as { table: { accuracy: Record<string, unknown> }[] };
  bad.table[2]!.accuracy['majority'] = 1.5;
  assert.throws(() => checkVoteReport(bad), /report\.table\[2\]\.accuracy\.majority/);
  const ok = parseToVoteMessage({ type: 'report', target: 'runs/a', reportPath: '/x/vote-report.json', report });
  assert.ok(ok.ok);
  assert.deepEqual(parseToVoteMessage({ type: 'report', target: 'runs/a', reportPath: '/x', report: bad }), { ok: false, error: 'report.table[2].accuracy.majority: Too big: expected number to be <=1' });
  assert.ok(parseToVoteMessage({ type: 'target', target: { runs: ['/r'], checkpoints: 4 } }).ok);
  assert.equal(parseToVoteMessage({ type: 'target', target: { runs: [], checkpoints: 4 } }).ok, false);
  assert.equal(parseToVoteMessage({ type: 'voting', target: 'x', extra: 1 }).ok, false);
  assert.ok(parseFromVoteMessage({ type: 'rerun' }).ok);
  assert.equal(parseFromVoteMessage({ type: 'delete' }).ok, false);
});
