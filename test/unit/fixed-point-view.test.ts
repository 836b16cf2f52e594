// The Fixed-Point Debugging view's pure parts: the messages and their parsers, the report check,
// the answer grid's cells, the trajectory bounds and colours, and the inspect command line the
// host runs for a run directory or an .onnx file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixedPointStateOf, parseFromFixedPointMessage, parseToFixedPointMessage } from '../../protocol/fixedPointMessages';
import { inspectArgs, parsePuzzleList, reportPathOf, targetOfOnnxFile, type InspectTarget } from '../../extension/panels/inspectTarget';
import { puzzle, report } from './inspectReportFixture';
import { answerGrid, hasWrongFixedPoint, pickerPuzzles, puzzleLabel, runColourIndex, trajectoryBounds } from '../../webview/fixedpoint/viewModel';

test('host -> webview messages: a report passes the checks; malformed ones are rejected with the reason', () => {
  const ok = parseToFixedPointMessage({ type: 'report', target: '/runs/a', reportPath: '/runs/a/inspection.json', report: report([puzzle()]) });
  assert.ok(ok.ok);
  assert.equal(ok.ok && ok.message.type === 'report' && ok.message.report.puzzles.length, 1);

  const short = puzzle();
  short.trace.residuals['z'] = [0.5];
  assert.deepEqual(parseToFixedPointMessage({ type: 'report', target: 't', reportPath: 'p', report: report([short]) }),
    { ok: false, error: 'report.puzzles[0].trace.residuals.z: does not have 2 values' });
  assert.deepEqual(parseToFixedPointMessage({ type: 'report', target: 't', reportPath: 'p', report: { ...report([]), version: 3 } }),
    { ok: false, error: 'report.version: expected 1 or 2' });
  assert.deepEqual(parseToFixedPointMessage({ type: 'failed', target: 't', message: 'x', extra: 1 }), { ok: false, error: 'unexpected field "extra"' });
  assert.deepEqual(parseToFixedPointMessage({ type: 'inspecting', target: '' }), { ok: false, error: 'target is not a non-empty string' });
  assert.deepEqual(parseToFixedPointMessage('report'), { ok: false, error: 'not an object' });
});

test('webview -> host messages and the saved panel state', () => {
  assert.deepEqual(parseFromFixedPointMessage({ type: 'rerun' }), { ok: true, message: { type: 'rerun' } });
  assert.deepEqual(parseFromFixedPointMessage({ type: 'delete' }), { ok: false, error: 'unknown message type "delete"' });
  assert.deepEqual(parseFromFixedPointMessage({ type: 'ready', x: 1 }), { ok: false, error: 'unexpected field "x"' });
  assert.deepEqual(fixedPointStateOf({ target: '/r', puzzle: 3, step: -1, reportPath: 7 }), { target: '/r', puzzle: 3, step: 0, wrongOnly: false });
  assert.deepEqual(fixedPointStateOf(null), { puzzle: 0, step: 0, wrongOnly: false });
  assert.equal(fixedPointStateOf({ wrongOnly: true }).wrongOnly, true);
});

test('answer grid: givens, right and wrong cells against the solution, blanks, and clashing digits', () => {
  const p = puzzle();
  // Step 2: "1134|3412|2143|4321": cell 1 is a wrong 1 (solution 2) that clashes with the given 1 in row 0 and box 0.
  const { side, cells } = answerGrid(p, 1);
  assert.equal(side, 4);
  assert.deepEqual(cells[0], { text: '1', kind: 'given', conflict: true });
  assert.deepEqual(cells[1], { text: '1', kind: 'wrong', conflict: true });
  assert.deepEqual(cells[3], { text: '4', kind: 'right', conflict: false });
  assert.equal(cells.filter((c) => c.kind === 'wrong').length, 1);
  // Step 1 repeats the question: blanks stay blank.
  const first = answerGrid(p, 0).cells;
  assert.deepEqual(first.map((c) => c.kind === 'blank'), [...p.question].map((ch) => ch === '.'));
  assert.ok(first.every((c) => !c.conflict));
  // Without a solution, filled-in cells are "unknown".
  assert.equal(answerGrid(puzzle({ solution: null }), 1).cells[3]!.kind, 'unknown');
});

