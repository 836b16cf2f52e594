// The run directory as the durable truth (issue 9, items 4-7, 9, 14), through the built CLI
// (dist/trainer/cli.js, `npm run build` first): a corrupt checkpoint is refused by every reader and
// a refused resume changes no file; resume --checkpoint continues from an older one; a torn
// events.jsonl tail is not glued to; train refuses foreign folders; config.json is validated on
// resume; empty CSVs and a model too large are refused before the run directory exists; a diverging
// run fails at the first non-finite loss, keeping the last good checkpoint; checkpoints are pruned
// to the last N plus the best.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseEventLine, type TrainerEvent } from '../../protocol/events';
import type { RunSummary } from '../../protocol/runDirectory';
import { builtCli, cli } from './builtCli';

const { dir, reclab, write } = builtCli('reclab-durable-', 120_000);
const tiny = {
  extends: 'sudoku4', seed: 1, checkpointEverySteps: 2, backend: 'cpu',
  model: { hiddenSize: 8, layers: 1, hCycles: 1, lCycles: 1 },
  train: { batchSize: 4, microBatchSize: 4, haltMaxSteps: 2 },
  data: { trainPuzzles: 20, testBlanks: [4, 5], testPerBlank: 2 },
  eval: { everySteps: 0, puzzlesPerBlank: 1, batchSize: 8, gradientVarianceGroups: 0 },
  refinement: { everySteps: 0 },
};
let runs = 0;
function trainTiny(steps: number, overrides: Record<string, unknown> = {}): string {
  const runDir = join(dir, `run${++runs}`);
  const cfg = write(`cfg${runs}.reclab.json`, { ...tiny, ...overrides });
  const r = reclab('train', '--config', cfg, '--run-dir', runDir, '--steps', String(steps), '--quiet');
  assert.equal(r.code, 0, r.stderr);
  return runDir;
}

