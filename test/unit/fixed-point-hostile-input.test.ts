// The Fixed-Point view against hostile input: a report file is checked whole before the view
// reads it (no null or markup where it dereferences or prints), the `failed` message is capped at
// MAX_TEXT like every other free text, and a restored panel's saved state cannot make the host
// read a path outside the workspace folders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoredTarget } from '../../extension/panels/inspectTarget';
import { restoredVoteTarget } from '../../extension/panels/voteTarget';
import { parseToFixedPointMessage } from '../../protocol/fixedPointMessages';
import type { InspectReport } from '../../protocol/inspectReport';
import { cappedText, MAX_TEXT } from '../../protocol/messageGuards';
import { puzzle, report } from './inspectReportFixture';

function rejected(r: InspectReport | Record<string, unknown>): string {
  const m = parseToFixedPointMessage({ type: 'report', target: 't', reportPath: 'p', report: r });
  assert.ok(!m.ok, 'the report was accepted');
  return m.error;
}

test('a report with null or markup where the view dereferences or prints is refused, naming the field', () => {
  const base = () => report([puzzle()]);
  const cases: [(r: InspectReport) => void, string][] = [
    [(r) => { (r.puzzles[0]!.trace.qHalt as unknown[])[1] = null; }, 'report.puzzles[0].trace.qHalt[1]'],
    [(r) => { r.puzzles[0]!.trajectory!.main = []; }, 'report.puzzles[0].trajectory.main'],
    [(r) => { (r.puzzles[0]!.trajectory!.main as unknown[])[0] = null; }, 'report.puzzles[0].trajectory.main[0]'],
    [(r) => {
      r.puzzles[0]!.census = { runs: 1, unsettled: 0, unsettledCorrect: 0, fixedPoints: [{ answer: '1234341221434321', correct: true, violations: '<img src=x onerror=alert(1)>' as unknown as number, reached: 1, byNoise: 1, byRelabel: 0, stateClusters: 1, includesUnperturbed: true }] };
    }, 'report.puzzles[0].census.fixedPoints[0].violations'],
    [(r) => { r.puzzles[0]!.question = '<b>hi</b>........'; }, 'report.puzzles[0].question'],
    [(r) => { r.puzzles[0]!.trace.answers[0] = '1.3..4.22..3.3.'; }, 'report.puzzles[0].trace.answers[0]'],
    [(r) => { (r as unknown as Record<string, unknown>)['summary'] = {}; }, 'report.summary.puzzles'],
    [(r) => { (r.summary as unknown as Record<string, unknown>)['spectralRadius'] = { median: null, max: 1, aboveOne: 0 }; }, 'report.summary.spectralRadius.median'],
    [(r) => { (r as unknown as Record<string, unknown>)['seconds'] = null; }, 'report.seconds'],
    [(r) => { r.contract.states[0]!.name = 'z"><script>'; }, 'report.contract.states[0].name'],
    [(r) => { r.contract.answerState = 'y'; }, 'report.contract.answerState'],
    [(r) => { (r.probe as unknown[]).push({ blanks: 1, puzzles: 1, correctAtEnd: 1, failures: '<i>0</i>', rightThenLeft: 0, examples: [] }); }, 'report.probe[0].failures'],
  ];
  for (const [spoil, field] of cases) {
    const r = base();
    spoil(r);
    const error = rejected(r);
    assert.ok(error.startsWith(`${field}:`), `expected ${field}, got "${error}"`);
  }
  assert.ok(parseToFixedPointMessage({ type: 'report', target: 't', reportPath: 'p', report: base() }).ok);
});

test('the failed message is capped at MAX_TEXT (16 KiB) like the others; the host cuts its text to fit, keeping the end', () => {
  const long = 'x'.repeat(MAX_TEXT) + ' the error';
  const m = parseToFixedPointMessage({ type: 'failed', target: 't', message: long });
  assert.ok(!m.ok);
  assert.match(m.error, /message is not a string of 1 to 16384 characters/);
  const cut = cappedText(long);
  assert.equal(cut.length, MAX_TEXT);
  assert.ok(cut.startsWith('…') && cut.endsWith(' the error'));
  assert.ok(parseToFixedPointMessage({ type: 'failed', target: 't', message: cut }).ok);
  assert.equal(cappedText('short'), 'short');
});

