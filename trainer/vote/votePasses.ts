// The passes of `reclab vote`: every model × every perturbation of every puzzle — a relabelling
// (§3.2), or a start from noisy initial states — run for K supervision steps on any StepModel
// (onnxruntime in the command, a hand-written map in the tests). All perturbed copies of all
// puzzles go through one model as rows of the same batches (the puzzles run in parallel); each
// answer is mapped back through the inverse relabelling before it is scored or voted on.
import { distance, norm } from '../inspect/fixedPointMath';
import { stateSizes, type StepModel } from '../inspect/stepModel';
import { argmaxTokens } from '../inspect/trajectory';
import { Rng } from '../random';
import { applyRelabelling, inverseRelabelling, type Relabelling } from './relabelling';
import type { Pass } from './votingRules';

/** How a task's grids become tokens and back, and what a label-free "valid answer" is. */
export interface GridTask {
  name: 'sudoku' | 'maze';
  encode(grid: Uint8Array): Int32Array;
  decode(tokens: Int32Array): Uint8Array;
  /** Complete, breaks no rule and keeps the givens of `question` (no label used). */
  isValidAnswer(question: Uint8Array, answer: Uint8Array): boolean;
}

export interface VotePuzzle {
  question: Uint8Array;
  solution: Uint8Array;
}

/** One perturbed copy of a puzzle: a relabelling, and optionally initial states + N(0, std²) noise. */
export interface Perturbation {
  name: string;
  relabelling: Relabelling;
  noise?: { std: number; seed: number };
}

export interface PassOptions {
  steps: number;
  maxBatch: number;
}

export interface ModelPasses {
  /** [puzzle][relabelling] */
  passes: Pass[][];
  /** Exact accuracy of the unrelabelled pass after each step s = 1..K (the depth curve). */
  exactAtStep: number[];
  stepCalls: number;
}

function sameGrid(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Halting as the model's own rule reads it at the last step: q_halt > q_continue where the model
 * has a continue head (HRM), else q_halt > 0 (TRM, `no_ACT_continue`).
 */
export function haltedAt(qHalt: number, qContinue: number | undefined): boolean {
  return qContinue === undefined ? qHalt > 0 : qHalt > qContinue;
}

/** A 32-bit seed for stream `index` of `seed` (xoroshiro streams of nearby integer seeds start correlated, so mix first). */
function streamSeed(seed: number, index: number): number {
  let x = (Math.imul(seed, 0x9e3779b1) + index) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) | 0;
}

/** The initial states of `rows` rows [r0, r0 + b), with each noisy row's noise drawn from its own (seed, puzzle) stream. */
async function startStates(model: StepModel, r0: number, b: number, perturbations: readonly Perturbation[]): Promise<Float32Array[]> {
  const states = await model.initialStates(b);
  const sizes = stateSizes(model.contract);
  const R = perturbations.length;
  for (let r = 0; r < b; r++) {
    const noise = perturbations[(r0 + r) % R]!.noise;
    if (!noise) continue;
    const rng = new Rng(streamSeed(noise.seed, Math.floor((r0 + r) / R)));
    states.forEach((s, i) => { for (let j = r * sizes[i]!; j < (r + 1) * sizes[i]!; j++) s[j]! += noise.std * rng.normal(); });
  }
  return states;
}

/**
 * Every perturbation of every puzzle through one model for `opts.steps` steps. `lanes` are copies
 * of that model (one onnxruntime session each) that run batches concurrently: on small steps,
 * single-threaded sessions side by side beat one session's intra-op threads (bench:vote).
 */
export async function runModelPasses(lanes: StepModel | readonly StepModel[], modelIndex: number, task: GridTask, puzzles: readonly VotePuzzle[], perturbations: readonly Perturbation[], opts: PassOptions): Promise<ModelPasses> {
  const models = Array.isArray(lanes) ? lanes as readonly StepModel[] : [lanes as StepModel];
  const relabellings = perturbations.map((p) => p.relabelling);
  const c = models[0]!.contract;
  const L = c.seqLen;
  const R = relabellings.length;
  const rows = puzzles.length * R;
  const inverses = relabellings.map(inverseRelabelling);
  const tokens = new Int32Array(rows * L);
  puzzles.forEach((p, i) => relabellings.forEach((r, k) => tokens.set(task.encode(applyRelabelling(p.question, r)), (i * R + k) * L)));
  const sizes = stateSizes(c);
  const passes: Pass[][] = puzzles.map(() => new Array<Pass>(R));
  const exactAtStep = new Array<number>(opts.steps).fill(0);
  let stepCalls = 0;

  const runBatch = async (model: StepModel, r0: number): Promise<void> => {
    const b = Math.min(opts.maxBatch, rows - r0);
    const chunk = tokens.subarray(r0 * L, (r0 + b) * L);
    let states: Float32Array[] = await startStates(model, r0, b, perturbations);
    const reset = new Uint8Array(b);
    let residual = new Float64Array(b);
    let last: { logits: Float32Array; qHalt: Float32Array; qContinue?: Float32Array } | undefined;
    for (let step = 1; step <= opts.steps; step++) {
      const out = await model.step({ batch: b, tokens: chunk, states, reset });
      stepCalls += b;
      if (step > 1) {
        // End residual over all states together: ‖z_K − z_{K−1}‖ / ‖z_{K−1}‖ (the one-step residual at z_{K−1}).
        residual = Float64Array.from({ length: b }, (_, r) => {
          let d2 = 0, n2 = 0;
          out.states.forEach((s, i) => {
            d2 += distance(s, states[i]!, r * sizes[i]!, sizes[i]!) ** 2;
            n2 += norm(states[i]!, r * sizes[i]!, sizes[i]!) ** 2;
          });
          return n2 === 0 ? (d2 === 0 ? 0 : Infinity) : Math.sqrt(d2 / n2);
        });
      }
      // The depth curve: the unrelabelled pass of each puzzle, scored after every step.
      for (let r = 0; r < b; r++) {
        const row = r0 + r;
        if (row % R !== 0) continue;
        const answer = task.decode(argmaxTokens(out.logits.subarray(r * L * c.vocabSize, (r + 1) * L * c.vocabSize), L, c.vocabSize));
        if (sameGrid(answer, puzzles[row / R]!.solution)) exactAtStep[step - 1]!++;
      }
      states = out.states;
      last = out;
    }
    for (let r = 0; r < b; r++) {
      const row = r0 + r;
      const i = Math.floor(row / R), k = row % R;
      const own = task.decode(argmaxTokens(last!.logits.subarray(r * L * c.vocabSize, (r + 1) * L * c.vocabSize), L, c.vocabSize));
      const answer = applyRelabelling(own, inverses[k]!);
      const p = puzzles[i]!;
      const qHalt = last!.qHalt[r]!;
      passes[i]![k] = {
        model: modelIndex, perturbation: k, answer, exact: sameGrid(answer, p.solution),
        halted: haltedAt(qHalt, last!.qContinue?.[r]), qHalt, residual: opts.steps > 1 ? residual[r]! : NaN,
        valid: task.isValidAnswer(p.question, answer),
      };
    }
  };

  // Each lane takes the next batch when its last one is done.
  let next = 0;
  await Promise.all(models.map(async (model) => {
    while (next < rows) {
      const r0 = next;
      next += opts.maxBatch;
      await runBatch(model, r0);
    }
  }));
  return { passes, exactAtStep: exactAtStep.map((n) => n / Math.max(puzzles.length, 1)), stepCalls };
}
