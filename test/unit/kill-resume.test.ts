// A trainer SIGKILLed at random moments (checkpoints every step, so many kills land in or next to a
// checkpoint write), each time resumed, ends bit-identical to an uninterrupted run. Every kill
// leaves its lock (trainer.json naming a dead pid) behind; each resume takes the stale lock over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointFileName, parseTrainerRecord, runFiles } from '../../protocol/runDirectory';
import { assertBitIdenticalCheckpoints } from './checkpointComparison';
import { Rng } from '../../trainer/random';
import { delay, runEvents, startCli, stepsOf, tinyConfig, until, writeJson } from './trainerChild';

const dir = mkdtempSync(join(tmpdir(), 'reclab-kill-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const STEPS = 150;
const KILLS = 5;

test(`SIGKILLed ${KILLS} times at random moments and resumed each time: the final checkpoint is bit-identical to an uninterrupted run; each resume takes over the stale lock`, { timeout: 300_000 }, async () => {
  const config = writeJson(join(dir, 'tiny.reclab.json'), {
    ...tinyConfig, checkpointEverySteps: 1, model: { ...tinyConfig.model, hCycles: 2 },
    train: { ...tinyConfig.train, steps: STEPS, haltExplorationProb: 0.5, lrWarmupSteps: 10 },
  });
  const a = join(dir, 'A');
  const whole = startCli(['train', '--config', config, '--run-dir', a, '--quiet'], dir);
  assert.deepEqual(await whole.exited, { code: 0, signal: null }, whole.stderr());

  const b = join(dir, 'B');
  const rng = new Rng(7);
  const killedPids: number[] = [];
  for (let k = 0; k < KILLS; k++) {
    const checkpointsBefore = runEvents(b).filter((e) => e.type === 'checkpoint').length;
    const child = k === 0
      ? startCli(['train', '--config', config, '--run-dir', b, '--quiet'], dir)
      : startCli(['resume', b, '--quiet'], dir);
    // Past this process's first checkpoint, then a random 0-250 ms more (a few steps and their writes).
    await until('a new checkpoint', () => runEvents(b).filter((e) => e.type === 'checkpoint').length > checkpointsBefore, 60_000);
    await delay(rng.int(250));
    child.proc.kill('SIGKILL');
    const exit = await child.exited;
    assert.equal(exit.signal, 'SIGKILL', `kill ${k} landed before the run ended (${child.stderr()})`);
    const lock = parseTrainerRecord(readFileSync(join(b, runFiles.trainer), 'utf8'));
    assert.equal(lock?.pid, child.proc.pid, 'the killed trainer left its lock behind');
    killedPids.push(child.proc.pid!);
  }
  const last = startCli(['resume', b], dir);
  assert.deepEqual(await last.exited, { code: 0, signal: null }, last.stderr());
  assert.match(last.stderr(), new RegExp(`took over the lock of pid ${killedPids.at(-1)}`));
  assert.equal(existsSync(join(b, runFiles.trainer)), false, 'released at exit');

  const starts = runEvents(b).filter((e) => e.type === 'run_start');
  assert.equal(starts.length, KILLS + 1);
  assert.ok(stepsOf(runEvents(b)).length >= STEPS);
  assertBitIdenticalCheckpoints(join(a, 'checkpoints', checkpointFileName(STEPS)), join(b, 'checkpoints', checkpointFileName(STEPS)));
});
