// `reclab inspect`'s measurements on any StepModel for a list of Sudoku puzzles or mazes
// (reference.md §3.5, §4.3): K steps from the initial states with per-step residuals, answers,
// correctness, constraint violations (maze: validity) and q_halt; the critical step; the one-step
// residual at the end; the spectral radius of the step map at the end state (power iteration on
// finite differences — forward passes only, so it works on foreign models); a fixed-point census
// over noisy initial states and the task's symmetries (digit relabellings; a maze's rotations and
// reflections); and the one-unknown probe (Sudoku only). The task specifics: inspectTask.ts.
import type { Census, DeqSummary, FixedPointCluster, InspectOptions, InspectSummary, ProbeResult, PuzzleInspection, StepTrace, TrajectoryProjection } from '../../protocol/inspectReport';
import { Rng } from '../random';
import { inspectTaskOf, type InspectTask } from './inspectTask';
import { clusterByDistance, criticalStep, distance, median, norm, pca2, project, rightThenLeft, spectralRadiusEstimate, type Pca2 } from './fixedPointMath';
import { stateSizes, type StepModel } from './stepModel';
import { runTrajectories, stepRows, type TrajectoryResult } from './trajectory';

export interface InspectPuzzle {
  /** side*side cells: Sudoku 0 = blank; maze cells 1..4 (trainer/data/mazeGrid.ts). */
  question: Uint8Array;
  solution: Uint8Array | null;
}

export const defaultInspectOptions: InspectOptions = {
  steps: 16, settleTolerance: 1e-3, powerIterations: 20, fdStep: 1e-3, perturbations: 8, noiseStd: 1,
  relabel: true, clusterTolerance: 1e-2, probeBlanks: [1, 2, 3], seed: 0,
};

export const MAX_STEPS = 256;

export interface InspectResult {
  puzzles: PuzzleInspection[];
  probe: ProbeResult[];
  summary: InspectSummary;
}

/** Answer grid from argmax tokens: token t in 2..side+1 -> digit t − 1, anything else -> 0 (blank). */
export function decodeAnswer(tokens: ArrayLike<number>, side: number): Uint8Array {
  return Uint8Array.from({ length: tokens.length }, (_, i) => {
    const t = tokens[i]!;
    return t >= 2 && t <= side + 1 ? t - 1 : 0;
  });
}

