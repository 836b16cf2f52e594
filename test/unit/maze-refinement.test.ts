// Mazes in the refinement view: the view model of a hand-made 5x5 maze (which cells are wall /
// path / right / extra / missing), the trajectory check for task "maze", the typed-maze checker,
// and maze snapshots in both engines: a short maze run on TF.js and the same run on torch write
// refinement events of the same layout (same probe mazes, sizes and frames), and `reclab trace`
// on the TF.js run's checkpoint ends on the model's own evaluation answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bytesToBase64, decodeTrajectory, settledFrame, type RefinementTrajectory } from '../../protocol/refinement';
import { checkTrajectory } from '../../protocol/refinementMessages';
import { selectBackend } from '../../trainer/backend';
import { checkMazeText, shortestPathAnswer } from '../../trainer/data/mazeCheck';
import { MAZE_CHARSET, mazeFromText } from '../../trainer/data/mazeGrid';
import { isValidMazeAnswer } from '../../trainer/data/mazeRules';
import { loadTaskData } from '../../trainer/data/taskData';
import { createModel } from '../../trainer/model/modelFactory';
import { Rng } from '../../trainer/random';
import { RunDirectory } from '../../trainer/run/runDirectory';
import { restoreTrainingCheckpoint } from '../../trainer/run/trainingCheckpoint';
import { evaluate } from '../../trainer/train/evaluate';
import { encodePuzzles } from '../../trainer/train/exampleStream';
import { createTrainState, disposeTrainState, evaluationParams } from '../../trainer/train/trainState';
import { mazeCellsAt, mazeCounts, mazeDescription, mazePredictionString } from '../../webview/refinement/mazeCells';
import { puzzleLabel, settledFrameOf } from '../../webview/refinement/gridCells';

