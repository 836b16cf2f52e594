// TRM-DEQ on TF.js (reference.md §4.2, docs/deq-solvers.md): the config's defaults and refusals,
// the gradient of a training step against central finite differences of the K-step phantom map
// (z_L* held fixed, so the finite differences see exactly the function the phantom gradient
// differentiates), the stop rule seen in the step's solver statistics, and training memory
// that does not grow with maxIter.
import { test } from 'node:test';
import { stepPeakBytes, tinyDeqConfig, tinyDeqTask, tinyDeqTrain } from './deqFixtures';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../trainer/backend';
import { TrmDeqModel } from '../../trainer/model/trmDeq';
import { modelSchema, resolveDeq, type ModelConfig, type TrainConfig } from '../../protocol/config';
import { presets } from '../../protocol/presets';
import { InputError } from '../../trainer/inputError';
import { Rng } from '../../trainer/random';
import { actLoss } from '../../trainer/train/losses';
import { createTrainState, disposeTrainState } from '../../trainer/train/trainState';
import { trainStep } from '../../trainer/train/trainStep';
import { DEQ_STEP_STATISTICS, DeqStepStatistics } from '../../trainer/model/deqStepStatistics';
import type { ParamSet } from '../../trainer/model/recursiveModel';

test.before(async () => { await selectBackend('cpu'); });

const cfg: ModelConfig = tinyDeqConfig;
const task = tinyDeqTask;
const train: TrainConfig = tinyDeqTrain;

test('config: trm-deq with partial model.deq parses; absent fields take the reference README defaults; bad fields are refused by name', () => {
  assert.deepEqual(resolveDeq(modelSchema.parse(cfg)), {
    solver: 'anderson', maxIter: 6, minIter: 2, tol: 1e-3, stopMode: 'rel', memory: 5, beta: 1, lambda: 1e-4,
    gradient: 'phantom', phantomSteps: 2, phantomDamping: 1, adjointClip: 1, jacobianReg: 0,
  });
  const bad = modelSchema.safeParse({ ...cfg, deq: { solver: 'newton' } });
  assert.ok(!bad.success && bad.error.issues[0]!.path.join('.') === 'deq.solver');
  const unknown = modelSchema.safeParse({ ...cfg, deq: { maxIters: 3 } });
  assert.ok(!unknown.success && /maxIters/.test(JSON.stringify(unknown.error.issues)));
  // minIter above maxIter: the solver's own check, at construction.
  assert.throws(() => new TrmDeqModel({ ...cfg, deq: { maxIter: 3, minIter: 5 } }, task), (e: unknown) => e instanceof InputError && /minIter/.test((e as Error).message));
  // IFT and λ_jac > 0 build (torch runs, evaluation) but are refused when TF.js training starts.
  assert.throws(() => new TrmDeqModel({ ...cfg, deq: { gradient: 'ift' } }, task).checkTrainableOnTfjs(), (e: unknown) => e instanceof InputError && /ift/.test((e as Error).message));
  assert.throws(() => new TrmDeqModel({ ...cfg, deq: { gradient: 'onestep' } }, task).checkTrainableOnTfjs(), (e: unknown) => e instanceof InputError && /"onestep" is implemented by the torch engine only/.test((e as Error).message));
  assert.ok(modelSchema.safeParse({ ...cfg, deq: { gradient: 'onestep', adjointClip: null } }).success, 'adjointClip null = no clip');
  assert.ok(!modelSchema.safeParse({ ...cfg, deq: { adjointClip: 0 } }).success, 'adjointClip must be > 0');
  assert.throws(() => new TrmDeqModel({ ...cfg, deq: { jacobianReg: 1e-3 } }, task).checkTrainableOnTfjs(), (e: unknown) => e instanceof InputError && /jacobianReg/.test((e as Error).message));
  new TrmDeqModel(cfg, task).checkTrainableOnTfjs();
  assert.equal(presets['attractor-sudoku-extreme']!.model.layers, 8);
  assert.equal(resolveDeq(presets['attractor-sudoku-extreme']!.model).jacobianReg, 1e-3);
});

function params(model: TrmDeqModel, seed: number): Record<string, tf.Tensor> {
  const values = model.initialParameters(new Rng(seed));
  const out: Record<string, tf.Tensor> = {};
  for (const s of model.parameterSpecs()) out[s.name] = tf.tensor(values.get(s.name)!, s.shape);
  // A non-zero Q head, so the q_halt loss depends on z_H too.
  out['q_head.w'] = tf.tensor(Float32Array.from({ length: 16 }, (_, i) => Math.sin(i) * 0.3), [8, 2]);
  return out;
}

