// The ONNX step contract's validator: a hand-written description that honours it passes and
// yields the expected contract; each kind of violation is reported naming the input, output or
// property. Our exported TRM, read back from its bytes, honours it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateStepContract, type ModelDescription } from '../../protocol/onnxContract';
import { presets } from '../../protocol/presets';
import { TrmModel } from '../../trainer/model/trm';
import { describeOnnxBytes } from '../../trainer/onnx/modelDescription';
import { buildTrmStepModel } from '../../trainer/onnx/trmStepGraph';
import { Rng } from '../../trainer/random';

function good(): ModelDescription {
  return {
    inputs: [
      { name: 'tokens', elemType: 'int64', dims: ['batch', 16] },
      { name: 'z_H', elemType: 'float32', dims: ['batch', 17, 32] },
      { name: 'z_L', elemType: 'float32', dims: ['batch', 17, 32] },
      { name: 'reset', elemType: 'bool', dims: ['batch'] },
    ],
    outputs: [
      { name: 'z_H_next', elemType: 'float32', dims: ['batch', 17, 32] },
      { name: 'z_L_next', elemType: 'float32', dims: ['batch', 'S', null] },
      { name: 'logits', elemType: 'float32', dims: ['batch', 16, 6] },
      { name: 'q_halt', elemType: 'float32', dims: ['batch'] },
      { name: 'z_H_init', elemType: 'float32', dims: ['batch', 17, 32] },
      { name: 'z_L_init', elemType: 'float32', dims: undefined },
    ],
    metadata: {
      'reclab.contract': 'reclab-onnx-step-1', 'reclab.task': 'sudoku', 'reclab.vocab': '<pad>,<blank>,1,2,3,4',
      'reclab.seq_len': '16', 'reclab.state_names': 'z_H,z_L', 'reclab.arch': 'trm', 'reclab.h_cycles': '3', 'reclab.l_cycles': '6',
    },
  };
}

function problems(d: ModelDescription): string[] {
  const r = validateStepContract(d);
  assert.equal(r.ok, false, 'expected the description to be refused');
  return r.ok ? [] : r.problems;
}

test('a description honouring the contract passes, with its shapes and properties read', () => {
  const r = validateStepContract(good());
  assert.ok(r.ok, r.ok ? '' : r.problems.join('\n'));
  assert.deepEqual(r.contract, {
    task: 'sudoku', sudokuSide: 4, vocab: ['<pad>', '<blank>', '1', '2', '3', '4'], vocabSize: 6, seqLen: 16, batch: undefined,
    states: [{ name: 'z_H', seq: 17, width: 32 }, { name: 'z_L', seq: 17, width: 32 }], answerState: 'z_H', arch: 'trm',
    hCycles: 3, lCycles: 6, haltMaxSteps: undefined, hasQContinue: false,
  });
});

test('each violation names the input, output or property and what was expected', () => {
  const d1 = good();
  d1.inputs[3] = { name: 'reset', elemType: 'float32', dims: ['batch'] };
  assert.deepEqual(problems(d1), ['input "reset": expected bool, got float32']);

  const d2 = good();
  d2.outputs = d2.outputs.filter((o) => o.name !== 'z_L_init');
  assert.deepEqual(problems(d2), ['output "z_L_init" is missing (expected float32 [B, 17, 32])']);

  const d3 = good();
  d3.outputs[0] = { name: 'z_H_next', elemType: 'float32', dims: ['batch', 17, 16] };
  assert.deepEqual(problems(d3), ['output "z_H_next": expected shape [B, 17, 32], got [batch, 17, 16]']);

  const d4 = good();
  d4.inputs[1] = { name: 'z_H', elemType: 'float32', dims: ['batch', 'S', 32] };
  assert.ok(problems(d4).includes('input "z_H": expected shape [B, S, D] with S and D fixed, got [batch, S, 32]'));

  const d5 = good();
  delete d5.metadata['reclab.h_cycles'];
  d5.metadata['reclab.seq_len'] = 'sixteen';
  assert.deepEqual(problems(d5), [
    'property "reclab.seq_len": expected a positive integer (the number of puzzle tokens L), got "sixteen"',
    'property "reclab.h_cycles" is missing (T, cycles per step)',
  ]);

  const d6 = good();
  d6.metadata['reclab.vocab'] = '<pad>,<blank>,a,b,c,d';
  assert.deepEqual(problems(d6), ['property "reclab.vocab": a 4x4 Sudoku model uses the reference encoding "<pad>,<blank>,1,2,3,4", got "<pad>,<blank>,a,b,c,d"']);

  const d7 = good();
  d7.inputs.push({ name: 'extra', elemType: 'float32', dims: [1] });
  d7.inputs[0] = { name: 'tokens', elemType: 'int64', dims: [4, 16] };
  assert.deepEqual(problems(d7), [
    'input "extra" is not part of the contract (inputs: tokens, z_H, z_L, reset)',
    'the batch dimension B differs between the inputs (4, batch)',
  ]);

  const d8 = good();
  d8.metadata['reclab.contract'] = 'reclab-onnx-step-0';
  d8.outputs[2] = { name: 'logits', elemType: 'float32', dims: ['batch', 16, 11] };
  assert.deepEqual(problems(d8), [
    'property "reclab.contract": expected "reclab-onnx-step-1", got "reclab-onnx-step-0"',
    'output "logits": expected shape [B, 16, 6], got [batch, 16, 11]',
  ]);
});

