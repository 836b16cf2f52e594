// The run registry tells a killed run from a slow one by its trainer.json (pid + heartbeat), not by
// 60 s without new events: a terminal run SIGKILLed shows as failed within seconds; a run on
// another host whose files have not changed for an hour stays running while its heartbeat is
// fresh, and is failed once the heartbeat stops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEARTBEAT_STALE_MS, runFiles, type TrainerRecord } from '../../protocol/runDirectory';
import { RunRegistry } from '../../extension/runs/runRegistry';
import { runEvents, startCli, stepsOf, tinyConfig, until, writeJson } from './trainerChild';

const ws = mkdtempSync(join(tmpdir(), 'reclab-live-'));
test.after(() => rmSync(ws, { recursive: true, force: true }));
const root = join(ws, 'runs');
mkdirSync(root);
const quietLog = { info: () => {}, warn: () => {}, error: () => {} };

test('a run started from a terminal and SIGKILLed shows as failed within seconds (its pid is gone), not after 60 s', { timeout: 120_000 }, async () => {
  const config = writeJson(join(ws, 'tiny.reclab.json'), tinyConfig);
  const dir = join(root, 'terminal-run');
  const child = startCli(['train', '--config', config, '--run-dir', dir, '--quiet'], ws);
  const registry = new RunRegistry({ roots: () => [root], log: quietLog, pollMs: 200 });
  registry.start();
  try {
    await until('the run listed and training', () => registry.get(dir)?.status === 'running' && stepsOf(runEvents(dir)).length >= 3, 60_000);
    child.proc.kill('SIGKILL');
    await child.exited;
    const ms = await until('status failed', () => registry.get(dir)?.status === 'failed', 5_000);
    console.log(`SIGKILL of a terminal run -> failed after ${ms} ms`);
    assert.match(registry.get(dir)!.failure ?? '', new RegExp(`pid ${child.proc.pid}\\) is gone`));
  } finally {
    registry.dispose();
  }
});

test('a run on another host: files unchanged for an hour but a fresh heartbeat = running; a stale heartbeat = failed', { timeout: 60_000 }, async () => {
  const dir = join(root, 'cluster-run');
  mkdirSync(dir);
  writeFileSync(join(dir, runFiles.config), '{}');
  writeFileSync(join(dir, runFiles.events), '');
  const hourAgo = new Date(Date.now() - 3600_000);
  for (const f of [runFiles.config, runFiles.events]) utimesSync(join(dir, f), hourAgo, hourAgo);
  const beat = (at: Date) => {
    const r: TrainerRecord = { pid: 4242, host: 'node17.cluster', startedAt: hourAgo.toISOString(), heartbeat: at.toISOString(), command: ['train'] };
    writeFileSync(join(dir, runFiles.trainer), JSON.stringify(r));
  };
  beat(new Date());
  const registry = new RunRegistry({ roots: () => [root], log: quietLog, pollMs: 100 });
  try {
    await registry.poll();
    await registry.poll();
    assert.equal(registry.get(dir)?.status, 'running', registry.get(dir)?.failure);
    beat(new Date(Date.now() - HEARTBEAT_STALE_MS - 2000));
    await registry.poll();
    assert.equal(registry.get(dir)?.status, 'failed');
    assert.match(registry.get(dir)!.failure ?? '', /no heartbeat from its trainer \(pid 4242 on node17\.cluster\)/);
    // Without trainer.json (a run from before the lock existed) the old rule applies: no change for staleAfterMs.
    rmSync(join(dir, runFiles.trainer));
    await registry.poll();
    assert.match(registry.get(dir)!.failure ?? '', /no summary and no new events/);
  } finally {
    registry.dispose();
  }
});
