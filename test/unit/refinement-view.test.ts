// The Puzzle Refinement view's pure parts: frame / step / cycle indexing and the keys that move
// the scrubber; the cells drawn at a frame (givens, right / wrong, changed since the previous
// frame) on a hand-made trajectory; the messages and their parsers rejecting malformed ones; the
// `reclab trace` command line and input checks the host uses; and the latest snapshot of a run as
// the host reads it from events.jsonl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RefinementEvent, TrainerEvent } from '../../protocol/events';
import { bytesToBase64, decodeTrajectory, type RefinementTrajectory } from '../../protocol/refinement';
import {
  checkTraceFile, checkTrajectory, parseFromRefinementMessage, parseToRefinementMessage, refinementStateOf,
} from '../../protocol/refinementMessages';
import {
  compactPuzzle, hasCheckpoint, parseTestRow, puzzleInputProblem, refinementEveryOfConfig, runConfigFacts, traceArgs,
  traceFailureReason, tracePathOf, trainedSideOfConfig,
} from '../../extension/panels/refinementTarget';
import { RunRegistry } from '../../extension/runs/runRegistry';
import { RunSeries } from '../../extension/runs/runSeries';
import { frameLabel, frameOf, navigate, playbackNext, positionOf, resolveFrame, stepTickFractions } from '../../webview/refinement/frameIndex';
import {
  cellsAt, changedCells, digitsString, gridDescription, puzzleLabel, qHaltOf, settledFrameOf, settledText, wrongCount,
} from '../../webview/refinement/gridCells';
import { puzzleAfterSnapshot, puzzleOptionsHtml, snapshotIndex, snapshotLabel, snapshotStepAt } from '../../webview/refinement/puzzlePicker';
import { qHaltRange } from '../../webview/refinement/qHaltChart';

// A 4x4 puzzle and its solution (checked by hand: rows, columns and 2x2 boxes hold 1-4 once).
const QUESTION = '1.3..4.22..3.3.1';
const SOLUTION = '1234341221434321';
const digits = (s: string) => [...s].map(Number);

/**
 * One puzzle, 2 steps x 2 cycles = 4 frames. Frame 0 has one wrong blank (cell 1: 4, not 2), frame 1
 * fixes cell 1, frame 2 breaks cell 15 (a given, so the model "overwrites" it), frame 3 is right.
 */
const FRAMES = ['1434341221434321', '1234341221434321', '1234341221434323', '1234341221434321'];
const CONF = [[0.5, 0.6, 0.7, 0.8], [0.9, 0.9, 0.9, 0.9]]; // cells 0..3 of frames 0, 3 (others 1.0)
function trajectory(over: Partial<RefinementTrajectory> = {}, frames = FRAMES, solution: string | null = SOLUTION): RefinementTrajectory {
  const cells = 16;
  const d = new Uint8Array(frames.length * cells);
  const c = new Uint8Array(frames.length * cells).fill(255);
  frames.forEach((f, i) => d.set(digits(f), i * cells));
  CONF[0]!.forEach((x, i) => (c[i] = Math.round(x * 255)));
  CONF[1]!.forEach((x, i) => (c[3 * cells + i] = Math.round(x * 255)));
  const q = new Float32Array(frames.length).map((_, i) => -2 + i); // -2, -1, 0, 1
  return {
    side: 4, puzzles: [{ question: QUESTION, ...(solution ? { solution } : {}), blanks: 8 }], steps: 2, cyclesPerStep: frames.length / 2,
    digits: bytesToBase64(d), confidence: bytesToBase64(c), qHalt: bytesToBase64(new Uint8Array(q.buffer)), ...over,
  };
}

test('frame index: frame f is step floor(f/C)+1, cycle f mod C + 1, and back', () => {
  // C = 3: frames 0,1,2 are step 1; frame 7 is step 3 cycle 2.
  assert.deepEqual(positionOf(0, 3), { step: 1, cycle: 1 });
  assert.deepEqual(positionOf(2, 3), { step: 1, cycle: 3 });
  assert.deepEqual(positionOf(7, 3), { step: 3, cycle: 2 });
  assert.deepEqual(positionOf(5, 1), { step: 6, cycle: 1 });
  for (let f = 0; f < 24; f++) {
    const p = positionOf(f, 3);
    assert.equal(frameOf(p.step, p.cycle, 3), f);
  }
  assert.equal(frameLabel(7, 8, 3), 'step 3 / 8 · cycle 2 / 3');
  assert.equal(frameLabel(4, 16, 1), 'step 5 / 16');
  assert.equal(resolveFrame(-1, 16), 15, '-1 is the last frame');
  assert.equal(resolveFrame(99, 16), 15, 'out of range (a shorter trajectory arrived): the last frame');
  assert.equal(resolveFrame(4, 16), 4);
});

