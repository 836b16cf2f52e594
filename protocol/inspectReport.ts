// The fixed-point inspection report that `reclab inspect` writes (JSON) and the Fixed-Point
// Debugging view reads. Measurements follow reference.md §3.5 (residual traces, critical step,
// one-unknown probe, multiple fixed points) and §4.3 (solver statistics, spectral radius).
import * as z from 'zod';
import type { DeqContract, StepContract } from './onnxContract';

/** 2: optional `deq` sections (DEQ models: the inner solve's trace and the inner map's spectral radius); a version-1 report reads as before. */
export const INSPECT_REPORT_VERSION = 2;
/** Default file name beside the model (in a run directory: runs/<id>/inspection.json). */
export const INSPECT_REPORT_FILE = 'inspection.json';
/** Puzzles one inspection takes (given or held-out); the extension's input box and the CLI both refuse more. */
export const MAX_INSPECT_PUZZLES = 10_000;

export interface InspectOptions {
  /** Supervision steps K run from the initial states. */
  steps: number;
  /** A run is settled when its one-step residual at the end (max over states) is below this. */
  settleTolerance: number;
  /** Power iterations for the spectral radius (0 = skip). */
  powerIterations: number;
  /** Relative size of the finite-difference step: eps = fdStep · ‖z*‖. */
  fdStep: number;
  /** Census: runs from initial states plus Gaussian noise of this std, per puzzle (0 runs = no census). */
  perturbations: number;
  noiseStd: number;
  /** Census: also run every digit relabelling (cyclic shifts, reference.md §3.2) of each puzzle; a maze: its 7 other rotations / reflections. */
  relabel: boolean;
  /** Two end states of one frame are the same fixed point when ‖a − b‖ / max(‖a‖, ‖b‖) is below this. */
  clusterTolerance: number;
  /** One-unknown probe: blank counts tried on solved grids (empty = no probe). */
  probeBlanks: number[];
  seed: number;
}

export interface StepTrace {
  /** Per state: ‖z_s − z_{s−1}‖ / ‖z_{s−1}‖ for s = 1..K (z_0 = the initial state). */
  residuals: Record<string, number[]>;
  /** Decoded answer after each step (grid string, '.' where the argmax is not a digit; a maze: "# SGo", '?' for PAD). */
  answers: string[];
  /** Per step: answer equals the solution (null when no solution is known). */
  correct: (boolean | null)[];
  /** Per step, label-free: Sudoku constraint violations of the decoded answer; a maze 0 when it is one simple S→G path over the open cells keeping every wall (trainer/data/mazeRules.ts), else 1; null for other tasks. */
  violations: (number | null)[];
  qHalt: number[];
}

export interface FixedPointCluster {
  /** The decoded answer at the end (in the puzzle's own frame). */
  answer: string;
  correct: boolean | null;
  violations: number | null;
  /** Runs that ended here: all, from noisy initial states (incl. the unperturbed run), from relabelled puzzles. */
  reached: number;
  byNoise: number;
  byRelabel: number;
  /** Distinct end states (by clusterTolerance) among the same-frame runs with this answer. */
  stateClusters: number;
  includesUnperturbed: boolean;
}

export interface Census {
  runs: number;
  /** Settled end states grouped into fixed points by answer, most reached first. */
  fixedPoints: FixedPointCluster[];
  /** Runs that did not settle within K steps, and how many of them ended on the right answer. */
  unsettled: number;
  unsettledCorrect: number;
}

export interface TrajectoryProjection {
  /** Fraction of the main trajectory's variance along PC1 and PC2. */
  explained: [number, number];
  /** The answer state z_0..z_K of the unperturbed run on its first two principal components. */
  main: [number, number][];
  /** The noisy-start runs, projected on the same components; fixedPoint indexes census.fixedPoints (null: unsettled). */
  perturbed: { points: [number, number][]; fixedPoint: number | null }[];
}

