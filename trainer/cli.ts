// reclab — the Recursion Lab trainer. Every extension command is a thin call of one of these.
//   reclab train  [--preset NAME] [--config FILE] [--run-dir DIR] [--steps N] [--seed N] [--backend NAME]
//                 [--engine tfjs|torch] [--python PATH] [--gpus N]   (torch: trainer/engines/torchWorker.ts)
//   reclab resume <run-dir> [--steps N] [--backend NAME] [--python PATH] [--gpus N]
//   reclab eval   <run-dir> [--checkpoint FILE] [--backend NAME] [--json]
//   reclab export <run-dir> ...  /  reclab inspect <run-dir | model.onnx> ...  (trainer/onnx, trainer/inspect)
//   --rpc: JSON-RPC on stdin/stdout for the extension host (trainer/rpcChannel.ts)
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { backendNames, engineNames, type BackendName, type EngineName, type RunConfig } from '../protocol/config';
import type { EvalEvent } from '../protocol/events';
import { selectBackend } from './backend';
import { ConfigError, resolveConfig } from './configResolution';
import { loadTaskData, type TaskData } from './data/taskData';
import { choosePython, probePython, PythonEnvironmentError, type PythonInfo } from './engines/pythonEnvironment';
import { runTorchWorker } from './engines/torchWorker';
import { TrmModel } from './model/trm';
import { formatEvalTable, ProgressDisplay } from './progressDisplay';
import { Rng } from './random';
import { runFiles } from '../protocol/runDirectory';
import { writeFileAtomic } from './run/atomicWrite';
import { gitCommit, packageVersions } from './run/provenance';
import { newRunId, RunDirectory, RunDirectoryError } from './run/runDirectory';
import { CorruptFileError } from './run/checkpointFile';
import { checkFitsInMemory } from './run/memoryBudget';
import { chooseResumeCheckpoint } from './run/resumePoint';
import { restoreTrainingCheckpoint } from './run/trainingCheckpoint';
import { openRpcChannel, type RpcChannel } from './rpcChannel';
import { runSweep, validateSweep, type SweepOptions } from './ablation/ablationSweep';
import { curriculumStages } from './train/depthCurriculum';
import { evaluate } from './train/evaluate';
import { encodePuzzles } from './train/exampleStream';
import { createTrainState, disposeTrainState, evaluationParams } from './train/trainState';
import { evalEventOf, runTraining } from './trainingRun';
import { traceCommand, traceUsage } from './traceCommand';
import { exportCommand } from './onnx/exportCommand';
import { inspectCommand } from './inspect/inspectCommand';

class UsageError extends Error {}

const usage = `usage:
  reclab train  [--preset NAME] [--config FILE] [--run-dir DIR] [--runs-root DIR] [--name NAME]
                [--steps N] [--seed N] [--backend ${backendNames.join('|')}]
                [--engine ${engineNames.join('|')}] [--python PATH] [--gpus N]
  reclab resume <run-dir> [--checkpoint FILE] [--steps N] [--backend NAME] [--python PATH] [--gpus N]
  reclab eval   <run-dir> [--checkpoint FILE] [--backend NAME] [--json]
  reclab ablate [--preset NAME | --config FILE] --arms baseline,pdc,hsw,hsw-code,cgar,cgar-code --seeds N
                [--steps N] [--depth T,n (default 3,6)] [--parallel N (default: cores)] [--out DIR]
                [--target ACC (default 0.95)] [--eval-every N] [--backend NAME] [--rerun-failed --out DIR]
  ${traceUsage}
  reclab export <run-dir> ... | reclab inspect ...   (see reclab export --help, reclab inspect --help)`;

const options = {
  preset: { type: 'string' },
  config: { type: 'string' },
  'run-dir': { type: 'string' },
  'runs-root': { type: 'string' },
  name: { type: 'string' },
  steps: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  engine: { type: 'string' },
  python: { type: 'string' },
  gpus: { type: 'string' },
  checkpoint: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  rpc: { type: 'boolean' },
  arms: { type: 'string' },
  seeds: { type: 'string' },
  depth: { type: 'string' },
  parallel: { type: 'string' },
  out: { type: 'string' },
  target: { type: 'string' },
  'eval-every': { type: 'string' },
  'rerun-failed': { type: 'boolean' },
} as const;

