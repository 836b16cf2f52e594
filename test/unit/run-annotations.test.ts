// A run's tags and note (annotations.json): the parser refuses what it should, the writer and
// reader round-trip through a real run directory, and the run registry picks a change up; a start
// the trainer refuses (a bad config file: exit 2 before the run directory exists) leaves no run in
// the registry, with the trainer's reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkTag, parseRunAnnotations } from '../../protocol/runAnnotations';
import { RunRegistry } from '../../extension/runs/runRegistry';
import { readRunAnnotations, splitTags, writeRunAnnotations } from '../../extension/runs/runAnnotationsFile';

const cli = resolve(__dirname, '../../dist/trainer/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'reclab-annot-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const quietLog = { info: () => {}, warn: () => {}, error: () => {} };

test('annotations.json: what the parser accepts and refuses', () => {
  assert.deepEqual(parseRunAnnotations('{"v":1,"tags":["pdc","seed-0"],"note":"lr 3e-3"}'), { v: 1, tags: ['pdc', 'seed-0'], note: 'lr 3e-3' });
  assert.deepEqual(parseRunAnnotations('\uFEFF{"v":1,"tags":[],"note":""}'), { v: 1, tags: [], note: '' });
  for (const [text, why] of [
    ['{"v":2,"tags":[],"note":""}', /Error: v: /],
    ['{"v":1,"tags":["a b"],"note":""}', /tags\[0\]: a tag has no spaces/],
    ['{"v":1,"tags":["x","x"],"note":""}', /appears twice/],
    ['{"v":1,"tags":[3],"note":""}', /tags\[0\]: not a string/],
    ['{"v":1,"tags":[],"note":"","color":"red"}', /unexpected field "color"/],
    ['{"v":1,"tags":[],"note":', /not valid JSON/],
    ['[]', /not a JSON object/],
  ] as const) assert.throws(() => parseRunAnnotations(text), why);
  assert.equal(checkTag(''), 'a tag cannot be empty');
  assert.deepEqual(splitTags(' pdc, seed-0  pdc,,baseline '), ['pdc', 'seed-0', 'baseline']);
});

test('tags and a note written to a run directory are read back, and the registry shows them', async () => {
  const root = join(dir, 'runs');
  const run = join(root, 'r1');
  mkdirSync(run, { recursive: true });
  writeFileSync(join(run, 'config.json'), JSON.stringify({ metadata: { runId: 'r1' }, config: { name: 'first' } }));
  assert.deepEqual(await readRunAnnotations(run), { v: 1, tags: [], note: '' });
  const registry = new RunRegistry({ roots: () => [root], log: quietLog, pollMs: 60_000 });
  await registry.poll();
  const entry = registry.runs.find((r) => r.key === run)!;
  assert.equal(entry.annotations, undefined);
  await writeRunAnnotations(run, { v: 1, tags: ['baseline', 'lr-3e-3'], note: 'the reference recipe' });
  await registry.poll();
  assert.deepEqual(entry.annotations, { v: 1, tags: ['baseline', 'lr-3e-3'], note: 'the reference recipe' });
  writeFileSync(join(run, 'annotations.json'), '{"v":1,"tags":"oops","note":""}');
  await registry.poll();
  assert.equal(entry.annotations, undefined);
  assert.match(entry.annotationsError ?? '', /annotations\.json: tags: expected an array/);
  await assert.rejects(writeRunAnnotations(run, { v: 1, tags: ['has space'], note: '' }), /a tag has no spaces/);
  registry.dispose();
});

test('a start refused for a bad config leaves no run in the registry, with the reason', { timeout: 60_000 }, async () => {
  assert.ok(existsSync(cli), 'run `npm run build` first');
  const root = join(dir, 'runs2');
  const config = join(dir, 'typo.reclab.json');
  writeFileSync(config, '{"extends": "sudoku4", "train": {"stepz": 5}}');
  const registry = new RunRegistry({ roots: () => [root], log: quietLog, pollMs: 60_000 });
  const runDir = join(root, 'refused');
  let exited: (() => void) | undefined;
  const done = new Promise<void>((r) => (exited = r));
  const entry = await registry.launch(runDir, { node: process.execPath, cli, args: ['train', '--config', config, '--run-dir', runDir], cwd: dir }, () => exited!());
  await done;
  assert.equal(existsSync(runDir), false);
  assert.match(entry.refused ?? '', /typo\.reclab\.json:1:34: train\.stepz: unknown field \(did you mean "steps"\?\)/);
  assert.equal(registry.runs.some((r) => r.key === runDir), false);
  registry.dispose();
});
