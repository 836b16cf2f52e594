// From command-line options to one validated run config: a preset, optionally a config file
// merged on top of it (its own `extends` may name the preset), then the flags (--steps, --seed,
// --backend). Every error names the file and the field.
import { readFileSync } from 'node:fs';
import { configFileSchema, describeIssues, runConfigSchema, type BackendName, type EngineName, type RunConfig } from '../protocol/config';
import { checkConfigText, formatConfigProblems } from '../protocol/configDiagnostics';
import { defaultPresetName, presetNamed, presets } from '../protocol/presets';
import { InputError } from './inputError';

export class ConfigError extends InputError {}

export interface ConfigRequest {
  preset?: string;
  configFile?: string;
  steps?: number;
  seed?: number;
  backend?: BackendName;
  engine?: EngineName;
  name?: string;
}

export interface ResolvedConfig {
  config: RunConfig;
  presetName: string;
}

export function presetConfig(name: string): RunConfig {
  const p = presetNamed(name);
  if (!p) throw new ConfigError(`unknown preset "${name}" (known: ${Object.keys(presets).join(', ')})`);
  return structuredClone(p);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The path of the first `__proto__` key (JSON.parse makes it an own key; merging it would set a prototype). */
function protoKeyPath(v: unknown, path: string): string | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  for (const [k, x] of Object.entries(v)) {
    const p = path ? `${path}.${k}` : k;
    if (k === '__proto__') return p;
    const inner = protoKeyPath(x, p);
    if (inner) return inner;
  }
  return undefined;
}

/** Field-by-field merge of plain objects; arrays and scalars replace. */
function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

export function resolveConfig(req: ConfigRequest): ResolvedConfig {
  let presetName = req.preset ?? defaultPresetName;
  let merged: unknown = undefined;
  const where = req.configFile ?? `preset ${presetName}`;
  if (req.configFile) {
    let text: string;
    try {
      text = readFileSync(req.configFile, 'utf8');
    } catch (e) {
      throw new ConfigError(`${req.configFile}: cannot read config file: ${(e as Error).message}`);
    }
    // The editor shows the same problems (protocol/configDiagnostics.ts), so both agree.
    const problems = checkConfigText(text);
    if (problems.length > 0) throw new ConfigError(formatConfigProblems(req.configFile, problems));
    const raw: unknown = JSON.parse(text.replace(/^\uFEFF/, '')); // a UTF-8 BOM, as editors on Windows write it
    const proto = protoKeyPath(raw, '');
    if (proto) throw new ConfigError(`${req.configFile}: field ${proto}: not allowed`);
    const file = configFileSchema.safeParse(raw);
    if (!file.success) throw new ConfigError(`${req.configFile}: ${describeIssues(file.error).join('; ')}`);
    if (file.data.extends && req.preset && file.data.extends !== req.preset) {
      throw new ConfigError(`${req.configFile}: field extends: "${file.data.extends}" conflicts with --preset ${req.preset}`);
    }
    // An unknown preset in `extends` is one of checkConfigText's problems, refused above.
    presetName = file.data.extends ?? presetName;
    const base = presetConfig(presetName) as unknown as Record<string, unknown>;
    const { extends: _e, $schema: _s, ...overrides } = file.data;
    // A data section of another kind replaces the preset's whole.
    if (isPlainObject(overrides.data) && overrides.data['kind'] !== undefined && overrides.data['kind'] !== (base['data'] as { kind: string }).kind) {
      base['data'] = {};
    }
    merged = deepMerge(base, overrides);
  } else {
    merged = presetConfig(presetName);
  }
  const flags: Record<string, unknown> = {};
  if (req.seed !== undefined) flags['seed'] = req.seed;
  if (req.backend !== undefined) flags['backend'] = req.backend;
  if (req.engine !== undefined) flags['engine'] = req.engine;
  if (req.name !== undefined) flags['name'] = req.name;
  if (req.steps !== undefined) flags['train'] = { steps: req.steps };
  merged = deepMerge(merged, flags);
  const parsed = runConfigSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(`${where}: ${describeIssues(parsed.error).join('; ')}`);
  return { config: parsed.data, presetName };
}