test('gradient of the taped step = central finite differences of L(net(z_H, Φ_K(z_L*))) with z_L* fixed (K = 2; K = 1 with damping 0.7)', () => {
  for (const K of [2, 1]) {
    const model = new TrmDeqModel({ ...cfg, deq: { ...cfg.deq, phantomSteps: K, phantomDamping: K === 1 ? 0.7 : 1 } }, task);
    const p = params(model, 3);
    const rng = new Rng(4);
    const B = 2;
    const tokens = tf.tensor2d(Int32Array.from({ length: B * 4 }, () => 1 + rng.int(5)), [B, 4], 'int32');
    const labels = tf.tensor2d(Int32Array.from({ length: B * 4 }, () => 2 + rng.int(4)), [B, 4], 'int32');
    const S = model.totalLen;
    const z0 = () => tf.tensor3d(Float32Array.from({ length: B * S * 8 }, () => rng.normal()), [B, S, 8]);
    const x0 = model.inputEmbedding(p, tokens);
    const warm = model.stepWithoutGradient(p, { zH: z0(), zL: z0() }, x0, model.depth);
    const loss = (q: ParamSet) => {
      const { zH } = model.stepWithGradient(q, warm, model.inputEmbedding(q, tokens), model.depth);
      const h = model.heads(q, zH);
      const l = actLoss(h.logits, labels, h.qHalt, 'softmax');
      return tf.add(tf.sum(l.lmLossPerRow), tf.sum(l.qHaltLossPerRow)) as tf.Scalar;
    };
    const names = ['layers.0.mlp.gate_up', 'layers.0.seq_mlp.down', 'embed_tokens', 'puzzle_emb'];
    const vars = names.map((n) => tf.variable(p[n]!));
    const { grads } = tf.variableGrads(() => loss({ ...p, ...Object.fromEntries(names.map((n, i) => [n, vars[i]!])) }), vars);
    names.forEach((n, i) => {
      const g = grads[vars[i]!.name]!.dataSync();
      const base = p[n]!.dataSync();
      for (const idx of [0, 5, base.length - 1]) {
        const h = 1e-2;
        const at = (d: number) => tf.tidy(() => {
          const v = Float32Array.from(base);
          v[idx] = v[idx]! + d;
          return loss({ ...p, [n]: tf.tensor(v, p[n]!.shape) }).dataSync()[0]!;
        });
        const fd = (at(h) - at(-h)) / (2 * h);
        assert.ok(Math.abs(fd - g[idx]!) <= 2e-2 * Math.abs(fd) + 2e-3, `K ${K} ${n}[${idx}]: taped ${g[idx]} vs finite difference ${fd}`);
      }
    });
  }
});

test('step events carry the solver statistics; the stop rule shows in them (tol 1e-12: maxIter; tol 1e9: minIter)', () => {
  for (const [tol, want] of [[1e-12, 6], [1e9, 2]] as const) {
    const model = new TrmDeqModel({ ...cfg, deq: { ...cfg.deq, tol } }, task);
    const state = createTrainState(model, train, new Rng(1));
    const rng = new Rng(2);
    const incoming = {
      size: 4, seqLen: 4, tokens: Int32Array.from({ length: 16 }, () => 1 + rng.int(5)),
      labels: Int32Array.from({ length: 16 }, () => 2 + rng.int(4)), blanks: new Int32Array(4),
    };
    const m = trainStep(state, incoming, train, model.depth, 1e-3, new Rng(0));
    const s = m.modelStats!;
    assert.deepEqual(Object.keys(s).sort(), [...DEQ_STEP_STATISTICS].sort());
    assert.equal(s['deqIterations'], want);
    assert.equal(s['deqIterationsMax'], want);
    assert.equal(s['deqConvergedFraction'], tol > 1 ? 1 : 0);
    assert.ok(s['deqAbsMax']! >= s['deqAbsMean']! && s['deqAbsMean']! > 0 && s['deqRelMax']! >= s['deqRelMean']!);
    disposeTrainState(state);
  }
});

test('training memory: the peak bytes of a training step barely change from maxIter 8 to 32 (no iterate is taped)', async () => {
  const [a, b] = await stepPeakBytes({ ...cfg, deq: { ...cfg.deq } }, [8, 32]);
  assert.deepEqual([a!.iterations, b!.iterations], [8, 32]);
  // A tape over the solve would keep every iterate's activations (4x the iterations: several times
  // the peak). What remains (~0.26 KB per iteration, measured independent of the batch size on a
  // bare Anderson solve) is per-iteration bookkeeping, not states.
  assert.ok(b!.peak < 1.1 * a!.peak, `peak bytes ${a!.peak} vs ${b!.peak}`);
});

test('DeqStepStatistics over hand-made solves: iterations mean 4 and max 5 of (3, 5); residual mean/max over solve x row; converged 2 of 4', () => {
  const solve = (iterations: number, abs: number[], rel: number[], converged: boolean[]) => ({
    solver: 'anderson' as const, stopMode: 'rel' as const, tol: 1e-3, iterations, absTrace: [], relTrace: [], absLowest: abs, relLowest: rel,
    nstep: abs.map(() => iterations), abs, rel, converged, fallbacks: 0,
  });
  const s = new DeqStepStatistics();
  s.add(solve(3, [0.5, 1.5], [0.1, 0.3], [true, false]));
  s.add(solve(5, [2, 0], [0.4, 0.0], [false, true]));
  assert.deepEqual(s.take(), { deqIterations: 4, deqIterationsMax: 5, deqAbsMean: 1, deqAbsMax: 2, deqRelMean: 0.2, deqRelMax: 0.4, deqConvergedFraction: 0.5 });
  assert.equal(s.take(), undefined, 'a take starts afresh');
  s.add(solve(2, [1], [1], [true]));
  assert.equal(s.take()!['deqIterationsMax'], 2, 'the max starts afresh too');
});
