// reclab vote <run-dir | model.onnx>... — Augmented HRM's test-time scaling (reference.md §3.2–3.4)
// on exported step-contract models through onnxruntime-node, whatever engine trained them: every
// model (the newest --checkpoints K checkpoints of each run; each run a seed) × every relabelling
// of every puzzle, then each voting rule on its own line, the results table (single model,
// + perturbation, + bootstrapping, + both) and the compute curve, with model calls and wall time.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { VOTE_REPORT_FILE, VOTE_REPORT_VERSION, type VoteModelInfo, type VoteReport, type VoteRow } from '../../protocol/voteReport';
import { defineCommand, UsageError } from '../commandLine';
import { InputError } from '../inputError';
import { loadTaskData } from '../data/taskData';
import { isCompleteValidGrid, keepsGivens, type SudokuSide } from '../data/sudokuRules';
import { decodeAnswer, type InspectPuzzle } from '../inspect/inspectModel';
import { evenlySpaced, parsePuzzleArg, readPuzzleLines } from '../inspect/inspectCommand';
import { exportRun } from '../onnx/exportRun';
import { commandLineTooLongForOnnxruntime, MAX_COMMAND_LINE_BYTES, OnnxStepModel, readStepContract } from '../onnx/onnxStepModel';
import { OnnxWorkerModel } from '../onnx/onnxWorkerModel';
import type { StepModel } from '../inspect/stepModel';
import { describeOnnxFile } from '../onnx/modelDescription';
import { contractProperties } from '../../protocol/onnxContract';
import { writeFileAtomic } from '../run/atomicWrite';
import { RunDirectory } from '../run/runDirectory';
import { Rng } from '../random';
import { curveBudgets, evaluateBudget, tableBudgets, type ModelSlot } from './computeCurve';
import { cyclicShiftRelabellings, mazeRelabellings, randomSymmetryRelabellings, type Relabelling } from './relabelling';
import { isValidMazeAnswer } from '../data/mazeRules';
import { runModelPasses, type GridTask, type Perturbation, type VotePuzzle } from './votePasses';
import { votingRules, type Pass } from './votingRules';

/** Maze grids hold their tokens (wall, open, S, G, path) as they are. */
export function mazeTask(side: number): GridTask {
  return {
    name: 'maze',
    encode: (grid) => Int32Array.from(grid),
    decode: (tokens) => Uint8Array.from(tokens),
    isValidAnswer: (question, answer) => isValidMazeAnswer(question, answer, side),
  };
}

export function sudokuTask(side: SudokuSide): GridTask {
  return {
    name: 'sudoku',
    encode: (grid) => Int32Array.from(grid, (d) => d + 1),
    decode: (tokens) => decodeAnswer(tokens, side),
    isValidAnswer: (question, answer) => isCompleteValidGrid(answer, side) && keepsGivens(question, answer),
  };
}

const flags = {
  'held-out': { type: 'string', value: 'N', help: 'vote on N held-out puzzles of the first run, evenly spaced (default 100)' },
  puzzles: { type: 'string', value: 'FILE', help: 'puzzles "QUESTION:SOLUTION" one per line (- = stdin); needed for bare .onnx files' },
  checkpoints: { type: 'string', value: 'K', help: 'the newest K checkpoints of each run (model bootstrapping; default 1)' },
  relabellings: { type: 'string', value: 'R', help: 'relabelled copies of each puzzle incl. the original (Sudoku default: the side, 9 for 9x9; mazes: 2 = S/G swap, up to 16 with the dihedral maps)' },
  relabel: { type: 'string', value: 'shift|symmetry', help: '"shift": the reference cyclic digit shifts (default); "symmetry": random Sudoku symmetries' },
  steps: { type: 'string', value: 'K', help: 'supervision steps per pass (default the model\'s reclab.halt_max_steps, else 16)' },
  batch: { type: 'string', value: 'N', help: 'rows per onnxruntime call (default 32: small batches stay in the cache)' },
  threads: { type: 'string', value: 'N', help: 'onnxruntime sessions side by side, each single-threaded in a worker thread of its own (default: all cores)' },
  'noise-passes': { type: 'string', value: 'N', help: 'also N passes from noisy initial states on the original puzzle (default 0)' },
  noise: { type: 'string', value: 'STD', help: 'std of that noise, added to the initial states (default 1)' },
  seed: { type: 'string', value: 'N', help: 'seed of the random symmetries and the noise (default 0)' },
  out: { type: 'string', value: 'FILE', help: `where the report goes (default <first run>/${VOTE_REPORT_FILE})` },
  json: { type: 'boolean', help: 'print the report as JSON' },
  quiet: { type: 'boolean', help: 'no progress on stderr' },
} as const;

