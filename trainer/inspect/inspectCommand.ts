// reclab inspect <run-dir | model.onnx> — fixed-point inspection on onnxruntime-node, in the
// trainer process. On a run directory it exports model.onnx first when that is missing or older
// than the latest checkpoint, and takes N held-out puzzles of the run; on any .onnx file that
// honours the step contract it takes the puzzles given (--puzzle, or a file / stdin with --puzzles,
// the way the extension passes them: onnxruntime's native module overflows its stack when the
// command line reaches ~29 kB, so a longer one is refused before it loads).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { INSPECT_REPORT_FILE, INSPECT_REPORT_VERSION, MAX_INSPECT_PUZZLES, type InspectOptions, type InspectReport } from '../../protocol/inspectReport';
import { runFiles } from '../../protocol/runDirectory';
import { checkMazeText } from '../data/mazeCheck';
import { checkPuzzleText } from '../data/puzzleCheck';
import { loadTaskData } from '../data/taskData';
import { exportIsCurrent, exportRun } from '../onnx/exportRun';
import { commandLineTooLongForOnnxruntime, MAX_COMMAND_LINE_BYTES, OnnxStepModel } from '../onnx/onnxStepModel';
import { writeFileAtomic } from '../run/atomicWrite';
import { RunDirectory } from '../run/runDirectory';
import { defaultInspectOptions, inspectPuzzles, MAX_STEPS, type InspectPuzzle } from './inspectModel';
import { formatInspectSummary } from './inspectSummary';
import { inspectTaskOf, type InspectTask } from './inspectTask';

export const inspectUsage = `reclab inspect <run-dir | model.onnx> [--puzzle Q[:SOLUTION]]... [--puzzles FILE | -] [--held-out N (default 100)]
                [--steps K (default the model's reclab.halt_max_steps, else 16; max ${MAX_STEPS})] [--perturbations N (8)] [--noise STD (1)] [--no-relabel]
                [--power-iterations N (20)] [--settle-tol X (1e-3)] [--cluster-tol X (1e-2)] [--probe-blanks 1,2,3]
                [--seed N] [--threads N] [--batch N (128)] [--out FILE] [--json] [--quiet]`;

class UsageError extends Error {}

const options = {
  puzzle: { type: 'string', multiple: true },
  puzzles: { type: 'string' },
  'held-out': { type: 'string' },
  steps: { type: 'string' },
  perturbations: { type: 'string' },
  noise: { type: 'string' },
  'no-relabel': { type: 'boolean' },
  'power-iterations': { type: 'string' },
  'settle-tol': { type: 'string' },
  'cluster-tol': { type: 'string' },
  'probe-blanks': { type: 'string' },
  seed: { type: 'string' },
  threads: { type: 'string' },
  batch: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function num(flags: Record<string, unknown>, name: string, fallback: number, check: (n: number) => boolean, what: string): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`--${name}: expected ${what}, got "${String(raw)}"`);
  return n;
}

/** "Q" or "Q:SOLUTION", checked as `reclab trace` checks it; the solution is worked out when not given (and unique). */
export function parsePuzzleArg(text: string, side: 4 | 9, where: string): InspectPuzzle {
  const check = checkPuzzleText(text, side);
  if ('refused' in check) throw new UsageError(`${where}: puzzle refused: ${check.refused}`);
  return check;
}

/** A maze "Q" or "Q:SOLUTION" (trainer/data/mazeCheck.ts: "# SG" cells, '.' open, rows split by '/'); the shortest path stands in when no solution is given. */
export function parseMazeArg(text: string, side: number, where: string): InspectPuzzle {
  const check = checkMazeText(text, side);
  if ('refused' in check) throw new UsageError(`${where}: maze refused: ${check.refused}`);
  return { question: check.question, solution: check.answer };
}

function parseTaskArg(task: InspectTask, text: string, where: string): InspectPuzzle {
  return task.kind === 'maze' ? parseMazeArg(text, task.side, where) : parsePuzzleArg(text, task.side as 4 | 9, where);
}

/** The puzzle lines of a file, or of stdin for "-" ('#' comments and blank lines skipped). */
export function readPuzzleLines(file: string): { text: string; where: string }[] {
  const name = file === '-' ? 'stdin' : file;
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : resolve(file), 'utf8');
  } catch (e) {
    throw new UsageError(`--puzzles ${name}: cannot read: ${(e as Error).message}`);
  }
  const lines: { text: string; where: string }[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((line, i) => { if (line.trim() && !line.startsWith('#')) lines.push({ text: line, where: `${name}:${i + 1}` }); });
  return lines;
}

/** `count` indices spread evenly over [0, total). */
export function evenlySpaced(total: number, count: number): number[] {
  const n = Math.min(total, count);
  return Array.from({ length: n }, (_, i) => Math.floor((i * total) / n));
}

