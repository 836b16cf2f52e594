// The fixed-point inspection report that `reclab inspect` writes (JSON) and the Fixed-Point
// Debugging view reads. Measurements follow reference.md §3.5 (residual traces, critical step,
// one-unknown probe, multiple fixed points) and §4.3 (solver statistics, spectral radius).
import type { StepContract } from './onnxContract';

export const INSPECT_REPORT_VERSION = 1;
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
  /** Census: also run every digit relabelling (cyclic shifts, reference.md §3.2) of each puzzle. */
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
  /** Decoded answer after each step (grid string, '.' where the argmax is not a digit). */
  answers: string[];
  /** Per step: answer equals the solution (null when no solution is known). */
  correct: (boolean | null)[];
  /** Per step: Sudoku constraint violations of the decoded answer (label-free; null for other tasks). */
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
}

export interface InspectReport {
  version: typeof INSPECT_REPORT_VERSION;
  createdAt: string;
  source: { model: string; runDirectory: string | null; puzzles: string };
  contract: StepContract;
  options: InspectOptions;
  summary: InspectSummary;
  puzzles: PuzzleInspection[];
  probe: ProbeResult[];
  seconds: number;
}
