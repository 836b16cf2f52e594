// What `reclab vote` writes (vote-report.json) and the extension's vote view reads: the ensemble
// it ran, the per-rule accuracy of the results table's rows, the test-time compute curve and the
// depth curve, with the model calls each costs and the wall time.

/** The voting rules (trainer/vote/votingRules.ts says what each does). */
export type RuleName = 'reference' | 'reference-label-free' | 'single' | 'valid-grid' | 'majority' | 'majority-halted' | 'max-q-halt' | 'min-residual';

export const VOTE_REPORT_FILE = 'vote-report.json';
export const VOTE_REPORT_VERSION = 1;

export interface VoteModelInfo {
  /** The .onnx file passed or exported for it. */
  model: string;
  runDirectory: string | null;
  /** Index of the run (seed) among the targets, and of the checkpoint within the run (0 = newest). */
  run: number;
  checkpoint: number;
  step: number | null;
}

export interface VoteRow {
  label: string;
  relabellings: number;
  checkpoints: number;
  runs: number;
  passesPerPuzzle: number;
  modelCallsPerPuzzle: number;
  accuracy: Record<RuleName, number>;
}

export interface VoteReport {
  version: number;
  createdAt: string;
  task: 'sudoku' | 'maze';
  puzzles: { count: number; source: string };
  relabelling: { kind: string; names: string[] };
  steps: number;
  models: VoteModelInfo[];
  rules: { name: RuleName; usesLabels: boolean; description: string }[];
  /** single model, + perturbation, + bootstrapping, + both. */
  table: VoteRow[];
  /** Passes added in the order: relabellings, checkpoints, seeds. */
  curve: VoteRow[];
  /** Single pass (first model, original puzzle): exact accuracy after each step, calls = step. */
  depth: { step: number; accuracy: number }[];
  seconds: number;
  /** Step-map evaluations per second over the whole vote (rows × steps / wall time). */
  stepCallsPerSecond: number;
}