export interface PuzzleInspection {
  index: number;
  question: string;
  /** The known solution, or null. */
  solution: string | null;
  /** Sudoku: blank cells; maze: the solution's path length in moves. */
  blanks: number;
  trace: StepTrace;
  finalAnswer: string;
  correct: boolean | null;
  violations: number | null;
  /** First step after which the answer is right and stays right (1-based); null when wrong at the end. */
  criticalStep: number | null;
  /** Right at some step and wrong at the end (the answer left a correct fixed point). */
  rightThenLeft: boolean;
  /** ‖F(z_K) − z_K‖ / ‖z_K‖ per state. */
  endResidual: Record<string, number>;
  endResidualMax: number;
  settled: boolean;
  /** Spectral radius of the step map's Jacobian at z_K (power iteration on finite differences). */
  spectralRadius: number | null;
  /** ‖J v_k‖ of each power iteration (v_k unit). */
  powerTrace: number[];
  census: Census | null;
  trajectory: TrajectoryProjection | null;
  /** DEQ models (contract.deq): the inner solve within each supervision step, and the inner map's stability. */
  deq?: PuzzleDeqInspection;
}

export interface PuzzleDeqInspection {
  /**
   * [step s][T·K]: inside supervision step s (1..K_steps), the relative residual
   * ‖f(z_k) − z_k‖ / ‖f(z_k)‖ of every iteration of the inner solve (deqMapLabel: TRM-DEQ's
   * f(z) = net(z + z_H + x), the Attractor's f(y) = FPHead(y + c) − y),
   * cycle after cycle (T solves of K iterations). Empty when the model has no deq_residuals.
   */
  innerResiduals: number[][];
  /**
   * Spectral radius of the inner map's Jacobian ∂f/∂z at the end state (z = the inner state at
   * step K, the other states held; TorchDEQ's `sradius`), by power iteration on finite
   * differences; null when not measured (no deq_inner_map output, or --power-iterations 0).
   */
  innerSpectralRadius: number | null;
  innerPowerTrace: number[];
}

export interface DeqSummary {
  /** What the graph unrolls ("fpi"), what the model was trained with, K and T. */
  solverExport: string;
  solverTrained: string;
  iterations: number;
  cycles: number;
  /** [step][T·K] median over puzzles of innerResiduals. */
  medianInnerResidual: number[][];
  innerSpectralRadius: { median: number; max: number; aboveOne: number } | null;
}

export interface ProbeResult {
  blanks: number;
  puzzles: number;
  correctAtEnd: number;
  /** Wrong at the end. */
  failures: number;
  /** Right at some step, wrong at the end. */
  rightThenLeft: number;
  /** Up to 5 failing puzzles: question, answer at the end, solution. */
  examples: { question: string; answer: string; solution: string }[];
}

export interface InspectSummary {
  puzzles: number;
  correctAtEnd: number;
  settled: number;
  settledWrong: number;
  neverSettled: number;
  neverSettledCorrect: number;
  rightThenLeft: number;
  /** criticalStep -> count (steps as strings); "none" for puzzles wrong at the end. */
  criticalSteps: Record<string, number>;
  /** Per state and step: median over puzzles of the relative residual. */
  medianResidual: Record<string, number[]>;
  spectralRadius: { median: number; max: number; aboveOne: number } | null;
  /** Distinct fixed points per puzzle -> count of puzzles; puzzles that reach at least one wrong fixed point. */
  fixedPointsPerPuzzle: Record<string, number> | null;
  puzzlesWithWrongFixedPoint: number | null;
  /** DEQ models only. */
  deq?: DeqSummary;
}

export interface InspectReport {
  /** 1 (before the DEQ sections) or 2. */
  version: 1 | typeof INSPECT_REPORT_VERSION;
  createdAt: string;
  source: { model: string; runDirectory: string | null; puzzles: string };
  contract: StepContract;
  options: InspectOptions;
  summary: InspectSummary;
  puzzles: PuzzleInspection[];
  probe: ProbeResult[];
  seconds: number;
}

