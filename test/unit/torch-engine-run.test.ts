// `reclab train --engine torch` for real: the built CLI supervising the real PyTorch worker
// (engines/torch, the CI venv's torch). The events the CLI forwards over JSON-RPC are the lines
// the worker wrote to events.jsonl; a stop of any kind is one stop (checkpoint, done "stopped",
// exit 0); a second Ctrl-C kills the worker (exit 130); a worker killed from outside leaves an
// error event and a failed summary (exit 1); a refused resume (worker exit 2) changes nothing;
// resume runs on the run's engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TrainerProcess } from '../../extension/trainer/trainerProcess';
import { parseEventLine, type TrainerEvent } from '../../protocol/events';
import type { RunSummary } from '../../protocol/runDirectory';
import type { RunConfigFile } from '../../trainer/run/runDirectory';
import { parseTrainerRecord, runFiles } from '../../protocol/runDirectory';

const cli = resolve(__dirname, '../../dist/trainer/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'reclab-torch-run-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const python = execFileSync('bash', [resolve(__dirname, '../setup/python-env.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
const env = { ...process.env, RECLAB_PYTHON: python };

function configFile(name: string, overrides: Record<string, unknown>): string {
  const path = join(dir, `${name}.reclab.json`);
  writeFileSync(path, JSON.stringify({
    extends: 'sudoku4', engine: 'torch', seed: 3, checkpointEverySteps: 5,
    model: { hiddenSize: 8, layers: 1, hCycles: 1, lCycles: 1 },
    train: { steps: 12, batchSize: 8, microBatchSize: 8, haltMaxSteps: 2 },
    data: { trainPuzzles: 20, testBlanks: [4, 5], testPerBlank: 2 },
    eval: { everySteps: 6, puzzlesPerBlank: 1, batchSize: 8, gradientVarianceGroups: 2 },
    refinement: { everySteps: 6, probePuzzles: 2, perCycle: true },
    ...overrides,
  }));
  return path;
}

// A 9x9 step long enough (~0.1 s on an idle 2-core machine) that signals land while the worker trains.
const slowConfig = (name: string) => configFile(name, {
  extends: 'sudoku9', model: undefined, checkpointEverySteps: 2, train: { steps: 100000, batchSize: 16, microBatchSize: 16 },
  data: { trainPuzzles: 64, testBlanks: [25, 26], testPerBlank: 2 }, eval: { everySteps: 0, puzzlesPerBlank: 1, batchSize: 64, gradientVarianceGroups: 0 },
  refinement: { everySteps: 0, probePuzzles: 1, perCycle: false },
});

function events(runDir: string): TrainerEvent[] {
  return readFileSync(join(runDir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => {
    const e = parseEventLine(l);
    assert.ok(!('error' in e), `${l.slice(0, 200)}: ${'error' in e ? e.error : ''}`);
    return e as TrainerEvent;
  });
}
const summary = (runDir: string): RunSummary => JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
const checkpoints = (runDir: string) => readdirSync(join(runDir, 'checkpoints')).filter((n) => /^step-\d+\.ckpt$/.test(n)).sort();

/** The CLI as a child with its stderr collected; resolves on exit. */
function startCli(args: string[]): { child: ChildProcess; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [cli, ...args], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  return { child, stderr: () => err, exit: new Promise((res) => child.on('exit', (code) => res(code))) };
}

async function until(what: string, cond: () => boolean, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const stepsIn = (runDir: string) => existsSync(join(runDir, 'events.jsonl')) ? readFileSync(join(runDir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"type":"step"')).length : 0;

/** The worker: the CLI's child process running `-m reclab.worker`. */
function workerPid(cliPid: number): number | undefined {
  const out = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (m && Number(m[2]) === cliPid && m[3]!.includes('reclab.worker')) return Number(m[1]);
  }
  return undefined;
}

/** The worker's command line (the CLI's child running `-m reclab.worker`). */
function workerCommand(cliPid: number): string | undefined {
  const out = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' });
  return out.split('\n').map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l)).find((m) => m && Number(m[2]) === cliPid && m[3]!.includes('reclab.worker'))?.[3];
}

function hashTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[p.slice(root.length)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(root);
  return out;
}

test('a short torch run through the RPC channel: the forwarded events are the lines of events.jsonl; the run directory is complete', async () => {
  const runDir = join(dir, 'run-complete');
  const proc = new TrainerProcess({ node: process.execPath, cli, args: ['train', '--config', configFile('complete', {}), '--run-dir', runDir], cwd: dir, rpc: true, env });
  const forwarded: TrainerEvent[] = [];
  proc.onEvent((e) => forwarded.push(e));
  const exit = await proc.exited;
  assert.equal(exit.code, 0, proc.lastStderr.join('\n'));
  const written = events(runDir);
  assert.deepEqual(forwarded, written);
  // 12 steps, evaluation and snapshots every 6, checkpoints every 5 and at the end.
  const at = (type: TrainerEvent['type']) => written.filter((e) => e.type === type).map((e) => ('step' in e ? e.step : -1));
  assert.deepEqual(at('step'), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.deepEqual(at('eval'), [6, 12]);
  assert.deepEqual(at('refinement'), [6, 12]);
  assert.deepEqual(at('checkpoint'), [5, 10, 12]);
  assert.deepEqual([written[0]!.type, written.at(-1)!.type], ['run_start', 'done']);
  assert.deepEqual(written.at(-1), { ...written.at(-1), type: 'done', status: 'completed', step: 12 });
  const file = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as RunConfigFile & { metadata: { device?: { type: string } } };
  assert.equal(file.metadata.engine, 'torch');
  assert.equal(file.config.engine, 'torch');
  assert.equal(file.metadata.device?.type, 'cpu');
  assert.match(file.metadata.versions['torch'] ?? '', /^\d+\.\d+/);
  assert.deepEqual(checkpoints(runDir), ['step-0000005.ckpt', 'step-0000010.ckpt', 'step-0000012.ckpt']);
  assert.equal(summary(runDir).status, 'completed');
});

test('Stop Run (the RPC stop request) is one SIGTERM: the worker checkpoints, writes done "stopped", the CLI exits 0; resume completes on the torch engine', async () => {
  const runDir = join(dir, 'run-rpc-stop');
  // --device / --dtype reach the worker's command line (on this CPU-only machine, what auto picks too).
  const proc = new TrainerProcess({ node: process.execPath, cli, args: ['train', '--config', configFile('rpc-stop', { train: { steps: 100000 } }), '--run-dir', runDir, '--device', 'cpu', '--dtype', 'float32'], cwd: dir, rpc: true, env });
  await until('a few steps', () => stepsIn(runDir) >= 3);
  assert.match(workerCommand(proc.pid!) ?? '', / -m reclab\.worker --run-dir \S+ --schema \S+ --device cpu --dtype float32$/);
  const device = (JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { metadata: { device: { type: string; dtype: string } } }).metadata.device;
  assert.deepEqual([device.type, device.dtype], ['cpu', 'float32']);
  const exit = await proc.stop(120_000);
  assert.equal(exit.killed, false);
  assert.equal(exit.code, 0, proc.lastStderr.join('\n'));
  const written = events(runDir);
  const done = written.at(-1)!;
  assert.equal(done.type, 'done');
  assert.equal(done.type === 'done' && done.status, 'stopped');
  const lastStep = written.filter((e) => e.type === 'step').at(-1)!;
  assert.ok(lastStep.type === 'step' && checkpoints(runDir).at(-1) === `step-${String(lastStep.step).padStart(7, '0')}.ckpt`, 'checkpoint at the last step');
  assert.equal(summary(runDir).status, 'stopped');
  assert.equal(written.filter((e) => e.type === 'error').length, 0);

  // Resume on another engine is refused, changing nothing; on its own engine it completes.
  const before = hashTree(runDir);
  const wrong = spawnSync(process.execPath, [cli, 'resume', runDir, '--engine', 'tfjs'], { cwd: dir, env, encoding: 'utf8' });
  assert.equal(wrong.status, 2, wrong.stderr);
  assert.match(wrong.stderr, /trained by the torch engine/);
  assert.deepEqual(hashTree(runDir), before);
  const stoppedAt = lastStep.type === 'step' ? lastStep.step : 0;
  const r = spawnSync(process.execPath, [cli, 'resume', runDir, '--steps', String(stoppedAt + 3), '--device', 'cpu'], { cwd: dir, env, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  const after = events(runDir).slice(written.length);
  assert.deepEqual(after[0], { ...after[0], type: 'run_start', resumed: true, startStep: stoppedAt, totalSteps: stoppedAt + 3 });
  assert.deepEqual(after.filter((e) => e.type === 'step').map((e) => e.type === 'step' && e.step), [stoppedAt + 1, stoppedAt + 2, stoppedAt + 3]);
  assert.equal(summary(runDir).status, 'completed');
});

test('Stop Run, then SIGTERM, then one Ctrl-C are still one stop: done "stopped", exit 0, no error event', async () => {
  const runDir = join(dir, 'run-mixed-stop');
  const proc = new TrainerProcess({ node: process.execPath, cli, args: ['train', '--config', slowConfig('mixed'), '--run-dir', runDir], cwd: dir, rpc: true, env });
  const stderr: string[] = [];
  proc.onStderrLine((l) => stderr.push(l));
  await until('a first step', () => stepsIn(runDir) >= 1);
  const exit = proc.stop(300_000);
  await until('the stop to be forwarded', () => stderr.some((l) => l.includes('asking the worker to stop')), 30_000);
  process.kill(proc.pid!, 'SIGTERM');
  process.kill(proc.pid!, 'SIGINT');
  assert.equal((await exit).code, 0, proc.lastStderr.join('\n'));
  assert.equal(stderr.filter((l) => l.includes('asking the worker to stop')).length, 1);
  const written = events(runDir);
  assert.equal(written.filter((e) => e.type === 'done').length, 1);
  assert.deepEqual(written.at(-1), { ...written.at(-1), type: 'done', status: 'stopped' });
  assert.equal(written.filter((e) => e.type === 'error').length, 0);
});

test('at a terminal, a second Ctrl-C kills the worker: exit 130, an error event and a failed summary, the last checkpoint kept', async () => {
  const runDir = join(dir, 'run-double-interrupt');
  // script(1) gives the CLI a pseudo-terminal as stdin, as a shell does: only there is a second Ctrl-C "quit at once".
  const command = [process.execPath, cli, 'train', '--config', slowConfig('double'), '--run-dir', runDir].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const exit = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  await until('a checkpoint', () => existsSync(join(runDir, 'checkpoints')) && checkpoints(runDir).length >= 1);
  const cliPid = parseTrainerRecord(readFileSync(join(runDir, runFiles.trainer), 'utf8'))!.pid;
  const worker = workerPid(cliPid);
  assert.ok(worker, 'the worker runs as a child of the CLI');
  process.kill(cliPid, 'SIGINT');
  await until('the stop to be forwarded', () => out.includes('asking the worker to stop'), 30_000);
  process.kill(cliPid, 'SIGINT');
  assert.equal(await exit, 130, out);
  assert.match(out, /second interrupt: killing the worker/);
  const written = events(runDir);
  const last = written.at(-1)!;
  assert.equal(last.type, 'error', JSON.stringify(last));
  assert.match(last.type === 'error' ? last.message : '', /killed on a second interrupt/);
  assert.equal(written.filter((e) => e.type === 'done').length, 0);
  assert.equal(summary(runDir).status, 'failed');
  assert.ok(checkpoints(runDir).length >= 1);
  await until('the worker to be gone', () => { try { process.kill(worker!, 0); return false; } catch { return true; } }, 10_000);
});

test('a worker killed from outside (SIGKILL): the CLI appends an error event and a failed summary and exits 1', async () => {
  const runDir = join(dir, 'run-worker-killed');
  const run = startCli(['train', '--config', slowConfig('killed'), '--run-dir', runDir]);
  await until('two steps', () => stepsIn(runDir) >= 2);
  const worker = workerPid(run.child.pid!)!;
  process.kill(worker, 'SIGKILL');
  assert.equal(await run.exit, 1, run.stderr());
  assert.match(run.stderr(), /PyTorch worker killed by SIGKILL before finishing the run/);
  const written = events(runDir);
  const last = written.at(-1)!;
  assert.equal(last.type, 'error');
  const lastStep = written.filter((e) => e.type === 'step').at(-1)!;
  assert.equal(last.type === 'error' && last.step, lastStep.type === 'step' && lastStep.step);
  const s = summary(runDir);
  assert.equal(s.status, 'failed');
  assert.equal(s.steps, lastStep.type === 'step' ? lastStep.step : -1);
});

test('a resume the worker refuses (a corrupt task-data file): exit 2 and the run directory unchanged, config.json included', async () => {
  const runDir = join(dir, 'run-complete');
  const data = join(runDir, 'worker', 'task-data.safetensors');
  const bytes = readFileSync(data);
  bytes[bytes.length - 1]! ^= 0xff; // a flipped byte in the last tensor
  writeFileSync(data, bytes);
  const before = hashTree(runDir);
  const r = spawnSync(process.execPath, [cli, 'resume', runDir, '--steps', '20'], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.ok(r.stderr.includes('task-data.safetensors'), r.stderr);
  assert.deepEqual(hashTree(runDir), before);
});

test('--gpus 2 on the CPU (two gloo ranks under torchrun): one SIGTERM stops every rank, rank 0 writes done "stopped", exit 0, no rank left', async () => {
  const runDir = join(dir, 'run-two-ranks');
  const run = startCli(['train', '--config', configFile('two-ranks', { train: { steps: 100000, batchSize: 8, microBatchSize: 8, haltMaxSteps: 2 } }), '--run-dir', runDir, '--gpus', '2']);
  await until('three steps', () => stepsIn(runDir) >= 3, 300_000);
  const launcher = workerPid(run.child.pid!);
  assert.ok(launcher, 'torchrun runs as a child of the CLI');
  const ranks = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' }).split('\n').map((l) => l.trim().split(/\s+/).map(Number)).filter(([, ppid]) => ppid === launcher).map(([pid]) => pid!);
  assert.equal(ranks.length, 2, 'two ranks');
  run.child.kill('SIGTERM');
  assert.equal(await run.exit, 0, run.stderr());
  const written = events(runDir);
  assert.deepEqual(written.at(-1), { ...written.at(-1), type: 'done', status: 'stopped' });
  assert.equal(written.filter((e) => e.type === 'run_start').length, 1, 'only rank 0 writes');
  const device = (JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { metadata: { device: { processes: number } } }).metadata.device;
  assert.equal(device.processes, 2);
  for (const pid of [launcher, ...ranks]) assert.throws(() => process.kill(pid, 0), /ESRCH/, `process ${pid} is gone`);
});
