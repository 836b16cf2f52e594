// The host's supervision of real trainer processes (dist/trainer/cli.js, built by `npm test`):
// a graceful stop over the RPC channel ends as "stopped" with a checkpoint; a SIGKILLed trainer
// shows as failed within two seconds; a trainer that ignores the stop has its whole process tree
// killed after the timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RunRegistry, type RunEntry } from '../../extension/runs/runRegistry';
import { TrainerProcess } from '../../extension/trainer/trainerProcess';

const cli = resolve('dist/trainer/cli.js');
const quietLog = { info: () => {}, warn: () => {}, error: () => {} };

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - t0;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function fixture() {
  const ws = mkdtempSync(join(tmpdir(), 'reclab-sup-'));
  const root = join(ws, 'runs');
  const warnings: string[] = [];
  const registry = new RunRegistry({ roots: () => [root], log: { ...quietLog, warn: (m) => warnings.push(m) }, pollMs: 200 });
  const launch = (name: string): Promise<RunEntry> =>
    registry.launch(join(root, name), { node: process.execPath, cli, args: ['train', '--preset', 'sudoku4', '--run-dir', join(root, name), '--steps', '3000'], cwd: ws });
  return { ws, root, registry, launch, warnings };
}

test('Stop = RPC stop: the trainer checkpoints, writes done/stopped and exits; events arrive live', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(cli), 'run `npm run build` first');
  const { registry, launch } = fixture();
  const entry = await launch('stop-me');
  assert.equal(entry.status, 'starting');
  await until('10 steps', () => (entry.series?.steps.length ?? 0) >= 10, 60_000);
  assert.equal(entry.status, 'running');
  assert.equal(entry.series!.figures.hCycles, 2);
  const exit = await entry.process!.stop(15_000);
  assert.equal(exit.code, 0);
  assert.equal(exit.killed, false);
  assert.equal(entry.status, 'stopped');
  const summary = JSON.parse(readFileSync(join(entry.key, 'summary.json'), 'utf8')) as { status: string; steps: number };
  assert.equal(summary.status, 'stopped');
  assert.ok(readdirSync(join(entry.key, 'checkpoints')).some((f) => f === `step-${String(summary.steps).padStart(7, '0')}.ckpt`));
  // Every event line of the file was delivered once: steps 1..N in order.
  const steps = Array.from(entry.series!.steps.column('step').subarray(0, entry.series!.steps.length));
  assert.deepEqual(steps, steps.map((_, i) => i + 1));
  assert.equal(steps.length, summary.steps);
  assert.ok(!alive(entry.process!.pid!));

  // Resume Run: the same run directory continues from its checkpoint, in the same tables.
  const resumed = await registry.launch(entry.key, { node: process.execPath, cli, args: ['resume', entry.key], cwd: entry.key });
  assert.equal(resumed, entry);
  await until('5 more steps', () => entry.series!.steps.length >= summary.steps + 5, 60_000);
  assert.equal(entry.status, 'running');
  await entry.process!.stop(15_000);
  assert.equal(entry.status, 'stopped');
  const all = Array.from(entry.series!.steps.column('step').subarray(0, entry.series!.steps.length));
  assert.deepEqual(all, all.map((_, i) => i + 1), 'one step row per step, no gap, no repeat');
  registry.dispose();
});

test('a SIGKILLed trainer shows as failed within two seconds', { timeout: 120_000 }, async () => {
  const { registry, launch } = fixture();
  const entry = await launch('kill-me');
  await until('3 steps', () => (entry.series?.steps.length ?? 0) >= 3, 60_000);
  process.kill(entry.process!.pid!, 'SIGKILL');
  const ms = await until('status failed', () => entry.status === 'failed', 2000);
  console.log(`SIGKILL -> failed after ${ms} ms`);
  assert.ok(ms < 2000);
  assert.match(entry.failure ?? '', /SIGKILL/);
  registry.dispose();
});

test('a run started from a terminal shows up in the runs folder and streams from its events.jsonl', { timeout: 120_000 }, async () => {
  const { root, ws, registry } = fixture();
  const dir = join(root, 'from-terminal');
  const child = spawn(process.execPath, [cli, 'train', '--preset', 'sudoku4', '--run-dir', dir, '--steps', '3000', '--quiet'], { cwd: ws, stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  registry.start();
  await until('the run to be listed', () => registry.get(dir) !== undefined, 30_000);
  const entry = registry.get(dir)!;
  assert.equal(entry.process, undefined, 'not supervised by the host');
  await until('10 steps from events.jsonl', () => (entry.series?.steps.length ?? 0) >= 10, 60_000);
  assert.equal(entry.status, 'running');
  child.kill('SIGTERM'); // Ctrl-C in the terminal: a graceful stop
  await exited;
  await until('status stopped', () => entry.status === 'stopped', 5_000);
  registry.dispose();
});

test('a trainer that ignores the stop is killed with its whole process tree after the timeout', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reclab-stubborn-'));
  const script = join(dir, 'stubborn.js');
  const childPidFile = join(dir, 'child.pid');
  // Ignores SIGTERM and starts a grandchild that would outlive it.
  writeFileSync(script, `
    process.on('SIGTERM', () => process.stderr.write('ignoring SIGTERM\\n'));
    const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    require('node:fs').writeFileSync(${JSON.stringify(childPidFile)}, String(c.pid));
    setInterval(() => {}, 1000);`);
  const p = new TrainerProcess({ node: process.execPath, cli: script, args: [], cwd: dir, rpc: false });
  const lines: string[] = [];
  p.onStderrLine((l) => lines.push(l));
  await until('the grandchild', () => existsSync(childPidFile) && readFileSync(childPidFile, 'utf8').length > 0, 10_000);
  const grandchild = Number(readFileSync(childPidFile, 'utf8'));
  assert.ok(alive(grandchild));
  const t0 = Date.now();
  const exit = await p.stop(800);
  assert.ok(Date.now() - t0 >= 700, 'it waited for the graceful stop first');
  assert.equal(exit.killed, true);
  assert.match(exit.killReason ?? '', /had not exited 0\.8 s after the stop request \(reclab\.stopTimeoutSeconds\)/);
  assert.equal(exit.signal, 'SIGKILL');
  assert.ok(lines.includes('ignoring SIGTERM'));
  await until('the grandchild gone', () => !alive(grandchild), 2000);
});