function sameGrid(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** `copies` copies of each state's single row [S·D]. */
function replicate(rows: readonly Float32Array[], copies: number): Float32Array[] {
  return rows.map((r) => {
    const out = new Float32Array(copies * r.length);
    for (let i = 0; i < copies; i++) out.set(r, i * r.length);
    return out;
  });
}

function trace(t: TrajectoryResult, row: number, names: string[], task: InspectTask, L: number, question: Uint8Array, solution: Uint8Array | null, shiftBack = 0): StepTrace & { grids: Uint8Array[] } {
  const grids = t.argmax.map((a) => {
    const g = task.decode(a.subarray(row * L, (row + 1) * L));
    return shiftBack ? task.transformBack(g, shiftBack) : g;
  });
  return {
    residuals: Object.fromEntries(names.map((n, i) => [n, t.residuals[i]![row]!])),
    answers: grids.map(task.format),
    correct: grids.map((g) => (solution ? sameGrid(g, solution) : null)),
    violations: grids.map((g) => task.violations(question, g)),
    qHalt: Array.from(t.qHalt, (q) => q[row]!),
    grids,
  };
}

function endResidual(t: TrajectoryResult, row: number, sizes: number[], names: string[]): Record<string, number> {
  return Object.fromEntries(names.map((n, i) => {
    const s = sizes[i]!;
    const d = distance(t.endNext[i]!, t.end[i]!, row * s, s);
    const z = norm(t.end[i]!, row * s, s);
    return [n, z === 0 ? (d === 0 ? 0 : Infinity) : d / z];
  }));
}

/** Spectral radius of z ↦ F(z) at each row's z_K: power iteration with J v ≈ (F(z + εv) − F(z)) / ε. */
async function spectralRadii(model: StepModel, tokens: Int32Array, t: TrajectoryResult, opts: InspectOptions, maxBatch: number, rng: Rng)
  : Promise<{ radius: number[]; traces: number[][] }> {
  const sizes = stateSizes(model.contract);
  const rows = t.rows;
  const v = sizes.map((s) => Float32Array.from({ length: rows * s }, () => rng.normal()));
  const rowNorm = (arrays: Float32Array[], r: number) => Math.sqrt(arrays.reduce((acc, a, i) => acc + norm(a, r * sizes[i]!, sizes[i]!) ** 2, 0));
  const scaleRows = (arrays: Float32Array[], factors: number[]) => arrays.forEach((a, i) => {
    for (let r = 0; r < rows; r++) for (let j = r * sizes[i]!; j < (r + 1) * sizes[i]!; j++) a[j]! *= factors[r]!;
  });
  scaleRows(v, Array.from({ length: rows }, (_, r) => 1 / rowNorm(v, r)));
  const eps = Array.from({ length: rows }, (_, r) => opts.fdStep * Math.max(rowNorm(t.end, r), 1e-6));
  const traces = Array.from({ length: rows }, () => [] as number[]);
  for (let it = 0; it < opts.powerIterations; it++) {
    const z = t.end.map((e, i) => Float32Array.from(e, (x, j) => x + eps[Math.floor(j / sizes[i]!)]! * v[i]![j]!));
    const out = await stepRows(model, tokens, z, rows, maxBatch);
    const jv = out.states.map((s, i) => Float32Array.from(s, (x, j) => (x - t.endNext[i]![j]!) / eps[Math.floor(j / sizes[i]!)]!));
    const ratios = Array.from({ length: rows }, (_, r) => rowNorm(jv, r));
    ratios.forEach((q, r) => traces[r]!.push(q));
    scaleRows(jv, ratios.map((q) => (q > 0 ? 1 / q : 0)));
    jv.forEach((a, i) => v[i]!.set(a));
  }
  return { radius: traces.map(spectralRadiusEstimate), traces };
}

/**
 * DEQ models: spectral radius of the inner map f (TRM-DEQ's z ↦ net(z + z_H + x), the Attractor's
 * y ↦ FPHead(y + c) − y as a map of z_L = y − c; protocol deqMapLabel) at each row's end state
 * (z = the inner state at step K, the other states held fixed; TorchDEQ's `sradius` of the solve),
 * by the same power iteration on finite differences, J v ≈ (f(z + εv) − f(z)) / ε, reading f from
 * the graph's deq_inner_map output (the other outputs of those steps are ignored).
 */
export async function innerSpectralRadii(model: StepModel, tokens: Int32Array, end: readonly Float32Array[], rows: number, opts: Pick<InspectOptions, 'powerIterations' | 'fdStep'>, maxBatch: number, rng: Rng)
  : Promise<{ radius: number[]; traces: number[][] }> {
  const c = model.contract;
  const k = c.states.findIndex((s) => s.name === c.deq?.innerState);
  if (k < 0 || !c.deq?.hasInnerMap) throw new Error('inspect: the inner map needs a deq_inner_map output and reclab.deq_inner_state');
  const size = stateSizes(c)[k]!;
  const base = (await stepRows(model, tokens, end, rows, maxBatch, true)).innerMap!;
  const v = Float32Array.from({ length: rows * size }, () => rng.normal());
  const scaleRows = (a: Float32Array, factors: number[]) => {
    for (let r = 0; r < rows; r++) for (let j = r * size; j < (r + 1) * size; j++) a[j]! *= factors[r]!;
  };
  scaleRows(v, Array.from({ length: rows }, (_, r) => 1 / norm(v, r * size, size)));
  const eps = Array.from({ length: rows }, (_, r) => opts.fdStep * Math.max(norm(end[k]!, r * size, size), 1e-6));
  const traces = Array.from({ length: rows }, () => [] as number[]);
  for (let it = 0; it < opts.powerIterations; it++) {
    const states = end.map((e, i) => (i === k ? Float32Array.from(e, (x, j) => x + eps[Math.floor(j / size)]! * v[j]!) : e));
    const fz = (await stepRows(model, tokens, states, rows, maxBatch, true)).innerMap!;
    const jv = Float32Array.from(fz, (x, j) => (x - base[j]!) / eps[Math.floor(j / size)]!);
    const ratios = Array.from({ length: rows }, (_, r) => norm(jv, r * size, size));
    ratios.forEach((q, r) => traces[r]!.push(q));
    scaleRows(jv, ratios.map((q) => (q > 0 ? 1 / q : 0)));
    v.set(jv);
  }
  return { radius: traces.map(spectralRadiusEstimate), traces };
}

export async function inspectPuzzles(model: StepModel, puzzles: readonly InspectPuzzle[], opts: InspectOptions, maxBatch = 128): Promise<InspectResult> {
  const c = model.contract;
  const task = inspectTaskOf(c);
  if (!Number.isInteger(opts.steps) || opts.steps < 1 || opts.steps > MAX_STEPS) throw new Error(`inspect: steps must be 1..${MAX_STEPS}, got ${opts.steps}`);
  const L = c.seqLen;
  const names = c.states.map((s) => s.name);
  const sizes = stateSizes(c);
  const answerIndex = names.indexOf(c.answerState);
  const answerSize = sizes[answerIndex]!;
  const rng = new Rng(opts.seed);
  const n = puzzles.length;
  for (const [i, p] of puzzles.entries()) {
    if (p.question.length !== L) throw new Error(`inspect: puzzle ${i + 1} has ${p.question.length} cells, the model takes ${L}`);
  }
  const init = await model.initialStates(1);

  // 1. The main trajectories, keeping the answer state at every step for the PCA.
  const tokens = new Int32Array(n * L);
  puzzles.forEach((p, i) => tokens.set(task.encode(p.question), i * L));
  const answerStates = Array.from({ length: n }, () => [] as Float32Array[]);
  const main = await runTrajectories(model, { rows: n, tokens, states: replicate(init, n) }, opts.steps, {
    maxBatch,
    onStep: (r0, b, _step, states) => {
      for (let r = 0; r < b; r++) answerStates[r0 + r]!.push(states[answerIndex]!.slice(r * answerSize, (r + 1) * answerSize));
    },
  });
  const pcas: Pca2[] = answerStates.map((traj) => pca2(traj));

  // 2. Stability at the end state.
  const spectral = opts.powerIterations > 0 ? await spectralRadii(model, tokens, main, opts, maxBatch, rng) : undefined;
  const inner = c.deq?.hasInnerMap && opts.powerIterations > 0 ? await innerSpectralRadii(model, tokens, main.end, n, opts, maxBatch, rng) : undefined;

  const results: PuzzleInspection[] = puzzles.map((p, i) => {
    const t = trace(main, i, names, task, L, p.question, p.solution);
    const { grids, ...stepTrace } = t;
    const correctSteps = t.correct.map(Boolean);
    const endRes = endResidual(main, i, sizes, names);
    const endMax = Math.max(...Object.values(endRes));
    const final = grids[grids.length - 1]!;
    const projection: TrajectoryProjection = {
      explained: pcas[i]!.explained,
      main: answerStates[i]!.map((s) => project(s, pcas[i]!)),
      perturbed: [],
    };
    return {
      index: i, question: task.format(p.question), solution: p.solution ? task.format(p.solution) : null,
      blanks: task.difficulty(p.question, p.solution),
      trace: stepTrace, finalAnswer: task.format(final), correct: t.correct[t.correct.length - 1] ?? null,
      violations: task.violations(p.question, final),
      criticalStep: p.solution ? criticalStep(correctSteps) : null, rightThenLeft: p.solution ? rightThenLeft(correctSteps) : false,
      endResidual: endRes, endResidualMax: endMax, settled: endMax < opts.settleTolerance,
      spectralRadius: spectral ? spectral.radius[i]! : null, powerTrace: spectral ? spectral.traces[i]! : [],
      census: null, trajectory: projection,
      ...(c.deq ? {
        deq: {
          innerResiduals: main.deqResiduals?.[i] ?? [],
          innerSpectralRadius: inner ? inner.radius[i]! : null, innerPowerTrace: inner ? inner.traces[i]! : [],
        },
      } : {}),
    };
  });
  answerStates.length = 0;

  // 3. The fixed-point census.
  if (opts.perturbations > 0 || opts.relabel) {
    const mainEnds = puzzles.map((_, i) => concatRow(main.end, i, sizes));
    await census(model, task, puzzles, results, mainEnds, pcas, init, opts, maxBatch, rng);
  }

  // 4. The one-unknown probe (blanks on solved grids: a Sudoku question; a maze's never holds path cells).
  const probe = task.probe ? await oneUnknownProbe(model, task, puzzles, init, opts, maxBatch, rng) : [];
  const summary = summarise(results, names, opts);
  if (c.deq) summary.deq = deqSummary(results, c.deq, c.hCycles, opts.steps);
  return { puzzles: results, probe, summary };
}

interface CensusRun { puzzle: number; shift: number; noisy: boolean }

async function census(model: StepModel, task: InspectTask, puzzles: readonly InspectPuzzle[], results: PuzzleInspection[], mainEnds: Float32Array[], pcas: Pca2[], init: Float32Array[],
  opts: InspectOptions, maxBatch: number, rng: Rng): Promise<void> {
  const c = model.contract;
  const L = c.seqLen;
  const names = c.states.map((s) => s.name);
  const sizes = stateSizes(c);
  const answerIndex = names.indexOf(c.answerState);
  const answerSize = sizes[answerIndex]!;
  const runs: CensusRun[] = [];
  puzzles.forEach((_, i) => {
    for (let k = 0; k < opts.perturbations; k++) runs.push({ puzzle: i, shift: 0, noisy: true });
    if (opts.relabel) for (let s = 1; s <= task.symmetries; s++) runs.push({ puzzle: i, shift: s, noisy: false });
  });
  const rows = runs.length;
  const tokens = new Int32Array(rows * L);
  const states = replicate(init, rows);
  runs.forEach((r, k) => {
    const q = puzzles[r.puzzle]!.question;
    tokens.set(task.encode(r.shift ? task.transform(q, r.shift) : q), k * L);
    if (r.noisy) states.forEach((s, i) => { for (let j = k * sizes[i]!; j < (k + 1) * sizes[i]!; j++) s[j]! += opts.noiseStd * rng.normal(); });
  });
  const paths = runs.map(() => [] as [number, number][]);
  const t = await runTrajectories(model, { rows, tokens, states }, opts.steps, {
    maxBatch,
    onStep: (r0, b, _step, st) => {
      for (let r = r0; r < r0 + b; r++) {
        if (runs[r]!.noisy) paths[r]!.push(project(st[answerIndex]!, pcas[runs[r]!.puzzle]!, (r - r0) * answerSize));
      }
    },
  });
  // Group each puzzle's runs, the unperturbed main run included.
  results.forEach((res, i) => {
    const members: { answer: string; settled: boolean; correct: boolean | null; noisy: boolean; unperturbed: boolean; run: number; end: Float32Array | null }[] = [];
    members.push({ answer: res.finalAnswer, settled: res.settled, correct: res.correct, noisy: true, unperturbed: true, run: -1, end: mainEnds[i]! });
    runs.forEach((r, k) => {
      if (r.puzzle !== i) return;
      const tr = trace(t, k, names, task, L, puzzles[i]!.question, puzzles[i]!.solution, r.shift);
      const endMax = Math.max(...Object.values(endResidual(t, k, sizes, names)));
      const end = r.noisy ? concatRow(t.end, k, sizes) : null;
      members.push({ answer: tr.answers[tr.answers.length - 1]!, settled: endMax < opts.settleTolerance, correct: tr.correct[tr.correct.length - 1] ?? null, noisy: r.noisy, unperturbed: false, run: k, end });
    });
    const settled = members.filter((m) => m.settled);
    const byAnswer = new Map<string, typeof members>();
    for (const m of settled) byAnswer.set(m.answer, [...(byAnswer.get(m.answer) ?? []), m]);
    const fixedPoints: FixedPointCluster[] = [...byAnswer.entries()].map(([answer, ms]) => {
      // Same-frame runs (unperturbed and noisy starts) can be compared state to state.
      const sameFrame = ms.filter((m) => m.end !== null).map((m) => m.end!);
      const clusters = new Set(clusterByDistance(sameFrame, opts.clusterTolerance)).size;
      return {
        answer, correct: ms[0]!.correct, violations: task.violations(puzzles[i]!.question, task.parse(answer)), reached: ms.length,
        byNoise: ms.filter((m) => m.noisy).length, byRelabel: ms.filter((m) => !m.noisy).length,
        stateClusters: clusters,
        includesUnperturbed: ms.some((m) => m.unperturbed),
      };
    }).sort((a, b) => b.reached - a.reached);
    const unsettled = members.filter((m) => !m.settled);
    const result: Census = { runs: members.length, fixedPoints, unsettled: unsettled.length, unsettledCorrect: unsettled.filter((m) => m.correct).length };
    res.census = result;
    const fpIndex = new Map(fixedPoints.map((f, j) => [f.answer, j]));
    res.trajectory!.perturbed = members.filter((m) => m.run >= 0 && runs[m.run]!.noisy).map((m) => ({
      points: paths[m.run]!, fixedPoint: m.settled ? fpIndex.get(m.answer) ?? null : null,
    }));
  });
}

function concatRow(arrays: Float32Array[], row: number, sizes: number[]): Float32Array {
  const out = new Float32Array(sizes.reduce((a, b) => a + b, 0));
  let off = 0;
  arrays.forEach((a, i) => { out.set(a.subarray(row * sizes[i]!, (row + 1) * sizes[i]!), off); off += sizes[i]!; });
  return out;
}

async function oneUnknownProbe(model: StepModel, task: InspectTask, puzzles: readonly InspectPuzzle[], init: Float32Array[], opts: InspectOptions, maxBatch: number, rng: Rng): Promise<ProbeResult[]> {
  const c = model.contract;
  const L = c.seqLen;
  const solved = puzzles.map((p) => p.solution).filter((s): s is Uint8Array => s !== null);
  const out: ProbeResult[] = [];
  if (solved.length === 0) return out;
  const names = c.states.map((s) => s.name);
  for (const blanks of opts.probeBlanks) {
    const questions = solved.map((s) => {
      const q = Uint8Array.from(s);
      for (const cell of rng.permutation(L).slice(0, blanks)) q[cell] = 0;
      return q;
    });
    const tokens = new Int32Array(questions.length * L);
    questions.forEach((q, i) => tokens.set(task.encode(q), i * L));
    const t = await runTrajectories(model, { rows: questions.length, tokens, states: replicate(init, questions.length) }, opts.steps, { maxBatch });
    const r: ProbeResult = { blanks, puzzles: questions.length, correctAtEnd: 0, failures: 0, rightThenLeft: 0, examples: [] };
    questions.forEach((q, i) => {
      const tr = trace(t, i, names, task, L, q, solved[i]!);
      const correct = tr.correct.map(Boolean);
      if (correct[correct.length - 1]) r.correctAtEnd++;
      else {
        r.failures++;
        if (r.examples.length < 5) r.examples.push({ question: task.format(q), answer: tr.answers[tr.answers.length - 1]!, solution: task.format(solved[i]!) });
      }
      if (rightThenLeft(correct)) r.rightThenLeft++;
    });
    out.push(r);
  }
  return out;
}

/** The DEQ summary: the solve as exported, the median inner trace per step, the inner map's radius. */
export function deqSummary(results: readonly PuzzleInspection[], d: { solverExport: string; solverTrained: string; iterations: number }, cycles: number, steps: number): DeqSummary {
  const withTrace = results.filter((r) => (r.deq?.innerResiduals.length ?? 0) > 0);
  const medianInnerResidual = withTrace.length === 0 ? [] : Array.from({ length: steps }, (_, s) =>
    Array.from({ length: cycles * d.iterations }, (_, k) => median(withTrace.map((r) => r.deq!.innerResiduals[s]![k]!))));
  const radii = results.map((r) => r.deq?.innerSpectralRadius ?? null).filter((x): x is number => x !== null && Number.isFinite(x));
  return {
    solverExport: d.solverExport, solverTrained: d.solverTrained, iterations: d.iterations, cycles, medianInnerResidual,
    innerSpectralRadius: radii.length ? { median: median(radii), max: Math.max(...radii), aboveOne: radii.filter((x) => x > 1).length } : null,
  };
}

export function summarise(results: readonly PuzzleInspection[], names: string[], opts: InspectOptions): InspectSummary {
  const criticalSteps: Record<string, number> = {};
  for (const r of results) {
    const key = r.criticalStep === null ? 'none' : String(r.criticalStep);
    criticalSteps[key] = (criticalSteps[key] ?? 0) + 1;
  }
  const medianResidual = Object.fromEntries(names.map((name) => [name,
    Array.from({ length: opts.steps }, (_, s) => median(results.map((r) => r.trace.residuals[name]![s]!)))]));
  const radii = results.map((r) => r.spectralRadius).filter((x): x is number => x !== null && Number.isFinite(x));
  const withCensus = results.filter((r) => r.census);
  const fixedPointsPerPuzzle: Record<string, number> = {};
  for (const r of withCensus) {
    const k = String(r.census!.fixedPoints.length);
    fixedPointsPerPuzzle[k] = (fixedPointsPerPuzzle[k] ?? 0) + 1;
  }
  return {
    puzzles: results.length,
    correctAtEnd: results.filter((r) => r.correct).length,
    settled: results.filter((r) => r.settled).length,
    settledWrong: results.filter((r) => r.settled && r.correct === false).length,
    neverSettled: results.filter((r) => !r.settled).length,
    neverSettledCorrect: results.filter((r) => !r.settled && r.correct).length,
    rightThenLeft: results.filter((r) => r.rightThenLeft).length,
    criticalSteps, medianResidual,
    spectralRadius: radii.length ? { median: median(radii), max: Math.max(...radii), aboveOne: radii.filter((x) => x > 1).length } : null,
    fixedPointsPerPuzzle: withCensus.length ? fixedPointsPerPuzzle : null,
    puzzlesWithWrongFixedPoint: withCensus.length ? withCensus.filter((r) => r.census!.fixedPoints.some((f) => f.correct === false)).length : null,
  };
}
