// The fixed-point tools on a DEQ model whose maps are known in closed form: a hand-written
// StepModel (trainer/inspect/stepModel.ts) with states z_H, z_L [B, 2, 4] whose step is
//   z_H ← 0.3·z_H;   z_L ← f^K(z_L) with the inner map f(z) = z·A (K = 3 plain iterations),
// A normal with eigenvalues 0.8·e^{±iθ}, 0.5, 0.3 (the matrix of inspect-onnx-maps.test.ts).
// So the inner map's spectral radius is 0.8 and the step map's (Jacobian diag(0.3·I, A³)) is
// 0.8³ = 0.512 — different numbers, each must land in its own, labelled field. From z_L along
// the 0.5-eigenvector every inner iteration's relative residual ‖f(z) − z‖/‖f(z)‖ is exactly 1.
// The report then goes through the view's checks and view model (the inner trace of a chosen
// step, both radii labelled).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StepContract } from '../../protocol/onnxContract';
import { parseToFixedPointMessage } from '../../protocol/fixedPointMessages';
import { INSPECT_REPORT_VERSION, type InspectReport } from '../../protocol/inspectReport';
import { parsePuzzleString } from '../../trainer/data/puzzleString';
import { defaultInspectOptions, inspectPuzzles } from '../../trainer/inspect/inspectModel';
import { formatInspectSummary } from '../../trainer/inspect/inspectSummary';
import type { StepInput, StepModel, StepOutput } from '../../trainer/inspect/stepModel';
import { innerSolveTrace, spectralRadiusRows, summaryLine, traceTitles } from '../../webview/fixedpoint/viewModel';
import { puzzle as fixturePuzzle, report as fixtureReport } from './inspectReportFixture';

const theta = 0.7;
const c = 0.8 * Math.cos(theta), s = 0.8 * Math.sin(theta);
const A = [[c, s, 0, 0], [-s, c, 0, 0], [0, 0, 0.5, 0], [0, 0, 0, 0.3]];
const K = 3;
const S = 2, D = 4, L = 16, V = 6;

const contract: StepContract = {
  task: 'sudoku', sudokuSide: 4, vocab: ['<pad>', '<blank>', '1', '2', '3', '4'], vocabSize: V, seqLen: L, batch: undefined,
  states: [{ name: 'z_H', seq: S, width: D }, { name: 'z_L', seq: S, width: D }], answerState: 'z_H', arch: 'trm-deq',
  hCycles: 1, lCycles: 1, haltMaxSteps: 8, hasQContinue: false,
  deq: { solverExport: 'fpi', iterations: K, solverTrained: 'anderson', innerState: 'z_L', hasResiduals: true, hasInnerMap: true },
};

/** f(z) = z·A on every row of 4 (float64 inside). */
function inner(z: Float32Array): Float32Array {
  const out = new Float32Array(z.length);
  for (let r = 0; r < z.length / D; r++) {
    for (let j = 0; j < D; j++) {
      let acc = 0;
      for (let i = 0; i < D; i++) acc += z[r * D + i]! * A[i]![j]!;
      out[r * D + j] = acc;
    }
  }
  return out;
}

const hInit = Float32Array.of(1, -1, 0.5, 2);
const lInit = Float32Array.of(0, 0, 2, 0); // the 0.5-eigenvector of A

class KnownDeq implements StepModel {
  readonly contract = contract;
  innerMapCalls = 0;
  async step(input: StepInput): Promise<StepOutput> {
    const B = input.batch, n = S * D;
    const [zH0, zL0] = input.states.map((st, k) => Float32Array.from(st, (x, j) => (input.reset[Math.floor(j / n)] ? (k === 0 ? hInit : lInit)[j % D]! : x)));
    const residuals = new Float32Array(B * K);
    let z: Float32Array = zL0!;
    for (let k = 0; k < K; k++) {
      const f = inner(z);
      for (let b = 0; b < B; b++) {
        let d2 = 0, f2 = 0;
        for (let j = b * n; j < (b + 1) * n; j++) { d2 += (f[j]! - z[j]!) ** 2; f2 += f[j]! ** 2; }
        residuals[b * K + k] = Math.sqrt(d2) / (Math.sqrt(f2) + 1e-9);
      }
      z = f;
    }
    const logits = new Float32Array(B * L * V);
    for (let i = 0; i < B * L; i++) logits[i * V + input.tokens[i]!] = 1; // the answer is the question
    if (input.innerMap) this.innerMapCalls++;
    return {
      states: [zH0!.map((x) => 0.3 * x), z], logits, qHalt: new Float32Array(B), deqResiduals: residuals,
      ...(input.innerMap ? { innerMap: inner(zL0!) } : {}),
    };
  }
  async initialStates(batch: number): Promise<Float32Array[]> {
    return [hInit, lInit].map((init) => Float32Array.from({ length: batch * S * D }, (_, j) => init[j % D]!));
  }
  async dispose(): Promise<void> {}
}