test('keys: ← → a frame, Shift / PageUp PageDown a step, Home End; clamped; others are not ours', () => {
  const frames = 16, C = 2;
  assert.equal(navigate(5, { key: 'ArrowRight' }, frames, C), 6);
  assert.equal(navigate(5, { key: 'ArrowLeft' }, frames, C), 4);
  assert.equal(navigate(5, { key: 'ArrowRight', shiftKey: true }, frames, C), 7);
  assert.equal(navigate(5, { key: 'PageUp' }, frames, C), 3);
  assert.equal(navigate(5, { key: 'PageDown' }, frames, C), 7);
  assert.equal(navigate(0, { key: 'ArrowLeft' }, frames, C), 0);
  assert.equal(navigate(15, { key: 'ArrowRight' }, frames, C), 15);
  assert.equal(navigate(14, { key: 'PageDown' }, frames, C), 15);
  assert.equal(navigate(9, { key: 'Home' }, frames, C), 0);
  assert.equal(navigate(3, { key: 'End' }, frames, C), 15);
  assert.equal(navigate(3, { key: 'a' }, frames, C), undefined);
  assert.equal(navigate(3, { key: 'ArrowUp' }, frames, C), undefined, 'up/down choose the puzzle, not the frame');
  assert.equal(playbackNext(3, 16), 4);
  assert.equal(playbackNext(15, 16), undefined, 'playback stops at the end');
  // 3 steps x 2 cycles: 6 frames, the slider runs over 0..5; steps 2 and 3 start at frames 2 and 4.
  assert.deepEqual(stepTickFractions(3, 2), [2 / 5, 4 / 5]);
  assert.deepEqual(stepTickFractions(1, 1), []);
});

test('cells: givens drawn as given, predictions right / wrong against the solution, changes since the previous frame', () => {
  const t = trajectory();
  const d = decodeTrajectory(t);
  const f0 = cellsAt(t, d, 0, 0);
  assert.equal(digitsString(f0), '1434341221434321');
  assert.equal(f0[0]!.given, true);
  assert.equal(f0[1]!.given, false);
  assert.equal(f0[1]!.digit, 4);
  assert.equal(f0[1]!.correct, false, 'cell 1 should be 2');
  assert.equal(f0[2]!.correct, true);
  assert.equal(f0[3]!.correct, true, 'cell 3 = 4 is right');
  assert.ok(Math.abs(f0[1]!.confidence - 0.6) < 1 / 255);
  assert.equal(wrongCount(f0), 1);
  assert.equal(f0.filter((c) => c.changed).length, 0, 'nothing changed at the first frame');

  const f1 = cellsAt(t, d, 0, 1);
  assert.deepEqual(f1.map((c, i) => (c.changed ? i : -1)).filter((i) => i >= 0), [1], 'only cell 1 changed (4 -> 2)');
  assert.equal(wrongCount(f1), 0);

  // Frame 2: the model predicts 3 over the given 1 of cell 15: the drawn digit stays the given, marked wrong.
  const f2 = cellsAt(t, d, 0, 2);
  assert.equal(f2[15]!.given, true);
  assert.equal(f2[15]!.digit, 1);
  assert.equal(f2[15]!.predicted, 3);
  assert.equal(f2[15]!.correct, false);
  assert.equal(f2[15]!.changed, true);
  assert.equal(digitsString(f2), '1234341221434321');
  assert.deepEqual(changedCells(d, 0, 3).map((x, i) => (x ? i : -1)).filter((i) => i >= 0), [15]);

  // Right at frames 1 and 3, wrong at 2: right and staying right from frame 3 (step 2, cycle 2).
  assert.equal(settledFrameOf(t.puzzles[0]!, d, 0), 3);
  assert.equal(settledText(3, 2), 'right from step 2 · cycle 2 on');
  assert.equal(settledText(-1, 2), 'not right at the end');
  assert.equal(puzzleLabel(t.puzzles[0]!, 0, 3, 2), '#1 · 8 blanks · ✓ from step 2');
  assert.deepEqual([...qHaltOf(d, 0)], [-2, -1, 0, 1]);
  assert.match(gridDescription(f0, 4), /^row 1: 1 given, 4 wrong, 3 given, 4 right; row 2:/);
});