function intFlag(raw: string | undefined, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: expected an integer ${min}..${max === Number.MAX_SAFE_INTEGER ? '' : max}, got "${raw}"`);
  return n;
}

interface Target {
  path: string;
  runDirectory: string | null;
}

/** The models of one target: a bare .onnx, or the newest K checkpoints of a run, each exported (cached under <run>/vote/). */
function modelsOf(target: Target, run: number, checkpoints: number, log: (m: string) => void): VoteModelInfo[] {
  if (!target.runDirectory) return [{ model: target.path, runDirectory: null, run, checkpoint: 0, step: null }];
  const dir = RunDirectory.open(target.runDirectory);
  const refs = dir.checkpoints().reverse().slice(0, checkpoints);
  if (refs.length === 0) throw new InputError(`${target.path}: no checkpoint to vote with (train first)`);
  if (refs.length < checkpoints) log(`${target.path}: only ${refs.length} checkpoint(s) kept (asked for ${checkpoints}; train.checkpoints.keepLast sets how many a run keeps)`);
  const cache = join(target.runDirectory, 'vote');
  mkdirSync(cache, { recursive: true });
  const runId = dir.readConfigFile().metadata.runId;
  return refs.map((ref, k) => {
    const out = join(cache, `model-step${ref.step}.onnx`);
    if (!isExportOf(out, runId, ref.step, ref.path)) {
      exportRun(target.runDirectory!, { checkpoint: ref.path, out });
      log(`exported step ${ref.step} to ${out}`);
    }
    return { model: out, runDirectory: target.runDirectory, run, checkpoint: k, step: ref.step };
  });
}

function isExportOf(onnx: string, runId: string, step: number, checkpoint: string): boolean {
  if (!existsSync(onnx)) return false;
  try {
    const md = describeOnnxFile(onnx).description.metadata;
    return md[contractProperties.runId] === runId && md[contractProperties.checkpointStep] === String(step) && statSync(onnx).mtimeMs >= statSync(checkpoint).mtimeMs;
  } catch {
    return false;
  }
}

function puzzlesFor(first: Target, given: string | undefined, heldOut: string | undefined, side: SudokuSide | undefined): { puzzles: VotePuzzle[]; source: string } {
  if (given !== undefined && side !== undefined) {
    let lines;
    try {
      lines = readPuzzleLines(given);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const puzzles = lines.map((l) => {
      let p: InspectPuzzle;
      try {
        p = parsePuzzleArg(l.text, side, l.where);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      if (!p.solution) throw new UsageError(`${l.where}: the puzzle has no unique solution to score against; give it as QUESTION:SOLUTION`);
      return { question: p.question, solution: p.solution };
    });
    if (puzzles.length === 0) throw new UsageError(`--puzzles ${given}: no puzzles in it`);
    return { puzzles, source: `${puzzles.length} puzzles from ${given}` };
  }
  if (!first.runDirectory) throw new UsageError('an .onnx file needs puzzles: --puzzles FILE');
  const count = intFlag(heldOut, 'held-out', 100, 1);
  const { metadata, config } = RunDirectory.open(first.runDirectory).readConfigFile();
  const data = loadTaskData(config.data, config.seed, metadata.configFile ? dirname(metadata.configFile) : process.cwd());
  const picked = evenlySpaced(data.test.length, count).map((i) => ({ question: data.test[i]!.question, solution: data.test[i]!.answer }));
  return { puzzles: picked, source: `${picked.length} of the run's ${data.test.length} held-out puzzles, evenly spaced` };
}

function row(point: ReturnType<typeof evaluateBudget>): VoteRow {
  const { label, perturbations, checkpoints, runs, passesPerPuzzle, modelCallsPerPuzzle, accuracy } = point;
  return { label, perturbations, checkpoints, runs, passesPerPuzzle, modelCallsPerPuzzle, accuracy };
}

