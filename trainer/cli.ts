// reclab — the Recursion Lab trainer. Every extension command is a thin call of one of these.
// Each command has its own flag table below (`reclab <command> --help` prints it); a flag of
// another command is a usage error (exit 2). export / inspect / trace parse their own flags
// (trainer/onnx, trainer/inspect, trainer/traceCommand.ts), as do sweep-status / sweep-cancel of a
// Slurm sweep (trainer/ablation/sweepCommands.ts). --rpc: JSON-RPC on stdin/stdout for
// the extension host (trainer/rpcChannel.ts). --engine torch: the PyTorch worker, supervised by
// trainer/engines/torchWorker.ts.
import { readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { backendNames, engineNames, isDeqArch, type BackendName, type EngineName, type RunConfig } from '../protocol/config';
import { hasFixedPointSolve } from './model/recursiveModel';
import type { EvalEvent } from '../protocol/events';
import { selectBackend } from './backend';
import { defineCommand, UsageError, type Command, type FlagTable, type FlagValues } from './commandLine';
import { ConfigError, resolveConfig } from './configResolution';
import { InputError } from './inputError';
import { difficultyLabel, loadTaskData, type TaskData } from './data/taskData';
import { MAZE_PATH } from './data/mazeGrid';
import { checkTorchDevice, choosePython, probePython, PythonEnvironmentError, torchDevices, torchDtypes, type PythonInfo } from './engines/pythonEnvironment';
import { runTorchWorker } from './engines/torchWorker';
import { createModel } from './model/modelFactory';
import { formatEvalTable, ProgressDisplay } from './progressDisplay';
import { Rng } from './random';
import { runFiles } from '../protocol/runDirectory';
import { writeFileAtomic } from './run/atomicWrite';
import { gitCommit, packageVersions } from './run/provenance';
import { newRunId, RunDirectory } from './run/runDirectory';
import { checkFitsInMemory } from './run/memoryBudget';
import { chooseResumeCheckpoint } from './run/resumePoint';
import { restoreTrainingCheckpoint } from './run/trainingCheckpoint';
import { acquireRunLock } from './run/runLock';
import { StopRequest } from './run/stopRequest';
import { openRpcChannel, type RpcChannel } from './rpcChannel';
import { runSweep, validateSweep, writeSweepReport, type SweepOptions } from './ablation/ablationSweep';
import { ablateOnSlurm, isSlurmSweep, rerunOnSlurm, type SlurmFlags } from './ablation/slurmAblateCommand';
import { sweepCancelCommand, sweepStatusCommand } from './ablation/sweepCommands';
import { curriculumStages } from './train/depthCurriculum';
import { evaluate, evaluateInternalisation } from './train/evaluate';
import { encodePuzzles } from './train/exampleStream';
import { createTrainState, disposeTrainState, evaluationParams } from './train/trainState';
import { evalEventOf, runTraining } from './trainingRun';
import { traceCommand } from './traceCommand';
import { exportCommand } from './onnx/exportCommand';
import { inspectCommand } from './inspect/inspectCommand';
import { voteCommand } from './vote/voteCommand';
import { exportTbCommand } from './tensorboard/exportTbCommand';

// Shared flags (one definition, used by the commands that take them).
const flag = {
  steps: { type: 'string', value: 'N', help: 'optimizer steps (overrides the config)' },
  backend: { type: 'string', value: 'NAME', help: `TF.js backend: ${backendNames.join('|')}` },
  preset: { type: 'string', value: 'NAME', help: 'a built-in preset (default sudoku4)' },
  config: { type: 'string', value: 'FILE', help: 'a *.reclab.json config file' },
  runsRoot: { type: 'string', value: 'DIR', help: 'where new run directories go (default runs)' },
  quiet: { type: 'boolean', help: 'no progress output' },
  rpc: { type: 'boolean', help: 'JSON-RPC on stdin/stdout, for the extension host' },
  python: { type: 'string', value: 'PATH', help: 'torch engine: the Python (default $RECLAB_PYTHON, the reclab.pythonPath setting, python3)' },
  gpus: { type: 'string', value: 'N', help: 'torch engine: data-parallel processes (torchrun), default 1' },
  device: { type: 'string', value: torchDevices.join('|'), help: 'torch engine: where to train (default auto: CUDA, else MPS, else the CPU)' },
  dtype: { type: 'string', value: torchDtypes.join('|'), help: 'torch engine: auto (bf16 autocast on CUDA, float32 elsewhere), bfloat16 or float32' },
} as const satisfies FlagTable;
const engineNamesText = engineNames.join('|');

// Each command's own flags: adding a flag to a command is one line in its table.
const trainFlags = {
  preset: flag.preset,
  config: flag.config,
  'run-dir': { type: 'string', value: 'DIR', help: 'the new run directory (default <runs-root>/<stamp>-<name>)' },
  'runs-root': flag.runsRoot,
  name: { type: 'string', value: 'NAME', help: 'run name (default the preset name)' },
  steps: flag.steps,
  seed: { type: 'string', value: 'N', help: 'random seed (overrides the config)' },
  backend: flag.backend,
  engine: { type: 'string', value: engineNamesText, help: 'the training engine (default the config\'s, tfjs)' },
  python: flag.python,
  gpus: flag.gpus,
  device: flag.device,
  dtype: flag.dtype,
  quiet: flag.quiet,
  rpc: flag.rpc,
} as const satisfies FlagTable;

const resumeFlags = {
  checkpoint: { type: 'string', value: 'FILE', help: 'resume from this checkpoint of the run (default the latest; a corrupt latest names the previous valid one)' },
  steps: { ...flag.steps, help: 'train until this step (default the run\'s steps)' },
  backend: flag.backend,
  engine: { type: 'string', value: engineNamesText, help: 'must be the run\'s own engine (a run resumes on the engine that trained it)' },
  python: flag.python,
  gpus: flag.gpus,
  device: flag.device,
  dtype: flag.dtype,
  quiet: flag.quiet,
  rpc: flag.rpc,
} as const satisfies FlagTable;

const evalFlags = {
  checkpoint: { type: 'string', value: 'FILE', help: 'the checkpoint to evaluate (default the latest)' },
  backend: flag.backend,
  json: { type: 'boolean', help: 'print the eval event as JSON' },
  internalisation: { type: 'string', value: 'K,K,…', help: 'trm-deq, attractor: also evaluate with every solve capped at K map evaluations (0 = no solve); default the run\'s eval.internalisation' },
} as const satisfies FlagTable;

const ablateFlags = {
  preset: flag.preset,
  config: flag.config,
  arms: { type: 'string', value: 'LIST', help: 'comma-separated arms: baseline,pdc,hsw,hsw-code,cgar,cgar-code (default baseline,pdc,hsw,cgar)' },
  seeds: { type: 'string', value: 'N', help: 'seeds per arm (required)' },
  steps: flag.steps,
  depth: { type: 'string', value: 'T,n', help: 'base recursion depth (default 3,6)' },
  parallel: { type: 'string', value: 'N', help: 'runs at once (default: cores)' },
  out: { type: 'string', value: 'DIR', help: 'the sweep folder (default <runs-root>/ablation-<stamp>)' },
  'runs-root': flag.runsRoot,
  target: { type: 'string', value: 'ACC', help: 'exact accuracy for "time to target" (default 0.95)' },
  'eval-every': { type: 'string', value: 'N', help: 'evaluate every N steps' },
  backend: flag.backend,
  'rerun-failed': { type: 'boolean', help: 'rerun the failed runs of the sweep in --out' },
  report: { type: 'boolean', help: 'write the report of the sweep in --out from whatever has finished' },
  quiet: flag.quiet,
  engine: { type: 'string', value: 'NAME', help: 'training engine of every run (passed to reclab train)' },
  // --executor slurm (trainer/ablation/slurmAblateCommand.ts); --parallel N is the array's %N there.
  executor: { type: 'string', value: 'local|slurm', help: 'where the runs train (default local)' },
  'slurm-config': { type: 'string', value: 'FILE', help: 'slurm: a JSON file of cluster settings' },
  partition: { type: 'string', value: 'P', help: 'slurm: #SBATCH --partition' },
  'gpus-per-task': { type: 'string', value: 'N', help: 'slurm: #SBATCH --gpus-per-task' },
  'cpus-per-task': { type: 'string', value: 'N', help: 'slurm: #SBATCH --cpus-per-task' },
  mem: { type: 'string', value: 'M', help: 'slurm: #SBATCH --mem' },
  time: { type: 'string', value: 'T', help: 'slurm: #SBATCH --time' },
  sbatch: { type: 'string', multiple: true, value: 'LINE', help: 'slurm: an extra #SBATCH line (repeatable)' },
  setup: { type: 'string', multiple: true, value: 'LINE', help: 'slurm: a shell line each task runs first (repeatable)' },
  wait: { type: 'boolean', help: 'slurm: wait until every task has ended' },
} as const satisfies FlagTable;

type TrainFlags = FlagValues<typeof trainFlags>;
type ResumeFlags = FlagValues<typeof resumeFlags>;
type EvalFlags = FlagValues<typeof evalFlags>;
type AblateFlags = FlagValues<typeof ablateFlags>;

/** The live channel to the extension host, with --rpc. */
let rpc: RpcChannel | undefined;
/** main's argv, recorded in a new run's metadata. */
let invokedWith: string[] = [];

function intFlag(raw: string | undefined, name: string, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name}: expected an integer >= ${min}, got "${raw}"`);
  return n;
}

function backendFlag(b: string | undefined): BackendName | undefined {
  if (b === undefined) return undefined;
  if (!(backendNames as readonly string[]).includes(b)) throw new UsageError(`--backend: unknown backend "${b}" (known: ${backendNames.join(', ')})`);
  return b as BackendName;
}

/** The one stop request of this process (RPC stop, SIGTERM, SIGINT, stdin closed). */
const stop = new StopRequest();

/** Takes the run directory's lock for this process (released by the returned function and at exit). */
function lockRun(path: string, argv: string[]): () => void {
  return acquireRunLock(path, {
    command: argv,
    onTakeOver: (old, why) => process.stderr.write(`run lock: took over ${old ? `the lock of pid ${old.pid}` : 'an unreadable lock'} (${why})\n`),
  });
}

function engineFlag(e: string | undefined): EngineName | undefined {
  if (e === undefined) return undefined;
  if (!(engineNames as readonly string[]).includes(e)) throw new UsageError(`--engine: unknown engine "${e}" (known: ${engineNames.join(', ')})`);
  return e as EngineName;
}

/** What a torch run is started with: the probed Python, the process count, the worker's --device / --dtype. */
interface TorchSetup {
  python: PythonInfo;
  gpus: number;
  deviceArgs: string[];
}

/** The PyTorch engine's flags; refused with the TF.js engine. Probes the Python (and checks the device) before any run directory exists. */
function torchSetup(flags: { python?: string; gpus?: string; device?: string; dtype?: string }, engine: EngineName): TorchSetup | undefined {
  const gpus = flags.gpus === undefined ? 1 : Number(flags.gpus);
  if (!Number.isInteger(gpus) || gpus < 1) throw new UsageError(`--gpus: expected an integer >= 1, got "${flags.gpus}"`);
  if (engine !== 'torch') {
    for (const f of ['python', 'gpus', 'device', 'dtype'] as const) if (flags[f] !== undefined) throw new UsageError(`--${f}: only with the torch engine (--engine torch)`);
    return undefined;
  }
  try {
    const python = probePython(choosePython(flags.python));
    return { python, gpus, deviceArgs: checkTorchDevice(flags.device, flags.dtype, python) };
  } catch (e) {
    if (e instanceof PythonEnvironmentError) throw new UsageError(e.message);
    throw e;
  }
}

async function commandTrain(flags: TrainFlags, argv: string[]): Promise<number> {
  const { config, presetName } = resolveConfig({
    preset: flags.preset, configFile: flags.config, steps: intFlag(flags.steps, 'steps', 1), seed: intFlag(flags.seed, 'seed', 0),
    backend: backendFlag(flags.backend), name: flags.name, engine: engineFlag(flags.engine),
  });
  // Everything that can fail on bad input happens before the run directory exists.
  const runId = newRunId(config.name ?? presetName);
  const runPath = resolve(flags['run-dir'] ?? join(flags['runs-root'] ?? 'runs', runId));
  checkPathFits(runPath, flags['run-dir'] ? '--run-dir' : config.name !== undefined ? 'the run name' : 'the preset name');
  RunDirectory.checkCanCreate(runPath);
  const torch = torchSetup(flags, config.engine);
  const data = loadTaskData(config.data, config.seed, flags.config ? resolve(flags.config, '..') : process.cwd());
  const model = createModel(config.model, { vocabSize: data.vocabSize, seqLen: data.seqLen });
  checkConsistency(config);
  // The torch worker records its own device (metadata.device); "torch" stands for it here.
  const backend = torch ? { name: 'torch', notes: [] } : await selectBackend(config.backend);
  // The wasm heap's budget; the torch worker has no such cap.
  if (!torch) {
    try {
      checkFitsInMemory(model, config, backend.name);
    } catch (e) {
      throw new ConfigError(`${flags.config ?? `preset ${presetName}`}: ${(e as Error).message}`);
    }
  }
  const versions = packageVersions(backend.notes);
  if (torch) Object.assign(versions, { python: torch.python.pythonVersion, torch: torch.python.torch });
  const runDir = RunDirectory.create(runPath, {
    metadata: {
      runId, createdAt: new Date().toISOString(), preset: presetName, configFile: flags.config && resolve(flags.config),
      engine: config.engine, backend: backend.name, versions, gitCommit: gitCommit(process.cwd()), command: argv,
    },
    config,
  });
  const release = lockRun(runPath, argv);
  try {
    if (!flags.quiet) process.stderr.write(`run directory: ${runPath}\n${backend.notes.map((n) => `backend: ${n}\n`).join('')}backend: using ${backend.name}\n`);
    if (torch) return await trainWithTorch(runDir, runId, false, flags, torch, data, undefined);
    return await train(runDir, runId, config, backend.name, false, flags, data);
  } finally {
    release();
  }
}

async function commandResume(flags: ResumeFlags, positionals: string[], argv: string[]): Promise<number> {
  const path = positionals[0];
  if (!path) throw new UsageError('resume: give the run directory');
  const runDir = RunDirectory.open(resolve(path));
  // Before anything is read or written: a run another trainer is writing is refused as it is.
  const release = lockRun(runDir.path, argv);
  try {
    return await resumeLocked(runDir, path, flags);
  } finally {
    release();
  }
}

async function resumeLocked(runDir: RunDirectory, path: string, flags: ResumeFlags): Promise<number> {
  const file = runDir.readConfigFile();
  const steps = intFlag(flags.steps, 'steps', 1);
  const config: RunConfig = { ...file.config, train: { ...file.config.train, steps: steps ?? file.config.train.steps } };
  // A run resumes on the engine that trained it.
  const engine = file.metadata.engine ?? 'tfjs';
  const asked = engineFlag(flags.engine);
  if (asked !== undefined && asked !== engine) throw new UsageError(`--engine ${asked}: ${path} was trained by the ${engine} engine and resumes on it`);
  const torch = torchSetup(flags, engine);
  // Verified before anything is written; a corrupt latest names the previous valid one.
  const from = chooseResumeCheckpoint(runDir, flags.checkpoint, `reclab resume ${path}`);
  if (torch) {
    // The worker reads train.steps from config.json, so --steps rewrites it there (put back if the worker refuses the resume).
    const original = readFileSync(join(runDir.path, runFiles.config));
    if (steps !== undefined) runDir.writeConfigFile({ ...file, config });
    const code = await trainWithTorch(runDir, file.metadata.runId, true, flags, torch, undefined, from.path);
    if (code === 2 && steps !== undefined) writeFileAtomic(join(runDir.path, runFiles.config), original);
    return code;
  }
  const backend = await selectBackend(backendFlag(flags.backend) ?? config.backend);
  const data = loadTaskData(config.data, config.seed, file.metadata.configFile ? resolve(file.metadata.configFile, '..') : process.cwd());
  return train(runDir, file.metadata.runId, config, backend.name, true, flags, data, from.path);
}

async function train(runDir: RunDirectory, runId: string, config: RunConfig, backend: string, resume: boolean, flags: { quiet?: boolean }, data: ReturnType<typeof loadTaskData>, resumeFrom?: string): Promise<number> {
  const display = flags.quiet ? undefined : new ProgressDisplay();
  stop.installSignalHandlers();
  await runTraining({ runId, runDir, config, data, backend, resume, resumeFrom, shouldStop: () => stop.requested, onEvent: (e) => { display?.handle(e); rpc?.notifyEvent(e); } });
  return 0;
}

async function trainWithTorch(runDir: RunDirectory, runId: string, resume: boolean, flags: { quiet?: boolean }, torch: TorchSetup, data: TaskData | undefined, checkpoint: string | undefined): Promise<number> {
  const display = flags.quiet ? undefined : new ProgressDisplay();
  stop.installSignalHandlers();
  return runTorchWorker({
    runDir, runId, python: torch.python.python, resume, gpus: torch.gpus, deviceArgs: torch.deviceArgs, data, checkpoint, stop,
    onEvent: (e) => {
      display?.handle(e);
      rpc?.notifyEvent(e);
    },
    log: (line) => process.stderr.write(`${line}\n`),
  });
}

/** "0,1,4" -> [0, 1, 4]: 1 to 8 integers >= 0. */
function parseIterationList(text: string): number[] {
  const parts = text.split(',');
  const out = parts.map((t) => (/^\d+$/.test(t.trim()) ? Number(t.trim()) : NaN));
  if (!out.length || out.length > 8 || out.some((k) => !Number.isSafeInteger(k))) throw new UsageError(`--internalisation: expected 1 to 8 comma-separated integers >= 0, got "${text}"`);
  return out;
}

async function commandEval(flags: EvalFlags, positionals: string[]): Promise<number> {
  const path = positionals[0];
  if (!path) throw new UsageError('eval: give the run directory');
  const runDir = RunDirectory.open(resolve(path));
  const file = runDir.readConfigFile();
  const config = file.config;
  const ckpt = flags.checkpoint ? { path: resolve(flags.checkpoint) } : runDir.latestCheckpoint();
  if (!ckpt) throw new Error(`${path}: no checkpoint to evaluate`);
  await selectBackend(backendFlag(flags.backend) ?? config.backend);
  const data = loadTaskData(config.data, config.seed, file.metadata.configFile ? resolve(file.metadata.configFile, '..') : process.cwd());
  const model = createModel(config.model, { vocabSize: data.vocabSize, seqLen: data.seqLen });
  const state = createTrainState(model, config.train, new Rng(config.seed));
  try {
    const meta = restoreTrainingCheckpoint(ckpt.path, state);
    const t0 = performance.now();
    const test = encodePuzzles(data.test, data.seqLen, data.task);
    const evalOpts = { steps: config.train.haltMaxSteps, batchSize: config.eval.batchSize, depth: model.depth, pathToken: data.task.kind === 'maze' ? MAZE_PATH : undefined };
    const r = evaluate(model, evaluationParams(state), state.hInit, state.lInit, test, evalOpts);
    // --internalisation overrides the run's eval.internalisation.iterations (trm-deq and attractor).
    const caps = flags.internalisation !== undefined ? parseIterationList(flags.internalisation) : config.eval.internalisation?.iterations;
    if (caps && !hasFixedPointSolve(model)) throw new UsageError(`--internalisation: only for runs with a fixed-point solve (trm-deq, attractor), not ${config.model.arch}`);
    const internalisation = caps && hasFixedPointSolve(model)
      ? await evaluateInternalisation(model, evaluationParams(state), state.hInit, state.lInit, test, evalOpts, caps, r) : undefined;
    const e: EvalEvent = {
      v: 1, time: Date.now(),
      ...evalEventOf(r, meta.step, 'final', (performance.now() - t0) / 1000, model.depth, {
        gradientVariance: null, trainSeconds: meta.progress.trainSeconds, flopsForwardTotal: meta.progress.flopsForwardTotal, flopsBackwardTotal: meta.progress.flopsBackwardTotal,
        ...(data.task.kind === 'sudoku' ? {} : { difficulty: difficultyLabel(data.task) }),
        ...(internalisation ? { internalisation } : {}),
      }),
    };
    process.stdout.write(flags.json ? JSON.stringify(e) + '\n' : formatEvalTable(e) + '\n');
  } finally {
    disposeTrainState(state);
  }
  return 0;
}

async function commandAblate(flags: AblateFlags): Promise<number> {
  if (flags.report) {
    if (!flags.out) throw new UsageError('--report: give the sweep folder with --out');
    const r = writeSweepReport(resolve(flags.out));
    if (!flags.quiet) process.stdout.write(r.markdown + `\nreport: ${r.files.html}\n`);
    return 0;
  }
  const executor = flags.executor ?? 'local';
  if (executor !== 'local' && executor !== 'slurm') throw new UsageError(`--executor: expected local or slurm, got "${executor}"`);
  const slurmFlags: SlurmFlags = {
    slurmConfig: flags['slurm-config'], partition: flags.partition, gpusPerTask: flags['gpus-per-task'], cpusPerTask: flags['cpus-per-task'],
    mem: flags.mem, time: flags.time, sbatch: flags.sbatch, setup: flags.setup, wait: flags.wait, quiet: flags.quiet,
  };
  if (flags['rerun-failed'] && flags.out && isSlurmSweep(resolve(flags.out))) return rerunOnSlurm(resolve(flags.out), slurmFlags);
  const depthText = flags.depth ?? '3,6';
  const depthMatch = /^(\d+),(\d+)$/.exec(depthText);
  if (!depthMatch || Number(depthMatch[1]) < 1 || Number(depthMatch[2]) < 1) throw new UsageError(`--depth: expected "T,n" with positive integers, got "${depthText}"`);
  if (flags.seeds === undefined) throw new UsageError('--seeds: give the number of seeds per arm');
  const seeds = Number(flags.seeds);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const outDir = resolve(flags.out ?? join(flags['runs-root'] ?? 'runs', `ablation-${stamp}`));
  const opts: SweepOptions = {
    preset: flags.preset, configFile: flags.config, arms: (flags.arms ?? 'baseline,pdc,hsw,cgar').split(',').map((a) => a.trim()).filter(Boolean),
    seeds, steps: intFlag(flags.steps, 'steps', 1), depth: { hCycles: Number(depthMatch[1]), lCycles: Number(depthMatch[2]) },
    parallel: flags.parallel === undefined ? undefined : Number(flags.parallel), outDir, target: flags.target === undefined ? 0.95 : Number(flags.target),
    evalEvery: flags['eval-every'] === undefined ? undefined : Number(flags['eval-every']), backend: backendFlag(flags.backend),
    cliPath: process.argv[1]!, failArms: process.env['RECLAB_FAULT_INJECT_ARMS']?.split(','), rerunFailed: flags['rerun-failed'],
  };
  if (opts.rerunFailed && !flags.out) throw new UsageError('--rerun-failed: give the sweep folder with --out');
  try {
    validateSweep(opts);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  // Resolve (and so validate) the base config before any run starts.
  resolveConfig({ preset: opts.preset, configFile: opts.configFile, backend: opts.backend });
  if (!flags.quiet) process.stderr.write(`ablation: ${opts.arms.length} arms x ${seeds} seeds into ${outDir}\n`);
  if (flags.engine) opts.trainerArgs = ['--engine', flags.engine];
  if (executor === 'slurm') return ablateOnSlurm(opts, slurmFlags);
  const result = await runSweep(opts);
  process.stdout.write(result.markdown + `\nreport: ${result.files.html}\n`);
  return result.runs.some((r) => r.status === 'failed') ? 1 : 0;
}

/** Most file systems allow 255 bytes a name, and Linux 4096 a path: refused up front, before anything is written. */
function checkPathFits(path: string, from: string): void {
  const long = path.split(sep).find((part) => Buffer.byteLength(part) > 255);
  if (long) throw new InputError(`${from}: the run directory name "${long.slice(0, 40)}…" is ${Buffer.byteLength(long)} bytes; file systems allow 255`);
  if (Buffer.byteLength(path) > 3800) throw new InputError(`${from}: the run directory path is ${Buffer.byteLength(path)} bytes, too long for its files`);
}

/** Cross-field checks the schema cannot express. */
function checkConsistency(c: RunConfig): void {
  if (c.train.microBatchSize > c.train.batchSize) throw new ConfigError(`train.microBatchSize: ${c.train.microBatchSize} exceeds train.batchSize ${c.train.batchSize}`);
  const groups = c.eval.gradientVarianceGroups;
  if (groups === 1 || (groups > 0 && c.train.batchSize % groups !== 0)) throw new ConfigError(`eval.gradientVarianceGroups: ${groups} must be 0, or >= 2 and divide train.batchSize ${c.train.batchSize}`);
  if (c.eval.internalisation && !isDeqArch(c.model.arch)) throw new ConfigError(`eval.internalisation: only for a model with a fixed-point solve (model.arch "trm-deq" or "attractor"), not "${c.model.arch}"`);
  if (c.model.attractor && c.model.arch !== 'attractor') throw new ConfigError(`model.attractor: only for model.arch "attractor", not "${c.model.arch}"`);
  if (c.train.curriculum.enabled) {
    try {
      curriculumStages({ hCycles: c.model.hCycles, lCycles: c.model.lCycles }, c.train.curriculum);
    } catch (e) {
      throw new ConfigError((e as Error).message);
    }
  }
  if (c.data.kind === 'generated-sudoku') {
    const max = c.data.side === 4 ? 12 : 60;
    for (const f of ['trainBlanks', 'testBlanks'] as const) {
      if (c.data[f][1] > max) throw new ConfigError(`data.${f}: ${c.data.side}x${c.data.side} puzzles with a unique solution have at most ${max} blanks here, got ${c.data[f][1]}`);
    }
  }
}

const commands: readonly Command[] = [
  defineCommand({
    name: 'train', positionals: [0, 0], flags: trainFlags,
    summary: 'Train a new run from a preset or a config file into a new run directory.',
    run: (flags) => commandTrain(flags, invokedWith),
  }),
  defineCommand({
    name: 'resume', operands: '<run-dir>', positionals: [1, 1], flags: resumeFlags,
    summary: 'Continue a run from its latest checkpoint.',
    run: (flags, positionals) => commandResume(flags, positionals, invokedWith),
  }),
  defineCommand({
    name: 'eval', operands: '<run-dir>', positionals: [1, 1], flags: evalFlags,
    summary: 'Evaluate a checkpoint on the run\'s held-out puzzles.',
    run: (flags, positionals) => commandEval(flags, positionals),
  }),
  defineCommand({
    name: 'ablate', positionals: [0, 0], flags: ablateFlags,
    summary: 'An ablation sweep: every arm x seed as an ordinary run, then ablation.{json,md,html}.',
    run: (flags) => commandAblate(flags),
  }),
  voteCommand,
];

/** Commands that parse their own flags (each with its own --help). */
const delegated: Record<string, { summary: string; run: (argv: string[]) => Promise<number> }> = {
  export: { summary: 'Export a run\'s checkpoint to ONNX (model.onnx).', run: exportCommand },
  inspect: { summary: 'Fixed-point inspection of a run or any step-contract .onnx file.', run: inspectCommand },
  trace: { summary: 'Trace one puzzle through a checkpoint (refinement trajectory).', run: traceCommand },
  'export-tb': { summary: 'Export a run\'s scalars as TensorBoard event files.', run: async (argv) => exportTbCommand(argv) },
  'sweep-status': { summary: 'Per-task scheduler state of a Slurm sweep (--json for the extension).', run: sweepStatusCommand },
  'sweep-cancel': { summary: 'Cancel a Slurm sweep, or one task of it (--task).', run: sweepCancelCommand },
};

const overview = () => {
  const rows = [...commands.map((c) => [c.name, c.summary]), ...Object.entries(delegated).map(([n, d]) => [n, d.summary])];
  return `usage: reclab <command> [options]   (reclab <command> --help for its options)\n\ncommands:\n${rows.map(([n, s]) => `  ${n!.padEnd(8)} ${s}`).join('\n')}`;
};

export async function main(argv: string[]): Promise<number> {
  invokedWith = argv;
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(overview() + '\n');
    return name === undefined ? 2 : 0;
  }
  const d = delegated[name];
  if (d && Object.hasOwn(delegated, name)) return d.run(rest);
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`reclab: unknown command "${name}"\n${overview()}\n`);
    return 2;
  }
  // Only train and resume poll the stop request; any other command just ends, as on SIGTERM.
  const polled = name === 'train' || name === 'resume';
  try {
    return await command.parseAndRun(rest, (flags) => { if (flags['rpc']) rpc = openRpcChannel((source) => (polled ? stop.request(source) : process.exit(143))); });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`reclab ${name}: ${msg}\n`);
    if (e instanceof UsageError) process.stderr.write(`usage: ${command.usageLine}   (reclab ${name} --help)\n`);
    return e instanceof InputError ? 2 : 1;
  } finally {
    await rpc?.flush();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
    process.stderr.write(`reclab: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
