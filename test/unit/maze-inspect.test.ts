// `reclab inspect` and the Fixed-Point Debugging view on a maze model: a tiny maze TRM trained a
// few steps on TF.js, exported to ONNX (task "maze", reclab.grid) and inspected on onnxruntime:
// the puzzles are the run's held-out mazes, each step's answer is the TF.js evaluation's argmax
// (a second implementation), correctness is the exact path, the label-free check is
// isValidMazeAnswer, the census runs the 7 other rotations / reflections and maps them back, and
// there is no one-unknown probe. The report passes the view's checks; the view model's maze grid of
// a hand-made report marks walls, path, right / extra / missing cells.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkInspectReport } from '../../protocol/fixedPointMessages';
import type { InspectReport } from '../../protocol/inspectReport';
import { selectBackend } from '../../trainer/backend';
import { applyDihedral, inverseDihedral, type DihedralIndex } from '../../trainer/data/mazeAugment';
import { MAZE_CHARSET, pathLength } from '../../trainer/data/mazeGrid';
import { isValidMazeAnswer } from '../../trainer/data/mazeRules';
import { loadTaskData } from '../../trainer/data/taskData';
import { evenlySpaced } from '../../trainer/inspect/inspectCommand';
import { formatInspectSummary } from '../../trainer/inspect/inspectSummary';
import { createModel } from '../../trainer/model/modelFactory';
import { Rng } from '../../trainer/random';
import { RunDirectory } from '../../trainer/run/runDirectory';
import { restoreTrainingCheckpoint } from '../../trainer/run/trainingCheckpoint';
import { evaluate } from '../../trainer/train/evaluate';
import { encodePuzzles } from '../../trainer/train/exampleStream';
import { createTrainState, disposeTrainState, evaluationParams } from '../../trainer/train/trainState';
import { censusAnswerText, mazeAnswerGrid, puzzleLabel } from '../../webview/fixedpoint/viewModel';
import { puzzle, report } from './inspectReportFixture';
import { runReclab } from './reclabProcess';