const cli = resolve('dist/trainer/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'reclab-maze-refinement-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

// The hand-made maze: S at (1,1), G at (3,3); the only shortest path S → (1,2) → (2,2) → (3,2) → G.
const question = ['#####', '#S  #', '## ##', '#  G#', '#####'].join('');
const solution = ['#####', '#So #', '##o##', '# oG#', '#####'].join('');
// Frame 1's prediction: path at (1,2) right, (1,3) extra, (3,2) right, (2,2) left out (missing),
// and the corner wall (0,0) predicted open.
const predicted = [' ####', '#Soo#', '## ##', '# oG#', '#####'].join('');
const cellsOf = (s: string) => [...s].map((ch) => MAZE_CHARSET.indexOf(ch) + 1);

function handTrajectory(): RefinementTrajectory {
  const frames = [question, predicted, solution];
  return {
    task: 'maze', side: 5, puzzles: [{ question, solution, blanks: 4 }], steps: 3, cyclesPerStep: 1,
    digits: bytesToBase64(Uint8Array.from(frames.flatMap(cellsOf))),
    confidence: bytesToBase64(Uint8Array.from({ length: 75 }, (_, i) => (i % 25 === 7 ? 255 : 51))),
    qHalt: bytesToBase64(new Uint8Array(new Float32Array([-1, -0.5, 2]).buffer)),
  };
}

test('maze view model: walls, open cells, S, G and the path marks of a hand-made 5x5 maze', () => {
  const t = checkTrajectory(handTrajectory());
  const d = decodeTrajectory(t);
  const cells = mazeCellsAt(t, d, 0, 1);
  const at = (r: number, c: number) => cells[r * 5 + c]!;
  // The question's walls: 5 + 2 + 4 + 2 + 5.
  assert.equal(cells.filter((c) => c.ground === 'wall').length, 18);
  assert.deepEqual([at(1, 1).ground, at(3, 3).ground, at(1, 2).ground, at(2, 2).ground], ['start', 'goal', 'open', 'open']);
  assert.deepEqual([at(1, 2).mark, at(3, 2).mark], ['right', 'right']);
  assert.equal(at(1, 3).mark, 'extra');
  assert.equal(at(2, 2).mark, 'missing');
  assert.equal(at(3, 1).mark, null, 'an open cell off both paths has no mark');
  assert.equal(at(0, 0).correct, false, 'the wall predicted open is wrong');
  assert.equal(at(0, 0).mark, null);
  assert.equal(at(1, 2).confidence, 1);
  assert.equal(at(0, 0).broken, true, 'a wall predicted open contradicts the maze');
  assert.equal(at(1, 3).broken, false, 'a path mark on an open cell does not');
  assert.deepEqual(mazeCounts(cells), { walls: 18, open: 5, path: 3, right: 2, extra: 1, missing: 1, wrong: 3, truePath: 3, broken: 1 });
  assert.equal(mazePredictionString(cells), predicted);
  // Frame 1 changed the cells that differ from frame 0 (the question): (0,0), (1,2), (1,3), (3,2).
  assert.deepEqual(cells.map((c, i) => (c.changed ? i : -1)).filter((i) => i >= 0), [0, 7, 8, 17]);
  assert.match(mazeDescription(cells, 5), /18 walls, 3 cells predicted on the path; 2 of the 3 true path cells right, 1 extra, 1 missing; extra at r2c4; missing at r3c3/);
  // The last frame is the solution: every path cell right, nothing wrong; settled there (frame 2).
  const last = mazeCounts(mazeCellsAt(t, d, 0, 2));
  assert.deepEqual(last, { walls: 18, open: 5, path: 3, right: 3, extra: 0, missing: 0, wrong: 0, truePath: 3, broken: 0 });
  // An open cell predicted as a wall, and S predicted as G: both contradict the maze.
  const odd = handTrajectory();
  const oddFrames = [question, ['#####', '#Go #', '##o##', '##oG#', '#####'].join(''), solution];
  odd.digits = bytesToBase64(Uint8Array.from(oddFrames.flatMap(cellsOf)));
  const oddCells = mazeCellsAt(odd, decodeTrajectory(odd), 0, 1);
  assert.deepEqual(oddCells.map((c, i) => (c.broken ? i : -1)).filter((i) => i >= 0), [6, 16]);
  assert.equal(settledFrame(d, 0, solution, 'maze'), 2);
  assert.equal(settledFrameOf(t.puzzles[0]!, d, 0, 'maze'), 2);
  assert.equal(puzzleLabel(t.puzzles[0]!, 0, 2, 1, 'maze'), '#1 · path length 4 · ✓ from step 3');
  // The solution is what an independent check accepts, and what the shortest-path solver finds.
  const q = mazeFromText(['#####', '#S  #', '## ##', '#  G#', '#####'].join('\n')).grid;
  assert.ok(isValidMazeAnswer(q, Uint8Array.from(cellsOf(solution)), 5));
  assert.deepEqual(Array.from(shortestPathAnswer(q, 5)!), cellsOf(solution));
});

test('maze trajectories: checked for task "maze" (characters, side); a Sudoku trajectory has no task field and keeps 4 / 9', () => {
  const t = handTrajectory();
  assert.deepEqual(Object.keys(checkTrajectory(t)), ['task', 'side', 'puzzles', 'steps', 'cyclesPerStep', 'digits', 'confidence', 'qHalt']);
  assert.throws(() => checkTrajectory({ ...t, task: 'chess' }), /trajectory\.task is not "maze"/);
  assert.throws(() => checkTrajectory({ ...t, side: 1 }), /trajectory\.side is not an integer from 2 to 64/);
  assert.throws(() => checkTrajectory({ ...t, puzzles: [{ question: question.replace('S', 'o'), solution, blanks: 4 }] }), /puzzles\[0\]\.question is not 25 of the characters "# SG"/);
  assert.throws(() => checkTrajectory({ ...t, puzzles: [{ question, solution: solution.replace('G', 'x'), blanks: 4 }] }), /puzzles\[0\]\.solution is not 25 of the characters "# SGo"/);
  // Without task a 5x5 grid is no Sudoku.
  const { task: _task, ...sudokuShaped } = t;
  assert.throws(() => checkTrajectory(sudokuShaped), /trajectory\.side is not 4 or 9/);
});

test('typed mazes: rows split by "/", "." for open cells, the shortest path stands in for the labels; malformed ones refused with the reason', () => {
  const m = checkMazeText('#####/#S..#/##.##/#..G#/#####', 5);
  assert.ok(!('refused' in m));
  assert.deepEqual(Array.from(m.answer), cellsOf(solution));
  assert.equal(m.blanks, 4);
  const given = checkMazeText(`${question}:${solution}`, 5);
  assert.ok(!('refused' in given) && given.blanks === 4);
  const refused = (text: string) => { const r = checkMazeText(text, 5); return 'refused' in r ? r.refused : ''; };
  assert.match(refused('#####/#S..#'), /10 cells, a 5x5 maze needs 25/);
  assert.match(refused(question.replace('G', ' ')), /exactly one S and one G \(it has 1 and 0\)/);
  assert.match(refused(question.replace(' ', 'x')), /cell 8 is "x"/);
  assert.match(refused(['#####', '#S# #', '###.#', '#  G#', '#####'].join('')), /G cannot be reached from S/);
  assert.match(refused(`${question}:${predicted}`), /not one simple path from S to G/);
});

// ---- both engines --------------------------------------------------------------------------------
const python = (): string =>
  execFileSync('bash', [resolve('test/setup/python-env.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;

function mazeConfig(name: string, engine: 'tfjs' | 'torch'): string {
  const path = join(dir, `${name}.reclab.json`);
  writeFileSync(path, JSON.stringify({
    extends: 'maze-small', engine, backend: 'cpu', seed: 5, checkpointEverySteps: 0,
    model: { hiddenSize: 16, numHeads: 2, layers: 1, hCycles: 2, lCycles: 1 },
    train: { steps: 4, batchSize: 8, microBatchSize: 8, haltMaxSteps: 2, lrWarmupSteps: 1 },
    data: { kind: 'generated-maze', size: 7, trainMazes: 12, testMazes: 5, minPathLength: 4, augment: true },
    eval: { everySteps: 0, puzzlesPerBlank: 1, batchSize: 16, gradientVarianceGroups: 0 },
    refinement: { everySteps: 2, probePuzzles: 3, perCycle: true },
  }));
  return path;
}

function refinementEvents(runDir: string): { step: number; trajectory: RefinementTrajectory }[] {
  return readFileSync(join(runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'refinement');
}

/** Everything about a trajectory but the model's numbers. */
function layout(t: RefinementTrajectory) {
  const d = decodeTrajectory(t);
  return { task: t.task, side: t.side, puzzles: t.puzzles, steps: t.steps, cyclesPerStep: t.cyclesPerStep, frames: d.frames, cells: d.cells, bytes: [d.digits.length, d.confidence.length, d.qHalt.length] };
}

test('maze snapshots on TF.js and torch: the same layout (probe mazes, side, frames); reclab trace of a held-out maze ends on the evaluation answer', { timeout: 900_000 }, async () => {
  assert.ok(existsSync(cli), 'run `npm run build` first');
  const tfRun = join(dir, 'tfjs');
  const tr = spawnSync(process.execPath, [cli, 'train', '--config', mazeConfig('tfjs', 'tfjs'), '--run-dir', tfRun, '--quiet'], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(tr.status, 0, tr.stderr);
  const torchRun = join(dir, 'torch');
  const pr = spawnSync(process.execPath, [cli, 'train', '--config', mazeConfig('torch', 'torch'), '--run-dir', torchRun, '--python', python(), '--quiet'], { encoding: 'utf8', timeout: 600_000 });
  assert.equal(pr.status, 0, pr.stderr);

  const tf = refinementEvents(tfRun);
  const pt = refinementEvents(torchRun);
  // Every 2 steps and once after the final evaluation (step 4 is the last: the loop leaves before its periodic snapshot).
  assert.deepEqual(tf.map((e) => e.step), [2, 4]);
  assert.deepEqual(pt.map((e) => e.step), tf.map((e) => e.step));
  const { config } = RunDirectory.open(tfRun).readConfigFile();
  const data = loadTaskData(config.data, config.seed);
  const toText = (g: Uint8Array) => Array.from(g, (c) => MAZE_CHARSET[c - 1]).join('');
  for (const e of [...tf, ...pt]) {
    const t = checkTrajectory(e.trajectory);
    assert.equal(t.task, 'maze');
    assert.equal(t.side, 7);
    assert.equal(t.steps, 2);
    assert.equal(t.cyclesPerStep, 2);
    assert.equal(t.puzzles.length, 3);
    const d = decodeTrajectory(t);
    assert.ok(d.digits.every((x) => x <= 5), 'maze cells are 0..5');
    for (const p of t.puzzles) {
      // Each probe is a held-out maze, its path length as the difficulty.
      const held = data.test.find((m) => toText(m.question) === p.question);
      assert.ok(held, `probe ${p.question} is a held-out maze`);
      assert.equal(p.solution, toText(held.answer));
      assert.equal(p.blanks, held.blanks);
    }
  }
  assert.deepEqual(pt.map((e) => layout(e.trajectory)), tf.map((e) => layout(e.trajectory)));

  // reclab trace on a held-out maze of the TF.js run: the last frame is the model's evaluation argmax.
  const row = 2;
  const out = join(dir, 'maze-trace.json');
  const trace = spawnSync(process.execPath, [cli, 'trace', tfRun, '--test-row', String(row), '--steps', '2', '--per-cycle', '--backend', 'cpu', '--out', out], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(trace.status, 0, trace.stderr);
  assert.match(trace.stdout, /7x7 maze \(path length \d+\), 2 steps x 2 frame\(s\) per step/);
  const t = checkTrajectory(JSON.parse(readFileSync(out, 'utf8')).trajectory);
  const d = decodeTrajectory(t);
  assert.equal(t.puzzles[0]!.question, toText(data.test[row]!.question));
  await selectBackend('cpu');
  const model = createModel(config.model, { vocabSize: data.vocabSize, seqLen: data.seqLen });
  const state = createTrainState(model, config.train, new Rng(0));
  try {
    restoreTrainingCheckpoint(RunDirectory.open(tfRun).latestCheckpoint()!.path, state);
    const r = evaluate(model, evaluationParams(state), state.hInit, state.lInit, encodePuzzles([data.test[row]!], data.seqLen, data.task), { steps: 2, batchSize: 1, depth: model.depth });
    assert.deepEqual(Array.from(d.digits.subarray((d.frames - 1) * d.cells)), Array.from(r.predictions, (tok) => (tok >= 1 && tok <= 5 ? tok : 0)));
  } finally {
    disposeTrainState(state);
  }
  // A typed maze of the wrong size is refused with the reason, nothing written.
  const bad = spawnSync(process.execPath, [cli, 'trace', tfRun, '--puzzle', '#####/#S.G#/#####', '--backend', 'cpu'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /maze refused: the maze has 15 cells, a 7x7 maze needs 49/);
});
