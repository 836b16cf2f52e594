// What `reclab vote` writes (vote-report.json) and the extension's Test-Time Scaling view reads:
// the ensemble it ran, the per-rule accuracy of the results table's rows, the test-time compute
// curve and the depth curve, with the model calls each costs and the wall time. One zod schema,
// the type inferred from it, so the writer and every reader agree.
import * as z from 'zod';

export const VOTE_REPORT_FILE = 'vote-report.json';
export const VOTE_REPORT_VERSION = 1;

/** The voting rules (trainer/vote/votingRules.ts says what each does). */
export const ruleNames = ['single', 'reference', 'reference-label-free', 'valid-grid', 'majority', 'majority-halted', 'max-q-halt', 'min-residual'] as const;
export type RuleName = (typeof ruleNames)[number];

const fraction = z.number().min(0).max(1);
const count = z.number().int().min(0);

export const voteModelInfoSchema = z.object({
  /** The .onnx file passed or exported for it. */
  model: z.string(),
  runDirectory: z.string().nullable(),
  /** Index of the run (seed) among the targets, and of the checkpoint within the run (0 = newest). */
  run: count,
  checkpoint: count,
  step: count.nullable(),
});

export const voteRowSchema = z.object({
  label: z.string(),
  perturbations: count,
  checkpoints: count,
  runs: count,
  passesPerPuzzle: z.number().min(0),
  /** passes × supervision steps per pass. */
  modelCallsPerPuzzle: z.number().min(0),
  accuracy: z.object(Object.fromEntries(ruleNames.map((r) => [r, fraction])) as Record<RuleName, typeof fraction>),
});

export const voteReportSchema = z.object({
  version: z.literal(VOTE_REPORT_VERSION),
  createdAt: z.string(),
  task: z.enum(['sudoku', 'maze']),
  puzzles: z.object({ count: count, source: z.string() }),
  /** The perturbations of each puzzle, in order: relabellings (the original first), then noisy starts. */
  perturbation: z.object({ kind: z.string(), names: z.array(z.string()).min(1) }),
  steps: z.number().int().min(1),
  models: z.array(voteModelInfoSchema).min(1),
  rules: z.array(z.object({ name: z.enum(ruleNames), usesLabels: z.boolean(), description: z.string() })),
  /** single model, + perturbation, + bootstrapping, + both. */
  table: z.array(voteRowSchema).length(4),
  /** Passes added in the order: relabellings, checkpoints, seeds. */
  curve: z.array(voteRowSchema).min(1),
  /** Single pass (first model, original puzzle): exact accuracy after each step, calls = step. */
  depth: z.array(z.object({ step: z.number().int().min(1), accuracy: fraction })),
  seconds: z.number().min(0),
  /** Step-map evaluations per second over the whole vote (rows × steps / wall time). */
  stepCallsPerSecond: z.number().min(0),
});

export type VoteModelInfo = z.infer<typeof voteModelInfoSchema>;
export type VoteRow = z.infer<typeof voteRowSchema>;
export type VoteReport = z.infer<typeof voteReportSchema>;