test('our exported TRM step, read back from its bytes, honours the contract', () => {
  const model = new TrmModel({ ...presets['sudoku4']!.model, hiddenSize: 8, layers: 1 }, { vocabSize: 6, seqLen: 16 });
  const rng = new Rng(1);
  const { hInit, lInit } = model.initialStates(rng);
  const bytes = buildTrmStepModel(model, { params: model.initialParameters(rng), hInit, lInit }, { haltMaxSteps: 8 });
  const r = validateStepContract(describeOnnxBytes(bytes));
  assert.ok(r.ok, r.ok ? '' : r.problems.join('\n'));
  assert.deepEqual(r.contract.states, [{ name: 'z_H', seq: 17, width: 8 }, { name: 'z_L', seq: 17, width: 8 }]);
  assert.equal(r.contract.hCycles, model.config.hCycles);
  assert.equal(r.contract.haltMaxSteps, 8);
  assert.equal(r.contract.hasQContinue, true);
});

test('a maze model: exported with task "maze", the Maze-Hard vocabulary and its grid; a wrong vocab or grid is refused', () => {
  const model = new TrmModel({ ...presets['maze-small']!.model, hiddenSize: 8, numHeads: 2, layers: 1 }, { vocabSize: 6, seqLen: 25 });
  const rng = new Rng(2);
  const { hInit, lInit } = model.initialStates(rng);
  const bytes = buildTrmStepModel(model, { params: model.initialParameters(rng), hInit, lInit }, { haltMaxSteps: 4, task: { kind: 'maze', height: 5, width: 5 } });
  const description = describeOnnxBytes(bytes);
  const r = validateStepContract(description);
  assert.ok(r.ok, r.ok ? '' : r.problems.join('\n'));
  assert.equal(r.contract.task, 'maze');
  assert.equal(r.contract.sudokuSide, undefined, 'the Sudoku analyses stay off');
  assert.deepEqual(r.contract.mazeGrid, { height: 5, width: 5 });
  assert.deepEqual(r.contract.vocab, ['<pad>', '#', '<open>', 'S', 'G', 'o']);
  const withProps = (props: Record<string, string>) => ({ ...description, metadata: { ...description.metadata, ...props } });
  assert.match(problems(withProps({ 'reclab.vocab': '<pad>,<blank>,1,2,3,4' })).join('\n'), /reclab\.vocab.*Maze-Hard encoding/);
  assert.match(problems(withProps({ 'reclab.grid': '4x5' })).join('\n'), /reclab\.grid.*H \* W = 25, got "4x5"/);
});

test('DEQ models: the four reclab.deq_* properties together; deq_residuals [B, T, K] and deq_inner_map [B, S, D] checked against them', () => {
  const deq = (): ModelDescription => {
    const d = good();
    Object.assign(d.metadata, { 'reclab.deq_solver_export': 'fpi', 'reclab.deq_iterations': '4', 'reclab.deq_solver_trained': 'anderson', 'reclab.deq_inner_state': 'z_L' });
    d.outputs.push({ name: 'deq_residuals', elemType: 'float32', dims: ['batch', 3, 4] }, { name: 'deq_inner_map', elemType: 'float32', dims: ['batch', 17, 32] });
    return d;
  };
  const r = validateStepContract(deq());
  assert.ok(r.ok, r.ok ? '' : r.problems.join('\n'));
  assert.deepEqual(r.contract.deq, { solverExport: 'fpi', iterations: 4, solverTrained: 'anderson', innerState: 'z_L', hasResiduals: true, hasInnerMap: true });
  // Optional outputs: without them the model still honours the contract.
  const bare = deq();
  bare.outputs = bare.outputs.filter((o) => !o.name.startsWith('deq_'));
  const rb = validateStepContract(bare);
  assert.ok(rb.ok && rb.contract.deq?.hasResiduals === false && rb.contract.deq.hasInnerMap === false);
  // A model without the keys has no deq.
  const plain = validateStepContract(good());
  assert.ok(plain.ok && plain.contract.deq === undefined);

  const missing = deq();
  delete missing.metadata['reclab.deq_solver_trained'];
  assert.deepEqual(problems(missing), ['property "reclab.deq_solver_trained" is missing (the solver the model was trained with)']);
  const wrong = deq();
  wrong.metadata['reclab.deq_inner_state'] = 'z_X';
  wrong.outputs[6] = { name: 'deq_residuals', elemType: 'float32', dims: ['batch', 3, 5] };
  wrong.outputs[7] = { name: 'deq_inner_map', elemType: 'float16', dims: ['batch', 17, 32] };
  assert.deepEqual(problems(wrong), [
    'property "reclab.deq_inner_state": "z_X" is not one of the states z_H, z_L',
    'output "deq_residuals": expected shape [B, 3, 4], got [batch, 3, 5]',
    'output "deq_inner_map": expected float32, got float16',
  ]);
});
