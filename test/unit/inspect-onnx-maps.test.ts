// Fixed-point inspection through onnxruntime-node on step maps whose behaviour is known in
// closed form, each built here as a contract-honouring ONNX graph (one state z [B, 2, 4]):
//   z ↦ z·A with A normal, eigenvalues 0.8·e^{±iθ}, 0.5, 0.3      -> spectral radius 0.8;
//     from z_0 along the 0.5-eigenvector every residual ‖z_s − z_{s−1}‖/‖z_{s−1}‖ is exactly 0.5
//   z ↦ z·A with A triangular, eigenvalues 1.25, 0.5, 0.3, 0.2     -> spectral radius 1.25
//   z ↦ 0.5·z + b                                                   -> one fixed point (2b) for every start,
//     spectral radius 0.5; its answer is the question itself (logits = one-hot of the tokens)
// The last one also goes through the built CLI (`reclab inspect file.onnx`), the path any
// foreign model takes, and a graph missing an output is refused naming that output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { InspectOptions, InspectReport } from '../../protocol/inspectReport';
import { defaultInspectOptions, inspectPuzzles } from '../../trainer/inspect/inspectModel';
import { affineStepGraph, halfA } from './affineStepGraph';
import { OnnxStepModel } from '../../trainer/onnx/onnxStepModel';
import { parsePuzzleString } from '../../trainer/data/puzzleString';

