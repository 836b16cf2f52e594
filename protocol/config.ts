// The run configuration: one zod schema per section, validated strictly (an unknown or ill-typed
// field is an error naming the field) and emitted as JSON Schema for config-file IntelliSense.
// Field names follow the reference code where one exists (reference.md §1).
import { z } from 'zod';

const int = (min = 0) => z.number().int().min(min);
const positive = () => z.number().positive();
const fraction = () => z.number().min(0).max(1);

/**
 * TRM-DEQ (Attractor puzzle path, reference.md §4.2, docs/deq-solvers.md): the inner n-loop is a
 * fixed-point solve z_L* = FP(z ↦ net(z, z_H + x)). Defaults: the reference README command.
 */
export const deqSchema = z.object({
  solver: z.enum(['anderson', 'fpi', 'broyden']).optional().describe('Fixed-point solver of the latent update: Anderson (type II), plain iteration, or Broyden\'s good method.'),
  maxIter: int(1).optional().describe('Map evaluations at most per solve (deq_max_iter).'),
  minIter: int(0).optional().describe('Map evaluations before the tolerance may stop a solve (deq_min_iter).'),
  tol: positive().optional().describe('Stop when the max over the batch of the residual (stopMode) is below this (deq_tol).'),
  stopMode: z.enum(['abs', 'rel']).optional().describe('"rel": ‖f(z) − z‖ / ‖f(z)‖ (the reference); "abs": ‖f(z) − z‖.'),
  memory: int(1).optional().describe('Anderson history m / Broyden rank.'),
  beta: z.number().gt(0).max(1).optional().describe('Anderson mixing β in (0, 1].'),
  lambda: z.number().min(0).optional().describe('Anderson Tikhonov λ, relative to the mean squared residual of the history.'),
  gradient: z.enum(['phantom', 'ift', 'onestep']).optional().describe('"phantom": K re-applied steps from the detached z_L* on the tape; "ift": the implicit gradient (adjoint solve; torch engine only); "onestep": the adjoint truncated to u = v + Jᵀv (the Attractor\'s backward_type "onestep"; torch engine only).'),
  phantomSteps: int(1).optional().describe('K of the phantom gradient (bptt_through; 1 = Jacobian-free).'),
  phantomDamping: z.number().gt(0).max(1).optional().describe('τ of the phantom steps: z ← τ f(z) + (1 − τ) z.'),
  adjointClip: positive().nullable().optional().describe('"onestep" only: Jᵀv is rescaled per sample where longer than adjointClip · ‖v‖ (adjoint_grad_clip); null = no clip.'),
  jacobianReg: z.number().min(0).optional().describe('λ_jac of the Hutchinson Jacobian penalty ‖J‖_F²/numel at z_L* (0 = off; torch engine only: TF.js second derivatives are wrong through SiLU).'),
}).strict();

export type DeqConfig = Required<z.infer<typeof deqSchema>>;

/** The reference README command (max 8, min 4, tol 1e-3 rel, Anderson m 5 β 1, phantom K 2), λ_jac 0; onestep's clip 1 (attractor-sudoku configs). */
export const deqDefaults: DeqConfig = {
  solver: 'anderson', maxIter: 8, minIter: 4, tol: 1e-3, stopMode: 'rel', memory: 5, beta: 1, lambda: 1e-4,
  gradient: 'phantom', phantomSteps: 2, phantomDamping: 1, adjointClip: 1, jacobianReg: 0,
};

/** model.deq with the defaults under it. */
export function resolveDeq(model: { deq?: z.infer<typeof deqSchema> }): DeqConfig {
  return { ...deqDefaults, ...model.deq } as DeqConfig;
}

/**
 * The Attractor form (reference.md §4.1, attractor.py): a backbone of pre-norm blocks maps the input
 * embedding x to a context c; the answer y solves y = FPHead(y + c) − y with FPHead `model.layers`
 * pre-norm blocks whose mixer / MLP outputs are gated per channel by LayerScale sigmoid(raw)·gammaMax.
 */
export const attractorSchema = z.object({
  backboneLayers: int(1).optional().describe('Pre-norm blocks of the backbone (prelude) that maps x to the context c (n_backbone_layers).'),
  layerScaleInit: z.number().gt(0).optional().describe('Initial LayerScale gate of the head\'s blocks (layer_scale_init); must be below gammaMax.'),
  gammaMax: positive().optional().describe('Largest LayerScale gate: gate = sigmoid(raw) · gammaMax (gamma_max).'),
}).strict();

export type AttractorConfig = Required<z.infer<typeof attractorSchema>>;