test('cells without a solution: givens checked against themselves, predictions unknown', () => {
  const t = trajectory({}, FRAMES, null);
  const d = decodeTrajectory(t);
  const f0 = cellsAt(t, d, 0, 0);
  assert.equal(f0[1]!.correct, null);
  assert.equal(f0[0]!.correct, true);
  assert.equal(wrongCount(f0), null);
  assert.equal(settledFrameOf(t.puzzles[0]!, d, 0), null);
  assert.equal(settledText(null, 2), 'no solution to compare against');
  // A prediction that is not a digit (0) is drawn as nothing.
  const blank = trajectory({}, ['1034341221434321', ...FRAMES.slice(1)]);
  assert.equal(digitsString(cellsAt(blank, decodeTrajectory(blank), 0, 0)), '1.34341221434321');
});

test('q_halt chart range: includes 0 (the threshold), padded, never empty', () => {
  assert.deepEqual(qHaltRange([-2, -1]), { min: -2 - 0.5, max: 0.5 });
  const r = qHaltRange([-10, 15]);
  assert.ok(Math.abs(r.min - (-10 - 2)) < 1e-9 && Math.abs(r.max - 17) < 1e-9);
  assert.deepEqual(qHaltRange([NaN]), { min: -0.5, max: 0.5 });
});

const live = { kind: 'live', runKey: '/w/runs/a', runName: 'a', status: 'running' } as const;
const traced = { kind: 'trace', runKey: '/w/runs/a', runName: 'a', tracePath: '/w/runs/a/traces/t.json', checkpoint: '/w/runs/a/checkpoints/step-0000040.ckpt' } as const;

test('well-formed messages are accepted both ways', () => {
  const ok = [
    { type: 'trajectory', source: live, snapshotStep: 250, snapshotSteps: [125, 250], trajectory: trajectory() },
    { type: 'trajectory', source: traced, snapshotStep: null, snapshotSteps: [], trajectory: trajectory({}, FRAMES, null) },
    { type: 'waiting', source: live, message: 'No refinement snapshot yet.' },
    { type: 'failed', source: traced, message: 'puzzle refused: digit 3 appears twice in row 1' },
    { type: 'status', status: 'completed' },
  ];
  for (const m of ok) assert.ok(parseToRefinementMessage(m).ok, JSON.stringify(m).slice(0, 200));
  assert.ok(parseFromRefinementMessage({ type: 'ready' }).ok);
  assert.ok(parseFromRefinementMessage({ type: 'inspectPuzzle' }).ok);
  assert.deepEqual(parseFromRefinementMessage({ type: 'selectSnapshot', step: 250 }), { ok: true, message: { type: 'selectSnapshot', step: 250 } });
  assert.ok(parseFromRefinementMessage({ type: 'selectSnapshot', step: null }).ok);
  // A JSON round trip (events.jsonl, postMessage) keeps it valid.
  assert.ok(parseToRefinementMessage(JSON.parse(JSON.stringify(ok[0]))).ok);
});

