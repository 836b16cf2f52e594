// Stopping a sweep started from the extension stops its runs too: `reclab ablate` exits on SIGTERM,
// so the stop signals the whole process group and no `reclab train` child outlives it (found here
// with `ps`, independently of the code under test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TrainerProcess } from '../../extension/trainer/trainerProcess';

/** Processes whose command line mentions `text`. */
function processesWith(text: string): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(text) && !l.includes('ps -eo'));
}

test('Stop on a running ablation: the sweep and every run it started are gone', { timeout: 180_000 }, async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'reclab-ablate-stop-')), 'sweep');
  const proc = new TrainerProcess({
    node: process.execPath, cli: resolve('dist/trainer/cli.js'), rpc: false, cwd: process.cwd(),
    args: ['ablate', '--preset', 'sudoku4', '--arms', 'baseline,pdc', '--seeds', '1', '--steps', '400', '--out', out],
  });
  try {
    // Wait until the sweep has started its runs.
    const deadline = Date.now() + 120_000;
    while (processesWith(`${out}/`).filter((l) => / train /.test(l)).length === 0) {
      assert.ok(Date.now() < deadline, 'the sweep started no run');
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(proc.running);
    const exit = await proc.stop(20_000);
    assert.equal(exit.killed, false, 'the sweep stopped by itself on the signal');
    // Its runs got the signal too: each stops gracefully (checkpoint first) within seconds.
    const gone = Date.now() + 30_000;
    while (processesWith(`${out}/`).length > 0) {
      assert.ok(Date.now() < gone, `left running:\n${processesWith(`${out}/`).join('\n')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await proc.kill();
    for (const l of processesWith(`${out}/`)) process.kill(Number(l.trim().split(/\s+/)[0]), 'SIGKILL');
    rmSync(join(out, '..'), { recursive: true, force: true });
  }
});