/** attractor-sudoku-7m's head: one backbone block, gates from 0.5 up to 0.75. */
export const attractorDefaults: AttractorConfig = { backboneLayers: 1, layerScaleInit: 0.5, gammaMax: 0.75 };

/** model.attractor with the defaults under it. */
export function resolveAttractor(model: { attractor?: z.infer<typeof attractorSchema> }): AttractorConfig {
  return { ...attractorDefaults, ...model.attractor } as AttractorConfig;
}

/** The architectures with a fixed-point solve (model.deq, eval.internalisation). */
export const DEQ_ARCHS = ['trm-deq', 'attractor'] as const;

export function isDeqArch(arch: string): arch is (typeof DEQ_ARCHS)[number] {
  return (DEQ_ARCHS as readonly string[]).includes(arch);
}

const archSchema = z.enum(['trm', 'hrm', 'trm-deq', 'attractor']).describe('Recursive architecture: "trm" (one network for y and z), "hrm" (an H network for z_H and an L network for z_L, with a learned Q-continue), "trm-deq" (TRM whose n-loop is a fixed-point solve, model.deq) or "attractor" (a backbone\'s context c and an answer solved as y = FPHead(y + c) − y, model.attractor and model.deq); absent = "trm".');

export const modelSchema = z.object({
  // Absent = "trm": run configs written before HRM existed have no other meaning.
  arch: archSchema.default('trm'),
  deq: deqSchema.optional().describe('trm-deq and attractor only: the fixed-point solve and its gradient; absent fields take deqDefaults.'),
  attractor: attractorSchema.optional().describe('attractor only: the backbone and the head\'s LayerScale gates; absent fields take attractorDefaults.'),
  mixer: z.enum(['mlp_t', 'attention']).describe('Sequence mixer: "mlp_t" (SwiGLU across positions, the Sudoku-winning TRM-MLP) or "attention" (self-attention with the chosen positional encoding).'),
  hiddenSize: int(2).describe('Model width D.'),
  numHeads: int(1).describe('Attention heads (attention mixer only); D must be divisible by it.'),
  expansion: positive().describe('SwiGLU expansion; hidden = roundUp(expansion * width * 2/3, ffnMultipleOf).'),
  ffnMultipleOf: int(1).describe('SwiGLU hidden sizes are rounded up to a multiple of this (the reference uses 256).'),
  layers: int(1).describe('Blocks in the network (L_layers); HRM: in the L network; attractor: in the fixed-point head (n_fp_blocks).'),
  hLayers: int(1).optional().describe('HRM only: blocks in the H network (H_layers); absent = layers. TRM ignores it.'),
  hCycles: int(1).describe('T (H_cycles): cycles of latent updates plus one answer update; TRM: all but the last run without gradient, HRM: all but the last L and H update.'),
  lCycles: int(1).describe('n (L_cycles): latent (z_L) updates per cycle.'),
  puzzleEmbLen: int(0).describe('Prefix tokens before the puzzle; token 0 carries the learned puzzle embedding (sign-SGD), the rest start at zero.'),
  posEncodings: z.enum(['none', 'rope', 'learned']).describe('Positional encoding: "rope" (on q,k), "learned" (added, scaled by 1/sqrt 2) or "none" (TRM-MLP).'),
  ropeTheta: positive(),
  rmsNormEps: positive(),
  qHeadBiasInit: z.number().describe('Initial bias of the Q head (reference: -5, halting starts off).'),
}).strict();

/** CGAR Progressive Depth Curriculum (reference.md §2.1). Evaluation always uses the full depth. */
export const curriculumSchema = z.object({
  enabled: z.boolean(),
  boundaries: z.array(fraction()).describe('Training-progress fractions where the next stage starts (reference: [0.3, 0.6]).'),
  stages: z.array(z.tuple([int(1), int(1)])).optional()
    .describe('Explicit (T, n) per stage, one more than boundaries; absent = derived from the base depth like the reference: (ceil(T/3)|1, ceil(n/3)|2), (ceil(2T/3), ceil(2n/3)), (T, n).'),
}).strict();

/** CGAR Hierarchical Supervision Weighting (reference.md §2.2). */
export const hswSchema = z.object({
  mode: z.enum(['off', 'code', 'paper']).describe('"code": one scalar decay^floor(mean incoming steps) on the batch loss, as the released code; "paper": per row decay^(t-1)/Z over its supervision step t.'),
  decay: z.number().gt(0).max(1),
}).strict();