const question = '1.3..4.22..3.3.1';
const puzzles = [{ question: parsePuzzleString(question, 4), solution: parsePuzzleString('1234341221434321', 4) }, { question: parsePuzzleString(question, 4), solution: null }];

async function inspectKnown(): Promise<{ report: InspectReport; model: KnownDeq }> {
  const model = new KnownDeq();
  const opts = { ...defaultInspectOptions, steps: 4, perturbations: 0, relabel: false, probeBlanks: [], powerIterations: 40 };
  const r = await inspectPuzzles(model, puzzles, opts);
  const report: InspectReport = {
    version: INSPECT_REPORT_VERSION, createdAt: '2026-01-01T00:00:00Z', source: { model: 'known', runDirectory: null, puzzles: 'given' },
    contract, options: opts, summary: r.summary, puzzles: r.puzzles, probe: r.probe, seconds: 0,
  };
  return { report: JSON.parse(JSON.stringify(report)) as InspectReport, model };
}

test('inner map z·A (ρ 0.8) inside a step map with ρ 0.8³ = 0.512: each radius measured in its own field; the inner trace per step is exactly 1', async () => {
  const { report: r, model } = await inspectKnown();
  assert.ok(model.innerMapCalls > 0, 'the inner map was asked for');
  for (const p of r.puzzles) {
    assert.ok(Math.abs(p.deq!.innerSpectralRadius! - 0.8) < 0.02, `inner ρ ${p.deq!.innerSpectralRadius}`);
    assert.ok(Math.abs(p.spectralRadius! - 0.512) < 0.02, `step ρ ${p.spectralRadius}`);
    assert.equal(p.deq!.innerPowerTrace.length, 40);
    assert.equal(p.deq!.innerResiduals.length, 4);
    for (const t of p.deq!.innerResiduals) {
      assert.equal(t.length, K);
      for (const x of t) assert.ok(Math.abs(x - 1) < 1e-5, `inner residual ${x}`); // 1 up to the 1e-9 added to ‖f(z)‖ (z shrinks by 0.5 an iteration)
    }
  }
  const d = r.summary.deq!;
  assert.deepEqual([d.solverExport, d.solverTrained, d.iterations, d.cycles], ['fpi', 'anderson', K, 1]);
  assert.ok(Math.abs(d.innerSpectralRadius!.median - 0.8) < 0.02);
  assert.equal(d.innerSpectralRadius!.aboveOne, 0);
  const text = formatInspectSummary(r);
  assert.match(text, /inner solve \(1 × 3 iterations of "fpi" within each step; trained with "anderson"\):/);
  assert.match(text, /spectral radius of the inner map z ↦ net\(z \+ z_H \+ x\) at the end state: median 0\.(79|80|81)\d/);
  assert.match(text, /spectral radius of the step map at the end state \(40 power iterations\): median 0\.5\d\d/);
  assert.match(text, /q_halt {2}inner rho\n/);
  assert.deepEqual(d.medianInnerResidual.map((t) => t.map((x) => Math.round(x * 1e4) / 1e4)), [[1, 1, 1], [1, 1, 1], [1, 1, 1], [1, 1, 1]].map((t) => t.map((x) => x)));
});