export async function inspectCommand(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (e) {
    process.stderr.write(`reclab inspect: ${(e as Error).message}\n`);
    if (e instanceof UsageError) process.stderr.write(`usage: ${inspectUsage}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

async function run(argv: string[]): Promise<number> {
  const commandLine = commandLineTooLongForOnnxruntime();
  if (commandLine !== undefined) {
    throw new UsageError(`the command line is ${commandLine} bytes (at most ${MAX_COMMAND_LINE_BYTES}): give the puzzles in a file (--puzzles FILE) or on stdin (--puzzles -)`);
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const flags = parsed.values;
  if (flags.help) {
    process.stdout.write(`usage: ${inspectUsage}\n`);
    return 0;
  }
  const [target, ...extra] = parsed.positionals;
  if (!target || extra.length > 0) throw new UsageError('give exactly one run directory or .onnx file');
  const targetPath = resolve(target);
  if (!existsSync(targetPath)) throw new Error(`${target}: no such file or directory`);
  const isRun = statSync(targetPath).isDirectory();
  const log = (m: string) => { if (!flags.quiet) process.stderr.write(m + '\n'); };

  let modelPath = targetPath;
  let runDirectory: string | null = null;
  if (isRun) {
    runDirectory = targetPath;
    modelPath = join(targetPath, runFiles.onnxModel);
    if (!exportIsCurrent(targetPath)) {
      const r = exportRun(targetPath);
      log(`exported step ${r.step} to ${r.path}`);
    }
  }
  const threads = num(flags, 'threads', 0, (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0');
  const model = await OnnxStepModel.fromFile(modelPath, { threads });
  try {
    const c = model.contract;
    let task: InspectTask;
    try {
      task = inspectTaskOf(c);
    } catch (e) {
      throw new Error(`${modelPath}: task "${c.task}": ${(e as Error).message.replace(/^inspect: /, '')}`);
    }

    // Puzzles: given on the command line or in a file, else N held-out puzzles of the run.
    const given = [
      ...(flags.puzzle ?? []).map((text, i) => ({ text, where: `--puzzle #${i + 1}` })),
      ...(flags.puzzles ? readPuzzleLines(flags.puzzles) : []),
    ];
    if (given.length > MAX_INSPECT_PUZZLES) throw new UsageError(`${given.length} puzzles given; an inspection takes at most ${MAX_INSPECT_PUZZLES}`);
    const puzzles: InspectPuzzle[] = given.map((p) => parseTaskArg(task, p.text, p.where));
    let puzzleSource = puzzles.length ? 'given' : '';
    if (puzzles.length === 0) {
      if (!runDirectory) throw new UsageError('an .onnx file needs puzzles: --puzzle Q[:SOLUTION] or --puzzles FILE');
      const count = num(flags, 'held-out', 100, (n) => Number.isInteger(n) && n >= 1 && n <= MAX_INSPECT_PUZZLES, `an integer 1..${MAX_INSPECT_PUZZLES}`);
      const { metadata, config } = RunDirectory.open(runDirectory).readConfigFile();
      const data = loadTaskData(config.data, config.seed, metadata.configFile ? dirname(metadata.configFile) : process.cwd());
      for (const i of evenlySpaced(data.test.length, count)) puzzles.push({ question: data.test[i]!.question, solution: data.test[i]!.answer });
      if (data.seqLen !== c.seqLen) throw new Error(`${runDirectory}: the run's puzzles have ${data.seqLen} cells, the model takes ${c.seqLen}`);
      puzzleSource = `${puzzles.length} of the run's ${data.test.length} held-out ${task.kind === 'maze' ? 'mazes' : 'puzzles'}, evenly spaced`;
    }

    const opts: InspectOptions = {
      ...defaultInspectOptions,
      // N_sup the model was trained with, as the contract documents; 16 for a model that does not say.
      steps: num(flags, 'steps', Math.min(c.haltMaxSteps ?? defaultInspectOptions.steps, MAX_STEPS), (n) => Number.isInteger(n) && n >= 1 && n <= MAX_STEPS, `an integer 1..${MAX_STEPS}`),
      perturbations: num(flags, 'perturbations', defaultInspectOptions.perturbations, (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0'),
      noiseStd: num(flags, 'noise', defaultInspectOptions.noiseStd, (n) => n >= 0, 'a number >= 0'),
      relabel: !flags['no-relabel'],
      powerIterations: num(flags, 'power-iterations', defaultInspectOptions.powerIterations, (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0'),
      settleTolerance: num(flags, 'settle-tol', defaultInspectOptions.settleTolerance, (n) => n > 0, 'a positive number'),
      clusterTolerance: num(flags, 'cluster-tol', defaultInspectOptions.clusterTolerance, (n) => n > 0, 'a positive number'),
      seed: num(flags, 'seed', 0, (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0'),
      // A maze's question never holds path cells, so blanking a solved one poses nothing: no probe.
      probeBlanks: !task.probe ? [] : flags['probe-blanks'] === undefined ? defaultInspectOptions.probeBlanks
        : flags['probe-blanks'] === '' ? [] : flags['probe-blanks'].split(',').map((x) => {
          const n = Number(x);
          if (!Number.isInteger(n) || n < 1 || n >= c.seqLen) throw new UsageError(`--probe-blanks: expected integers 1..${c.seqLen - 1}, got "${x}"`);
          return n;
        }),
    };
    const batch = num(flags, 'batch', 128, (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
    log(`inspecting ${puzzles.length} puzzles for ${opts.steps} steps on onnxruntime-node ...`);
    const t0 = performance.now();
    const result = await inspectPuzzles(model, puzzles, opts, batch);
    const report: InspectReport = {
      version: INSPECT_REPORT_VERSION, createdAt: new Date().toISOString(),
      source: { model: modelPath, runDirectory, puzzles: puzzleSource }, contract: c, options: opts,
      summary: result.summary, puzzles: result.puzzles, probe: result.probe, seconds: (performance.now() - t0) / 1000,
    };
    const out = flags.out ? resolve(flags.out) : isRun ? join(targetPath, INSPECT_REPORT_FILE) : join(dirname(targetPath), `${basename(targetPath, '.onnx')}.${INSPECT_REPORT_FILE}`);
    writeFileAtomic(out, JSON.stringify(report) + '\n');
    if (flags.json) process.stdout.write(JSON.stringify(report) + '\n');
    else process.stdout.write(formatInspectSummary(report) + `\nreport: ${out}\n`);
    return 0;
  } finally {
    await model.dispose();
  }
}