test('a restored panel state is confined to the workspace folders: /etc/passwd, ../ escapes and symlinks out are refused', () => {
  const root = mkdtempSync(join(tmpdir(), 'reclab-fp-restore-'));
  try {
    const ws = join(root, 'ws');
    const outside = join(root, 'outside');
    mkdirSync(join(ws, 'runs', 'a'), { recursive: true });
    writeFileSync(join(ws, 'runs', 'a', 'config.json'), '{}');
    writeFileSync(join(ws, 'm.onnx'), '');
    writeFileSync(join(ws, 'notes.txt'), '');
    mkdirSync(join(outside, 'run'), { recursive: true });
    writeFileSync(join(outside, 'run', 'config.json'), '{}');
    writeFileSync(join(outside, 'x.onnx'), '');
    symlinkSync(join(outside, 'x.onnx'), join(ws, 'link.onnx'));
    const folders = [ws];

    assert.deepEqual(restoredTarget(join(ws, 'runs', 'a'), folders), { kind: 'run', dir: join(ws, 'runs', 'a') });
    assert.deepEqual(restoredTarget(join(ws, 'm.onnx'), folders), { kind: 'onnx', file: join(ws, 'm.onnx'), puzzles: [] });
    const refusals: [string | undefined, RegExp][] = [
      ['/etc/passwd', /outside the workspace folders/],
      [join(outside, 'run'), /outside the workspace folders/],
      [join(ws, '..', 'outside', 'x.onnx'), /outside the workspace folders/],
      [join(ws, 'link.onnx'), /outside the workspace folders/],
      [ws, /outside the workspace folders/], // the folder itself is not a run
      [join(ws, 'runs'), /not a run directory/],
      [join(ws, 'notes.txt'), /neither a run directory nor an .onnx file/],
      [join(ws, 'gone.onnx'), /no such file or directory/],
      [undefined, /names no target/],
    ];
    for (const [path, why] of refusals) {
      const t = restoredTarget(path, folders);
      assert.ok('refused' in t && why.test(t.refused), `${path}: ${JSON.stringify(t)}`);
    }
    assert.ok('refused' in restoredTarget(join(ws, 'm.onnx'), []), 'no workspace folder: nothing is restored');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a restored Test-Time Scaling panel takes back only run directories inside the workspace folders', () => {
  const root = mkdtempSync(join(tmpdir(), 'reclab-vote-restore-'));
  try {
    const ws = join(root, 'ws');
    const outside = join(root, 'outside');
    for (const d of [join(ws, 'runs', 'a'), join(ws, 'runs', 'b'), join(outside, 'run')]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'config.json'), '{}');
    }
    symlinkSync(join(outside, 'run'), join(ws, 'runs', 'link'));
    const folders = [ws];
    const a = join(ws, 'runs', 'a'), b = join(ws, 'runs', 'b');
    assert.deepEqual(restoredVoteTarget({ runs: [a, b], checkpoints: 4 }, folders), { runs: [a, b], checkpoints: 4 });
    // An out-of-range checkpoint count falls back to 1 (the CLI takes 1..64).
    assert.deepEqual(restoredVoteTarget({ runs: [a], checkpoints: 1e9 }, folders), { runs: [a], checkpoints: 1 });
    const refusals: [unknown, RegExp][] = [
      [{ runs: ['/etc'] }, /outside the workspace folders/],
      [{ runs: [a, join(outside, 'run')] }, /outside the workspace folders/], // one bad run refuses the whole target
      [{ runs: [join(ws, 'runs', 'link')] }, /outside the workspace folders/],
      [{ runs: [join(ws, 'runs')] }, /not a run directory/],
      [{ runs: [join(ws, 'runs', 'gone')] }, /no such file or directory/],
      [{ runs: [] }, /names no runs/],
      [{ runs: [7] }, /names no runs/],
      [undefined, /names no runs/],
    ];
    for (const [raw, why] of refusals) {
      const t = restoredVoteTarget(raw, folders);
      assert.ok('refused' in t && why.test(t.refused), `${JSON.stringify(raw)}: ${JSON.stringify(t)}`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
