// A trainer SIGKILLed while it writes a checkpoint (seen by watching the checkpoints folder for
// the temporary file), resumed, killed again, ... ends bit-identical to an uninterrupted run: every
// kill leaves a run directory whose latest checkpoint verifies (format 2 checksums), and the
// resumed runs continue exactly. Through the built CLI (`npm run build` first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readCheckpointFile } from '../../trainer/run/checkpointFile';
import { RunDirectory } from '../../trainer/run/runDirectory';

const cli = resolve(__dirname, '../../dist/trainer/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'reclab-kill-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const STEPS = 16;
const config = join(dir, 'kill.reclab.json');
writeFileSync(config, JSON.stringify({
  extends: 'sudoku4', seed: 5, checkpointEverySteps: 1, backend: 'cpu',
  model: { hiddenSize: 16, layers: 1, hCycles: 2, lCycles: 1 },
  train: { batchSize: 8, microBatchSize: 4, haltMaxSteps: 3, lrWarmupSteps: 4, checkpoints: { keepLast: 2, keepBest: false } },
  data: { trainPuzzles: 30, testBlanks: [4, 5], testPerBlank: 2 },
  eval: { everySteps: 0, puzzlesPerBlank: 1, batchSize: 8, gradientVarianceGroups: 0 },
  refinement: { everySteps: 0 },
}));

/** Runs the CLI; with `killOnWrite`, SIGKILLs it the moment a checkpoint's temporary file appears. */
function run(args: string[], killOnWrite: string | undefined): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [cli, ...args, '--quiet'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    let watcher: ReturnType<typeof watch> | undefined;
    const writes = new Set<string>();
    // Let 1-4 writes complete (so a first train leaves a checkpoint), then kill inside the next one.
    const skip = 1 + Math.floor(Math.random() * 4);
    const arm = () => {
      if (watcher || !killOnWrite || !existsSync(killOnWrite)) return;
      watcher = watch(killOnWrite, (_kind, name) => {
        if (!name || !name.includes('.tmp-') || writes.has(name) || !existsSync(join(killOnWrite, name))) return;
        writes.add(name);
        if (writes.size === skip + 1) child.kill('SIGKILL');
      });
    };
    const poll = setInterval(arm, 5);
    arm();
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      watcher?.close();
      done({ code, signal, stderr });
    });
  });
}

const bytes = (a: { data: ArrayBufferView }) => Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);

test('SIGKILL during checkpoint writes, then resume, until done: the final checkpoint is bit-identical to an uninterrupted run', { timeout: 600_000 }, async () => {
  assert.ok(existsSync(cli), `${cli} is missing (npm run build)`);
  const a = join(dir, 'A');
  const ra = spawnSync(process.execPath, [cli, 'train', '--config', config, '--run-dir', a, '--steps', String(STEPS), '--quiet'], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
  assert.equal(ra.status, 0, ra.stderr);

  const b = join(dir, 'B');
  const ckptDir = join(b, 'checkpoints');
  let r = await run(['train', '--config', config, '--run-dir', b, '--steps', String(STEPS)], ckptDir);
  let kills = 0;
  let midWrite = 0;
  while (r.signal === 'SIGKILL') {
    kills++;
    // What a kill leaves: maybe a temporary file (killed mid-write), never a torn checkpoint.
    midWrite += readdirSync(ckptDir).some((n) => n.includes('.tmp-')) ? 1 : 0;
    const latest = new RunDirectory(b).latestCheckpoint();
    assert.ok(latest, 'a checkpoint survives the kill');
    assert.doesNotThrow(() => readCheckpointFile(latest.path), 'the latest checkpoint verifies after a kill');
    r = await run(['resume', b], kills < 4 ? ckptDir : undefined);
  }
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(ckptDir).filter((n) => n.includes('.tmp-')), [], 'resume removed the killed writers\' temporary files');
  console.log(`${kills} kills, ${midWrite} of them left a half-written temporary file (killed mid-write)`);
  assert.ok(kills >= 1, 'the trainer was killed at least once');

  const finalA = readCheckpointFile(new RunDirectory(a).checkpointPath(STEPS));
  const finalB = readCheckpointFile(new RunDirectory(b).checkpointPath(STEPS));
  assert.deepEqual([...finalB.arrays.keys()].sort(), [...finalA.arrays.keys()].sort());
  for (const [name, x] of finalA.arrays) assert.ok(bytes(x).equals(bytes(finalB.arrays.get(name)!)), `${name} bit-identical`);
  const pick = (m: unknown) => { const o = m as Record<string, unknown>; return [o['step'], o['emaUpdates'], o['haltRng'], o['stream']]; };
  assert.deepEqual(pick(finalB.meta), pick(finalA.meta));
});
