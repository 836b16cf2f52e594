// The problems of a config file's text, as the trainer refuses it and the editor underlines it:
// positions counted by hand in the test texts, "did you mean" for near misses only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfigText, didYouMean } from '../../protocol/configDiagnostics';
import { ConfigError, resolveConfig } from '../../trainer/configResolution';

const dir = mkdtempSync(join(tmpdir(), 'reclab-cfgdiag-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a JSON syntax error is reported at its line:column', () => {
  const text = '{\n  "seed": 1,\n  "train": { "steps": 10, }\n}\n';
  const [p, ...rest] = checkConfigText(text);
  assert.equal(rest.length, 0);
  // line 3 is `  "train": { "steps": 10, }`: the "}" after the trailing comma is column 27.
  assert.equal(p!.line, 3);
  assert.equal(p!.column, 27);
  assert.match(p!.message, /^not valid JSON: /);
});

test('an unknown field names its path, its place, and the near miss', () => {
  const text = '{"train": {"stepz": 5, "banana": 1}}';
  const problems = checkConfigText(text);
  assert.deepEqual(problems.map((p) => [p.message, p.line, p.column]), [
    ['train.stepz: unknown field (did you mean "steps"?)', 1, 12],
    ['train.banana: unknown field', 1, 24],
  ]);
  assert.equal(text.slice(problems[0]!.offset, problems[0]!.offset + problems[0]!.length), '"stepz"');
});

test('data fields are checked against the kind they merge onto; an unknown preset has its near miss', () => {
  const problems = checkConfigText('{\n"extends": "sudoku44",\n"data": {"trainPuzzlez": 3}\n}');
  assert.deepEqual(problems.map((p) => [p.line, p.message.split(' (known')[0]]), [
    [2, 'extends: unknown preset "sudoku44" (did you mean "sudoku4"?)'],
    [3, 'data.trainPuzzlez: unknown field (did you mean "trainPuzzles"?)'],
  ]);
});

test('an ill-typed value is reported at the value', () => {
  const [p] = checkConfigText('{"model": {"hiddenSize": "wide"}}');
  assert.match(p!.message, /^model\.hiddenSize: /);
  assert.equal(p!.column, 26);
});

test('a valid file, with or without a UTF-8 BOM, has no problems', () => {
  const text = '{"extends": "sudoku4", "seed": 3, "model": {"hiddenSize": 48}, "train": {"ema": {"rate": 0.99}}, "data": {"trainPuzzles": 50}}';
  assert.deepEqual(checkConfigText(text), []);
  assert.deepEqual(checkConfigText('\uFEFF' + text), []);
});

test('did you mean: case and a typo or two, not unrelated words', () => {
  assert.equal(didYouMean('HiddenSize', ['hiddenSize', 'layers']), 'hiddenSize');
  assert.equal(didYouMean('lr', ['lr', 'steps']), 'lr');
  assert.equal(didYouMean('stpes', ['steps', 'seed']), 'steps');
  assert.equal(didYouMean('banana', ['steps', 'seed']), undefined);
});

test('the trainer refuses the file with the same file:line:column messages', () => {
  const path = join(dir, 'typo.reclab.json');
  writeFileSync(path, '{\n  "train": {\n    "stepz": 5\n  }\n}\n');
  assert.throws(() => resolveConfig({ configFile: path }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.message, `${path}:3:5: train.stepz: unknown field (did you mean "steps"?)`);
    return true;
  });
});
