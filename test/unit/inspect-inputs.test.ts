// `reclab inspect`'s inputs through the built CLI (dist/trainer/cli.js): pasted puzzles travel in
// a file or on stdin, never on the command line (onnxruntime-node crashed with SIGSEGV once argv
// reached ~29 kB), their number is capped, they pass the same checker as `reclab trace`; the
// default length is the model's reclab.halt_max_steps; a graph failing inside onnxruntime names
// its file; a run's model.onnx is used only when its metadata names this run and its latest step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectArgs, puzzlesFileText, type InspectTarget } from '../../extension/panels/inspectTarget';
import type { InspectReport } from '../../protocol/inspectReport';
import { checkPuzzleText } from '../../trainer/data/puzzleCheck';
import { exportIsCurrent } from '../../trainer/onnx/exportRun';
import { commandLineTooLongForOnnxruntime } from '../../trainer/onnx/onnxStepModel';
import { affineStepGraph, halfA } from './affineStepGraph';
import { runReclab } from './reclabProcess';

const dir = mkdtempSync(join(tmpdir(), 'reclab-inspect-inputs-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const model = join(dir, 'affine.onnx');
writeFileSync(model, affineStepGraph(halfA, [1, -2, 0.5, 3], [1, 1, 1, 1]));
const question = '1.3..4.22..3.3.1';
const solution = '1234341221434321';
const cheap = ['--steps', '1', '--perturbations', '0', '--power-iterations', '0', '--no-relabel', '--probe-blanks', '', '--quiet'];

const reclab = (args: string[], input?: string) => runReclab(dir, args, input);

test('2,000 pasted puzzles: the extension\'s command line stays short and the real CLI inspects them all from the file', () => {
  const target: InspectTarget = { kind: 'onnx', file: model, puzzles: Array(2000).fill(question) };
  const file = join(dir, 'pasted.txt');
  writeFileSync(file, puzzlesFileText(target));
  const args = inspectArgs(target, file);
  assert.ok(args.join(' ').length < 1024, `command line of ${args.join(' ').length} characters`);
  assert.ok(!args.includes('--puzzle'));
  const r = reclab([...args, ...cheap]);
  assert.equal(r.code, 0, `${r.signal} ${r.stderr}`);
  const report = JSON.parse(readFileSync(join(dir, 'affine.inspection.json'), 'utf8')) as InspectReport;
  assert.equal(report.puzzles.length, 2000);
  assert.equal(report.puzzles[1999]!.solution, solution); // worked out: the puzzle has one solution
});

test('a command line long enough to crash onnxruntime (1,500 --puzzle, 39 kB) is refused with exit 2, not a SIGSEGV', () => {
  const r = reclab(['inspect', model, ...Array(1500).fill(['--puzzle', question]).flat(), ...cheap]);
  assert.equal(r.signal, null);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /the command line is \d+ bytes \(at most 16384\): give the puzzles in a file \(--puzzles FILE\) or on stdin \(--puzzles -\)/);
});

test('reclab vote, the other command on onnxruntime: a 30 kB command line is refused with exit 2, not a SIGSEGV', () => {
  const puzzles = join(dir, 'vote-puzzles.txt');
  writeFileSync(puzzles, `${question}:${solution}\n`);
  const args = ['vote', model, '--puzzles', puzzles, '--relabellings', '2', '--quiet', '--out', join(dir, 'vote.json')];
  const ok = reclab([...args, '--seed', '0']);
  assert.equal(ok.code, 0, `${ok.signal} ${ok.stderr}`);
  // "--seed 000...0" (30,000 digits) is the valid seed 0: only the length differs. Without the
  // check this process died of SIGSEGV inside onnxruntime-node, with no message.
  const r = reclab([...args, '--seed', '0'.repeat(30_000)]);
  assert.equal(r.signal, null);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /the command line is 30\d{3} bytes \(at most 16384; onnxruntime-node crashes on longer ones\)/);
  // The guard every onnxruntime session passes (OnnxStepModel): 16,384 bytes is the limit, spaces counted.
  assert.equal(commandLineTooLongForOnnxruntime(['node', 'x'.repeat(16_379)]), undefined);
  assert.equal(commandLineTooLongForOnnxruntime(['node', 'x'.repeat(16_380)]), 16_385);
  assert.equal(commandLineTooLongForOnnxruntime(['node', 'é'.repeat(8_190)]), 16_385); // bytes, not characters
});

test('--puzzles - reads the puzzles from stdin', () => {
  const out = join(dir, 'stdin.json');
  const r = reclab(['inspect', model, '--puzzles', '-', '--out', out, ...cheap], `# two puzzles\n${question}\n\n${question}:${solution}\n`);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(out, 'utf8')) as InspectReport;
  assert.deepEqual(report.puzzles.map((p) => [p.question, p.solution]), [[question, solution], [question, solution]]);
});