/** The live channel to the extension host, with --rpc. */
let rpc: RpcChannel | undefined;

type Flags = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

function intFlag(flags: Flags, name: 'steps' | 'seed', min: number): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name}: expected an integer >= ${min}, got "${raw}"`);
  return n;
}

function backendFlag(flags: Flags): BackendName | undefined {
  const b = flags.backend;
  if (b === undefined) return undefined;
  if (!(backendNames as readonly string[]).includes(b)) throw new UsageError(`--backend: unknown backend "${b}" (known: ${backendNames.join(', ')})`);
  return b as BackendName;
}

function engineFlag(flags: Flags): EngineName | undefined {
  const e = flags.engine;
  if (e === undefined) return undefined;
  if (!(engineNames as readonly string[]).includes(e)) throw new UsageError(`--engine: unknown engine "${e}" (known: ${engineNames.join(', ')})`);
  return e as EngineName;
}

/** The PyTorch engine's flags; refused with the TF.js engine. Probes the Python before any run directory exists. */
function torchSetup(flags: Flags, engine: EngineName): { python: PythonInfo; gpus: number } | undefined {
  const gpus = flags.gpus === undefined ? 1 : Number(flags.gpus);
  if (!Number.isInteger(gpus) || gpus < 1) throw new UsageError(`--gpus: expected an integer >= 1, got "${flags.gpus}"`);
  if (engine !== 'torch') {
    for (const f of ['python', 'gpus'] as const) if (flags[f] !== undefined) throw new UsageError(`--${f}: only with the torch engine (--engine torch)`);
    return undefined;
  }
  try {
    return { python: probePython(choosePython(flags.python)), gpus };
  } catch (e) {
    if (e instanceof PythonEnvironmentError) throw new UsageError(e.message);
    throw e;
  }
}

/** SIGINT/SIGTERM ask for a graceful stop (checkpoint, then exit); a second one exits at once. */
function installStopHandlers(): () => boolean {
  let stop = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write(`\n${sig}: stopping after this step (checkpoint first); send it again to quit at once\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => stop;
}

async function commandTrain(flags: Flags, argv: string[]): Promise<number> {
  const { config, presetName } = resolveConfig({
    preset: flags.preset, configFile: flags.config, steps: intFlag(flags, 'steps', 1), seed: intFlag(flags, 'seed', 0),
    backend: backendFlag(flags), name: flags.name, engine: engineFlag(flags),
  });
  // Everything that can fail on bad input happens before the run directory exists.
  const torch = torchSetup(flags, config.engine);
  const runId = newRunId(config.name ?? presetName);
  const runPath = resolve(flags['run-dir'] ?? join(flags['runs-root'] ?? 'runs', runId));
  RunDirectory.checkCanCreate(runPath);
  const data = loadTaskData(config.data, config.seed, flags.config ? resolve(flags.config, '..') : process.cwd());
  const model = new TrmModel(config.model, { vocabSize: data.vocabSize, seqLen: data.seqLen });
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
  // TODO(lead): take issue 9's run lock (trainer/run/runLock.ts) here for both engines once it lands.
  const runDir = RunDirectory.create(runPath, {
    metadata: {
      runId, createdAt: new Date().toISOString(), preset: presetName, configFile: flags.config && resolve(flags.config),
      engine: config.engine, backend: backend.name, versions, gitCommit: gitCommit(process.cwd()), command: argv,
    },
    config,
  });
  if (!flags.quiet) process.stderr.write(`run directory: ${runPath}\n${backend.notes.map((n) => `backend: ${n}\n`).join('')}backend: using ${backend.name}\n`);
  if (torch) return trainWithTorch(runDir, runId, false, flags, torch, data);
  return train(runDir, runId, config, backend.name, false, flags, data);
}

