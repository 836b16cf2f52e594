// Config files as a hostile or careless user writes them: a UTF-8 BOM (Windows editors) is
// accepted; preset names that are Object.prototype's own keys are unknown presets; a
// `__proto__` key anywhere is refused with its field path instead of setting a prototype.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, presetConfig, resolveConfig } from '../../trainer/configResolution';
import { presets } from '../../protocol/presets';

const dir = mkdtempSync(join(tmpdir(), 'reclab-config-edges-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function configFile(text: string): string {
  const path = join(dir, `c${++n}.reclab.json`);
  writeFileSync(path, text);
  return path;
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `a ConfigError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('no error');
}

test('a config file starting with a UTF-8 BOM is read like the same file without it', () => {
  const body = JSON.stringify({ extends: 'sudoku4', seed: 7, model: { hiddenSize: 48 } });
  const withBom = configFile('\uFEFF' + body);
  const r = resolveConfig({ configFile: withBom });
  assert.equal(r.config.seed, 7);
  assert.equal(r.config.model.hiddenSize, 48);
  assert.deepEqual(r.config, { ...presets['sudoku4']!, seed: 7, model: { ...presets['sudoku4']!.model, hiddenSize: 48 } });
});

test('"constructor", "toString", "__proto__", "hasOwnProperty" are unknown presets, by --preset and by extends', () => {
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
    assert.match(configError(() => presetConfig(name)), new RegExp(`unknown preset "${name}"`));
    assert.match(configError(() => resolveConfig({ preset: name })), /unknown preset/);
    const file = configFile(JSON.stringify({ extends: name }));
    const m = configError(() => resolveConfig({ configFile: file }));
    assert.ok(m.includes(file) && m.includes('unknown preset'), m);
  }
});

test('a __proto__ key is refused with its field path, at any depth', () => {
  const cases: [string, string][] = [
    ['{"data": {"__proto__": {"side": 9}}}', 'data.__proto__'],
    ['{"__proto__": {"seed": 3}}', '__proto__'],
    ['{"train": {"ema": {"__proto__": {"rate": 0.5}}}}', 'train.ema.__proto__'],
  ];
  for (const [text, field] of cases) {
    const file = configFile(text);
    const m = configError(() => resolveConfig({ configFile: file }));
    // Refused by the file's field check (unknown field) or, past it, by the __proto__ guard.
    assert.ok(m.includes(file) && (m.includes(`${field}: unknown field`) || m.includes(`field ${field}: not allowed`)), m);
  }
  // Nothing leaked onto Object.prototype.
  assert.equal(({} as Record<string, unknown>)['side'], undefined);
});