// ---- the report's schema, checked by the view before it reads a report (fixedPointMessages.ts) ----
// Typed against the interfaces above (z.ZodType<...>), so the two cannot drift apart, except where
// JSON differs from memory: a NaN or infinite residual (a diverging model) arrives as null, which
// the view's number formatting and log-scale charts show as a gap (those fields are cast).
const count = z.number().int().min(0);
const nullableNumbers = z.array(z.number().nullable());
/** A grid string as inspect writes it: Sudoku digits and '.', 16 or 81 cells; a maze "# SGo" and '?' (PAD), up to 64x64 cells (the task decides which: superRefine). */
const MAX_MAZE_CELLS = 64 * 64;
const grid = z.string().regex(new RegExp(`^[1-9.]{16}$|^[1-9.]{81}$|^[# SGo?]{4,${MAX_MAZE_CELLS}}$`), 'is not a 16- or 81-cell Sudoku grid string or a maze grid string ("# SGo?")');
const sudokuGrid = /^[1-9.]*$/;
const mazeGrid = /^[# SGo?]*$/;
const stateName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'is not a state name');
const point = z.tuple([z.number(), z.number()]);

const contractSchema: z.ZodType<StepContract> = z.object({
  task: z.string().max(200), sudokuSide: z.union([z.literal(4), z.literal(9)]).optional(), vocab: z.array(z.string().max(200)),
  mazeGrid: z.object({ height: count, width: count }).optional(),
  vocabSize: count, seqLen: z.number().int().min(4).max(MAX_MAZE_CELLS), batch: count.optional(),
  states: z.array(z.object({ name: stateName, seq: count, width: count })).min(1),
  answerState: stateName, arch: z.string().max(200), hCycles: count, lCycles: count, haltMaxSteps: count.optional(), hasQContinue: z.boolean(),
  deq: z.object({
    solverExport: z.string().max(200), iterations: z.number().int().min(1).max(4096), solverTrained: z.string().max(200), innerState: stateName,
    map: z.string().max(200).optional(), hasResiduals: z.boolean(), hasInnerMap: z.boolean(),
  }).optional() as z.ZodType<DeqContract | undefined>,
}) as z.ZodType<StepContract>; // JSON drops the undefined fields the interface lists as present

const clusterSchema: z.ZodType<FixedPointCluster> = z.object({
  answer: grid, correct: z.boolean().nullable(), violations: count.nullable(), reached: count, byNoise: count, byRelabel: count,
  stateClusters: count, includesUnperturbed: z.boolean(),
});

const puzzleSchema: z.ZodType<PuzzleInspection> = z.object({
  index: count, question: grid, solution: grid.nullable(), blanks: count,
  trace: z.object({
    residuals: z.record(stateName, nullableNumbers), answers: z.array(grid), correct: z.array(z.boolean().nullable()),
    violations: z.array(count.nullable()), qHalt: z.array(z.number()),
  }),
  finalAnswer: grid, correct: z.boolean().nullable(), violations: count.nullable(), criticalStep: count.nullable(), rightThenLeft: z.boolean(),
  endResidual: z.record(stateName, z.number().nullable()), endResidualMax: z.number().nullable(), settled: z.boolean(),
  spectralRadius: z.number().nullable(), powerTrace: nullableNumbers,
  census: z.object({ runs: count, fixedPoints: z.array(clusterSchema), unsettled: count, unsettledCorrect: count }).nullable(),
  deq: z.object({ innerResiduals: z.array(nullableNumbers), innerSpectralRadius: z.number().nullable(), innerPowerTrace: nullableNumbers }).optional(),
  trajectory: z.object({
    explained: point, main: z.array(point).min(1),
    perturbed: z.array(z.object({ points: z.array(point), fixedPoint: count.nullable() })),
  }).nullable(),
}) as z.ZodType<PuzzleInspection>;

const optionsSchema: z.ZodType<InspectOptions> = z.object({
  steps: z.number().int().min(1).max(4096), settleTolerance: z.number(), powerIterations: count, fdStep: z.number(), perturbations: count,
  noiseStd: z.number(), relabel: z.boolean(), clusterTolerance: z.number(), probeBlanks: z.array(count), seed: count,
});

const summarySchema: z.ZodType<InspectSummary> = z.object({
  puzzles: count, correctAtEnd: count, settled: count, settledWrong: count, neverSettled: count, neverSettledCorrect: count, rightThenLeft: count,
  criticalSteps: z.record(z.string().max(20), count), medianResidual: z.record(stateName, nullableNumbers),
  spectralRadius: z.object({ median: z.number(), max: z.number(), aboveOne: count }).nullable(),
  fixedPointsPerPuzzle: z.record(z.string().max(20), count).nullable(), puzzlesWithWrongFixedPoint: count.nullable(),
  deq: z.object({
    solverExport: z.string().max(200), solverTrained: z.string().max(200), iterations: z.number().int().min(1).max(4096), cycles: count,
    medianInnerResidual: z.array(nullableNumbers),
    innerSpectralRadius: z.object({ median: z.number(), max: z.number(), aboveOne: count }).nullable(),
  }).optional(),
}) as z.ZodType<InspectSummary>;