/** Every file under `root` with its SHA-256 (and the folders, by name). */
function hashTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) { out[relative(root, p) + '/'] = 'dir'; walk(p); } else out[relative(root, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(root);
  return out;
}
function eventLines(runDir: string): string[] {
  return readFileSync(join(runDir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
}
function events(runDir: string): TrainerEvent[] {
  return eventLines(runDir).map((l) => parseEventLine(l)).filter((e): e is TrainerEvent => 'type' in e);
}
const checkpoints = (runDir: string) => readdirSync(join(runDir, 'checkpoints')).filter((n) => n.endsWith('.ckpt')).sort();

/** Flips one byte inside tensor `name` of a format-2 file. */
function flipByteIn(path: string, name: string): void {
  const buf = readFileSync(path);
  const len = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.toString('utf8', 8, 8 + len)) as Record<string, { data_offsets: [number, number] }>;
  buf[8 + len + header[name]!.data_offsets[0] + 2]! ^= 0x40;
  writeFileSync(path, buf);
}

test('the CLI bundle exists (run `npm run build` first)', () => {
  assert.ok(existsSync(cli), `${cli} is missing`);
});

test('a corrupt latest checkpoint: resume refuses, names it, the tensor and the previous valid one, and changes no file; eval, export, trace and inspect refuse it too', () => {
  const runDir = trainTiny(4);
  assert.deepEqual(checkpoints(runDir), ['step-0000002.ckpt', 'step-0000004.ckpt']);
  const latest = join(runDir, 'checkpoints', 'step-0000004.ckpt');
  flipByteIn(latest, 'ema/lm_head');
  const before = hashTree(runDir);

  const r = reclab('resume', runDir, '--steps', '6', '--quiet');
  assert.equal(r.code, 2, r.stderr);
  assert.ok(r.stderr.includes(latest), r.stderr);
  assert.match(r.stderr, /tensor ema\/lm_head/);
  assert.ok(r.stderr.includes(join(runDir, 'checkpoints', 'step-0000002.ckpt')), r.stderr);
  assert.match(r.stderr, /--checkpoint/);
  assert.deepEqual(hashTree(runDir), before, 'a refused resume changes nothing in the run directory');

  for (const args of [['eval', runDir, '--backend', 'cpu'], ['export', runDir], ['trace', runDir, '--test-row', '0', '--backend', 'cpu'], ['inspect', runDir, '--held-out', '2', '--quiet']]) {
    const x = reclab(...args);
    assert.notEqual(x.code, 0, `${args[0]} refuses: ${x.stderr}`);
    assert.ok(x.stderr.includes(latest) && x.stderr.includes('ema/lm_head'), `${args[0]}: ${x.stderr}`);
  }
  assert.deepEqual(hashTree(runDir), before, 'no reader wrote anything');
});

test('resume --checkpoint FILE continues from that checkpoint; the later ones are moved aside, not deleted', () => {
  const runDir = trainTiny(4);
  const latest = join(runDir, 'checkpoints', 'step-0000004.ckpt');
  flipByteIn(latest, 'adam_v/lm_head');
  const corruptBytes = readFileSync(latest);
  const r = reclab('resume', runDir, '--checkpoint', join(runDir, 'checkpoints', 'step-0000002.ckpt'), '--steps', '6', '--quiet');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(checkpoints(runDir), ['step-0000002.ckpt', 'step-0000004.ckpt', 'step-0000006.ckpt']);
  const aside = readdirSync(join(runDir, 'checkpoints')).filter((n) => n.startsWith('superseded-'));
  assert.equal(aside.length, 1);
  assert.ok(readFileSync(join(runDir, 'checkpoints', aside[0]!, 'step-0000004.ckpt')).equals(corruptBytes), 'the corrupt checkpoint is kept, moved aside');
  const starts = events(runDir).filter((e) => e.type === 'run_start');
  assert.deepEqual(starts.map((e) => e.type === 'run_start' && [e.resumed, e.startStep]), [[false, 0], [true, 2]]);
  assert.equal((JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary).status, 'completed');
  // A checkpoint from elsewhere is refused, changing nothing.
  const other = trainTiny(2);
  const before = hashTree(runDir);
  const x = reclab('resume', runDir, '--checkpoint', join(other, 'checkpoints', 'step-0000002.ckpt'), '--quiet');
  assert.equal(x.code, 2, x.stderr);
  assert.match(x.stderr, /not one of this run's checkpoints/);
  assert.deepEqual(hashTree(runDir), before);
});

test('resume after a torn events.jsonl tail starts on a new line; the fragment stays a skipped line', () => {
  const runDir = trainTiny(2);
  const path = join(runDir, 'events.jsonl');
  const full = readFileSync(path, 'utf8');
  truncateSync(path, Buffer.byteLength(full) - 15); // mid-way through the last line (`done`)
  const torn = readFileSync(path, 'utf8');
  const fragment = torn.slice(torn.lastIndexOf('\n') + 1);
  assert.ok(fragment.length > 0 && !torn.endsWith('\n'));
  const r = reclab('resume', runDir, '--steps', '3', '--quiet');
  assert.equal(r.code, 0, r.stderr);
  const lines = eventLines(runDir);
  const at = lines.indexOf(fragment);
  assert.ok(at > 0, 'the fragment is a line of its own');
  assert.ok('error' in parseEventLine(fragment), 'readers skip the fragment');
  for (const line of lines.slice(at + 1)) assert.ok('type' in parseEventLine(line), `parses: ${line}`);
  const next = parseEventLine(lines[at + 1]!);
  assert.ok('type' in next && next.type === 'run_start' && next.resumed);
});

test('train refuses a --run-dir that exists and is not empty (a foreign folder, another run, a file): exit 2, nothing written', () => {
  const cfg = write('refuse.reclab.json', tiny);
  const foreign = join(dir, 'foreign');
  mkdirSync(join(foreign, 'sub'), { recursive: true });
  writeFileSync(join(foreign, 'notes.txt'), 'mine');
  const otherRun = trainTiny(2);
  rmSync(join(otherRun, 'config.json')); // not even a complete run: its events and checkpoints are still foreign
  const file = write('a-file', 'x');
  for (const target of [foreign, otherRun, file]) {
    const before = statSync(target).isDirectory() ? hashTree(target) : { file: readFileSync(target, 'utf8') };
    const r = reclab('train', '--config', cfg, '--run-dir', target, '--steps', '1', '--quiet');
    assert.equal(r.code, 2, `${target}: ${r.stderr}`);
    assert.ok(r.stderr.includes(target), r.stderr);
    assert.deepEqual(statSync(target).isDirectory() ? hashTree(target) : { file: readFileSync(target, 'utf8') }, before);
  }
  // An empty folder is fine.
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  const ok = reclab('train', '--config', cfg, '--run-dir', empty, '--steps', '1', '--quiet');
  assert.equal(ok.code, 0, ok.stderr);
});

test('resume validates config.json: lr "fast" is refused naming the file and the field, changing nothing', () => {
  const runDir = trainTiny(2);
  const cfgPath = join(runDir, 'config.json');
  const file = JSON.parse(readFileSync(cfgPath, 'utf8')) as { config: { train: Record<string, unknown> } };
  file.config.train['lr'] = 'fast';
  writeFileSync(cfgPath, JSON.stringify(file, null, 2));
  const before = hashTree(runDir);
  const r = reclab('resume', runDir, '--steps', '4', '--quiet');
  assert.equal(r.code, 2, r.stderr);
  assert.ok(r.stderr.includes(cfgPath), r.stderr);
  assert.match(r.stderr, /train\.lr/);
  assert.deepEqual(hashTree(runDir), before);
});

test('an empty training or test CSV and a model too large for memory are refused before the run directory exists', () => {
  const puzzle = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';
  const solution = '534678912672195348198342567859761423426853791713924856961537284287419635345286179';
  const header = 'source,question,answer,rating';
  write('one.csv', [header, `a,${puzzle},${solution},0`, ''].join('\n'));
  write('none.csv', header + '\n');
  const csv = (train: string, testFile: string) => ({ ...tiny, data: { kind: 'sudoku-csv', trainFile: train, testFile, augmentationsPerPuzzle: 0 } });
  for (const [label, cfg, mention] of [
    ['empty test CSV', csv('one.csv', 'none.csv'), join(dir, 'none.csv')],
    ['empty training CSV', csv('none.csv', 'one.csv'), join(dir, 'none.csv')],
    ['hiddenSize 100000', { ...tiny, model: { ...tiny.model, hiddenSize: 100000 } }, 'memory'],
  ] as const) {
    const runDir = join(dir, `refused-${label.replace(/ /g, '-')}`);
    const r = reclab('train', '--config', write(`${label.replace(/ /g, '-')}.reclab.json`, cfg), '--run-dir', runDir, '--quiet');
    assert.notEqual(r.code, 0, `${label}: ${r.stderr}`);
    assert.ok(r.stderr.includes(mention), `${label}: ${r.stderr}`);
    assert.equal(existsSync(runDir), false, `${label}: no run directory`);
  }
});

test('a diverging run (lr 1e300) stops as failed at the first non-finite loss, naming the step, keeping the last good checkpoint', () => {
  // From the start: step 1's update overflows, step 2's loss is NaN.
  const fresh = join(dir, 'diverge');
  const cfg = write('diverge.reclab.json', { ...tiny, train: { ...tiny.train, lr: 1e300 } });
  const r = reclab('train', '--config', cfg, '--run-dir', fresh, '--steps', '20', '--quiet');
  assert.equal(r.code, 1, r.stderr);
  const failedAt = (runDir: string): number => {
    const all = events(runDir);
    const evs = all.slice(all.map((e) => e.type).lastIndexOf('run_start')); // this process's events
    const error = evs.find((e) => e.type === 'error');
    assert.ok(error?.type === 'error' && error.step !== undefined, 'an error event with its step');
    assert.match(error.message, new RegExp(`step ${error.step}\\b.*not finite`));
    const steps = evs.filter((e) => e.type === 'step');
    assert.ok(steps.every((e) => e.type === 'step' && Number.isFinite(e.lmLoss) && Number.isFinite(e.qHaltLoss)), 'no step event with a non-finite loss');
    assert.ok(!evs.some((e) => e.type === 'done'), 'no done event');
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
    assert.equal(summary.status, 'failed');
    return error.step;
  };
  assert.equal(failedAt(fresh), 2);
  assert.deepEqual(checkpoints(fresh), [], 'no checkpoint from a diverged state');

  // On resume: a good run to step 2, then lr 1e300 in its config.json; it fails at step 4 and keeps step 2.
  const runDir = trainTiny(2);
  const cfgPath = join(runDir, 'config.json');
  const file = JSON.parse(readFileSync(cfgPath, 'utf8')) as { config: { train: Record<string, unknown> } };
  file.config.train['lr'] = 1e300;
  writeFileSync(cfgPath, JSON.stringify(file, null, 2));
  const x = reclab('resume', runDir, '--steps', '10', '--quiet');
  assert.equal(x.code, 1, x.stderr);
  assert.equal(failedAt(runDir), 4);
  assert.deepEqual(checkpoints(runDir), ['step-0000002.ckpt']);
  const ev = reclab('eval', runDir, '--backend', 'cpu', '--json');
  assert.equal(ev.code, 0, ev.stderr);
});

test('checkpoint retention: the last N plus the best by held-out exact accuracy; a resume continues from the newest', () => {
  const runDir = trainTiny(9, {
    checkpointEverySteps: 1, eval: { ...tiny.eval, everySteps: 2 },
    train: { ...tiny.train, lr: 0.03, checkpoints: { keepLast: 2, keepBest: true } },
  });
  // The best: the first evaluation reaching the highest exact accuracy.
  const bestStep = () => {
    const evals = events(runDir).filter((e) => e.type === 'eval');
    return evals.reduce((b, e) => (e.type === 'eval' && b.type === 'eval' && e.exactAccuracy > b.exactAccuracy ? e : b)).step;
  };
  assert.deepEqual(events(runDir).filter((e) => e.type === 'eval').map((e) => e.step), [2, 4, 6, 8, 9]);
  const name = (s: number) => `step-${String(s).padStart(7, '0')}.ckpt`;
  assert.deepEqual(checkpoints(runDir), [...new Set([name(bestStep()), name(8), name(9)])].sort());
  const r = reclab('resume', runDir, '--steps', '11', '--quiet');
  assert.equal(r.code, 0, r.stderr);
  const starts = events(runDir).filter((e) => e.type === 'run_start');
  assert.ok(starts.at(-1)?.type === 'run_start' && starts.at(-1)!.startStep === 9);
  assert.deepEqual(checkpoints(runDir), [...new Set([name(bestStep()), name(10), name(11)])].sort());
  // keepLast 0 keeps every checkpoint.
  const all = trainTiny(4, { checkpointEverySteps: 1, train: { ...tiny.train, checkpoints: { keepLast: 0, keepBest: false } } });
  assert.deepEqual(checkpoints(all), [1, 2, 3, 4].map(name));
});
