// `reclab vote`'s passes on a hand-written step model whose behaviour is known exactly: it knows
// every puzzle's solution, answers right only for the relabellings with an even shift and only
// from step 2 on, halts (q_halt > q_continue) only when right, and carries one state z_s = s, so
// the end residual after K steps is exactly 1/(K−1). Then the built CLI on a trained run: the
// single-pass accuracy through onnxruntime equals the TF.js engine's own evaluation (`reclab eval`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { StepContract } from '../../protocol/onnxContract';
import type { StepInput, StepModel, StepOutput } from '../../trainer/inspect/stepModel';
import { generatePuzzle } from '../../trainer/data/sudokuGenerator';
import { Rng } from '../../trainer/random';
import { applyRelabelling, cyclicShiftRelabellings } from '../../trainer/vote/relabelling';
import { runModelPasses } from '../../trainer/vote/votePasses';
import { sudokuTask } from '../../trainer/vote/voteCommand';
import { applyRule } from '../../trainer/vote/votingRules';
import type { VoteReport } from '../../protocol/voteReport';

const side = 4, L = 16, V = 6;
const contract: StepContract = {
  task: 'sudoku', sudokuSide: 4, vocab: ['<pad>', '<blank>', '1', '2', '3', '4'], vocabSize: V, seqLen: L, batch: undefined,
  states: [{ name: 'z', seq: 1, width: 1 }], answerState: 'z', arch: 'test', hCycles: 1, lCycles: 1, haltMaxSteps: 4, hasQContinue: true,
};

/** Knows the solution of every relabelled question it may see; right only for even shifts, from step 2. */
function oracle(known: Map<string, { solution: Uint8Array; shift: number }>): StepModel {
  return {
    contract,
    async step(input: StepInput): Promise<StepOutput> {
      const B = input.batch;
      const logits = new Float32Array(B * L * V);
      const states = [new Float32Array(B)];
      const qHalt = new Float32Array(B), qContinue = new Float32Array(B);
      for (let b = 0; b < B; b++) {
        const step = (input.reset[b] ? 0 : input.states[0]![b]!) + 1;
        states[0]![b] = step;
        const q = input.tokens.subarray(b * L, (b + 1) * L);
        const { solution, shift } = known.get(q.join(','))!;
        const right = step >= 2 && shift % 2 === 0;
        for (let i = 0; i < L; i++) logits[(b * L + i) * V + (right ? solution[i]! + 1 : 2)] = 1; // wrong: every cell "1"
        qHalt[b] = right ? 1 : -1;
        qContinue[b] = 0;
      }
      return { states, logits, qHalt, qContinue };
    },
    async initialStates(batch: number) { return [new Float32Array(batch)]; },
    async dispose() {},
  };
}

test('passes: each answer mapped back through the inverse, exact / halted / valid / end residual as the model made them', async () => {
  const rng = new Rng(5);
  const puzzles = Array.from({ length: 7 }, () => { const p = generatePuzzle(side, 6, rng); return { question: p.question, solution: p.answer }; });
  const relabellings = cyclicShiftRelabellings(side);
  const table = new Map<string, { solution: Uint8Array; shift: number }>();
  puzzles.forEach((p) => relabellings.forEach((r, shift) => {
    table.set(Array.from(applyRelabelling(p.question, r), (d) => d + 1).join(','), { solution: applyRelabelling(p.solution, r), shift });
  }));
  const model = oracle(table);
  // Batches of 5 rows cut across puzzles and relabellings (28 rows).
  const res = await runModelPasses(model, 3, sudokuTask(side), puzzles, relabellings.map((r) => ({ name: r.name, relabelling: r })), { steps: 4, maxBatch: 5 });
  assert.equal(res.stepCalls, 7 * 4 * 4);
  assert.deepEqual(res.exactAtStep, [0, 1, 1, 1], 'the unrelabelled pass (shift 0) is right from step 2');
  res.passes.forEach((passes, i) => {
    assert.deepEqual(passes.map((p) => p.perturbation), [0, 1, 2, 3]);
    for (const p of passes) {
      const right = p.perturbation % 2 === 0;
      assert.equal(p.model, 3);
      assert.equal(p.exact, right);
      if (right) assert.deepEqual(p.answer, puzzles[i]!.solution, 'mapped back to the puzzle\'s own frame');
      assert.equal(p.halted, right, 'q_halt 1 > q_continue 0 only when right');
      assert.equal(p.valid, right, 'the wrong answer (all 1s) breaks the rules');
      assert.ok(Math.abs(p.residual - 1 / 3) < 1e-12, `residual ${p.residual}`);
    }
    // Two of four passes right, and only those halted: 2·2 > 2, the reference rule solves it.
    assert.equal(applyRule('reference', passes).solved, true);
    assert.equal(applyRule('valid-grid', passes).solved, true);
  });
});