test('more than 10,000 puzzles: exit 2 naming the cap', () => {
  const file = join(dir, 'many.txt');
  writeFileSync(file, `${question}\n`.repeat(10_001));
  const r = reclab(['inspect', model, '--puzzles', file, ...cheap]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /10001 puzzles given; an inspection takes at most 10000/);
});

// Row 1's 1 can only go in column 1 (column 2 has r4's 1, column 3 r2's 1, column 4 holds 4);
// then row 3 has no place for a 1 (columns 1, 2, 3 hold one; column 4 is 2): no solution, no clash.
const unsolvable = '...4..1....2.1..';
const refusals: [string, RegExp][] = [
  ['11..............', /digit 1 appears twice in row 1/],
  [unsolvable, /the puzzle has no solution/],
  [`${question}:2234341221434321`, /solution: not a valid grid: digit 2 appears twice in row 1/],
  [`${question}:2134342112434312`, /solution: cell 1 \(row 1, column 1\) is 2 but the puzzle gives 1/], // 1 and 2 swapped: a valid grid
];

test('the one puzzle checker (inspect and trace): clashing givens, unsolvable, a solution that contradicts a given', () => {
  for (const [text, reason] of refusals) {
    const c = checkPuzzleText(text, 4);
    assert.ok('refused' in c && reason.test(c.refused), `${text}: ${JSON.stringify(c)}`);
    const r = reclab(['inspect', model, '--puzzle', text, ...cheap]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--puzzle #1: puzzle refused: /);
    assert.match(r.stderr, reason);
  }
  const ok = checkPuzzleText(question, 4);
  assert.ok(!('refused' in ok) && ok.solution!.join('') === solution);
});

test('the default inspection length is the model\'s reclab.halt_max_steps', () => {
  const five = join(dir, 'nsup5.onnx');
  writeFileSync(five, affineStepGraph(halfA, [1, -2, 0.5, 3], [1, 1, 1, 1], { metadata: { 'reclab.halt_max_steps': '5' } }));
  const r = reclab(['inspect', five, '--puzzle', question, '--perturbations', '0', '--power-iterations', '0', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(dir, 'nsup5.inspection.json'), 'utf8')) as InspectReport;
  assert.equal(report.options.steps, 5);
  assert.equal(report.puzzles[0]!.trace.qHalt.length, 5);
});

test('a dimension mismatch inside the graph: exit 1 naming the file', () => {
  const bad = join(dir, 'mismatched.onnx');
  writeFileSync(bad, affineStepGraph(halfA, [0, 0, 0, 0], [1, 1, 1, 1], { mismatchedWeight: true }));
  const r = reclab(['inspect', bad, '--puzzle', question, ...cheap]);
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.stderr.includes(`reclab inspect: ${bad}: onnxruntime`), r.stderr);
});

test('model.onnx is current only when its metadata names this run and its latest checkpoint step, whatever its mtime', () => {
  const tiny = {
    extends: 'sudoku4', checkpointEverySteps: 0,
    model: { hiddenSize: 8, layers: 1, hCycles: 1, lCycles: 1 },
    train: { batchSize: 4, microBatchSize: 4, haltMaxSteps: 3 },
    data: { trainPuzzles: 20, testBlanks: [4, 5], testPerBlank: 2 },
    eval: { everySteps: 0, puzzlesPerBlank: 1, batchSize: 8, gradientVarianceGroups: 2 },
    refinement: { everySteps: 0, probePuzzles: 1, perCycle: false },
  };
  writeFileSync(join(dir, 'tiny.reclab.json'), JSON.stringify(tiny));
  const [a, b] = [join(dir, 'run-a'), join(dir, 'run-b')];
  for (const [run, seed] of [[a, '1'], [b, '2']] as const) {
    const t = reclab(['train', '--config', 'tiny.reclab.json', '--run-dir', run, '--steps', '2', '--seed', seed, '--backend', 'cpu', '--quiet']);
    assert.equal(t.code, 0, t.stderr);
    const e = reclab(['export', run]);
    assert.equal(e.code, 0, e.stderr);
    assert.equal(exportIsCurrent(run), true);
  }
  // Another run's export, newer than run a's checkpoint: not current.
  copyFileSync(join(b, 'model.onnx'), join(a, 'model.onnx'));
  const later = new Date(Date.now() + 60_000);
  utimesSync(join(a, 'model.onnx'), later, later);
  assert.equal(exportIsCurrent(a), false);
  const r = reclab(['inspect', a, '--held-out', '2', '--perturbations', '0', '--power-iterations', '0', '--probe-blanks', '']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /exported step 2 to /);
  assert.equal(exportIsCurrent(a), true);
  const report = JSON.parse(readFileSync(join(a, 'inspection.json'), 'utf8')) as InspectReport;
  assert.equal(report.options.steps, 3); // the run's N_sup, from the export's reclab.halt_max_steps

  // trace refuses the same puzzles with the same reasons (one checker).
  for (const [text, reason] of refusals) {
    const t = reclab(['trace', a, '--puzzle', text, '--backend', 'cpu']);
    assert.equal(t.code, 2, t.stderr);
    assert.match(t.stderr, reason);
  }
});
