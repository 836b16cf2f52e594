// The built CLI (dist/trainer/cli.js) as a real process: each subcommand accepts only its own
// flags and has its own --help; bad data files are exit 2 with file:line (README's exit codes);
// a run name too long for the file system is refused before anything is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReclab } from './reclabProcess';

const dir = mkdtempSync(join(tmpdir(), 'reclab-cli-flags-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const reclab = (...args: string[]) => runReclab(dir, args);

const tiny = {
  extends: 'sudoku4', seed: 1, checkpointEverySteps: 0,
  model: { hiddenSize: 8, layers: 1, hCycles: 1, lCycles: 1 },
  train: { batchSize: 4, microBatchSize: 4, haltMaxSteps: 2 },
  eval: { everySteps: 0, puzzlesPerBlank: 1, batchSize: 8, gradientVarianceGroups: 2 },
};

test('a flag of another command is a usage error naming it (ablate --run-dir, eval --steps, resume --seed)', () => {
  const out = join(dir, 'sweep-never');
  const cases: [string[], string][] = [
    [['ablate', '--preset', 'sudoku4', '--arms', 'baseline', '--seeds', '1', '--steps', '1', '--out', out, '--run-dir', join(dir, 'x')], '--run-dir'],
    [['eval', join(dir, 'no-run'), '--steps', '5'], '--steps'],
    [['resume', join(dir, 'no-run'), '--seed', '3'], '--seed'],
    [['train', '--arms', 'baseline', '--runs-root', join(dir, 'never')], '--arms'],
  ];
  for (const [args, flag] of cases) {
    const r = reclab(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`unknown option ${flag} for reclab ${args[0]}`), r.stderr);
  }
  assert.equal(existsSync(out), false, 'the sweep never started');
  assert.equal(existsSync(join(dir, 'never')), false);
});

test('each command has its own --help listing only its flags', () => {
  const ablate = reclab('ablate', '--help');
  assert.equal(ablate.code, 0, ablate.stderr);
  assert.match(ablate.stdout, /^usage: reclab ablate/);
  for (const f of ['--arms', '--seeds', '--depth', '--parallel', '--rerun-failed']) assert.ok(ablate.stdout.includes(f), f);
  for (const f of ['--run-dir', '--checkpoint', '--json', '--rpc']) assert.ok(!ablate.stdout.includes(f), `ablate's help lists ${f}`);
  const evalHelp = reclab('eval', '-h');
  assert.equal(evalHelp.code, 0);
  assert.match(evalHelp.stdout, /^usage: reclab eval <run-dir>/);
  assert.ok(evalHelp.stdout.includes('--checkpoint') && !evalHelp.stdout.includes('--seeds'));
  const train = reclab('train', '--help');
  assert.ok(train.stdout.includes('--run-dir') && !train.stdout.includes('--arms') && !train.stdout.includes('--checkpoint'));
  const overview = reclab('--help');
  assert.equal(overview.code, 0);
  for (const c of ['train', 'resume', 'eval', 'ablate', 'export', 'inspect', 'trace']) assert.match(overview.stdout, new RegExp(`^  ${c} `, 'm'));
  const none = reclab();
  assert.equal(none.code, 2);
  const unknown = reclab('trian');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "trian"/);
});

test('a bad CSV is exit 2 with file:line for every case, and no run directory', () => {
  const puzzle = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';
  const solution = '534678912672195348198342567859761423426853791713924856961537284287419635345286179';
  const header = 'source,question,answer,rating';
  const good = join(dir, 'good.csv');
  writeFileSync(good, [header, `a,${puzzle},${solution},0`, ''].join('\n'));
  mkdirSync(join(dir, 'a-directory.csv'));
  const cases: { name: string; content?: string; where: string }[] = [
    { name: 'bad-header.csv', content: ['source,question,solution,rating', `a,${puzzle},${solution},0`].join('\n'), where: ':1:' },
    { name: 'short-row.csv', content: [header, `a,${puzzle},${solution},0`, `b,${puzzle}`].join('\n'), where: ':3:' },
    { name: 'wrong-answer.csv', content: [header, `a,${puzzle},${solution.slice(0, 80)}8,0`].join('\n'), where: ':2:' },
    { name: 'empty.csv', content: '', where: ':1:' },
    { name: 'header-only.csv', content: header + '\n', where: ':2:' },
    { name: 'missing.csv', where: ': cannot read the CSV file: no such file' },
    { name: 'a-directory.csv', where: ': is a directory' },
  ];
  for (const c of cases) {
    const path = join(dir, c.name);
    if (c.content !== undefined) writeFileSync(path, c.content);
    const config = join(dir, `csv-${c.name}.reclab.json`);
    writeFileSync(config, JSON.stringify({ ...tiny, data: { kind: 'sudoku-csv', trainFile: c.name, testFile: 'good.csv', augmentationsPerPuzzle: 0 } }));
    const runDir = join(dir, `run-${c.name}`);
    const r = reclab('train', '--config', config, '--run-dir', runDir, '--backend', 'cpu', '--quiet');
    assert.equal(r.code, 2, `${c.name}: ${r.stderr}`);
    assert.ok(r.stderr.includes(`${path}${c.where}`), `${c.name}: ${r.stderr}`);
    assert.equal(existsSync(runDir), false, c.name);
  }
});

test('a preset named after an Object.prototype key is an unknown preset: exit 2', () => {
  for (const name of ['constructor', 'toString', '__proto__']) {
    const r = reclab('train', '--preset', name, '--runs-root', join(dir, 'never'));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`unknown preset "${name}"`));
  }
  assert.equal(existsSync(join(dir, 'never')), false);
});

test('a run name too long for the file system is refused before anything is written', () => {
  const root = join(dir, 'runs-long');
  const r = reclab('train', '--preset', 'sudoku4', '--name', 'n'.repeat(300), '--runs-root', root, '--backend', 'cpu', '--quiet');
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /the run name: the run directory name ".*" is \d+ bytes; file systems allow 255/);
  assert.equal(existsSync(root), false);
  const r2 = reclab('train', '--preset', 'sudoku4', '--run-dir', join(dir, 'd'.repeat(256)), '--backend', 'cpu', '--quiet');
  assert.equal(r2.code, 2, r2.stderr);
  assert.match(r2.stderr, /--run-dir: /);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('ddd')), []);
});