test('lanes: batches run side by side on several copies of the model, with the same passes, in the same order, as one lane', async () => {
  const rng = new Rng(6);
  const puzzles = Array.from({ length: 9 }, () => { const p = generatePuzzle(side, 6, rng); return { question: p.question, solution: p.answer }; });
  const relabellings = cyclicShiftRelabellings(side);
  const table = new Map<string, { solution: Uint8Array; shift: number }>();
  puzzles.forEach((p) => relabellings.forEach((r, shift) => {
    table.set(Array.from(applyRelabelling(p.question, r), (d) => d + 1).join(','), { solution: applyRelabelling(p.solution, r), shift });
  }));
  let inFlight = 0, most = 0;
  const used = new Set<number>();
  // Each lane's step answers after a macrotask, like onnxruntime's session.run off the main thread.
  const lane = (id: number): StepModel => {
    const m = oracle(table);
    return { ...m, async step(input) {
      used.add(id);
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
      return m.step(input);
    } };
  };
  const perturbations = relabellings.map((r) => ({ name: r.name, relabelling: r }));
  const one = await runModelPasses(oracle(table), 0, sudokuTask(side), puzzles, perturbations, { steps: 3, maxBatch: 5 });
  const three = await runModelPasses([lane(0), lane(1), lane(2)], 0, sudokuTask(side), puzzles, perturbations, { steps: 3, maxBatch: 5 });
  assert.deepEqual(three.passes, one.passes);
  assert.deepEqual(three.exactAtStep, one.exactAtStep);
  assert.equal(three.stepCalls, one.stepCalls);
  assert.deepEqual([...used].sort(), [0, 1, 2], 'every lane ran batches');
  assert.equal(most, 3, 'three batches were in flight at once');
});

/** z ↦ z (every start is a fixed point), q_halt = z: a pass's q_halt is its initial state. */
const echo: StepModel = {
  contract: { ...contract, hasQContinue: false },
  async step(input: StepInput): Promise<StepOutput> {
    const z = input.states[0]!.slice();
    return { states: [z], logits: new Float32Array(input.batch * L * V), qHalt: z.slice() };
  },
  async initialStates(batch: number) { return [new Float32Array(batch)]; },
  async dispose() {},
};

test('noisy starts: initial states + N(0, std²), drawn per (seed, puzzle) so batching does not change them; the unperturbed pass starts exactly at the initial states', async () => {
  const rng = new Rng(9);
  const puzzles = Array.from({ length: 400 }, () => { const p = generatePuzzle(side, 6, rng); return { question: p.question, solution: p.answer }; });
  const identity = cyclicShiftRelabellings(side, 1)[0]!;
  const perturbations = [{ name: 'identity', relabelling: identity }, { name: 'n1', relabelling: identity, noise: { std: 2, seed: 1 } }, { name: 'n2', relabelling: identity, noise: { std: 2, seed: 2 } }];
  const a = await runModelPasses(echo, 0, sudokuTask(side), puzzles, perturbations, { steps: 2, maxBatch: 7 });
  const b = await runModelPasses(echo, 0, sudokuTask(side), puzzles, perturbations, { steps: 2, maxBatch: 64 });
  assert.deepEqual(a.passes.map((p) => p.map((q) => q.qHalt)), b.passes.map((p) => p.map((q) => q.qHalt)), 'the same noise whatever the batching');
  assert.ok(a.passes.every((p) => p[0]!.qHalt === 0 && p[0]!.residual === 0));
  for (const k of [1, 2]) {
    const xs = a.passes.map((p) => p[k]!.qHalt);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1));
    // 400 draws of N(0, 4): the mean within 4·2/20 = 0.4, the sd within 15 %.
    assert.ok(Math.abs(mean) < 0.4 && Math.abs(sd - 2) < 0.3, `noise ${k}: mean ${mean}, sd ${sd}`);
  }
  assert.ok(a.passes.some((p) => p[1]!.qHalt !== p[2]!.qHalt), 'two noise seeds draw different starts');
  // No continue head: halted means q_halt > 0.
  assert.ok(a.passes.every((p) => p.every((q) => q.halted === q.qHalt > 0)));
});