const probeSchema: z.ZodType<ProbeResult> = z.object({
  blanks: count, puzzles: count, correctAtEnd: count, failures: count, rightThenLeft: count,
  examples: z.array(z.object({ question: grid, answer: grid, solution: grid })),
});

export const inspectReportSchema: z.ZodType<InspectReport> = z.object({
  version: z.union([z.literal(1), z.literal(INSPECT_REPORT_VERSION)], { error: `expected 1 or ${INSPECT_REPORT_VERSION}` }), createdAt: z.string().max(100),
  source: z.object({ model: z.string().max(4096), runDirectory: z.string().max(4096).nullable(), puzzles: z.string().max(1000) }),
  contract: contractSchema, options: optionsSchema, summary: summarySchema, puzzles: z.array(puzzleSchema), probe: z.array(probeSchema), seconds: z.number(),
}).superRefine((r, ctx) => {
  // The lengths the view indexes by: one value per step (and per state), grids of L cells.
  const L = r.contract.seqLen, K = r.options.steps;
  const states = r.contract.states.map((s) => s.name);
  const bad = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (!states.includes(r.contract.answerState)) bad(['contract', 'answerState'], `is not one of the states ${states.join(', ')}`);
  const maze = r.contract.task === 'maze';
  if (!maze && L !== 16 && L !== 81) bad(['contract', 'seqLen'], `is ${L}: a Sudoku report has 16 or 81 cells`);
  const chars = maze ? mazeGrid : sudokuGrid;
  const what = maze ? 'a maze grid string ("# SGo?")' : 'a Sudoku grid string (digits and ".")';
  const kind = (path: (string | number)[], g: string) => { if (!chars.test(g)) bad(path, `is not ${what}`); };
  r.puzzles.forEach((p, i) => {
    for (const [k, g] of [['question', p.question], ['solution', p.solution], ['finalAnswer', p.finalAnswer]] as const) {
      if (g !== null && g.length !== L) bad(['puzzles', i, k], `has ${g.length} cells, the model ${L}`);
      if (g !== null) kind(['puzzles', i, k], g);
    }
    p.trace.answers.forEach((a, j) => kind(['puzzles', i, 'trace', 'answers', j], a));
    p.census?.fixedPoints.forEach((f, j) => kind(['puzzles', i, 'census', 'fixedPoints', j, 'answer'], f.answer));
    for (const s of states) {
      if (p.trace.residuals[s]?.length !== K) bad(['puzzles', i, 'trace', 'residuals', s], `does not have ${K} values`);
    }
    for (const k of ['answers', 'correct', 'violations', 'qHalt'] as const) {
      if (p.trace[k].length !== K) bad(['puzzles', i, 'trace', k], `does not have ${K} values`);
    }
    p.trace.answers.forEach((a, j) => { if (a.length !== L) bad(['puzzles', i, 'trace', 'answers', j], `has ${a.length} cells, the model ${L}`); });
    const d = r.contract.deq;
    if (p.deq && !d) bad(['puzzles', i, 'deq'], 'is given for a model without contract.deq');
    if (p.deq && d && p.deq.innerResiduals.length > 0) {
      if (p.deq.innerResiduals.length !== K) bad(['puzzles', i, 'deq', 'innerResiduals'], `does not have ${K} steps`);
      p.deq.innerResiduals.forEach((t, j) => { if (t.length !== r.contract.hCycles * d.iterations) bad(['puzzles', i, 'deq', 'innerResiduals', j], `does not have T·K = ${r.contract.hCycles * d.iterations} values`); });
    }
    p.census?.fixedPoints.forEach((f, j) => { if (f.answer.length !== L) bad(['puzzles', i, 'census', 'fixedPoints', j, 'answer'], `has ${f.answer.length} cells, the model ${L}`); });
  });
}) as unknown as z.ZodType<InspectReport>;
