// Test helper (not a test): the built CLI (dist/trainer/cli.js) as a real child process, the run
// directory it writes, and raw JSON-RPC frames written to its stdin / read from its stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEventLine, type TrainerEvent } from '../../protocol/events';
import type { RunSummary } from '../../protocol/runDirectory';

export const cli = resolve(__dirname, '../../dist/trainer/cli.js');

export interface Child {
  proc: ChildProcess;
  stderr(): string;
  /** JSON-RPC messages read from stdout (with --rpc). */
  messages: unknown[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, [cli, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  proc.stdin!.on('error', () => {});
  const messages: unknown[] = [];
  let buf = Buffer.alloc(0);
  proc.stdout!.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const m = /Content-Length: *(\d+)/i.exec(buf.subarray(0, end).toString('latin1'));
      const n = Number(m?.[1] ?? NaN);
      if (!m || buf.length < end + 4 + n) return;
      messages.push(JSON.parse(buf.subarray(end + 4, end + 4 + n).toString('utf8')));
      buf = buf.subarray(end + 4 + n);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  return { proc, stderr: () => err, messages, exited };
}

/** One framed JSON-RPC message, as vscode-jsonrpc writes it. */
export function rpcFrame(message: unknown): string {
  const body = JSON.stringify(message);
  return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

export const stopFrame = (id: number) => rpcFrame({ jsonrpc: '2.0', id, method: 'reclab/stop' });

/** The parsed lines of a run's events.jsonl (torn lines left out). */
export function runEvents(runDir: string): TrainerEvent[] {
  const path = join(runDir, 'events.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').map((l) => parseEventLine(l)).filter((e): e is TrainerEvent => 'type' in e);
}

export function readSummary(runDir: string): RunSummary {
  return JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
}

export async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - t0;
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const stepsOf = (events: TrainerEvent[]) => events.filter((e) => e.type === 'step').map((e) => e.step);

export function writeJson(path: string, value: unknown): string {
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}

/** A tiny sudoku4 run on the pure JS backend: steps of a few ms. */
export const tinyConfig = {
  extends: 'sudoku4', seed: 1, backend: 'cpu', checkpointEverySteps: 0,
  model: { hiddenSize: 8, layers: 1, hCycles: 1, lCycles: 1 },
  train: { steps: 100000, batchSize: 4, microBatchSize: 4, haltMaxSteps: 2 },
  data: { trainPuzzles: 20, testBlanks: [4, 5], testPerBlank: 2 },
  eval: { everySteps: 0, puzzlesPerBlank: 1, batchSize: 8, gradientVarianceGroups: 0 },
  refinement: { everySteps: 0 },
};

/** 9x9 TRM steps on wasm: several seconds each on this machine, so a stop arrives mid-step. */
export const slowStepConfig = {
  extends: 'sudoku9-easy', seed: 1, backend: 'wasm', checkpointEverySteps: 0,
  // 192 rows: a step of 6-10 s, so every signal a test sends after the stop (within 3 s) lands inside it
  // (at 64 rows, about 2.5 s on a quiet machine, the step could end before the SIGTERM 2 s later).
  train: { steps: 1000, batchSize: 192, microBatchSize: 192 },
  data: { trainPuzzles: 50, testBlanks: [3, 4], testPerBlank: 2 },
  eval: { everySteps: 0, puzzlesPerBlank: 1, batchSize: 8, gradientVarianceGroups: 0 },
  refinement: { everySteps: 0 },
};
