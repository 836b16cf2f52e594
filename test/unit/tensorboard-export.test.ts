// reclab export-tb: the TFRecord framing against the CRC-32C check value of the standard
// ("123456789" -> 0xe3069283), and a real run's export read back by TensorBoard's own
// EventAccumulator (PyPI's tensorboard in the venv of test/setup/python-env.sh), which must hold
// every scalar of events.jsonl by the README's tag table, as a second implementation in Python maps it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import crc32c from 'crc-32/crc32c';
import { tfRecord } from '../../trainer/tensorboard/tfRecord';

const root = resolve(__dirname, '../..');
const cli = join(root, 'dist/trainer/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'reclab-tb-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('CRC-32C is the Castagnoli CRC (check value of "123456789")', () => {
  assert.equal(crc32c.buf(Buffer.from('123456789')) >>> 0, 0xe3069283);
});

test('a TFRecord frames its data with the length and both masked CRCs', () => {
  const data = Buffer.from('hello tensorboard');
  const rec = tfRecord(data);
  assert.equal(rec.byteLength, 8 + 4 + data.byteLength + 4);
  assert.equal(rec.readBigUInt64LE(0), BigInt(data.byteLength));
  const mask = (b: Uint8Array) => {
    const c = crc32c.buf(b) >>> 0;
    return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
  };
  assert.equal(rec.readUInt32LE(8), mask(rec.subarray(0, 8)));
  assert.deepEqual(rec.subarray(12, 12 + data.byteLength), data);
  assert.equal(rec.readUInt32LE(12 + data.byteLength), mask(data));
});

test('a trained run exported to TensorBoard reads back, through TensorBoard, to the same scalars', { timeout: 20 * 60_000 }, () => {
  const python = execFileSync('bash', [join(root, 'test/setup/python-env.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 15 * 60_000 }).trim().split('\n').pop()!;
  const config = join(dir, 'tiny.reclab.json');
  writeFileSync(config, JSON.stringify({
    extends: 'sudoku4', seed: 2, checkpointEverySteps: 0,
    model: { hiddenSize: 8, layers: 1, hCycles: 1, lCycles: 1 },
    train: { steps: 12, batchSize: 4, microBatchSize: 4, haltMaxSteps: 2 },
    data: { trainPuzzles: 20, testBlanks: [4, 5], testPerBlank: 2 },
    eval: { everySteps: 4, puzzlesPerBlank: 1, batchSize: 8, gradientVarianceGroups: 2 },
  }));
  const run = join(dir, 'run');
  const t = spawnSync(process.execPath, [cli, 'train', '--config', config, '--run-dir', run, '--backend', 'cpu', '--quiet'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(t.status, 0, t.stderr);
  // A step trained twice (what a resume after a kill leaves) and a torn last line.
  const events = readFileSync(join(run, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const step5 = events.find((e) => e['type'] === 'step' && e['step'] === 5)!;
  appendFileSync(join(run, 'events.jsonl'), JSON.stringify({ ...step5, lmLoss: 0.123 }) + '\n{"v":1,"type":"st');

  const exportOnce = () => {
    const r = spawnSync(process.execPath, [cli, 'export-tb', run, '--json'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { path: string; tags: number; scalars: number };
  };
  exportOnce();
  const second = exportOnce(); // a re-export replaces the first: TensorBoard must not see two copies
  const tbDir = join(run, 'tensorboard');
  assert.deepEqual(readdirSync(tbDir).filter((f) => f.includes('tfevents')), [second.path.split('/').pop()]);

  const check = spawnSync(python, [join(root, 'test/python/read_tensorboard.py'), run, tbDir], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(check.status, 0, check.stderr);
  const verdict = JSON.parse(check.stdout.trim().split('\n').pop()!) as { ok: boolean; tags: number; scalars: number };
  assert.ok(verdict.ok, check.stdout);
  assert.equal(verdict.scalars, second.scalars);
  assert.equal(verdict.tags, second.tags);
  assert.ok(verdict.tags >= 20, `only ${verdict.tags} tags`);
});

test('export-tb on a folder that is not a run: exit 2 naming it', () => {
  const r = spawnSync(process.execPath, [cli, 'export-tb', dir], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, new RegExp(`${dir}: not a run directory`));
});
