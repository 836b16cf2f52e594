// `reclab train --engine torch`: the Node CLI stays the front door and the only RPC endpoint, and
// supervises one Python worker (engines/torch, `python -m reclab.worker`) that trains and writes
// the run directory itself. Events arrive as JSON lines on the worker's stdout and go on to the
// progress display and the live channel unchanged; a stop of any kind becomes one SIGTERM; a
// worker that dies without its `done` event leaves an error event and a failed summary.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { configJsonSchema } from '../../protocol/configSchemaJson';
import { parseEventLine, type TrainerEvent } from '../../protocol/events';
import type { RunSummary } from '../../protocol/runDirectory';
import type { TaskData } from '../data/taskData';
import type { RunDirectory } from '../run/runDirectory';
import { writeTaskDataFile } from './taskDataFile';
import { torchEnginePath, workerEnvironment } from './workerEnvironment';
import type { StopRequest } from '../run/stopRequest';

/** The worker's own files inside the run directory. */
export const workerFiles = { dir: 'worker', taskData: 'task-data.safetensors', schema: 'reclab-config.schema.json' } as const;

/** Exit code when the user's second interrupt kills the worker (as the TF.js engine's immediate exit). */
export const KILLED_EXIT_CODE = 130;
/** The worker's exit code for bad input (protocol: 0 ok/stopped, 1 failure during a run, 2 bad input). */
const EXIT_BAD_INPUT = 2;

export interface TorchWorkerOptions {
  runDir: RunDirectory;
  runId: string;
  python: string;
  resume: boolean;
  /** Resume from this checkpoint instead of the latest. */
  checkpoint?: string;
  /** More than 1: data-parallel ranks under torchrun. */
  gpus?: number;
  /** The worker's --device / --dtype flags (checked by checkTorchDevice), when asked for. */
  deviceArgs?: string[];
  /** The puzzles (absent on resume when the run's task-data file is already there). */
  data?: TaskData;
  /** The process's one stop request: its first request becomes one SIGTERM to the worker. */
  stop: Pick<StopRequest, 'onRequest'>;
  onEvent: (e: TrainerEvent) => void;
  log: (line: string) => void;
}

/** Writes the worker's inputs (task data, the config JSON Schema) and returns its command line. */
export function prepareWorker(opts: Pick<TorchWorkerOptions, 'runDir' | 'python' | 'resume' | 'checkpoint' | 'gpus' | 'deviceArgs' | 'data'>): string[] {
  const dir = join(opts.runDir.path, workerFiles.dir);
  mkdirSync(dir, { recursive: true });
  const taskData = join(dir, workerFiles.taskData);
  if (opts.data && !(opts.resume && existsSync(taskData))) writeTaskDataFile(taskData, opts.data);
  if (!existsSync(taskData)) throw new Error(`${taskData}: the run's task data is missing`);
  // The schema the build emits (dist/schema), written from the same zod source, so the worker never depends on a build.
  const schema = join(dir, workerFiles.schema);
  writeFileSync(schema, JSON.stringify(configJsonSchema(), null, 2) + '\n');
  const workerArgs = ['-m', 'reclab.worker', '--run-dir', resolve(opts.runDir.path), '--schema', schema];
  if (opts.resume) workerArgs.push('--resume');
  if (opts.checkpoint) workerArgs.push('--checkpoint', resolve(opts.checkpoint));
  workerArgs.push(...(opts.deviceArgs ?? []));
  const gpus = opts.gpus ?? 1;
  // reclab.torchrun is torch.distributed.run plus the fix it needs on torch 1.13 with Python 3.11.
  return gpus > 1
    ? [opts.python, '-u', '-m', 'reclab.torchrun', '--standalone', '--nproc_per_node', String(gpus), ...workerArgs]
    : [opts.python, '-u', ...workerArgs];
}

/** Runs the worker to its end and returns the exit code the CLI exits with (the worker's). */
export async function runTorchWorker(opts: TorchWorkerOptions): Promise<number> {
  const [python, ...args] = prepareWorker(opts);
  // Its own process group: a terminal's Ctrl-C reaches only this process, which decides what the worker gets.
  const child = spawn(python!, args, { env: workerEnvironment(process.env, torchEnginePath()), stdio: ['pipe', 'pipe', 'inherit'], detached: true });
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      /* already gone */
    }
  };

  // However stops arrive (SIGINT, SIGTERM, the RPC stop, stdin closing: one StopRequest), the
  // worker gets one SIGTERM; only the user's second Ctrl-C at a terminal kills it (and this process).
  let stopSent = false;
  let killed = false;
  const unsubscribe = opts.stop.onRequest((source, quitAtOnce) => {
    if (quitAtOnce) {
      // This process exits right after this listener: kill the worker and record it now.
      killed = true;
      opts.log('second interrupt: killing the worker (the run keeps its last checkpoint)');
      signalGroup('SIGKILL');
      recordFailure('killed on a second interrupt');
      return;
    }
    if (stopSent) return;
    stopSent = true;
    opts.log(`${source}: asking the worker to stop after this step (checkpoint first)`);
    signalGroup('SIGTERM');
  });

  let done = false;
  let lastStep = 0;
  let flopsForward = 0;
  let flopsBackward = 0;
  const started = performance.now();
  /** A worker that ended without `done`: an error event and a failed summary, as the TF.js engine's crash leaves. */
  function recordFailure(why: string): void {
    const message = `PyTorch worker ${why} before finishing the run`;
    opts.log(message);
    opts.onEvent(opts.runDir.appendEvent({ type: 'error', message, step: lastStep }));
    const summary: RunSummary = {
      runId: opts.runId, status: 'failed', steps: lastStep, wallSeconds: (performance.now() - started) / 1000, backend: 'torch',
      flopsForwardTotal: flopsForward, flopsBackwardTotal: flopsBackward,
    };
    opts.runDir.writeSummary(summary);
  }
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    const e = parseEventLine(line);
    if ('error' in e) {
      process.stderr.write(`worker: ${line}\n`); // a stray print, not an event
      return;
    }
    if (e.type === 'run_start') lastStep = e.startStep;
    if (e.type === 'step') {
      lastStep = e.step;
      flopsForward += e.flopsForward;
      flopsBackward += e.flopsBackward;
    }
    if (e.type === 'done') done = true;
    opts.onEvent(e);
  });

  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res, rej) => {
    child.on('error', rej);
    child.on('close', (c, s) => res([c, s]));
  }).finally(unsubscribe);

  // Bad input (config, data, checkpoint, device): the worker refused before changing anything, and so does this.
  if (!done && code === EXIT_BAD_INPUT) return EXIT_BAD_INPUT;
  if (!done) {
    if (killed) return KILLED_EXIT_CODE; // recorded when the second interrupt came
    recordFailure(signal ? `killed by ${signal}` : `exited with code ${code}`);
    return code === null || code === 0 ? 1 : code;
  }
  // Under torchrun the launcher may report its own SIGTERM handling as a failure after every rank stopped cleanly.
  if (stopSent && (opts.gpus ?? 1) > 1) return 0;
  return code ?? 1;
}