test('the view: a DEQ report passes the checks; the inner trace of the chosen step and both radii, each labelled', async () => {
  const { report: r } = await inspectKnown();
  const ok = parseToFixedPointMessage({ type: 'report', target: 't', reportPath: 'p', report: r });
  assert.ok(ok.ok, ok.ok ? '' : ok.error);
  const p = r.puzzles[0]!;
  p.deq!.innerResiduals[2] = [0.5, 0.25, 0.125];
  const t = innerSolveTrace(r, p, 2)!;
  assert.equal(t.step, 3);
  assert.deepEqual(t.iterations, [1, 2, 3]);
  assert.deepEqual(t.residuals, [0.5, 0.25, 0.125]);
  assert.equal(t.median.length, 3);
  assert.deepEqual(t.cycleStarts, []);
  assert.match(t.key, /exported as plain fixed-point iteration "fpi"; trained with "anderson"/);
  assert.equal(innerSolveTrace(r, p, 99)!.step, 4, 'the step is clamped');
  assert.equal(traceTitles.innerSolve(3), 'Inner solve (iterations within step 3): relative residual ‖f(z_k) − z_k‖/‖f(z_k)‖ (log scale)');
  assert.match(traceTitles.acrossSteps, /across supervision steps/);
  const rows = spectralRadiusRows(r, p);
  assert.equal(rows.length, 2);
  assert.equal(rows[0]![0], 'step map: spectral radius ρ(J) at z_K');
  assert.match(rows[0]![1], /^0\.51\d — largest \|eigenvalue\| of the step map's Jacobian/);
  assert.equal(rows[1]![0], 'inner map (solver): spectral radius ρ(∂f/∂z_L) at z_K');
  assert.match(rows[1]![1], /^0\.(79|80|81)\d — largest \|eigenvalue\| of the inner map z ↦ net\(z \+ z_H \+ x\)/);
  assert.match(summaryLine(r), /step map spectral radius median 0\.5\d\d .* inner map \(solver\) spectral radius median 0\.(79|80|81)\d/);

  // Two cycles (T = 2): the iterations run on across the step's two solves, the second starting at K + 1.
  const two: InspectReport = { ...r, contract: { ...r.contract, hCycles: 2 } };
  const p2 = { ...p, deq: { ...p.deq!, innerResiduals: p.deq!.innerResiduals.map(() => [1, 0.5, 0.2, 0.1, 0.05, 0]) } };
  const t2 = innerSolveTrace(two, p2, 0)!;
  assert.deepEqual(t2.iterations, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(t2.cycleStarts, [4]);
  assert.deepEqual(t2.residuals, [1, 0.5, 0.2, 0.1, 0.05, null], 'a zero residual is a gap on the log scale');
});

test('the inner map\'s label comes from reclab.deq_map, else the arch: the Attractor\'s map in the summary and the view, never TRM-DEQ\'s', async () => {
  const { report: r } = await inspectKnown();
  const p = r.puzzles[0]!;
  const labelled = (c: InspectReport['contract']) => {
    const report: InspectReport = { ...r, contract: c };
    const ok = parseToFixedPointMessage({ type: 'report', target: 't', reportPath: 'p', report });
    assert.ok(ok.ok, ok.ok ? '' : ok.error);
    return { text: formatInspectSummary(report), row: spectralRadiusRows(report, p)[1]![1] };
  };
  const attractor = labelled({ ...r.contract, arch: 'attractor' });
  assert.match(attractor.text, /spectral radius of the inner map y ↦ FPHead\(y \+ c\) − y at the end state: median 0\.(79|80|81)\d/);
  assert.match(attractor.text, /inner rho: the inner map's, the solve's y ↦ FPHead\(y \+ c\) − y\)/);
  assert.match(attractor.row, /— largest \|eigenvalue\| of the inner map y ↦ FPHead\(y \+ c\) − y that the solver iterates/);
  for (const x of [attractor.text, attractor.row]) assert.doesNotMatch(x, /net\(z/);
  // A model's own reclab.deq_map (contract.deq.map) wins over the arch; an unknown arch without one is named generically.
  const own = labelled({ ...r.contract, arch: 'trm-deq', deq: { ...r.contract.deq!, map: 'z ↦ g(z; x)' } });
  assert.match(own.text, /inner map z ↦ g\(z; x\) at the end state/);
  assert.match(own.row, /of the inner map z ↦ g\(z; x\) that/);
  assert.match(labelled({ ...r.contract, arch: 'my-deq' }).text, /inner map the solve's map of z_L at the end state/);
});

test('the report checks: a DEQ trace of the wrong length is refused naming it; a model without deq has no inner chart nor row', async () => {
  const { report: r } = await inspectKnown();
  r.puzzles[1]!.deq!.innerResiduals[1] = [1, 1];
  assert.deepEqual(parseToFixedPointMessage({ type: 'report', target: 't', reportPath: 'p', report: r }),
    { ok: false, error: 'report.puzzles[1].deq.innerResiduals[1]: does not have T·K = 3 values' });
  // A version-1 report (no deq fields) still reads; version 3 does not.
  const v1 = fixtureReport([fixturePuzzle()]);
  assert.ok(parseToFixedPointMessage({ type: 'report', target: 't', reportPath: 'p', report: v1 }).ok);
  assert.equal(innerSolveTrace(v1, v1.puzzles[0]!, 0), undefined);
  assert.deepEqual(spectralRadiusRows(v1, v1.puzzles[0]!).map(([k]) => k), ['step map: spectral radius ρ(J) at z_K']);
  assert.doesNotMatch(summaryLine(v1), /inner map/);
  assert.deepEqual(parseToFixedPointMessage({ type: 'report', target: 't', reportPath: 'p', report: { ...v1, version: 3 } }), { ok: false, error: 'report.version: expected 1 or 2' });
});