export function formatVoteReport(r: VoteReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [
    `${r.puzzles.count} puzzles (${r.puzzles.source}) · ${r.models.length} model(s) · ${r.perturbation.names.length} perturbations (${r.perturbation.kind}) · ${r.steps} steps per pass`,
    '',
    `${'rule'.padEnd(22)}${r.table.map((t) => t.label.padStart(17)).join('')}`,
    ...r.rules.map((rule) => `${(rule.name + (rule.usesLabels ? ' (labels)' : '')).padEnd(22)}${r.table.map((t) => pct(t.accuracy[rule.name]).padStart(17)).join('')}`),
    `${'model calls / puzzle'.padEnd(22)}${r.table.map((t) => String(t.modelCallsPerPuzzle).padStart(17)).join('')}`,
    '',
    'The "reference" rule looks at the labels (a checkpoint solves when a strict majority of its halted passes is right, any checkpoint suffices): an upper bound, not a method for new puzzles.',
    `${r.seconds.toFixed(1)} s · ${Math.round(r.stepCallsPerSecond)} step calls/s`,
  ];
  return lines.join('\n');
}

export const voteCommand = defineCommand({
  name: 'vote', operands: '<run-dir | model.onnx>...', positionals: [1, 64], flags,
  summary: 'Test-time scaling (Augmented HRM): perturbations x checkpoints x seeds, voting rules, compute curve.',
  async run(f, positionals) {
    // Before anything is exported or loaded: onnxruntime-node crashes (SIGSEGV) on a long command line.
    const commandLine = commandLineTooLongForOnnxruntime();
    if (commandLine !== undefined) {
      throw new UsageError(`the command line is ${commandLine} bytes (at most ${MAX_COMMAND_LINE_BYTES}; onnxruntime-node crashes on longer ones): vote on fewer runs at once, or name them by shorter (relative) paths`);
    }
    const log = (m: string) => { if (!f.quiet) process.stderr.write(m + '\n'); };
    const targets: Target[] = positionals.map((p) => {
      const path = resolve(p);
      if (!existsSync(path)) throw new InputError(`${p}: no such file or directory`);
      return { path, runDirectory: statSync(path).isDirectory() ? path : null };
    });
    const checkpoints = intFlag(f.checkpoints, 'checkpoints', 1, 1, 64);
    const infos = targets.flatMap((t, i) => modelsOf(t, i, checkpoints, log));
    const threads = intFlag(f.threads, 'threads', availableParallelism(), 1, 256);
    const batch = intFlag(f.batch, 'batch', 32, 1);
    // Every model's contract is checked before any session exists; the sessions come one model at a time.
    const contracts = infos.map((info) => readStepContract(info.model));
    const c = contracts[0]!;
    for (const [i, m] of contracts.entries()) {
      if (m.task !== c.task || m.seqLen !== c.seqLen || m.vocabSize !== c.vocabSize) {
        throw new InputError(`${infos[i]!.model}: task ${m.task} with ${m.seqLen} cells does not match ${infos[0]!.model} (${c.task}, ${c.seqLen})`);
      }
    }
    const maze = c.task === 'maze' ? c.mazeGrid : undefined;
    if (c.sudokuSide === undefined && !(maze && maze.height === maze.width)) {
      throw new InputError(`${infos[0]!.model}: task "${c.task}": vote needs a Sudoku model or a square maze model`);
    }
    let task: GridTask, relabellings: Relabelling[], kind: string, puzzles: VotePuzzle[], source: string;
    if (maze) {
      task = mazeTask(maze.height);
      if (f.puzzles !== undefined) throw new UsageError('--puzzles: a maze model votes on its run\'s held-out mazes (--held-out N)');
      ({ puzzles, source } = puzzlesFor(targets[0]!, undefined, f['held-out'], undefined));
      kind = 'maze: S/G swap, dihedral maps';
      if (f.relabel !== undefined) throw new UsageError('--relabel: a maze model has one kind (S/G swap, then the dihedral maps)');
      relabellings = mazeRelabellings(maze.height, intFlag(f.relabellings, 'relabellings', 2, 1, 16));
    } else {
      const side = c.sudokuSide!;
      task = sudokuTask(side);
      ({ puzzles, source } = puzzlesFor(targets[0]!, f.puzzles, f['held-out'], side));
      kind = f.relabel ?? 'shift';
      if (kind !== 'shift' && kind !== 'symmetry') throw new UsageError(`--relabel: expected shift or symmetry, got "${kind}"`);
      const R = intFlag(f.relabellings, 'relabellings', side, 1, kind === 'shift' ? side : 10_000);
      relabellings = kind === 'shift' ? cyclicShiftRelabellings(side, R) : randomSymmetryRelabellings(side, R, new Rng(intFlag(f.seed, 'seed', 0, 0) + 7919));
    }
    const steps = intFlag(f.steps, 'steps', c.haltMaxSteps ?? 16, 1, 256);
    const seed = intFlag(f.seed, 'seed', 0, 0);
    const noisy = intFlag(f['noise-passes'], 'noise-passes', 0, 0, 1000);
    const std = f.noise === undefined ? 1 : Number(f.noise);
    if (!Number.isFinite(std) || std < 0) throw new UsageError(`--noise: expected a number >= 0, got "${f.noise}"`);
    const perturbations: Perturbation[] = [
      ...relabellings.map((r) => ({ name: r.name, relabelling: r })),
      ...Array.from({ length: noisy }, (_, k) => ({ name: `noise#${k + 1} (std ${std})`, relabelling: relabellings[0]!, noise: { std, seed: seed + k + 1 } })),
    ];

    log(`voting: ${puzzles.length} puzzles × ${perturbations.length} perturbations × ${infos.length} models, ${steps} steps each, on onnxruntime-node ...`);
    const t0 = performance.now();
    const perPuzzle: Pass[][] = puzzles.map(() => []);
    let stepCalls = 0;
    let depth: number[] = [];
    for (const [m, info] of infos.entries()) {
      // One single-threaded session per core, each in a worker thread of its own, taking batches in turn.
      const lanes: StepModel[] = threads === 1 ? [await OnnxStepModel.fromFile(info.model, { threads: 1 })]
        : await Promise.all(Array.from({ length: threads }, () => OnnxWorkerModel.start(info.model)));
      const res = await runModelPasses(lanes, m, task, puzzles, perturbations, { steps, maxBatch: batch })
        .finally(() => Promise.all(lanes.map((l) => l.dispose())));
      res.passes.forEach((p, i) => perPuzzle[i]!.push(...p));
      stepCalls += res.stepCalls;
      if (m === 0) depth = res.exactAtStep;
      log(`  model ${m + 1}/${infos.length} (${info.model}): single-pass exact ${(100 * res.exactAtStep.at(-1)!).toFixed(1)}%`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const slots: ModelSlot[] = infos.map((i) => ({ run: i.run, checkpoint: i.checkpoint }));
    const K = Math.max(...infos.map((i) => i.checkpoint)) + 1;
    const S = targets.length;
    const budget = (b: Parameters<typeof evaluateBudget>[2]) => row(evaluateBudget(perPuzzle, slots, b, steps, { task: task.name }));
    const report: VoteReport = {
      version: VOTE_REPORT_VERSION, createdAt: new Date().toISOString(), task: task.name,
      puzzles: { count: puzzles.length, source }, perturbation: { kind: noisy ? `${kind} + noisy starts` : kind, names: perturbations.map((p) => p.name) }, steps,
      models: infos, rules: votingRules.map((r) => ({ ...r })),
      table: tableBudgets(perturbations.length, K, S).map(budget), curve: curveBudgets(perturbations.length, K, S).map(budget),
      depth: depth.map((accuracy, i) => ({ step: i + 1, accuracy })),
      seconds, stepCallsPerSecond: stepCalls / seconds,
    };
    const first = targets[0]!;
    const out = f.out ? resolve(f.out) : first.runDirectory ? join(first.runDirectory, VOTE_REPORT_FILE) : join(dirname(first.path), `${basename(first.path, '.onnx')}.${VOTE_REPORT_FILE}`);
    writeFileAtomic(out, JSON.stringify(report) + '\n');
    process.stdout.write(f.json ? JSON.stringify(report) + '\n' : `${formatVoteReport(report)}\nreport: ${out}\n`);
    return 0;
  },
});