const dir = mkdtempSync(join(tmpdir(), 'reclab-inspect-maps-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const cli = resolve(__dirname, '../../dist/trainer/cli.js');

const theta = 0.7;
const c = 0.8 * Math.cos(theta), s = 0.8 * Math.sin(theta);
const rotationA = [[c, s, 0, 0], [-s, c, 0, 0], [0, 0, 0.5, 0], [0, 0, 0, 0.3]];
const triangularA = [[1.25, 1, 0, 0], [0, 0.5, 0, 0], [0, 0, 0.3, 0.7], [0, 0, 0, 0.2]];

const question = '1.3..4.22..3.3.1';
const solution = '1234341221434321';
const puzzle = { question: parsePuzzleString(question, 4), solution: parsePuzzleString(solution, 4) };
const full = { question: parsePuzzleString(solution, 4), solution: parsePuzzleString(solution, 4) };
const quiet: InspectOptions = { ...defaultInspectOptions, perturbations: 0, relabel: false, probeBlanks: [], powerIterations: 30 };

async function withModel<T>(bytes: Uint8Array, f: (m: OnnxStepModel) => Promise<T>): Promise<T> {
  const m = await OnnxStepModel.fromBytes(bytes, 'test graph', { threads: 1 });
  try {
    return await f(m);
  } finally {
    await m.dispose();
  }
}

test('z·A, A normal with |λ|max = 0.8: spectral radius 0.8; residuals exactly 0.5 along the 0.5-eigenvector', async () => {
  await withModel(affineStepGraph(rotationA, [0, 0, 0, 0], [0, 0, 2, 0]), async (m) => {
    const r = await inspectPuzzles(m, [puzzle, full], { ...quiet, steps: 12 });
    for (const p of r.puzzles) {
      assert.ok(Math.abs(p.spectralRadius! - 0.8) < 0.02, `spectral radius ${p.spectralRadius}`);
      assert.equal(p.trace.residuals['z']!.length, 12);
      for (const x of p.trace.residuals['z']!) assert.ok(Math.abs(x - 0.5) < 1e-5, `residual ${x}`);
      assert.ok(Math.abs(p.endResidual['z']! - 0.5) < 1e-5);
      assert.equal(p.settled, false);
      // q_halt = mean of z_s = 2·0.5^s·2/8 (two of the eight entries hold 2·0.5^s).
      p.trace.qHalt.forEach((q, i) => assert.ok(Math.abs(q - 0.5 * 0.5 ** (i + 1)) < 1e-6));
    }
    assert.equal(r.summary.neverSettled, 2);
  });
});

test('z·A, A triangular with eigenvalues 1.25, 0.5, 0.3, 0.2: spectral radius 1.25 (> 1: unstable)', async () => {
  await withModel(affineStepGraph(triangularA, [0, 0, 0, 0], [1, 0, 0, 0]), async (m) => {
    const r = await inspectPuzzles(m, [puzzle], { ...quiet, steps: 6 });
    assert.ok(Math.abs(r.puzzles[0]!.spectralRadius! - 1.25) < 0.02, `spectral radius ${r.puzzles[0]!.spectralRadius}`);
    assert.equal(r.summary.spectralRadius!.aboveOne, 1);
  });
});

test('0.5·z + b: one fixed point for every noisy start and relabelling; its answer (the question) is wrong for a puzzle with blanks', async () => {
  await withModel(affineStepGraph(halfA, [1, -2, 0.5, 3], [1, 1, 1, 1]), async (m) => {
    const opts: InspectOptions = { ...defaultInspectOptions, steps: 40, perturbations: 6, noiseStd: 1, relabel: true, probeBlanks: [1], powerIterations: 10 };
    const r = await inspectPuzzles(m, [puzzle, full], opts);
    const [withBlanks, complete] = r.puzzles;
    for (const p of r.puzzles) {
      assert.ok(p.settled);
      assert.ok(Math.abs(p.spectralRadius! - 0.5) < 0.01);
      const census = p.census!;
      assert.equal(census.runs, 1 + 6 + 3);
      assert.equal(census.unsettled, 0);
      assert.equal(census.fixedPoints.length, 1);
      const fp = census.fixedPoints[0]!;
      assert.deepEqual([fp.reached, fp.byNoise, fp.byRelabel, fp.stateClusters, fp.includesUnperturbed], [10, 7, 3, 1, true]);
      assert.equal(fp.answer, p.question); // the map's answer is its input, in the puzzle's own frame
      assert.equal(p.trajectory!.perturbed.length, 6);
      assert.ok(p.trajectory!.perturbed.every((t) => t.fixedPoint === 0 && t.points.length === 41));
    }
    assert.equal(withBlanks!.correct, false);
    assert.equal(withBlanks!.census!.fixedPoints[0]!.correct, false);
    assert.equal(withBlanks!.criticalStep, null);
    assert.equal(complete!.correct, true);
    assert.equal(complete!.criticalStep, 1);
    assert.equal(r.summary.settledWrong, 1);
    assert.equal(r.summary.puzzlesWithWrongFixedPoint, 1);
    // The probe blanks one cell of each solution; this map answers with the blank, so it always fails.
    assert.deepEqual(r.probe.map((p) => [p.blanks, p.puzzles, p.failures, p.rightThenLeft]), [[1, 2, 2, 0]]);
  });
});

test('the built CLI inspects a contract-honouring .onnx file and refuses one that is missing an output', () => {
  const good = join(dir, 'affine.onnx');
  writeFileSync(good, affineStepGraph(halfA, [1, -2, 0.5, 3], [1, 1, 1, 1]));
  const r = spawnSync(process.execPath, [cli, 'inspect', good, '--puzzle', question, '--steps', '30', '--perturbations', '2', '--quiet'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /settled on a WRONG fixed point: 1/);
  const report = JSON.parse(readFileSync(join(dir, 'affine.inspection.json'), 'utf8')) as InspectReport;
  assert.equal(report.puzzles[0]!.solution, solution); // worked out by the solver (the puzzle has one solution)
  assert.equal(report.summary.settledWrong, 1);

  const bad = join(dir, 'no-init.onnx');
  writeFileSync(bad, affineStepGraph(halfA, [0, 0, 0, 0], [1, 1, 1, 1], { dropInit: true }));
  const r2 = spawnSync(process.execPath, [cli, 'inspect', bad, '--puzzle', question], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r2.status, 1);
  assert.match(r2.stderr, /output "z_init" is missing \(expected float32 \[B, 2, 4\]\)/);
});
