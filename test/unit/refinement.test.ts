// Refinement trajectories and `reclab trace`: the input check refuses malformed puzzles with the
// reason; the trajectory format round-trips; the trace's last step equals the model's
// evaluation answer for the same puzzle (tested through the CLI on a trained checkpoint).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkPuzzleInput } from '../../protocol/puzzleInput';
import { bytesToBase64, base64ToBytes, decodeTrajectory, settledFrame, type RefinementTrajectory } from '../../protocol/refinement';
import { selectBackend } from '../../trainer/backend';
import { loadTaskData } from '../../trainer/data/taskData';
import { TrmModel } from '../../trainer/model/trm';
import { Rng } from '../../trainer/random';
import { RunDirectory } from '../../trainer/run/runDirectory';
import { restoreTrainingCheckpoint } from '../../trainer/run/trainingCheckpoint';
import { evaluate } from '../../trainer/train/evaluate';
import { encodePuzzles } from '../../trainer/train/exampleStream';
import { createTrainState, disposeTrainState, evaluationParams } from '../../trainer/train/trainState';

const cli = resolve('dist/trainer/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'reclab-trace-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('puzzle input: length, characters, clashing givens, trained size, no blanks — each refused with its reason', () => {
  const cases: [string, 4 | 9, RegExp][] = [
    ['1.3.', 4, /expected 16 \(4x4\) or 81 \(9x9\) cells, got 4/],
    ['1x..............', 4, /cell 2 \(row 1, column 2\) is "x"/],
    ['15..............', 4, /cell 2 .* is "5"; use 1-4/],
    ['11..............', 4, /digit 1 appears twice in row 1/],
    ['1...1...........', 4, /digit 1 appears twice in column 1/],
    ['1....1..........', 4, /digit 1 appears twice in box 1/],
    ['.'.repeat(81), 4, /trained on 4x4 puzzles; 81 cells make a 9x9 puzzle/],
    ['1234341221434321', 4, /no blank cell/],
    ['', 4, /empty/],
  ];
  for (const [text, side, reason] of cases) {
    const r = checkPuzzleInput(text, side);
    assert.equal(r.ok, false, text);
    if (!r.ok) assert.match(r.reason, reason, text);
  }
  // A pasted grid with separators and line breaks is accepted.
  const ok = checkPuzzleInput('1 . | 3 .\n. 4 | . 2\n-----\n2 . | 4 .\n. 3 | . 1', 4);
  assert.deepEqual(ok, { ok: true, side: 4, cells: [1, 0, 3, 0, 0, 4, 0, 2, 2, 0, 4, 0, 0, 3, 0, 1] });
});

test('trajectory encoding round-trips and the settled frame is the first from which the answer stays right', () => {
  const bytes = Uint8Array.from([0, 1, 2, 250, 255, 7]);
  assert.deepEqual(base64ToBytes(bytesToBase64(bytes)), bytes);
  // One 4x4 puzzle, 4 frames: wrong, right, wrong, right -> settles at frame 3 (0-based).
  const solution = '1234341221434321';
  const wrong = '1234341221434312';
  const frames = [wrong, solution, wrong, solution];
  const digits = Uint8Array.from(frames.join('').split('').map(Number));
  const t: RefinementTrajectory = {
    side: 4, puzzles: [{ question: '1.3..4.22.4..3.1', solution, blanks: 8 }], steps: 4, cyclesPerStep: 1,
    digits: bytesToBase64(digits), confidence: bytesToBase64(new Uint8Array(64)), qHalt: bytesToBase64(new Uint8Array(new Float32Array([-1, 0.5, -2, 3]).buffer)),
  };
  const d = decodeTrajectory(t);
  assert.deepEqual(Array.from(d.qHalt), [-1, 0.5, -2, 3]);
  assert.equal(settledFrame(d, 0, solution), 3);
  assert.throws(() => decodeTrajectory({ ...t, digits: bytesToBase64(new Uint8Array(10)) }), /trajectory\.digits: expected 64 bytes, got 10/);
});

test('reclab trace on a trained checkpoint: the last step equals the evaluation answer; a malformed puzzle is refused and nothing is written', async () => {
  assert.ok(existsSync(cli), 'run `npm run build` first');
  const config = join(dir, 'tiny.reclab.json');
  writeFileSync(config, JSON.stringify({
    extends: 'sudoku4', backend: 'cpu', model: { hiddenSize: 8, layers: 1 },
    train: { steps: 30, batchSize: 8, microBatchSize: 8, haltMaxSteps: 4 },
    data: { trainPuzzles: 40, trainBlanks: [4, 8], testBlanks: [4, 8], testPerBlank: 2 },
    eval: { everySteps: 0, puzzlesPerBlank: 1, batchSize: 16, gradientVarianceGroups: 0 },
    refinement: { everySteps: 10, probePuzzles: 2, perCycle: true },
  }));
  const runDir = join(dir, 'run');
  const train = spawnSync(process.execPath, [cli, 'train', '--config', config, '--run-dir', runDir, '--quiet'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(train.status, 0, train.stderr);
  // The run wrote refinement events with 2 probes x 4 steps x 2 cycles.
  const refinements = readFileSync(join(runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'refinement');
  assert.deepEqual(refinements.map((e) => e.step), [10, 20, 30]);
  assert.equal(decodeTrajectory(refinements[0].trajectory).frames, 8);

  const row = 3;
  const out = join(dir, 'trace.json');
  const trace = spawnSync(process.execPath, [cli, 'trace', runDir, '--test-row', String(row), '--steps', '4', '--backend', 'cpu', '--out', out], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(trace.status, 0, trace.stderr);
  const t = JSON.parse(readFileSync(out, 'utf8')).trajectory as RefinementTrajectory;
  const d = decodeTrajectory(t);
  const last = Array.from(d.digits.subarray((d.frames - 1) * d.cells));

  // The model's own evaluation of the same puzzle, in process, from the same checkpoint.
  await selectBackend('cpu');
  const { config: runConfig } = RunDirectory.open(runDir).readConfigFile();
  const data = loadTaskData(runConfig.data, runConfig.seed);
  const model = new TrmModel(runConfig.model, { vocabSize: data.vocabSize, seqLen: data.seqLen });
  const state = createTrainState(model, runConfig.train, new Rng(0));
  try {
    restoreTrainingCheckpoint(RunDirectory.open(runDir).latestCheckpoint()!.path, state);
    const r = evaluate(model, evaluationParams(state), state.hInit, state.lInit, encodePuzzles([data.test[row]!], data.seqLen, data.task), { steps: 4, batchSize: 1, depth: model.depth });
    const evalDigits = Array.from(r.predictions, (tok) => (tok >= 2 && tok <= 5 ? tok - 1 : 0));
    assert.deepEqual(last, evalDigits);
    assert.equal(t.puzzles[0]!.question, [...data.test[row]!.question].map((c) => (c === 0 ? '.' : String(c))).join(''));
  } finally {
    disposeTrainState(state);
  }

  const bad = spawnSync(process.execPath, [cli, 'trace', runDir, '--puzzle', '11..............', '--backend', 'cpu'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /puzzle refused: digit 1 appears twice in row 1/);
  assert.ok(!existsSync(join(runDir, 'traces')), 'nothing written for a refused puzzle');
});
