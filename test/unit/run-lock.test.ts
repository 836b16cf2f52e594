// The run lock (trainer/run/runLock.ts, trainer.json in the run directory): held by one live
// process; refused to a second one with the holder's pid; taken over from a dead process, a
// reused pid, or a silent trainer on another host; its heartbeat ticks while the training thread
// is blocked. And through the CLI: a second `resume` of a running run is refused, exit 2, and
// changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEARTBEAT_STALE_MS, parseTrainerRecord, runFiles, type TrainerRecord } from '../../protocol/runDirectory';
import { acquireRunLock, RunLockedError } from '../../trainer/run/runLock';
import { readSummary, runEvents, startCli, stepsOf, tinyConfig, until, writeJson } from './trainerChild';

const dir = mkdtempSync(join(tmpdir(), 'reclab-lock-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => { const d = join(dir, `run${++n}`); mkdirSync(d); return d; };
const record = (d: string): TrainerRecord => {
  const r = parseTrainerRecord(readFileSync(join(d, runFiles.trainer), 'utf8'));
  assert.ok(r, 'trainer.json parses');
  return r;
};
const bootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
/** Field 22 of /proc/<pid>/stat (after the parenthesised name, which may hold spaces). */
const startTicks = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[19]!;

test('acquire writes trainer.json (pid, host, boot id, start time, heartbeat); a second acquire is refused naming the pid; release removes it', () => {
  const d = fresh();
  const release = acquireRunLock(d, { command: ['test'] });
  const r = record(d);
  assert.equal(r.pid, process.pid);
  assert.equal(r.host, hostname());
  assert.equal(r.bootId, bootId());
  assert.equal(r.processStart, startTicks(process.pid));
  assert.ok(Math.abs(Date.parse(r.heartbeat) - Date.now()) < 5000);
  const before = readFileSync(join(d, runFiles.trainer), 'utf8');
  assert.throws(() => acquireRunLock(d), (e: unknown) => e instanceof RunLockedError && e.message.includes(`pid ${process.pid}`) && e.message.includes(d));
  assert.equal(record(d).startedAt, JSON.parse(before).startedAt, 'the refused acquire changed nothing');
  release();
  assert.equal(existsSync(join(d, runFiles.trainer)), false);
  acquireRunLock(d)();
});

test('the heartbeat is rewritten every second even while the main thread is blocked (a long step)', () => {
  const d = fresh();
  const release = acquireRunLock(d);
  try {
    const h0 = Date.parse(record(d).heartbeat);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3500); // the training thread, busy for 3.5 s
    const h1 = Date.parse(record(d).heartbeat);
    assert.ok(h1 - h0 >= 1000, `heartbeat advanced ${h1 - h0} ms while the main thread was blocked`);
  } finally {
    release();
  }
});

function staleRecord(overrides: Partial<TrainerRecord>): TrainerRecord {
  const now = new Date().toISOString();
  return { pid: process.pid, host: hostname(), bootId: bootId(), processStart: startTicks(process.pid), startedAt: now, heartbeat: now, command: ['old'], ...overrides };
}

test('a lock left by a killed process (pid gone) is taken over', () => {
  const d = fresh();
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(gone.stdout);
  writeFileSync(join(d, runFiles.trainer), JSON.stringify(staleRecord({ pid, processStart: '1' })));
  const taken: (TrainerRecord | undefined)[] = [];
  const release = acquireRunLock(d, { onTakeOver: (old, why) => { taken.push(old); assert.match(why, /not running/); } });
  assert.deepEqual(taken.map((t) => t?.pid), [pid]);
  assert.equal(record(d).pid, process.pid);
  release();
});

test('a lock whose pid now belongs to another process (start time differs) is taken over', () => {
  const d = fresh();
  // The parent (the test runner) is alive, but it is not the process that wrote this record.
  writeFileSync(join(d, runFiles.trainer), JSON.stringify(staleRecord({ pid: process.ppid, processStart: '12345' })));
  let why = '';
  const release = acquireRunLock(d, { onTakeOver: (_old, w) => (why = w) });
  assert.match(why, /reused/);
  assert.equal(record(d).pid, process.pid);
  release();
});

test('a lock from before a reboot (another boot id) is taken over', () => {
  const d = fresh();
  writeFileSync(join(d, runFiles.trainer), JSON.stringify(staleRecord({ pid: process.ppid, bootId: '00000000-0000-0000-0000-000000000000' })));
  let why = '';
  acquireRunLock(d, { onTakeOver: (_old, w) => (why = w) })();
  assert.match(why, /boot/);
});

test('another host: refused while its heartbeat is fresh, taken over once it is older than HEARTBEAT_STALE_MS', () => {
  const d = fresh();
  writeFileSync(join(d, runFiles.trainer), JSON.stringify(staleRecord({ host: 'node17.cluster', pid: 4242 })));
  assert.throws(() => acquireRunLock(d), (e: unknown) => e instanceof RunLockedError && /pid 4242 on node17\.cluster/.test(e.message));
  const old = new Date(Date.now() - HEARTBEAT_STALE_MS - 5000).toISOString();
  writeFileSync(join(d, runFiles.trainer), JSON.stringify(staleRecord({ host: 'node17.cluster', pid: 4242, heartbeat: old })));
  let why = '';
  acquireRunLock(d, { onTakeOver: (_old, w) => (why = w) })();
  assert.match(why, /no heartbeat/);
});

test('two resumes of one run at once: the second is refused with exit 2 naming the first one\'s pid, and changes nothing', { timeout: 180_000 }, async () => {
  const config = writeJson(join(dir, 'tiny.reclab.json'), { ...tinyConfig, checkpointEverySteps: 1, train: { ...tinyConfig.train, steps: 3 } });
  const runDir = join(dir, 'twice');
  const first = startCli(['train', '--config', config, '--run-dir', runDir, '--quiet'], dir);
  assert.deepEqual(await first.exited, { code: 0, signal: null }, first.stderr());
  assert.equal(existsSync(join(runDir, runFiles.trainer)), false, 'the lock is released at exit');
  const summaryBefore = readFileSync(join(runDir, 'summary.json'), 'utf8');

  const a = startCli(['resume', runDir, '--steps', '100000', '--quiet'], dir);
  await until('the resumed run to train', () => stepsOf(runEvents(runDir)).length >= 6, 60_000);
  const startsBefore = runEvents(runDir).filter((e) => e.type === 'run_start').length;
  const b = startCli(['resume', runDir, '--steps', '100000', '--quiet'], dir);
  const bExit = await b.exited;
  assert.deepEqual(bExit, { code: 2, signal: null }, b.stderr());
  assert.ok(b.stderr().includes(`pid ${a.proc.pid}`), b.stderr());
  assert.equal(runEvents(runDir).filter((e) => e.type === 'run_start').length, startsBefore, 'no run_start from the refused resume');
  assert.equal(readFileSync(join(runDir, 'summary.json'), 'utf8'), summaryBefore, 'summary.json untouched');
  assert.equal(record(runDir).pid, a.proc.pid, 'the lock still names the first resume');

  a.proc.kill('SIGTERM');
  assert.deepEqual(await a.exited, { code: 0, signal: null }, a.stderr());
  const events = runEvents(runDir);
  const steps = stepsOf(events);
  assert.deepEqual(steps, steps.map((_, i) => i + 1), 'each step once');
  assert.deepEqual(events.filter((e) => e.type === 'done').map((e) => e.type === 'done' && e.status), ['completed', 'stopped']);
  assert.equal(readSummary(runDir).status, 'stopped');
  assert.equal(existsSync(join(runDir, runFiles.trainer)), false);
});
