// The lock of a run directory: trainer.json (protocol/runDirectory.ts), created exclusively by the
// one process that may write the run, its heartbeat rewritten every second by a worker thread (the
// training thread may be busy in one step for many seconds), removed at release or exit. A lock
// whose holder is gone (killed: pid not running, pid reused, rebooted, or silent on another host)
// is taken over. Usable by any command: `const release = acquireRunLock(dir)`.
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { HEARTBEAT_MS, HEARTBEAT_STALE_MS, heartbeatAgeMs, parseTrainerRecord, runFiles, type TrainerRecord } from '../../protocol/runDirectory';
import { InputError } from '../inputError';

export class RunLockedError extends InputError {}

export interface RunLockOptions {
  /** Recorded for whoever finds the lock taken (the command line). */
  command?: string[];
  /** Called when a stale lock was taken over: its record (undefined if unreadable) and why it was stale. */
  onTakeOver?: (stale: TrainerRecord | undefined, why: string) => void;
}

/** A takeover guard older than this was left by a process killed in the middle of one (it takes milliseconds). */
const TAKEOVER_GUARD_STALE_MS = 10_000;

export function acquireRunLock(dir: string, opts: RunLockOptions = {}): () => void {
  const path = join(dir, runFiles.trainer);
  const now = new Date().toISOString();
  const mine: TrainerRecord = {
    pid: process.pid, host: hostname(), bootId: bootId(), processStart: processStart(process.pid),
    startedAt: now, heartbeat: now, command: opts.command ?? process.argv.slice(2),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createExclusive(path, JSON.stringify(mine, null, 2) + '\n')) return startHeartbeat(path, mine);
    const text = readOrUndefined(path);
    if (text === undefined) continue; // released in between
    const holder = parseTrainerRecord(text);
    const why = holder ? staleness(holder) : `${runFiles.trainer} is not a trainer record`;
    if (why === undefined) {
      const where = holder!.host === hostname() ? '' : ` on ${holder!.host}`;
      throw new RunLockedError(`${dir}: in use by another trainer, pid ${holder!.pid}${where} (reclab ${holder!.command.join(' ')}, since ${holder!.startedAt}); stop it first`);
    }
    if (removeIfUnchanged(path, text)) opts.onTakeOver?.(holder, why);
    else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); // another process is taking it over
  }
  throw new RunLockedError(`${dir}: could not take the lock (${path} keeps changing)`);
}

/** Why the holder of a lock is gone, or undefined while it lives. */
function staleness(r: TrainerRecord): string | undefined {
  const silent = heartbeatAgeMs(r) > HEARTBEAT_STALE_MS;
  const silence = () => `no heartbeat for ${Math.round(heartbeatAgeMs(r) / 1000)} s (pid ${r.pid} on ${r.host})`;
  if (r.host !== hostname()) return silent ? silence() : undefined;
  const boot = bootId();
  if (r.bootId && boot && r.bootId !== boot) return `pid ${r.pid} is from before a reboot (boot id differs)`;
  if (!pidRunning(r.pid)) return `pid ${r.pid} is not running`;
  const start = processStart(r.pid);
  if (r.processStart && start) return start === r.processStart ? undefined : `pid ${r.pid} was reused by another process (start time differs)`;
  // No start times to compare (not Linux): a live pid that stopped beating is taken for a reused one.
  return silent ? silence() : undefined;
}

function pidRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function bootId(): string | undefined {
  return readOrUndefined('/proc/sys/kernel/random/boot_id')?.trim();
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot (the name in parentheses may hold spaces). */
function processStart(pid: number): string | undefined {
  const stat = readOrUndefined(`/proc/${pid}/stat`);
  return stat?.slice(stat.lastIndexOf(') ') + 2).split(' ')[19];
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function createExclusive(path: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Removes the stale lock if it still holds `text`, under a guard file, so two processes taking
 * over the same stale lock cannot remove each other's fresh one.
 */
function removeIfUnchanged(path: string, text: string): boolean {
  const guard = `${path}.takeover`;
  if (!createExclusive(guard, String(process.pid))) {
    try {
      if (Date.now() - statSync(guard).mtimeMs > TAKEOVER_GUARD_STALE_MS) rmSync(guard, { force: true });
    } catch { /* gone already */ }
    return false;
  }
  try {
    if (readOrUndefined(path) !== text) return false;
    rmSync(path, { force: true });
    return true;
  } finally {
    rmSync(guard, { force: true });
  }
}

// The heartbeat runs in a worker thread: its timer fires while the main thread computes. `state`
// (shared) keeps a beat and the release apart: 0 idle, 1 the worker is writing, 2 released.
const heartbeatWorker = `
const { workerData } = require('node:worker_threads');
const { writeFileSync, renameSync } = require('node:fs');
const { path, record, everyMs, state } = workerData;
const s = new Int32Array(state);
const tmp = path + '.tmp-' + record.pid;
setInterval(() => {
  if (Atomics.compareExchange(s, 0, 0, 1) !== 0) return;
  try {
    record.heartbeat = new Date().toISOString();
    writeFileSync(tmp, JSON.stringify(record, null, 2) + '\\n');
    renameSync(tmp, path);
  } catch {}
  Atomics.store(s, 0, 0);
  Atomics.notify(s, 0);
}, everyMs);`;

function startHeartbeat(path: string, record: TrainerRecord): () => void {
  const state = new SharedArrayBuffer(4);
  const s = new Int32Array(state);
  const worker = new Worker(heartbeatWorker, { eval: true, workerData: { path, record, everyMs: HEARTBEAT_MS, state } });
  worker.unref();
  worker.on('error', () => {});
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    // Wait for a beat in progress, then no more beats: the file stays removed.
    while (Atomics.compareExchange(s, 0, 0, 2) === 1) Atomics.wait(s, 0, 1, 50);
    void worker.terminate();
    rmSync(path, { force: true });
    rmSync(`${path}.tmp-${record.pid}`, { force: true });
  };
  process.on('exit', release);
  return release;
}