const dir = mkdtempSync(join(tmpdir(), 'reclab-vote-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const cli = resolve(__dirname, '../../dist/trainer/cli.js');

test('reclab vote on a trained run: single-pass accuracy equals reclab eval of the same checkpoint; passes = puzzles × relabellings × checkpoints', { timeout: 600_000 }, () => {
  const config = join(dir, 'c.json');
  writeFileSync(config, JSON.stringify({ extends: 'sudoku4', seed: 2, checkpointEverySteps: 40, train: { steps: 120, checkpoints: { keepLast: 3 } }, eval: { everySteps: 0 }, data: { testPerBlank: 30 }, refinement: { everySteps: 0 } }));
  const runDir = join(dir, 'run');
  const train = spawnSync(process.execPath, [cli, 'train', '--config', config, '--run-dir', runDir, '--quiet'], { encoding: 'utf8' });
  assert.equal(train.status, 0, train.stderr);
  const events = readFileSync(join(runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; exactAccuracy?: number; puzzles?: number });
  const finalEval = events.filter((e) => e.type === 'eval').at(-1)!;
  const vote = spawnSync(process.execPath, [cli, 'vote', runDir, '--checkpoints', '3', '--held-out', String(finalEval.puzzles), '--json', '--quiet'], { encoding: 'utf8' });
  assert.equal(vote.status, 0, vote.stderr);
  const report = JSON.parse(vote.stdout) as VoteReport;
  assert.equal(report.puzzles.count, finalEval.puzzles);
  assert.deepEqual(report.models.map((m) => m.step), [120, 80, 40]);
  assert.deepEqual(report.table.map((r) => r.passesPerPuzzle), [1, 4, 3, 12]);
  assert.deepEqual(report.table.map((r) => r.modelCallsPerPuzzle), [8, 32, 24, 96]);
  // Two implementations of one evaluation: TF.js (reclab train's final eval, EMA weights, all
  // N_sup steps) and the exported graph on onnxruntime. fp32 argmax ties may flip a puzzle or two.
  const single = report.table[0]!.accuracy.single;
  assert.ok(finalEval.exactAccuracy! > 0.05 && finalEval.exactAccuracy! < 0.95, `an intermediate model: ${finalEval.exactAccuracy}`);
  assert.ok(Math.abs(single - finalEval.exactAccuracy!) <= 2 / finalEval.puzzles!, `vote ${single} vs eval ${finalEval.exactAccuracy}`);
  assert.equal(report.depth.at(-1)!.accuracy, single);
  // Generated puzzles have one solution, so "valid" means "exact": the label-free form of the
  // reference rule can never beat the label-using one.
  for (const r of report.table) assert.ok(r.accuracy.reference >= r.accuracy['reference-label-free'] - 1e-12);
});

test('reclab vote on a maze run: the S/G swap and dihedral maps as perturbations, the reference rule in its maze form', { timeout: 300_000 }, () => {
  const config = join(dir, 'maze.json');
  writeFileSync(config, JSON.stringify({
    extends: 'maze-small', seed: 4, checkpointEverySteps: 2, model: { hiddenSize: 16, numHeads: 2 },
    train: { steps: 2, batchSize: 8, microBatchSize: 8, checkpoints: { keepLast: 2 } },
    data: { size: 7, trainMazes: 8, testMazes: 6, minPathLength: 4 }, eval: { everySteps: 0, batchSize: 16 },
  }));
  const runDir = join(dir, 'maze-run');
  const train = spawnSync(process.execPath, [cli, 'train', '--config', config, '--run-dir', runDir, '--quiet'], { encoding: 'utf8' });
  assert.equal(train.status, 0, train.stderr);
  const vote = spawnSync(process.execPath, [cli, 'vote', runDir, '--relabellings', '4', '--json', '--quiet'], { encoding: 'utf8' });
  assert.equal(vote.status, 0, vote.stderr);
  const report = JSON.parse(vote.stdout) as VoteReport;
  assert.equal(report.task, 'maze');
  assert.equal(report.puzzles.count, 6);
  assert.deepEqual(report.perturbation.names, ['identity', 'swap S/G', 'dihedral#1', 'dihedral#2']);
  assert.deepEqual(report.table.map((r) => r.passesPerPuzzle), [1, 4, 1, 4]);
  const refused = spawnSync(process.execPath, [cli, 'vote', runDir, '--relabel', 'shift', '--quiet'], { encoding: 'utf8' });
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /--relabel: a maze model has one kind/);
});