test('trajectory bounds cover every point with 5 % padding; unsettled runs get no fixed-point colour', () => {
  const b = trajectoryBounds(puzzle())!;
  // x in [-1, 3] (width 4, pad 0.2), y in [0, 4] (pad 0.2).
  assert.deepEqual([b.xMin, b.xMax, b.yMin, b.yMax].map((v) => +v.toFixed(9)), [-1.2, 3.2, -0.2, 4.2]);
  assert.equal(trajectoryBounds(puzzle({ trajectory: null })), undefined);
  assert.equal(runColourIndex(null, 6), -1);
  assert.equal(runColourIndex(7, 6), 1);
  assert.equal(puzzleLabel(puzzle()), '#1 · 8 blanks · ✗ · not settled');
});

test('"wrong fixed points only": a puzzle settled on a wrong answer, or whose census finds a wrong fixed point', () => {
  const cluster = (correct: boolean | null) => ({ answer: '', correct, violations: 0, reached: 1, byNoise: 1, byRelabel: 0, stateClusters: 1 });
  const census = (...c: (boolean | null)[]) => ({ fixedPoints: c.map(cluster), unsettled: 0, unsettledCorrect: 0 }) as never;
  const settledWrong = puzzle({ settled: true, correct: false, census: null });
  const rightButCensusWrong = puzzle({ settled: true, correct: true, census: census(true, false) });
  const right = puzzle({ settled: true, correct: true, census: census(true) });
  const unsettledWrong = puzzle({ settled: false, correct: false, census: null }); // wrong, but not a fixed point
  assert.deepEqual([settledWrong, rightButCensusWrong, right, unsettledWrong].map(hasWrongFixedPoint), [true, true, false, false]);
  const list = [right, settledWrong, unsettledWrong, rightButCensusWrong];
  assert.deepEqual(pickerPuzzles(list, true), [1, 3]);
  assert.deepEqual(pickerPuzzles(list, false), [0, 1, 2, 3]);
});

test('the inspect command line for a run directory and for an .onnx file; puzzle lists typed by the user', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reclab-target-'));
  try {
    const run: InspectTarget = { kind: 'run', dir: '/w/runs/a' };
    assert.deepEqual(inspectArgs(run), ['inspect', '/w/runs/a', '--quiet', '--out', '/w/runs/a/inspection.json']);
    const onnx: InspectTarget = { kind: 'onnx', file: '/m/trm.onnx', puzzles: ['1.3..4.22..3.3.1'] };
    assert.equal(reportPathOf(onnx), '/m/trm.inspection.json');
    assert.deepEqual(inspectArgs(onnx, '/tmp/p.txt'), ['inspect', '/m/trm.onnx', '--quiet', '--out', '/m/trm.inspection.json', '--puzzles', '/tmp/p.txt']);
    // A run's own model.onnx is inspected as the run; another .onnx beside it is not.
    writeFileSync(join(dir, 'config.json'), '{}');
    assert.deepEqual(targetOfOnnxFile(join(dir, 'model.onnx')), { kind: 'run', dir });
    assert.equal(targetOfOnnxFile(join(dir, 'other.onnx')), undefined);
    assert.deepEqual(parsePuzzleList(' 1.3..4.22..3.3.1,\n1234341221434321 '), { puzzles: ['1.3..4.22..3.3.1', '1234341221434321'] });
    assert.equal(parsePuzzleList('').error, 'give at least one puzzle');
    assert.match(parsePuzzleList('12345').error!, /not a 16- or 81-character puzzle/);
    // The input box caps the count at the CLI's limit (reclab inspect refuses 10,001 with exit 2 too).
    const many = (n: number) => Array(n).fill('1.3..4.22..3.3.1').join('\n');
    assert.deepEqual(parsePuzzleList(many(10_000)).error, undefined);
    assert.equal(parsePuzzleList(many(10_000)).puzzles.length, 10_000);
    assert.equal(parsePuzzleList(many(10_001)).error, '10001 puzzles; an inspection takes at most 10000');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