test('malformed messages are rejected with a reason', () => {
  const good = trajectory();
  const short = bytesToBase64(new Uint8Array(10));
  const bad: [unknown, RegExp][] = [
    [null, /not an object/],
    [{}, /no "type"/],
    [{ type: 'explode' }, /unknown message type/],
    [{ type: 'trajectory', source: live, snapshotStep: 1, snapshotSteps: [1], trajectory: good, extra: 1 }, /unexpected field "extra"/],
    [{ type: 'trajectory', source: { ...live, kind: 'remote' }, snapshotStep: 1, snapshotSteps: [1], trajectory: good }, /source.kind/],
    [{ type: 'trajectory', source: { ...live, status: 'exploded' }, snapshotStep: 1, snapshotSteps: [1], trajectory: good }, /source.status/],
    [{ type: 'trajectory', source: { ...live, runKey: '' }, snapshotStep: 1, snapshotSteps: [1], trajectory: good }, /runKey/],
    [{ type: 'trajectory', source: { kind: 'trace', runKey: 'k', runName: 'a', checkpoint: 'c' }, snapshotStep: null, snapshotSteps: [], trajectory: good }, /tracePath/],
    [{ type: 'trajectory', source: live, snapshotStep: -3, snapshotSteps: [1], trajectory: good }, /snapshotStep/],
    [{ type: 'trajectory', source: live, snapshotStep: 1, snapshotSteps: [1] }, /trajectory is not an object/],
    [{ type: 'trajectory', source: live, snapshotStep: 1, snapshotSteps: [1], trajectory: { ...good, side: 5 } }, /side is not 4 or 9/],
    [{ type: 'trajectory', source: live, snapshotStep: 1, snapshotSteps: [1], trajectory: { ...good, steps: 0 } }, /steps/],
    [{ type: 'trajectory', source: live, snapshotStep: 1, snapshotSteps: [1], trajectory: { ...good, cyclesPerStep: 1.5 } }, /cyclesPerStep/],
    [{ type: 'trajectory', source: live, snapshotStep: 1, snapshotSteps: [1], trajectory: { ...good, puzzles: [] } }, /puzzles is not an array/],
    [{ type: 'trajectory', source: live, snapshotStep: 1, snapshotSteps: [1], trajectory: { ...good, puzzles: [{ question: '1.3.', blanks: 2 }] } }, /question is not 16 characters/],
    [{ type: 'trajectory', source: live, snapshotStep: 1, snapshotSteps: [1], trajectory: { ...good, puzzles: [{ question: QUESTION, solution: '1234341221434325', blanks: 8 }] } }, /solution is not 16 digits/],
    [{ type: 'trajectory', source: live, snapshotStep: 1, snapshotSteps: [1], trajectory: { ...good, puzzles: [{ question: QUESTION, blanks: 99 }] } }, /blanks/],
    [{ type: 'trajectory', source: live, snapshotStep: 1, snapshotSteps: [1], trajectory: { ...good, digits: short } }, /digits: expected 64 bytes, got 10/],
    [{ type: 'trajectory', source: live, snapshotStep: 1, snapshotSteps: [1], trajectory: { ...good, qHalt: short } }, /qHalt: expected 16 bytes/],
    [{ type: 'trajectory', source: live, snapshotStep: 1, snapshotSteps: [1], trajectory: { ...good, confidence: 'not base64!' } }, /confidence is not a base64 string/],
    [{ type: 'trajectory', source: live, snapshotStep: 1, snapshotSteps: [1], trajectory: { ...good, evil: 1 } }, /unexpected field "evil"/],
    [{ type: 'waiting', source: live }, /message is not a string/],
    [{ type: 'status', status: 'sleeping' }, /status is not a run status/],
    [{ type: 'trajectory', source: live, snapshotStep: 1, snapshotSteps: [2, 1], trajectory: good }, /snapshotSteps is not an ascending array/],
    [{ type: 'trajectory', source: live, snapshotStep: 3, snapshotSteps: [1, 2], trajectory: good }, /snapshotStep is not one of snapshotSteps/],
    [{ type: 'trajectory', source: live, snapshotStep: 1, trajectory: good }, /snapshotSteps is not an ascending array/],
  ];
  for (const [m, re] of [[{ type: 'selectSnapshot', step: -1 }, /step is not null/], [{ type: 'selectSnapshot' }, /step is not null/]] as const) {
    const r = parseFromRefinementMessage(m);
    assert.ok(!r.ok && re.test(r.error), JSON.stringify(m));
  }
  for (const [m, re] of bad) {
    const r = parseToRefinementMessage(m);
    assert.ok(!r.ok, `accepted: ${JSON.stringify(m).slice(0, 160)}`);
    if (!r.ok) assert.match(r.error, re, JSON.stringify(m).slice(0, 160));
  }
  for (const [m, re] of [[{ type: 'ready', x: 1 }, /unexpected field "x"/], [{ type: 'runTrace' }, /unknown message type/], ['ready', /not an object/]] as const) {
    const r = parseFromRefinementMessage(m);
    assert.ok(!r.ok);
    if (!r.ok) assert.match(r.error, re);
  }
  assert.throws(() => checkTraceFile({ runDir: '/r', trajectory: good }), /checkpoint/);
  assert.throws(() => checkTrajectory({ ...good, digits: short }, 'events.jsonl refinement event'), /^Error: events.jsonl refinement event.digits/);
  assert.equal(checkTraceFile({ runDir: '/r', checkpoint: '/r/c.ckpt', trajectory: good }).trajectory.steps, 2);
});

