// The PyTorch engine's events against the TypeScript side's own definitions: a short torch-engine run
// (through `reclab train --engine torch`) and the logging-API example (engines/torch/examples/
// minimal_trm_loop.py) each write a run directory; every line of their events.jsonl is read with the
// extension's tail (extension/eventsFileTail.ts), parsed with protocol/events.ts parseEventLine, and
// checked field by field against the event interfaces of protocol/events.ts as the TypeScript
// compiler reads them (every required field present, every value of its declared JSON type and
// literal, nested objects included). Refinement trajectories must decode with protocol/refinement.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { EventsFileTail } from '../../extension/runs/eventsFileTail';
import { parseEventLine, type TrainerEvent } from '../../protocol/events';
import { decodeTrajectory } from '../../protocol/refinement';
import { workerEnvironment } from '../../trainer/engines/workerEnvironment';
import { readCheckpointFile, readWeightsFile } from '../../trainer/run/checkpointFile';

const repo = resolve(__dirname, '../..');
const eventsSource = resolve(repo, 'protocol/events.ts');

/** The event interfaces of protocol/events.ts, keyed by their `type` literal. */
function eventTypes(): { checker: ts.TypeChecker; byType: Map<string, ts.Type> } {
  const program = ts.createProgram([eventsSource], { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext });
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(eventsSource)!;
  const alias = sf.statements.find((s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === 'TrainerEvent')!;
  const union = checker.getTypeAtLocation(alias.name);
  const byType = new Map<string, ts.Type>();
  for (const t of union.isUnion() ? union.types : [union]) {
    const typeProp = t.getProperty('type')!;
    const lit = checker.getTypeOfSymbol(typeProp);
    assert.ok(lit.isStringLiteral(), 'every event has a string literal type');
    byType.set(lit.value, t);
  }
  return { checker, byType };
}

/** Checks a JSON value against a TypeScript type; returns the problems found (path: what). */
function check(checker: ts.TypeChecker, value: unknown, type: ts.Type, path: string, out: string[]): void {
  const options = type.isUnion() ? type.types : [type];
  const fits = (t: ts.Type): string[] => {
    const problems: string[] = [];
    const f = t.flags;
    if (f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return problems;
    if (f & ts.TypeFlags.Null) return value === null ? problems : [`${path}: expected null`];
    if (f & ts.TypeFlags.Undefined) return value === undefined ? problems : [`${path}: expected undefined`];
    if (t.isNumberLiteral()) return value === t.value ? problems : [`${path}: expected ${t.value}, got ${JSON.stringify(value)}`];
    if (t.isStringLiteral()) return value === t.value ? problems : [`${path}: expected "${t.value}", got ${JSON.stringify(value)}`];
    if (f & ts.TypeFlags.BooleanLiteral) return typeof value === 'boolean' && String(value) === checker.typeToString(t) ? problems : [`${path}: expected ${checker.typeToString(t)}`];
    if (f & ts.TypeFlags.NumberLike) return typeof value === 'number' && Number.isFinite(value) ? problems : [`${path}: expected a finite number, got ${JSON.stringify(value)}`];
    if (f & ts.TypeFlags.StringLike) return typeof value === 'string' ? problems : [`${path}: expected a string, got ${JSON.stringify(value)}`];
    if (f & ts.TypeFlags.BooleanLike) return typeof value === 'boolean' ? problems : [`${path}: expected a boolean`];
    if (checker.isArrayType(t)) {
      if (!Array.isArray(value)) return [`${path}: expected an array`];
      const element = checker.getTypeArguments(t as ts.TypeReference)[0]!;
      value.forEach((v, i) => check(checker, v, element, `${path}[${i}]`, problems));
      return problems;
    }
    if (checker.isTupleType(t)) {
      const elements = checker.getTypeArguments(t as ts.TypeReference);
      if (!Array.isArray(value) || value.length !== elements.length) return [`${path}: expected a tuple of ${elements.length}`];
      value.forEach((v, i) => check(checker, v, elements[i]!, `${path}[${i}]`, problems));
      return problems;
    }
    if (f & ts.TypeFlags.Object) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected an object, got ${JSON.stringify(value)?.slice(0, 80)}`];
      const o = value as Record<string, unknown>;
      for (const p of checker.getPropertiesOfType(t)) {
        const optional = (p.flags & ts.SymbolFlags.Optional) !== 0;
        const pv = o[p.name];
        if (pv === undefined) {
          if (!optional) problems.push(`${path}.${p.name}: required field missing`);
          continue;
        }
        check(checker, pv, checker.getTypeOfSymbol(p), `${path}.${p.name}`, problems);
      }
      return problems;
    }
    return [`${path}: unhandled type ${checker.typeToString(t)}`];
  };
  const results = options.map(fits);
  if (results.some((r) => r.length === 0)) return;
  out.push(...results.reduce((a, b) => (b.length < a.length ? b : a)));
}

async function readEventsAsTheExtensionDoes(runDir: string): Promise<TrainerEvent[]> {
  const events: TrainerEvent[] = [];
  const bad: string[] = [];
  const tail = new EventsFileTail(join(runDir, 'events.jsonl'), {
    needsFrom: () => 0,
    line: (i, text) => {
      const e = parseEventLine(text);
      if ('error' in e) bad.push(`line ${i + 1}: ${e.error}`);
      else events.push(e);
    },
  });
  await tail.read();
  assert.equal(tail.finish(), undefined, 'no torn last line');
  assert.deepEqual(bad, []);
  return events;
}

async function validateRun(runDir: string): Promise<TrainerEvent[]> {
  const { checker, byType } = eventTypes();
  const events = await readEventsAsTheExtensionDoes(runDir);
  const problems: string[] = [];
  events.forEach((e, i) => {
    const t = byType.get(e.type);
    assert.ok(t, `line ${i + 1}: event type ${e.type} is one of protocol/events.ts`);
    check(checker, e, t, `line ${i + 1} (${e.type})`, problems);
    if (e.type === 'refinement') {
      const d = decodeTrajectory(e.trajectory);
      assert.equal(d.frames, e.trajectory.steps * e.trajectory.cyclesPerStep);
      assert.ok(d.digits.every((x) => x <= e.trajectory.side), 'digits are 0..side');
    }
  });
  assert.deepEqual(problems, []);
  assert.equal(events[0]!.type, 'run_start');
  assert.equal(events.at(-1)!.type, 'done');
  return events;
}

const python = (): string =>
  execFileSync('bash', [resolve(repo, 'test/setup/python-env.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;

test('a torch-engine run writes events the TypeScript reader and event types accept, field by field', { timeout: 900_000 }, async (ctx) => {
  const dir = mkdtempSync(join(tmpdir(), 'reclab-torch-events-'));
  ctx.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'tiny.reclab.json');
  writeFileSync(config, JSON.stringify({
    extends: 'sudoku4', engine: 'torch', checkpointEverySteps: 3,
    model: { hiddenSize: 16 },
    train: { steps: 6, batchSize: 16, microBatchSize: 16, lrWarmupSteps: 1 },
    data: { kind: 'generated-sudoku', side: 4, trainPuzzles: 50, trainBlanks: [4, 12], testBlanks: [4, 12], testPerBlank: 4, augment: true },
    eval: { everySteps: 3, puzzlesPerBlank: 2, batchSize: 64, gradientVarianceGroups: 4 },
    refinement: { everySteps: 3, probePuzzles: 2, perCycle: true },
  }));
  const runDir = join(dir, 'run');
  const r = spawnSync(process.execPath, ['--import', 'tsx', resolve(repo, 'trainer/cli.ts'), 'train', '--config', config, '--run-dir', runDir, '--python', python(), '--quiet'],
    { cwd: repo, encoding: 'utf8', timeout: 800_000 });
  assert.equal(r.status, 0, `reclab train --engine torch failed:\n${r.stderr.slice(-4000)}`);
  const events = await validateRun(runDir);
  const types = events.map((e) => e.type);
  for (const t of ['run_start', 'stage', 'step', 'eval', 'refinement', 'checkpoint', 'done'] as const) assert.ok(types.includes(t), `has a ${t} event`);
  assert.deepEqual(events.filter((e) => e.type === 'step').map((e) => e.step), [1, 2, 3, 4, 5, 6]);
  // Every checkpoint the events name is a format-2 file the TypeScript reader verifies.
  for (const e of events) if (e.type === 'checkpoint') assert.ok(readCheckpointFile(join(runDir, e.path)).arrays.has('param/embed_tokens'));
  const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
  assert.equal(summary.status, 'completed');
  assert.equal(summary.steps, 6);
});

test('the logging-API example (a plain TRM loop) writes a run directory the extension reads', { timeout: 900_000 }, async (ctx) => {
  const root = mkdtempSync(join(tmpdir(), 'reclab-byo-'));
  ctx.after(() => rmSync(root, { recursive: true, force: true }));
  const r = spawnSync(python(), [resolve(repo, 'engines/torch/examples/minimal_trm_loop.py'), '--steps', '50', '--n-sup', '2', '--runs-root', root],
    { cwd: repo, encoding: 'utf8', timeout: 800_000, env: workerEnvironment(process.env, resolve(repo, 'engines/torch')) });
  assert.equal(r.status, 0, `minimal_trm_loop.py failed:\n${r.stderr.slice(-4000)}`);
  const [name] = readdirSync(root);
  const runDir = join(root, name!);
  const events = await validateRun(runDir);
  assert.deepEqual(events.filter((e) => e.type === 'step').map((e) => e.step), Array.from({ length: 50 }, (_, i) => i + 1));
  const final = events.find((e) => e.type === 'eval');
  assert.ok(final && final.type === 'eval' && final.scope === 'final' && final.step === 50);
  const refinement = events.find((e) => e.type === 'refinement');
  assert.ok(refinement && refinement.type === 'refinement' && refinement.trajectory.steps === 2 && refinement.trajectory.puzzles.length === 2);
  const checkpoint = events.find((e) => e.type === 'checkpoint');
  assert.ok(checkpoint && checkpoint.type === 'checkpoint');
  assert.ok(readWeightsFile(join(runDir, checkpoint.path)).tensors.size > 0);
  const file = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
  assert.equal(file.metadata.engine, 'torch');
  assert.equal(JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')).status, 'completed');
});
