// OnnxWorkerModel: an onnxruntime session in a worker thread answers exactly as the same file's
// session on the main thread (both single-threaded, the same kernels: bit-identical), several run
// steps at once, and a file that breaks the contract fails to start with OnnxStepModel's message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { presets } from '../../protocol/presets';
import { TrmModel } from '../../trainer/model/trm';
import { buildTrmStepModel } from '../../trainer/onnx/trmStepGraph';
import { OnnxStepModel } from '../../trainer/onnx/onnxStepModel';
import { OnnxWorkerModel } from '../../trainer/onnx/onnxWorkerModel';
import { Rng } from '../../trainer/random';

const dir = mkdtempSync(join(tmpdir(), 'reclab-onnx-worker-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function modelFile(): string {
  const model = new TrmModel({ ...presets['sudoku4']!.model, hiddenSize: 16, layers: 2 }, { vocabSize: 6, seqLen: 16 });
  const rng = new Rng(3);
  const { hInit, lInit } = model.initialStates(rng);
  const file = join(dir, 'm.onnx');
  writeFileSync(file, buildTrmStepModel(model, { params: model.initialParameters(rng), hInit, lInit }, { haltMaxSteps: 8 }));
  return file;
}

test('a worker-thread session gives the main-thread session\'s outputs bit for bit; two workers step at once', async () => {
  const file = modelFile();
  const main = await OnnxStepModel.fromFile(file, { threads: 1 });
  const workers = await Promise.all([OnnxWorkerModel.start(file), OnnxWorkerModel.start(file)]);
  try {
    assert.deepEqual(workers[0]!.contract, main.contract);
    const B = 5, rng = new Rng(4);
    const tokens = Int32Array.from({ length: B * 16 }, () => 1 + rng.int(5));
    const reset = Uint8Array.of(1, 0, 1, 0, 0);
    const states = main.contract.states.map((s) => Float32Array.from({ length: B * s.seq * s.width }, () => rng.normal()));
    const input = { batch: B, tokens, states, reset };
    const expected = await main.step(input);
    const [a, b] = await Promise.all(workers.map((w) => w.step(input)));
    for (const got of [a!, b!]) {
      assert.deepEqual(got.states, expected.states);
      assert.deepEqual(got.logits, expected.logits);
      assert.deepEqual(got.qHalt, expected.qHalt);
      assert.deepEqual(got.qContinue, expected.qContinue);
    }
    assert.deepEqual(input.states, states, 'the caller keeps its input arrays');
    assert.deepEqual(await workers[0]!.initialStates(3), await main.initialStates(3));
  } finally {
    await main.dispose();
    await Promise.all(workers.map((w) => w.dispose()));
  }
});

test('a file that is not a contract-honouring model fails to start, naming the file, as on the main thread', async () => {
  const bad = join(dir, 'bad.onnx');
  writeFileSync(bad, 'not a model');
  const expected = await OnnxStepModel.fromFile(bad).then(() => '', (e: Error) => e.message);
  assert.ok(expected.includes(bad), expected);
  await assert.rejects(OnnxWorkerModel.start(bad), (e: Error) => e.message === expected);
});