async function commandResume(flags: Flags, positionals: string[]): Promise<number> {
  const path = positionals[0];
  if (!path) throw new UsageError('resume: give the run directory');
  const runDir = RunDirectory.open(resolve(path));
  const file = runDir.readConfigFile();
  const steps = intFlag(flags, 'steps', 1);
  const config: RunConfig = { ...file.config, train: { ...file.config.train, steps: steps ?? file.config.train.steps } };
  // A run resumes on the engine that trained it.
  const engine = file.metadata.engine ?? 'tfjs';
  const asked = engineFlag(flags);
  if (asked !== undefined && asked !== engine) throw new UsageError(`--engine ${asked}: ${path} was trained by the ${engine} engine and resumes on it`);
  const torch = torchSetup(flags, engine);
  if (torch) {
    if (!runDir.latestCheckpoint()) throw new Error(`${path}: no checkpoint to resume from`);
    // The worker reads train.steps from config.json, so --steps rewrites it there (put back if the worker refuses the resume).
    const original = readFileSync(join(runDir.path, runFiles.config));
    if (steps !== undefined) runDir.writeConfigFile({ ...file, config });
    const code = await trainWithTorch(runDir, file.metadata.runId, true, flags, torch, undefined);
    if (code === 2 && steps !== undefined) writeFileAtomic(join(runDir.path, runFiles.config), original);
    return code;
  }
  const backend = await selectBackend(backendFlag(flags) ?? config.backend);
  const data = loadTaskData(config.data, config.seed, file.metadata.configFile ? resolve(file.metadata.configFile, '..') : process.cwd());
  // Verified before anything is written; a corrupt latest names the previous valid one.
  const from = chooseResumeCheckpoint(runDir, flags.checkpoint, `reclab resume ${path}`);
  return train(runDir, file.metadata.runId, config, backend.name, true, flags, data, from.path);
}

async function train(runDir: RunDirectory, runId: string, config: RunConfig, backend: string, resume: boolean, flags: Flags, data: ReturnType<typeof loadTaskData>, resumeFrom?: string): Promise<number> {
  const display = flags.quiet ? undefined : new ProgressDisplay();
  const shouldStop = installStopHandlers();
  await runTraining({ runId, runDir, config, data, backend, resume, resumeFrom, shouldStop, onEvent: (e) => { display?.handle(e); rpc?.notifyEvent(e); } });
  return 0;
}

async function trainWithTorch(runDir: RunDirectory, runId: string, resume: boolean, flags: Flags, torch: { python: PythonInfo; gpus: number }, data: TaskData | undefined): Promise<number> {
  const display = flags.quiet ? undefined : new ProgressDisplay();
  return runTorchWorker({
    runDir, runId, python: torch.python.python, resume, gpus: torch.gpus, data, checkpoint: flags.checkpoint,
    onEvent: (e) => {
      display?.handle(e);
      try {
        rpc?.notifyEvent(e);
      } catch {
        /* the host is gone (its channel closed, which was a stop request): the worker finishes on its own */
      }
    },
    log: (line) => process.stderr.write(`${line}\n`),
  });
}

async function commandEval(flags: Flags, positionals: string[]): Promise<number> {
  const path = positionals[0];
  if (!path) throw new UsageError('eval: give the run directory');
  const runDir = RunDirectory.open(resolve(path));
  const file = runDir.readConfigFile();
  const config = file.config;
  const ckpt = flags.checkpoint ? { path: resolve(flags.checkpoint) } : runDir.latestCheckpoint();
  if (!ckpt) throw new Error(`${path}: no checkpoint to evaluate`);
  await selectBackend(backendFlag(flags) ?? config.backend);
  const data = loadTaskData(config.data, config.seed, file.metadata.configFile ? resolve(file.metadata.configFile, '..') : process.cwd());
  const model = new TrmModel(config.model, { vocabSize: data.vocabSize, seqLen: data.seqLen });
  const state = createTrainState(model, config.train, new Rng(config.seed));
  try {
    const meta = restoreTrainingCheckpoint(ckpt.path, state);
    const t0 = performance.now();
    const r = evaluate(model, evaluationParams(state), state.hInit, state.lInit, encodePuzzles(data.test, data.seqLen),
      { steps: config.train.haltMaxSteps, batchSize: config.eval.batchSize, depth: model.depth });
    const e: EvalEvent = {
      v: 1, time: Date.now(),
      ...evalEventOf(r, meta.step, 'final', (performance.now() - t0) / 1000, model.depth, {
        gradientVariance: null, trainSeconds: meta.progress.trainSeconds, flopsForwardTotal: meta.progress.flopsForwardTotal, flopsBackwardTotal: meta.progress.flopsBackwardTotal,
      }),
    };
    process.stdout.write(flags.json ? JSON.stringify(e) + '\n' : formatEvalTable(e) + '\n');
  } finally {
    disposeTrainState(state);
  }
  return 0;
}

