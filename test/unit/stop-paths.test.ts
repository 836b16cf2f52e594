// Every way a run can be asked to stop ends the same way: a checkpoint, `done` with status
// "stopped", summary.json "stopped", exit 0. Real trainer processes (dist/trainer/cli.js): stdin
// closed (the host went away), garbage on the RPC stdin before a stop, a stop in the middle of a
// several-second 9x9 step followed by more signals, the host's Stop on such a step, a stop during
// the final evaluation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointFileName, parseTrainerRecord, runFiles } from '../../protocol/runDirectory';
import { RunRegistry } from '../../extension/runs/runRegistry';
import { TrainerProcess } from '../../extension/trainer/trainerProcess';
import { cli, delay, readSummary, runEvents, slowStepConfig, startCli, stepsOf, stopFrame, tinyConfig, until, writeJson, type Child } from './trainerChild';

const dir = mkdtempSync(join(tmpdir(), 'reclab-stop-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const tiny = writeJson(join(dir, 'tiny.reclab.json'), tinyConfig);
const slow = writeJson(join(dir, 'slow.reclab.json'), slowStepConfig);

/** The run ended as one graceful stop: exit 0, a checkpoint at the last step, done/stopped, summary stopped. */
function assertStopped(runDir: string, exit: { code: number | null; signal: NodeJS.Signals | null }, child?: Child): number {
  assert.deepEqual(exit, { code: 0, signal: null }, child?.stderr());
  const events = runEvents(runDir);
  const dones = events.filter((e) => e.type === 'done');
  assert.equal(dones.length, 1, 'one done event');
  const done = dones[0]!;
  assert.ok(done.type === 'done' && done.status === 'stopped', JSON.stringify(done));
  assert.ok(!events.some((e) => e.type === 'error'), 'no error event');
  const steps = stepsOf(events);
  assert.ok(steps.length >= 1);
  assert.equal(done.step, steps.at(-1));
  assert.ok(existsSync(join(runDir, 'checkpoints', checkpointFileName(done.step))), 'checkpoint of the last step');
  const summary = readSummary(runDir);
  assert.equal(summary.status, 'stopped');
  assert.equal(summary.steps, done.step);
  return done.step;
}

test('stdin closed mid-run (the host went away): checkpoint, done/stopped, summary stopped, exit 0', { timeout: 120_000 }, async () => {
  const runDir = join(dir, 'stdin-closed');
  const child = startCli(['train', '--config', tiny, '--run-dir', runDir, '--rpc', '--quiet'], dir);
  await until('5 steps', () => stepsOf(runEvents(runDir)).length >= 5, 60_000);
  child.proc.stdin!.end();
  assertStopped(runDir, await child.exited, child);
  assert.match(child.stderr(), /stdin closed/);
});

test('all three pipes gone at once (the host was killed): still a graceful stop, exit 0', { timeout: 120_000 }, async () => {
  const runDir = join(dir, 'host-killed');
  const child = startCli(['train', '--config', tiny, '--run-dir', runDir, '--rpc'], dir);
  await until('5 steps', () => stepsOf(runEvents(runDir)).length >= 5, 60_000);
  child.proc.stdout!.destroy();
  child.proc.stderr!.destroy();
  child.proc.stdin!.destroy();
  assertStopped(runDir, await child.exited);
});

test('a header-less line on the RPC stdin is logged and skipped; a later stop is still answered', { timeout: 120_000 }, async () => {
  const runDir = join(dir, 'garbage');
  const child = startCli(['train', '--config', tiny, '--run-dir', runDir, '--rpc', '--quiet'], dir);
  await until('3 steps', () => stepsOf(runEvents(runDir)).length >= 3, 60_000);
  // A JSON-RPC body without its Content-Length header (vscode-jsonrpc's reader then reads every
  // later frame out of step), then a real request.
  child.proc.stdin!.write('{"jsonrpc":"2.0","id":1,"method":"reclab/stop"}\n');
  child.proc.stdin!.write(stopFrame(2));
  const reply = () => child.messages.find((m) => (m as { id?: number }).id === 2) as { result?: { stopping: boolean } } | undefined;
  await until('the reply to request 2', () => reply() !== undefined, 20_000);
  assert.deepEqual(reply()!.result, { stopping: true });
  assert.ok(!child.messages.some((m) => (m as { id?: number }).id === 1), 'the header-less request was not executed');
  assertStopped(runDir, await child.exited, child);
  assert.match(child.stderr(), /rpc: skipped malformed input on stdin/);
});

test('a stop mid-way through a several-second 9x9 step, then SIGTERM 2 s later and a SIGINT: one stop, checkpoint + done', { timeout: 240_000 }, async () => {
  const runDir = join(dir, 'slow-step');
  const child = startCli(['train', '--config', slow, '--run-dir', runDir, '--rpc', '--quiet'], dir);
  await until('step 1', () => stepsOf(runEvents(runDir)).length >= 1, 180_000);
  await delay(500);
  // Step 2 is running now (each takes seconds here); the stop waits for its end.
  child.proc.stdin!.write(stopFrame(1));
  await delay(2000);
  child.proc.kill('SIGTERM');
  await delay(300);
  child.proc.kill('SIGINT');
  const stoppedAt = assertStopped(runDir, await child.exited, child);
  assert.ok(stoppedAt <= 3, `stopped at the next safe point, step ${stoppedAt}`);
  assert.ok(child.messages.some((m) => (m as { id?: number; result?: { stopping?: boolean } }).id === 1 && (m as { result: { stopping: boolean } }).result.stopping));
  assert.match(child.stderr(), /already stopping/);
});

test('at a terminal (stdin a TTY), Ctrl-C twice during a long step quits at once: exit 130, no done', { timeout: 240_000 }, async () => {
  const runDir = join(dir, 'tty-twice');
  // script(1) gives the trainer a pseudo-terminal as stdin, as a shell does.
  const command = [process.execPath, cli, 'train', '--config', slow, '--run-dir', runDir, '--quiet'].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await until('step 1', () => stepsOf(runEvents(runDir)).length >= 1, 180_000);
  const pid = parseTrainerRecord(readFileSync(join(runDir, runFiles.trainer), 'utf8'))!.pid;
  // Both during step 2 (seconds long): the trainer sees them at the same safe point, in order.
  await delay(1000); // past the safe point after step 1, into step 2
  process.kill(pid, 'SIGINT');
  await delay(200);
  process.kill(pid, 'SIGINT');
  assert.equal(await exited, 130, `${out}\nevents: ${runEvents(runDir).map((e) => `${e.type}@${e.time}`).join(' ')}`);
  assert.match(out, /press Ctrl-C again to quit at once/);
  assert.match(out, /SIGINT again: quitting at once/);
  assert.ok(!runEvents(runDir).some((e) => e.type === 'done'), 'no done event');
});

test('the host\'s Stop during a long step waits for the trainer (no SIGTERM after 2 s): exit 0, stopped, not killed', { timeout: 240_000 }, async () => {
  const runDir = join(dir, 'host-stop-slow');
  const p = new TrainerProcess({ node: process.execPath, cli, args: ['train', '--config', slow, '--run-dir', runDir, '--quiet'], cwd: dir, rpc: true });
  const lines: string[] = [];
  p.onStderrLine((l) => lines.push(l));
  // Every signal the host sends to the trainer (a spy on the real child; the signal still goes out).
  const signals: string[] = [];
  const kill = p.child.kill.bind(p.child);
  p.child.kill = (sig?: NodeJS.Signals | number) => {
    signals.push(String(sig));
    return kill(sig);
  };
  await until('step 1', () => stepsOf(runEvents(runDir)).length >= 1, 180_000);
  await delay(1000); // into step 2
  const exit = await p.stop(120_000);
  assert.equal(exit.killed, false);
  assertStopped(runDir, { code: exit.code, signal: exit.signal });
  assert.deepEqual(signals, [], 'no signal on top of the RPC stop');
  assert.ok(!lines.some((l) => /already stopping/.test(l)), `one stop request only:\n${lines.join('\n')}`);
  console.log(`step seconds: ${runEvents(runDir).map((e) => (e.type === 'step' ? e.stepSeconds.toFixed(1) : '')).filter(Boolean).join(', ')}`);
});

test('a stop during the final evaluation ends it between eval batches: checkpoint, done/stopped, no final eval; resume then completes it', { timeout: 240_000 }, async () => {
  const config = {
    ...tinyConfig, model: { ...tinyConfig.model, hiddenSize: 32, hCycles: 2, lCycles: 2 },
    train: { ...tinyConfig.train, steps: 2, haltMaxSteps: 4 },
    data: { trainPuzzles: 20, testBlanks: [4, 9], testPerBlank: 6 },
    eval: { ...tinyConfig.eval, batchSize: 4 },
  };
  const path = writeJson(join(dir, 'long-eval.reclab.json'), config);
  const runDir = join(dir, 'long-eval');
  const child = startCli(['train', '--config', path, '--run-dir', runDir, '--quiet'], dir);
  await until('step 2', () => stepsOf(runEvents(runDir)).includes(2), 60_000);
  await delay(300);
  child.proc.kill('SIGTERM');
  assertStopped(runDir, await child.exited, child);
  assert.ok(!runEvents(runDir).some((e) => e.type === 'eval'), 'the interrupted evaluation left no eval event');

  const resumed = startCli(['resume', runDir, '--quiet'], dir);
  assert.deepEqual(await resumed.exited, { code: 0, signal: null }, resumed.stderr());
  const evals = runEvents(runDir).filter((e) => e.type === 'eval');
  assert.equal(evals.length, 1);
  assert.ok(evals[0]!.type === 'eval' && evals[0]!.scope === 'final' && evals[0]!.puzzles === 36);
  assert.equal(readSummary(runDir).status, 'completed');
});

test('deactivation (stopAll with a 1 s budget) during a long step does not kill the trainer: it ends stopped with its checkpoint by itself', { timeout: 240_000 }, async () => {
  const root = join(dir, 'deactivate-runs');
  const runDir = join(root, 'run');
  const registry = new RunRegistry({ roots: () => [root], log: { info: () => {}, warn: () => {}, error: () => {} }, pollMs: 200 });
  const entry = await registry.launch(runDir, { node: process.execPath, cli, args: ['train', '--config', slow, '--run-dir', runDir, '--quiet'], cwd: dir });
  await until('step 1', () => stepsOf(runEvents(runDir)).length >= 1, 180_000);
  await delay(500); // into step 2
  await registry.stopAll(1000);
  registry.dispose();
  const exit = await entry.process!.exited;
  assert.equal(exit.killed, false);
  assertStopped(runDir, { code: exit.code, signal: exit.signal });
});
