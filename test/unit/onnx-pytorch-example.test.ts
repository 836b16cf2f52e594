// docs/examples/export_trm_onnx.py — the documented PyTorch export — run with Debian's PyTorch
// (installed by test/setup/python-torch.sh when missing): its graph honours the step contract,
// onnxruntime-node's step equals PyTorch's own forward on the same inputs, and it loads and
// inspects through the same path as our own models (OnnxStepModel + inspectPuzzles, and the CLI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { InspectReport } from '../../protocol/inspectReport';
import { defaultInspectOptions, inspectPuzzles } from '../../trainer/inspect/inspectModel';
import { OnnxStepModel } from '../../trainer/onnx/onnxStepModel';
import { parsePuzzleString } from '../../trainer/data/puzzleString';

const root = resolve(__dirname, '../..');
const script = join(root, 'docs/examples/export_trm_onnx.py');
const cli = join(root, 'dist/trainer/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'reclab-pytorch-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test.before(() => {
  execFileSync('bash', [join(root, 'test/setup/python-torch.sh')], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 15 * 60_000 });
});

function maxAbs(a: Float32Array, b: number[]): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

for (const mixer of ['mlp_t', 'attention'] as const) {
  test(`the PyTorch example (${mixer}) exports a contract-honouring step that matches PyTorch within 1e-4 and inspects`, async () => {
    const onnx = join(dir, `trm-${mixer}.onnx`);
    const ref = join(dir, `trm-${mixer}.json`);
    const r = spawnSync('/usr/bin/python3', [script, '--out', onnx, '--mixer', mixer, '--reference', ref, '--h-cycles', '2', '--l-cycles', '3'],
      { encoding: 'utf8', timeout: 120_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });
    assert.equal(r.status, 0, r.stderr);
    const model = await OnnxStepModel.fromFile(onnx, { threads: 1 });
    try {
      assert.deepEqual(model.contract.states, [{ name: 'z_H', seq: 17, width: 32 }, { name: 'z_L', seq: 17, width: 32 }]);
      assert.deepEqual([model.contract.arch, model.contract.hCycles, model.contract.lCycles, model.contract.sudokuSide], ['trm', 2, 3, 4]);
      const want = JSON.parse(readFileSync(ref, 'utf8')) as Record<string, number[]> & { batch: number; reset: boolean[] };
      const got = await model.step({
        batch: want.batch, tokens: Int32Array.from(want.tokens!), reset: Uint8Array.from(want.reset.map(Number)),
        states: [Float32Array.from(want.z_H!), Float32Array.from(want.z_L!)],
      });
      const errors = [maxAbs(got.states[0]!, want.z_H_next!), maxAbs(got.states[1]!, want.z_L_next!), maxAbs(got.logits, want.logits!), maxAbs(got.qHalt, want.q_halt!)];
      assert.ok(Math.max(...errors) < 1e-4, `max abs errors vs PyTorch ${errors}`);

      const puzzle = { question: parsePuzzleString('1.3..4.22..3.3.1', 4), solution: parsePuzzleString('1234341221434321', 4) };
      const report = await inspectPuzzles(model, [puzzle], { ...defaultInspectOptions, steps: 4, perturbations: 2, powerIterations: 4, probeBlanks: [1] });
      const p = report.puzzles[0]!;
      assert.equal(p.trace.answers.length, 4);
      assert.equal(p.trace.residuals['z_H']!.length, 4);
      assert.ok(p.trace.residuals['z_L']!.every((x) => Number.isFinite(x) && x > 0));
      assert.ok(Number.isFinite(p.spectralRadius!) && p.spectralRadius! > 0);
      assert.equal(p.census!.runs, 1 + 2 + 3);
    } finally {
      await model.dispose();
    }
    const c = spawnSync(process.execPath, [cli, 'inspect', onnx, '--puzzle', '1.3..4.22..3.3.1', '--steps', '3', '--perturbations', '1', '--quiet', '--out', join(dir, `${mixer}.json`)], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(c.status, 0, c.stderr);
    const report = JSON.parse(readFileSync(join(dir, `${mixer}.json`), 'utf8')) as InspectReport;
    assert.equal(report.contract.arch, 'trm');
    assert.equal(report.puzzles[0]!.trace.answers.length, 3);
  });
}