/** Which checkpoints a run keeps (absent fields take defaultCheckpointRetention). */
export const checkpointRetentionSchema = z.object({
  keepLast: int(0).optional().describe('Keep the newest this many checkpoints (default 3; 0 = keep every checkpoint). The newest, which a resume needs, is always kept.'),
  keepBest: z.boolean().optional().describe('Also keep the checkpoint of the best held-out exact accuracy (default true); an evaluation that sets a new best writes a checkpoint at its step.'),
}).strict();
export const defaultCheckpointRetention = { keepLast: 3, keepBest: true } as const;

export const trainSchema = z.object({
  steps: int(1).describe('Optimizer steps (one supervision step each).'),
  batchSize: int(1).describe('Rows carried in the deep-supervision batch (global batch).'),
  microBatchSize: int(1).describe('Rows per forward/backward pass; gradients are accumulated over micro-batches (wasm heap caps near 4 GB).'),
  haltMaxSteps: int(1).describe('N_sup: supervision steps after which a row always halts.'),
  haltExplorationProb: fraction().describe('Probability that a row draws a minimum halt step in 2..N_sup (exploration).'),
  optimizer: z.enum(['adam_atan2', 'adamw']),
  lr: positive(),
  lrWarmupSteps: int(0),
  lrMinRatio: fraction().describe('Cosine decay floor after warm-up as a fraction of lr; 1 = constant (the reference 1k-example recipes).'),
  beta1: fraction(),
  beta2: fraction(),
  weightDecay: z.number().min(0).describe('Decoupled weight decay: p <- p (1 - lr wd).'),
  adamEpsilon: positive().describe('AdamW only (AdamATan2 has no epsilon).'),
  puzzleEmbLr: z.number().min(0),
  puzzleEmbWeightDecay: z.number().min(0),
  lossType: z.enum(['stablemax', 'softmax']),
  qLossWeight: z.number().min(0).describe('Weight of the Q-halt loss (reference: 0.5).'),
  ema: z.object({
    enabled: z.boolean(),
    rate: fraction(),
    warmup: z.boolean().describe('Use decay_t = min(rate, (1+t)/(10+t)) so early averages do not lag (the reference uses a plain rate).'),
  }).strict(),
  curriculum: curriculumSchema,
  hsw: hswSchema,
  checkpoints: checkpointRetentionSchema.optional().describe('Checkpoint retention: the last keepLast plus the best (default { keepLast: 3, keepBest: true }).'),
}).strict();

const blankRange = z.tuple([int(0), int(0)]).refine(([a, b]) => a <= b, { message: 'expected [min, max] with min <= max' });

export const dataSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('generated-sudoku'),
    side: z.union([z.literal(4), z.literal(9)]),
    trainPuzzles: int(1).describe('Base training puzzles; each sampled example is a random augmentation of one.'),
    trainBlanks: blankRange,
    testBlanks: blankRange,
    testPerBlank: int(1),
    augment: z.boolean(),
    hints: z.boolean().optional().describe('Augmented HRM hint examples (reference §3.1): each training example also appears with k ~ U{1..u-1} of its u unknown cells revealed (same solution). Default false.'),
  }).strict(),
  z.object({
    kind: z.literal('sudoku-csv'),
    trainFile: z.string().min(1),
    testFile: z.string().min(1),
    subsample: int(1).optional(),
    augmentationsPerPuzzle: int(0),
    testLimit: int(1).optional(),
    hints: z.boolean().optional().describe('Augmented HRM hint examples (reference §3.1): each training example also appears with k ~ U{1..u-1} of its u unknown cells revealed (same solution). Default false.'),
  }).strict(),
  z.object({
    kind: z.literal('generated-maze'),
    size: int(3).describe('Mazes are size x size cells (odd sizes use every row; an even size leaves the last row and column walls).'),
    trainMazes: int(1),
    testMazes: int(1).describe('Held-out mazes; none of them, nor any rotation or reflection of one, is trained on.'),
    minPathLength: int(1).describe('Hardness: every maze\'s unique shortest S-G path is at least this many moves.'),
    augment: z.boolean().describe('Train on each maze\'s 8 rotations/reflections (pre-expanded groups, as the reference builder).'),
    hints: z.boolean().optional().describe('Augmented HRM hint examples (reference §3.1): each training example also appears with k ~ U{1..u-1} of its u unknown cells revealed (same solution). Default false.'),
  }).strict(),
  z.object({
    kind: z.literal('maze-csv'),
    trainFile: z.string().min(1).describe('Maze-Hard CSV (source,question,answer,rating; "# SGo" cells).'),
    testFile: z.string().min(1),
    subsample: int(1).optional(),
    augment: z.boolean().describe('Groups of each training maze\'s 8 dihedral images (the reference builder\'s aug).'),
    hints: z.boolean().optional().describe('Augmented HRM hint examples (reference §3.1): each training example also appears with k ~ U{1..u-1} of its u unknown cells revealed (same solution). Default false.'),
    testLimit: int(1).optional(),
  }).strict(),
]);

