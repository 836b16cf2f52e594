// reclab — the Recursion Lab trainer. Every extension command is a thin call of one of these.
//   reclab train  [--preset NAME] [--config FILE] [--run-dir DIR] [--steps N] [--seed N] [--backend NAME]
//   reclab resume <run-dir> [--steps N] [--backend NAME]
//   reclab eval   <run-dir> [--checkpoint FILE] [--backend NAME] [--json]
//   reclab export <run-dir> ...  (trainer/onnx/exportCommand.ts)
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { backendNames, type BackendName, type RunConfig } from '../protocol/config';
import type { EvalEvent } from '../protocol/events';
import { selectBackend } from './backend';
import { ConfigError, resolveConfig } from './configResolution';
import { loadTaskData } from './data/taskData';
import { TrmModel } from './model/trm';
import { formatEvalTable, ProgressDisplay } from './progressDisplay';
import { Rng } from './random';
import { gitCommit, packageVersions } from './run/provenance';
import { newRunId, RunDirectory } from './run/runDirectory';
import { restoreTrainingCheckpoint } from './run/trainingCheckpoint';
import { evaluate } from './train/evaluate';
import { encodePuzzles } from './train/exampleStream';
import { createTrainState, disposeTrainState, evaluationParams } from './train/trainState';
import { runTraining } from './trainingRun';
import { exportCommand } from './onnx/exportCommand';

class UsageError extends Error {}

const usage = `usage:
  reclab train  [--preset NAME] [--config FILE] [--run-dir DIR] [--runs-root DIR] [--name NAME]
                [--steps N] [--seed N] [--backend ${backendNames.join('|')}]
  reclab resume <run-dir> [--steps N] [--backend NAME]
  reclab eval   <run-dir> [--checkpoint FILE] [--backend NAME] [--json]`;

const options = {
  preset: { type: 'string' },
  config: { type: 'string' },
  'run-dir': { type: 'string' },
  'runs-root': { type: 'string' },
  name: { type: 'string' },
  steps: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  checkpoint: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

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
    backend: backendFlag(flags), name: flags.name,
  });
  // Everything that can fail on bad input happens before the run directory exists.
  const data = loadTaskData(config.data, config.seed, flags.config ? resolve(flags.config, '..') : process.cwd());
  new TrmModel(config.model, { vocabSize: data.vocabSize, seqLen: data.seqLen });
  checkConsistency(config);
  const backend = await selectBackend(config.backend);
  const runId = newRunId(config.name ?? presetName);
  const runPath = resolve(flags['run-dir'] ?? join(flags['runs-root'] ?? 'runs', runId));
  const runDir = RunDirectory.create(runPath, {
    metadata: {
      runId, createdAt: new Date().toISOString(), preset: presetName, configFile: flags.config && resolve(flags.config),
      backend: backend.name, versions: packageVersions(backend.notes), gitCommit: gitCommit(process.cwd()), command: argv,
    },
    config,
  });
  if (!flags.quiet) process.stderr.write(`run directory: ${runPath}\n${backend.notes.map((n) => `backend: ${n}\n`).join('')}backend: using ${backend.name}\n`);
  return train(runDir, runId, config, backend.name, false, flags, data);
}

async function commandResume(flags: Flags, positionals: string[]): Promise<number> {
  const path = positionals[0];
  if (!path) throw new UsageError('resume: give the run directory');
  const runDir = RunDirectory.open(resolve(path));
  const file = runDir.readConfigFile();
  const steps = intFlag(flags, 'steps', 1);
  const config: RunConfig = { ...file.config, train: { ...file.config.train, steps: steps ?? file.config.train.steps } };
  const backend = await selectBackend(backendFlag(flags) ?? config.backend);
  const data = loadTaskData(config.data, config.seed, file.metadata.configFile ? resolve(file.metadata.configFile, '..') : process.cwd());
  if (!runDir.latestCheckpoint()) throw new Error(`${path}: no checkpoint to resume from`);
  return train(runDir, file.metadata.runId, config, backend.name, true, flags, data);
}

async function train(runDir: RunDirectory, runId: string, config: RunConfig, backend: string, resume: boolean, flags: Flags, data: ReturnType<typeof loadTaskData>): Promise<number> {
  const display = flags.quiet ? undefined : new ProgressDisplay();
  const shouldStop = installStopHandlers();
  await runTraining({ runId, runDir, config, data, backend, resume, shouldStop, onEvent: (e) => display?.handle(e) });
  return 0;
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
    const e: EvalEvent = { v: 1, time: Date.now(), type: 'eval', step: meta.step, scope: 'final', puzzles: r.puzzles, exactAccuracy: r.exactAccuracy, tokenAccuracy: r.tokenAccuracy, qHaltAccuracy: r.qHaltAccuracy, byBlanks: r.byBlanks, seconds: (performance.now() - t0) / 1000 };
    process.stdout.write(flags.json ? JSON.stringify(e) + '\n' : formatEvalTable(e) + '\n');
  } finally {
    disposeTrainState(state);
  }
  return 0;
}

/** Cross-field checks the schema cannot express. */
function checkConsistency(c: RunConfig): void {
  if (c.train.microBatchSize > c.train.batchSize) throw new ConfigError(`train.microBatchSize: ${c.train.microBatchSize} exceeds train.batchSize ${c.train.batchSize}`);
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
  try {
    switch (command) {
      case 'train': return await commandTrain(parsed.values, argv);
      case 'resume': return await commandResume(parsed.values, rest);
      case 'eval': return await commandEval(parsed.values, rest);
      default: throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`reclab ${command}: ${msg}\n`);
    if (e instanceof UsageError) process.stderr.write(usage + '\n');
    return e instanceof UsageError || e instanceof ConfigError ? 2 : 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
    process.stderr.write(`reclab: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