async function commandAblate(flags: Flags): Promise<number> {
  const depthText = flags.depth ?? '3,6';
  const depthMatch = /^(\d+),(\d+)$/.exec(depthText);
  if (!depthMatch || Number(depthMatch[1]) < 1 || Number(depthMatch[2]) < 1) throw new UsageError(`--depth: expected "T,n" with positive integers, got "${depthText}"`);
  if (flags.seeds === undefined) throw new UsageError('--seeds: give the number of seeds per arm');
  const seeds = Number(flags.seeds);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const outDir = resolve(flags.out ?? join(flags['runs-root'] ?? 'runs', `ablation-${stamp}`));
  const opts: SweepOptions = {
    preset: flags.preset, configFile: flags.config, arms: (flags.arms ?? 'baseline,pdc,hsw,cgar').split(',').map((a) => a.trim()).filter(Boolean),
    seeds, steps: intFlag(flags, 'steps', 1), depth: { hCycles: Number(depthMatch[1]), lCycles: Number(depthMatch[2]) },
    parallel: flags.parallel === undefined ? undefined : Number(flags.parallel), outDir, target: flags.target === undefined ? 0.95 : Number(flags.target),
    evalEvery: flags['eval-every'] === undefined ? undefined : Number(flags['eval-every']), backend: backendFlag(flags),
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
  const result = await runSweep(opts);
  process.stdout.write(result.markdown + `\nreport: ${result.files.html}\n`);
  return result.runs.some((r) => r.status === 'failed') ? 1 : 0;
}

/** Cross-field checks the schema cannot express. */
function checkConsistency(c: RunConfig): void {
  if (c.train.microBatchSize > c.train.batchSize) throw new ConfigError(`train.microBatchSize: ${c.train.microBatchSize} exceeds train.batchSize ${c.train.batchSize}`);
  const groups = c.eval.gradientVarianceGroups;
  if (groups === 1 || (groups > 0 && c.train.batchSize % groups !== 0)) throw new ConfigError(`eval.gradientVarianceGroups: ${groups} must be 0, or >= 2 and divide train.batchSize ${c.train.batchSize}`);
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

export async function main(argv: string[]): Promise<number> {
  // Subcommands with their own flags (ONNX export and inspection).
  if (argv[0] === 'export') return exportCommand(argv.slice(1));
  if (argv[0] === 'inspect') return inspectCommand(argv.slice(1));
  if (argv[0] === 'trace') return traceCommand(argv.slice(1));
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    process.stderr.write(`reclab: ${(e as Error).message}\n${usage}\n`);
    return 2;
  }
  const [command, ...rest] = parsed.positionals;
  if (parsed.values.help || !command) {
    process.stdout.write(usage + '\n');
    return command || parsed.values.help ? 0 : 2;
  }
  if (parsed.values.rpc) rpc = openRpcChannel();
  try {
    switch (command) {
      case 'train': return await commandTrain(parsed.values, argv);
      case 'resume': return await commandResume(parsed.values, rest);
      case 'eval': return await commandEval(parsed.values, rest);
      case 'ablate': return await commandAblate(parsed.values);
      default: throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`reclab ${command}: ${msg}\n`);
    if (e instanceof UsageError) process.stderr.write(usage + '\n');
    return e instanceof UsageError || e instanceof ConfigError || e instanceof RunDirectoryError || e instanceof CorruptFileError ? 2 : 1;
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