export const evalSchema = z.object({
  everySteps: int(0).describe('Evaluate on the held-out set every this many steps (0 = only at the end).'),
  puzzlesPerBlank: int(1).describe('Held-out puzzles per blank count in periodic evaluations (the final one uses the whole test set).'),
  batchSize: int(1),
  gradientVarianceGroups: int(0).describe('At every evaluation, split the carried batch into this many groups and report V = mean ||g_k - g||^2 / ||g||^2 at fixed parameters (0 = off; needs batchSize divisible by it).'),
  internalisation: z.object({
    iterations: z.array(int(0)).min(1).max(8).describe('Solver caps to evaluate: each one re-runs the evaluation with every fixed-point solve capped at this many map evaluations (0 = no solve: z_L stays the solve\'s initial state; a cap >= model.deq.maxIter is the normal evaluation).'),
  }).strict().optional().describe('Equilibrium internalisation (trm-deq and attractor; docs/deq-solvers.md): at every evaluation also score the same puzzles with the solver dropped or capped, and report the accuracy lost beside the full solve (eval event field internalisation).'),
}).strict();

/** Refinement snapshots (the puzzle refinement view): a few held-out puzzles traced step by step. */
export const refinementSchema = z.object({
  everySteps: int(0).describe('Trace the probe puzzles every this many steps (0 = never; a snapshot is also taken at the end when > 0).'),
  probePuzzles: int(1).describe('Held-out puzzles traced, spread from the fewest to the most blanks.'),
  perCycle: z.boolean().describe('Also record the answer after every recursion cycle inside a supervision step.'),
}).strict();

export const backendNames = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;

/** The engines behind the one protocol: the embedded TF.js trainer and the PyTorch worker (engines/torch). */
export const engineNames = ['tfjs', 'torch'] as const;
const engineDescription = 'Engine that trains the run: "tfjs" (built in, TensorFlow.js; the default) or "torch" (the PyTorch worker in engines/torch: the fast CPU path, CUDA, MPS).';

export const runConfigSchema = z.object({
  name: z.string().optional(),
  seed: int(0),
  engine: z.enum(engineNames).default('tfjs').describe(engineDescription),
  backend: z.enum(backendNames),
  checkpointEverySteps: int(0).describe('Write a checkpoint every this many steps (0 = only at the end).'),
  model: modelSchema,
  train: trainSchema,
  data: dataSchema,
  eval: evalSchema,
  refinement: refinementSchema,
}).strict();

export type ModelConfig = z.infer<typeof modelSchema>;
export type CurriculumConfig = z.infer<typeof curriculumSchema>;
export type HswConfig = z.infer<typeof hswSchema>;
export type TrainConfig = z.infer<typeof trainSchema>;
export type DataConfig = z.infer<typeof dataSchema>;
export type EvalConfig = z.infer<typeof evalSchema>;
export type RefinementConfig = z.infer<typeof refinementSchema>;
export type RunConfig = z.infer<typeof runConfigSchema>;
export type BackendName = (typeof backendNames)[number];
export type EngineName = (typeof engineNames)[number];

/**
 * A config file: any subset of a run config on top of a preset (`extends`, default the
 * default preset). Sections merge field by field; `data` is replaced whole when `kind` changes.
 */
export const configFileSchema = z.object({
  $schema: z.string().optional(),
  extends: z.string().optional().describe('Preset the file starts from (sudoku4, sudoku9-easy, sudoku-extreme).'),
  name: z.string().optional(),
  seed: int(0).optional(),
  engine: z.enum(engineNames).optional().describe(engineDescription),
  backend: z.enum(backendNames).optional(),
  checkpointEverySteps: int(0).optional(),
  // No default for arch here: a file that omits it keeps its preset's.
  model: modelSchema.extend({ arch: archSchema.optional() }).partial().optional(),
  train: trainSchema.extend({
    ema: trainSchema.shape.ema.partial(),
    curriculum: curriculumSchema.partial(),
    hsw: hswSchema.partial(),
  }).partial().optional(),
  data: z.record(z.string(), z.unknown()).optional().describe('Data section; validated after merging onto the preset.'),
  eval: evalSchema.partial().optional(),
  refinement: refinementSchema.partial().optional(),
}).strict();

export type ConfigFile = z.infer<typeof configFileSchema>;

/** "model.hiddenSize: expected number, got string" for each problem. */
export function describeIssues(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((i) => {
    const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => `${path ? path + '.' : ''}${k}: unknown field`).join('; ');
    }
    return `${path || '(root)'}: ${i.message}`;
  });
}