test('panel state: defaults for anything missing or wrong', () => {
  assert.deepEqual(refinementStateOf(undefined), { puzzle: 0, frame: -1, speed: 4, snapshotStep: null });
  assert.deepEqual(refinementStateOf({ source: { kind: 'live', runKey: '/r' }, puzzle: 2, frame: 7, speed: 8, snapshotStep: 500 }), { source: { kind: 'live', runKey: '/r' }, puzzle: 2, frame: 7, speed: 8, snapshotStep: 500 });
  assert.deepEqual(refinementStateOf({ source: { kind: 'trace', runKey: '/r', tracePath: '/r/t.json' } }).source, { kind: 'trace', runKey: '/r', tracePath: '/r/t.json' });
  assert.deepEqual(refinementStateOf({ source: { kind: 'trace', runKey: '/r' }, puzzle: -1, frame: 'x', speed: 3, snapshotStep: -2 }), { puzzle: 0, frame: -1, speed: 4, snapshotStep: null });
});

test('trace command line, puzzle input checks and run facts the host uses', () => {
  assert.deepEqual(traceArgs('/w/runs/a', { kind: 'testRow', row: 12 }, '/w/runs/a/traces/t.json'),
    ['trace', '/w/runs/a', '--test-row', '12', '--steps', '16', '--per-cycle', '--out', '/w/runs/a/traces/t.json', '--json']);
  assert.deepEqual(traceArgs('/r', { kind: 'puzzle', text: '1.3. .4.2 | 2..3 .3.0' }, '/o')!.slice(2, 4), ['--puzzle', '1.3..4.22..3.3..']);
  assert.equal(compactPuzzle('12 34\n+--+\n0.00'), '1234....');
  assert.match(tracePathOf('/w/runs/a', new Date('2026-11-29T15:30:12.345Z')), /\/w\/runs\/a\/traces\/trace-20261129-153012-345\.json$/);
  // Each malformed puzzle is refused with its reason; a good one passes.
  assert.equal(puzzleInputProblem(QUESTION, 4), undefined);
  assert.match(puzzleInputProblem('1.3.', 4)!, /expected 16 \(4x4\) or 81 \(9x9\) cells, got 4/);
  assert.match(puzzleInputProblem('1x3..4.22..3.3.1', 4)!, /is "x"/);
  assert.match(puzzleInputProblem('113..4.22..3.3.1', 4)!, /digit 1 appears twice in row 1/);
  assert.match(puzzleInputProblem(QUESTION, 9)!, /trained on 9x9 puzzles/);
  assert.deepEqual(parseTestRow(' 7 '), { row: 7 });
  assert.ok('error' in parseTestRow('-1'));
  assert.ok('error' in parseTestRow('x'));
  assert.equal(trainedSideOfConfig({ config: { data: { kind: 'generated-sudoku', side: 4 } } }), 4);
  assert.equal(trainedSideOfConfig({ config: { data: { kind: 'sudoku-csv' } } }), 9);
  assert.equal(trainedSideOfConfig({ config: { data: { kind: 'maze' } } }), undefined);
  assert.equal(trainedSideOfConfig(null), undefined);
  assert.equal(refinementEveryOfConfig({ config: { refinement: { everySteps: 250 } } }), 250);
  assert.equal(refinementEveryOfConfig({ config: {} }), undefined);
  assert.equal(traceFailureReason(['reclab trace: --test-row: expected 0..1344, got 5000', 'usage: reclab trace …'], 'x'), '--test-row: expected 0..1344, got 5000');
  assert.equal(traceFailureReason(['Error: boom', '    at f (x.js:1)'], 'x'), 'Error: boom');
  assert.equal(traceFailureReason([], 'exit 1'), 'exit 1');
  const dir = mkdtempSync(join(tmpdir(), 'reclab-refine-'));
  try {
    assert.equal(hasCheckpoint(dir), false);
    mkdirSync(join(dir, 'checkpoints'));
    writeFileSync(join(dir, 'checkpoints', 'step-0000040.ckpt.tmp'), '');
    assert.equal(hasCheckpoint(dir), false, 'a temporary file is not a checkpoint');
    writeFileSync(join(dir, 'checkpoints', 'step-0000040.ckpt'), '');
    assert.equal(hasCheckpoint(dir), true);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ metadata: {}, config: { data: { kind: 'generated-sudoku', side: 9 }, refinement: { everySteps: 0 } } }));
    assert.deepEqual(runConfigFacts(dir), { side: 9, refinementEvery: 0 });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ metadata: {}, config: { data: { kind: 'generated-maze', size: 9 }, refinement: { everySteps: 50 } } }));
    assert.deepEqual(runConfigFacts(dir), { side: undefined, mazeSide: 9, refinementEvery: 50 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const refinementEvent = (step: number): RefinementEvent => ({ v: 1, time: 1_700_000_000_000 + step, type: 'refinement', step, trajectory: trajectory() });

test('the run series keeps every snapshot in step order; a resume from before one drops it', () => {
  const s = new RunSeries();
  s.apply(refinementEvent(250));
  s.apply(refinementEvent(500));
  s.apply(refinementEvent(750));
  assert.equal(s.refinement?.step, 750);
  assert.deepEqual(s.refinements.map((r) => r.step), [250, 500, 750]);
  assert.equal(s.refinementAt(500)?.step, 500);
  assert.equal(s.refinementAt(600), undefined);
  s.apply({ v: 1, time: 2, type: 'run_start', runId: 'a', config: { model: { hCycles: 2, lCycles: 2 } } as never, backend: 'wasm', startStep: 250, totalSteps: 1000, resumed: true, parameterCount: 1 });
  assert.deepEqual(s.refinements.map((r) => r.step), [250], 'steps 500 and 750 belong to the lost timeline');
  s.apply(refinementEvent(500));
  assert.deepEqual(s.refinements.map((r) => r.step), [250, 500]);
});

test('puzzle picker: a new snapshot keeps the chosen puzzle selected in the rebuilt options', () => {
  // The picked puzzle (#4, index 3) survives a snapshot of the same 8 probes, and its option is the selected one.
  assert.equal(puzzleAfterSnapshot(3, 8), 3);
  assert.equal(puzzleAfterSnapshot(9, 8), 0, 'a smaller probe set: back to the first');
  const html = puzzleOptionsHtml(['#1', '#2', '#3', '#4 <b>'], 3);
  assert.equal((html.match(/ selected/g) ?? []).length, 1);
  assert.match(html, /<vscode-option value="3" selected>#4 &#60;b&#62;<\/vscode-option>$/);
});

test('training-step slider: positions, the step asked for, and its label', () => {
  const steps = [100, 200, 300];
  assert.equal(snapshotIndex(steps, null), 2, 'following the latest: the last position');
  assert.equal(snapshotIndex(steps, 200), 1);
  assert.equal(snapshotIndex(steps, 250), 2, 'a step that is gone: the latest');
  assert.equal(snapshotStepAt(steps, 0), 100);
  assert.equal(snapshotStepAt(steps, 1), 200);
  assert.equal(snapshotStepAt(steps, 2), null, 'the last position follows new snapshots');
  assert.equal(snapshotLabel(steps, 0), 'training step 100 · snapshot 1 / 3');
  assert.equal(snapshotLabel([1000, 2500], 1), 'training step 2,500 · snapshot 2 / 2 (latest)');
});

test('live: the host follows a run\'s events.jsonl and holds its latest snapshot as it arrives', async () => {
  const root = mkdtempSync(join(tmpdir(), 'reclab-refine-runs-'));
  const run = join(root, 'r1');
  mkdirSync(run);
  const events = join(run, 'events.jsonl');
  const line = (e: TrainerEvent) => JSON.stringify(e) + '\n';
  writeFileSync(events, line(refinementEvent(20)));
  const registry = new RunRegistry({ roots: () => [root], log: { info() {}, warn() {}, error() {} } });
  try {
    const entry = await registry.retain(run);
    assert.equal(entry.series?.refinement?.step, 20);
    appendFileSync(events, '{"v":1,"time":3,"type":"refinement","step":40,"traj' + '\n' + line(refinementEvent(60)));
    await registry.poll();
    assert.equal(entry.series?.refinement?.step, 60, 'the torn line is skipped, the next snapshot is taken');
    assert.ok(checkTrajectory(entry.series!.refinement!.trajectory));
  } finally {
    registry.dispose();
    rmSync(root, { recursive: true, force: true });
  }
});