const dir = mkdtempSync(join(tmpdir(), 'reclab-maze-inspect-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const text = (g: Uint8Array) => Array.from(g, (c) => MAZE_CHARSET[c - 1] ?? '?').join('');
const cells = (s: string) => Uint8Array.from(s, (ch) => MAZE_CHARSET.indexOf(ch) + 1);

test('reclab inspect on an exported maze model: held-out mazes, answers = the TF.js argmax, exact-path correctness, maze validity, a dihedral census, no probe', { timeout: 300_000 }, async () => {
  const config = join(dir, 'maze.reclab.json');
  writeFileSync(config, JSON.stringify({
    extends: 'maze-small', backend: 'cpu', seed: 2, checkpointEverySteps: 0,
    model: { hiddenSize: 16, numHeads: 2, layers: 1, hCycles: 2, lCycles: 1 },
    train: { steps: 6, batchSize: 8, microBatchSize: 8, haltMaxSteps: 3, lrWarmupSteps: 1 },
    data: { kind: 'generated-maze', size: 7, trainMazes: 12, testMazes: 6, minPathLength: 4, augment: true },
    eval: { everySteps: 0, puzzlesPerBlank: 1, batchSize: 16, gradientVarianceGroups: 0 },
    refinement: { everySteps: 0, probePuzzles: 1, perCycle: false },
  }));
  const run = join(dir, 'run');
  const train = runReclab(dir, ['train', '--config', config, '--run-dir', run, '--quiet']);
  assert.equal(train.code, 0, train.stderr);
  const out = join(dir, 'maze.inspection.json');
  const r = runReclab(dir, ['inspect', run, '--held-out', '4', '--perturbations', '2', '--power-iterations', '3', '--out', out, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(readFileSync(out, 'utf8')) as InspectReport;
  assert.doesNotThrow(() => checkInspectReport(rep), 'the view accepts the report');
  assert.equal(rep.contract.task, 'maze');
  assert.deepEqual(rep.contract.mazeGrid, { height: 7, width: 7 });
  assert.equal(rep.options.steps, 3, "the model's N_sup");
  assert.deepEqual(rep.probe, []);
  assert.deepEqual(rep.options.probeBlanks, []);
  assert.match(r.stdout, /4 of the run's 6 held-out mazes, evenly spaced/);
  assert.match(r.stdout, /10 runs a puzzle: unperturbed, 2 with noise std 1 on the initial states, 7 rotations \/ reflections/);
  assert.match(r.stdout, /valid S→G path at the end/);

  const { config: runConfig } = RunDirectory.open(run).readConfigFile();
  const data = loadTaskData(runConfig.data, runConfig.seed);
  const held = evenlySpaced(data.test.length, 4).map((i) => data.test[i]!);
  // The same checkpoint on TF.js: its argmax after each of K steps.
  await selectBackend('cpu');
  const model = createModel(runConfig.model, { vocabSize: data.vocabSize, seqLen: data.seqLen });
  const state = createTrainState(model, runConfig.train, new Rng(0));
  try {
    restoreTrainingCheckpoint(RunDirectory.open(run).latestCheckpoint()!.path, state);
    for (const [i, m] of held.entries()) {
      const p = rep.puzzles[i]!;
      assert.equal(p.question, text(m.question));
      assert.equal(p.solution, text(m.answer));
      assert.equal(p.blanks, pathLength(m.answer));
      for (let k = 1; k <= 3; k++) {
        const e = evaluate(model, evaluationParams(state), state.hInit, state.lInit, encodePuzzles([m], data.seqLen, data.task), { steps: k, batchSize: 1, depth: model.depth });
        const tfAnswer = Array.from(e.predictions, (t) => MAZE_CHARSET[t - 1] ?? '?').join('');
        assert.equal(p.trace.answers[k - 1], tfAnswer, `maze ${i + 1} step ${k}: onnxruntime and TF.js decode the same answer`);
        assert.equal(p.trace.correct[k - 1], tfAnswer === p.solution);
        const valid = !tfAnswer.includes('?') && isValidMazeAnswer(m.question, cells(tfAnswer), 7);
        assert.equal(p.trace.violations[k - 1], valid ? 0 : 1);
      }
      assert.equal(p.finalAnswer, p.trace.answers[2]);
      // The census: the unperturbed run, 2 noisy starts, 7 rotations / reflections.
      assert.equal(p.census!.runs, 10);
      const relabelled = p.census!.fixedPoints.reduce((a, f) => a + f.byRelabel, 0);
      const noisy = p.census!.fixedPoints.reduce((a, f) => a + f.byNoise, 0);
      assert.equal(relabelled + noisy + p.census!.unsettled, 10);
      for (const f of p.census!.fixedPoints) {
        assert.equal(f.answer.length, 49);
        assert.equal(f.correct, f.answer === p.solution);
      }
    }
  } finally {
    disposeTrainState(state);
  }
  assert.match(formatInspectSummary(rep), / {2}# {4}path correct/);

  // The census's rotations / reflections, every run counted as settled (--settle-tol 10): the
  // answers of the 7 images, mapped back, are TF.js's answers to the rotated / reflected mazes
  // mapped back by the inverse map — counted per fixed point.
  const wide = join(dir, 'wide.json');
  const w = runReclab(dir, ['inspect', run, '--held-out', '2', '--perturbations', '0', '--power-iterations', '0', '--settle-tol', '10', '--out', wide, '--quiet']);
  assert.equal(w.code, 0, w.stderr);
  const wideReport = JSON.parse(readFileSync(wide, 'utf8')) as InspectReport;
  const state2 = createTrainState(model, runConfig.train, new Rng(0));
  try {
    restoreTrainingCheckpoint(RunDirectory.open(run).latestCheckpoint()!.path, state2);
    evenlySpaced(data.test.length, 2).forEach((ti, i) => {
      const m = data.test[ti]!;
      const expected = new Map<string, number>();
      for (const k of [1, 2, 3, 4, 5, 6, 7] as DihedralIndex[]) {
        const image = { question: applyDihedral(m.question, k, 7), answer: applyDihedral(m.answer, k, 7), blanks: m.blanks };
        const e = evaluate(model, evaluationParams(state2), state2.hInit, state2.lInit, encodePuzzles([image], data.seqLen, data.task), { steps: 3, batchSize: 1, depth: model.depth });
        const back = text(applyDihedral(Uint8Array.from(e.predictions, (t) => (t >= 1 && t <= 5 ? t : 0)), inverseDihedral(k), 7));
        expected.set(back, (expected.get(back) ?? 0) + 1);
      }
      const c = wideReport.puzzles[i]!.census!;
      assert.equal(c.runs, 8);
      assert.equal(c.unsettled, 0);
      const got = new Map(c.fixedPoints.filter((f) => f.byRelabel > 0).map((f) => [f.answer, f.byRelabel]));
      assert.deepEqual(got, expected, `maze ${i + 1}: the images' answers mapped back`);
      for (const f of c.fixedPoints) assert.equal(f.violations, isValidMazeAnswer(m.question, cells(f.answer), 7) ? 0 : 1);
    });
  } finally {
    disposeTrainState(state2);
  }

  // A typed maze on the .onnx file: the shortest path stands in for the solution.
  const typed = ['#######', '#S....#', '#####.#', '#.....#', '#.#####', '#....G#', '#######'].join('/');
  const t = runReclab(dir, ['inspect', join(run, 'model.onnx'), '--puzzle', typed, '--steps', '2', '--perturbations', '0', '--power-iterations', '0', '--no-relabel', '--out', join(dir, 'typed.json'), '--quiet']);
  assert.equal(t.code, 0, t.stderr);
  const typedReport = JSON.parse(readFileSync(join(dir, 'typed.json'), 'utf8')) as InspectReport;
  assert.equal(typedReport.puzzles[0]!.solution, ['#######', '#Soooo#', '#####o#', '#ooooo#', '#o#####', '#ooooG#', '#######'].join(''));
  assert.equal(typedReport.puzzles[0]!.blanks, 16);
  const bad = runReclab(dir, ['inspect', join(run, 'model.onnx'), '--puzzle', '#S.G#', '--quiet']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--puzzle #1: maze refused: the maze has 5 cells, a 7x7 maze needs 49/);
});

test('fixed-point view, maze grid: walls, path, right / extra / missing and broken cells of a hand-made 5x5 report', () => {
  const q = ['#####', '#S  #', '## ##', '#  G#', '#####'].join('');
  const sol = ['#####', '#So #', '##o##', '# oG#', '#####'].join('');
  const step2 = [' ####', '#Soo#', '## ##', '# oG#', '#####'].join('');
  const p = puzzle({
    question: q, solution: sol, blanks: 4, finalAnswer: step2,
    trace: { residuals: { z: [0.5, 0.1] }, answers: [q, step2], correct: [false, false], violations: [1, 1], qHalt: [-1, 2] },
  });
  const m = mazeAnswerGrid(p, 1);
  assert.equal(m.side, 5);
  assert.deepEqual(m.counts, { walls: 18, path: 3, right: 2, extra: 1, missing: 1, broken: 1 });
  assert.deepEqual([m.cells[7]!.mark, m.cells[8]!.mark, m.cells[12]!.mark, m.cells[17]!.mark], ['right', 'extra', 'missing', 'right']);
  assert.equal(m.cells[0]!.broken, true, 'the corner wall answered open');
  assert.deepEqual(mazeAnswerGrid(p, 0).counts, { walls: 18, path: 0, right: 0, extra: 0, missing: 3, broken: 0 });
  assert.equal(puzzleLabel(p, 'maze'), '#1 · path length 4 · ✗ · not settled');
  assert.equal(censusAnswerText(step2, 'maze'), '3 path cells');
  // A maze report passes the view's checks; a Sudoku string in it does not.
  const rep = report([p]);
  rep.contract = { ...rep.contract, task: 'maze', sudokuSide: undefined, mazeGrid: { height: 5, width: 5 }, seqLen: 25, vocab: ['<pad>', '#', ' ', 'S', 'G', 'o'] };
  assert.doesNotThrow(() => checkInspectReport(JSON.parse(JSON.stringify(rep))));
  const wrong = JSON.parse(JSON.stringify(rep));
  wrong.puzzles[0].trace.answers[0] = '1'.repeat(25);
  assert.throws(() => checkInspectReport(wrong), /trace\.answers\[0\]: is not .*a maze grid string/);
  // Maze characters in a Sudoku report are refused too.
  const sudoku = JSON.parse(JSON.stringify(report([puzzle()])));
  sudoku.puzzles[0].trace.answers[0] = '#S  ############';
  assert.throws(() => checkInspectReport(sudoku), /trace\.answers\[0\]: is not a Sudoku grid string/);
});
