// DEQ solvers side by side on both engines: iterations and time to tolerance of plain fixed-point
// iteration vs Anderson (m = 5) vs Broyden on a 9x9-sized state [B, 81, D] (z ↦ tanh(zW + x), W symmetric with ‖W‖₂ = 0.95, x ~ 0.1·N(0, 1),
// stop rule rel < tol), and the memory of a phantom (K = 2) and an IFT gradient at max 8 vs 32
// solver iterations beside backprop through the whole solve (BPTT). TF.js: tf.profile peakBytes;
// torch (`python -m reclab.deq.bench --json`): bytes saved for backward (and CUDA peak on a GPU).
// Then the peak memory of one whole training step (trainStep / train_step) of a DEQ preset's model
// (--preset, default attractor-sudoku4; attractor-form-sudoku4 for the Attractor form) on a fixed batch at max 8 and max 32 solver iterations (minIter = maxIter, a
// tolerance no solve reaches: every solve takes all of them), after a warm-up step: TF.js tf.profile
// peak bytes (and the step's own high-water above the bytes held before it); torch in a fresh
// process per setting (`python -m reclab.deq.bench_step_memory`): peak RSS above the RSS before the
// first step, and the bytes autograd saved for backward.
//   npm run bench:deq [-- --batch 16 --hidden 64 --rounds 5 --tol 1e-4 --backend wasm --engines tfjs,torch --python PATH --parts solvers,step --preset NAME]
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '../protocol/config';
import { selectBackend } from '../trainer/backend';
import { anderson } from '../trainer/deq/anderson';
import { broyden } from '../trainer/deq/broyden';
import { implicitGradients, phantomUnroll } from '../trainer/deq/deqGradients';
import { fixedPointIteration } from '../trainer/deq/fixedPointIteration';
import { torchEnginePath, workerEnvironment } from '../trainer/engines/workerEnvironment';
import { Rng } from '../trainer/random';
import { presets } from '../protocol/presets';
import { createModel } from '../trainer/model/modelFactory';
import { createTrainState, disposeTrainState } from '../trainer/train/trainState';
import { trainStep } from '../trainer/train/trainStep';
import type { ModelConfig } from '../protocol/config';
import * as os from 'node:os';
import { torchPython } from './torchBenchStep';

const { values } = parseArgs({ options: {
  batch: { type: 'string', default: '16' },
  hidden: { type: 'string', default: '64' },
  rounds: { type: 'string', default: '5' },
  tol: { type: 'string', default: '1e-4' },
  backend: { type: 'string', default: 'wasm' },
  engines: { type: 'string', default: 'tfjs,torch' },
  python: { type: 'string' },
  parts: { type: 'string', default: 'solvers,step' },
  preset: { type: 'string', default: 'attractor-sudoku4' },
} });
const B = Number(values.batch);
const D = Number(values.hidden);
const rounds = Number(values.rounds);
const tol = Number(values.tol);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function benchTfjs(): Promise<void> {
  const backend = await selectBackend(values.backend as BackendName);
  const rng = new Rng(0);
  // Symmetric, so the spectral radius equals ‖W‖₂ and plain iteration is slow (rate ≈ 0.95).
  const g = tf.tensor2d(Float32Array.from({ length: D * D }, () => rng.normal()), [D, D]);
  const w0 = tf.tidy(() => tf.add(g, tf.transpose(g)));
  g.dispose();
  // ‖W‖₂ by power iteration, then scaled to 0.95.
  let v = tf.ones([D, 1]);
  for (let i = 0; i < 200; i++) { const n = tf.tidy(() => { const u = tf.matMul(w0, tf.matMul(w0, v), true); return tf.div(u, tf.norm(u)); }); v.dispose(); v = n; }
  const sigma = tf.tidy(() => tf.norm(tf.matMul(w0, v)).dataSync()[0]!);
  const W = tf.variable(tf.mul(w0, 0.95 / sigma) as tf.Tensor2D, true, 'benchW');
  const x = tf.tensor3d(Float32Array.from({ length: B * 81 * D }, () => 0.1 * rng.normal()), [B, 81, D]);
  const c = tf.tensor3d(Float32Array.from({ length: B * 81 * D }, () => rng.normal()), [B, 81, D]);
  const map = (z: tf.Tensor) => tf.tanh(tf.add(tf.reshape(tf.matMul(tf.reshape(z, [B * 81, D]), W), [B, 81, D]), x));
  const z0 = tf.zerosLike(x);
  console.log(`TF.js (${backend.name}): state [${B}, 81, ${D}], W symmetric, ‖W‖₂ = 0.95, tol ${tol} (rel), median of ${rounds}`);
  for (const [name, solve] of [['fixed_point_iter', fixedPointIteration], ['anderson', anderson], ['broyden', broyden]] as const) {
    const times: number[] = [];
    let iterations = 0;
    let converged = false;
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      const { solution, stats } = solve(map, z0, { maxIter: 200, tol, stopMode: 'rel' });
      times.push((performance.now() - t0) / 1000);
      iterations = stats.iterations;
      converged = stats.converged.every(Boolean);
      solution.dispose();
    }
    console.log(`  ${name.padEnd(16)} ${String(iterations).padStart(3)} iterations, ${median(times).toFixed(3)} s to tolerance${converged ? '' : ' (NOT converged)'}`);
  }
  const step = (kind: 'phantom' | 'ift' | 'bptt', maxIter: number) => {
    const o = { maxIter, minIter: maxIter, tol: 1e-30 };
    if (kind === 'bptt') {
      const { value, grads } = tf.variableGrads(() => { let z: tf.Tensor = z0; for (let k = 0; k < maxIter; k++) z = map(z); return tf.sum(tf.mul(z, c)); }, [W]);
      tf.dispose([value, ...Object.values(grads)]);
      return;
    }
    const { solution } = fixedPointIteration(map, z0, o);
    if (kind === 'phantom') {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(phantomUnroll(map, solution, { steps: 2 }), c)), [W]);
      tf.dispose([value, ...Object.values(grads)]);
    } else {
      const r = implicitGradients(map, solution, c, [W], { solver: 'anderson', options: o });
      tf.dispose([r.u, ...Object.values(r.grads)]);
    }
    solution.dispose();
  };
  console.log('  gradient memory, tf.profile peakBytes (MB) at max 8 / 32 solver iterations:');
  for (const kind of ['phantom', 'ift', 'bptt'] as const) {
    const peaks: number[] = [];
    for (const n of [8, 32]) peaks.push((await tf.profile(() => { step(kind, n); })).peakBytes / 1e6);
    console.log(`    ${kind.padEnd(8)} ${peaks[0]!.toFixed(2)} / ${peaks[1]!.toFixed(2)}  (×${(peaks[1]! / peaks[0]!).toFixed(2)})`);
  }
  tf.dispose([w0, v, W, x, c, z0]);
}

interface TorchResult {
  torch: string; device: string; threads: number; tol: number;
  solvers: Record<string, { iterations: number; seconds: number; converged: boolean }>;
  memory: Record<string, Record<string, { saved_bytes: number; cuda_peak_bytes: number | null }>>;
}

function benchTorch(): void {
  const python = torchPython(values.python);
  if (typeof python === 'string') {
    console.log(`torch: not available (${python})`);
    return;
  }
  const r = spawnSync(python.python, ['-m', 'reclab.deq.bench', '--json', '--batch', String(B), '--hidden', String(D), '--rounds', String(rounds), '--tol', String(tol)], {
    encoding: 'utf8', env: workerEnvironment(process.env, torchEnginePath(__dirname)), stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`python -m reclab.deq.bench exited with ${r.status ?? r.signal}`);
  const t = JSON.parse(r.stdout.trim().split('\n').pop()!) as TorchResult;
  console.log(`torch ${t.torch} (${t.device}, ${t.threads} threads): state [${B}, 81, ${D}], tol ${t.tol} (rel), median of ${rounds}`);
  for (const [name, s] of Object.entries(t.solvers)) console.log(`  ${name.padEnd(16)} ${String(s.iterations).padStart(3)} iterations, ${s.seconds.toFixed(3)} s to tolerance${s.converged ? '' : ' (NOT converged)'}`);
  console.log('  gradient memory, bytes saved for backward (MB) at max 8 / 32 solver iterations:');
  for (const [kind, m] of Object.entries(t.memory)) {
    const a = m['8']!.saved_bytes / 1e6;
    const b = m['32']!.saved_bytes / 1e6;
    const cuda = m['8']!.cuda_peak_bytes === null ? '' : `, CUDA peak ${(m['8']!.cuda_peak_bytes! / 1e6).toFixed(2)} / ${(m['32']!.cuda_peak_bytes! / 1e6).toFixed(2)}`;
    console.log(`    ${kind.padEnd(8)} ${a.toFixed(2)} / ${b.toFixed(2)}  (×${(b / a).toFixed(2)})${cuda}`);
  }
}

/** The DEQ preset's model with every solve forced to `maxIter` map evaluations. */
const preset = presets[values.preset]!;
if (!preset || !['trm-deq', 'attractor'].includes(preset.model.arch)) throw new Error(`--preset: ${values.preset} is not a DEQ preset (trm-deq or attractor)`);
const STEP_SEQ = 16;
const STEP_VOCAB = 6; // 4x4 Sudoku: pad, blank, digits 1-4
const forcedModel = (maxIter: number): ModelConfig => ({ ...preset.model, deq: { ...preset.model.deq, maxIter, minIter: maxIter, tol: 1e-30 } });

/** The fixed batch: B puzzles of random digits, half the cells blank (token 1). */
function fixedBatch(B: number) {
  const rng = new Rng(1);
  const labels = Int32Array.from({ length: B * STEP_SEQ }, () => 2 + rng.int(STEP_VOCAB - 2));
  const tokens = labels.map((l) => (rng.float() < 0.5 ? 1 : l));
  const blanks = Int32Array.from({ length: B }, (_, r) => tokens.subarray(r * STEP_SEQ, (r + 1) * STEP_SEQ).filter((t) => t === 1).length);
  return { size: B, seqLen: STEP_SEQ, tokens, labels, blanks };
}

async function stepMemoryTfjs(): Promise<void> {
  const backend = await selectBackend(values.backend as BackendName);
  const train = preset.train;
  const batch = fixedBatch(train.batchSize);
  console.log(`TF.js (${backend.name}): one ${values.preset} training step (B ${train.batchSize}, D ${preset.model.hiddenSize}, T ${preset.model.hCycles}, ${preset.model.deq?.solver ?? 'anderson'}, phantom K ${preset.model.deq?.phantomSteps ?? 2}), every solve at maxIter:`);
  const peaks: number[] = [];
  const own: number[] = [];
  for (const maxIter of [8, 32]) {
    const model = createModel(forcedModel(maxIter), { vocabSize: STEP_VOCAB, seqLen: STEP_SEQ });
    const state = createTrainState(model, train, new Rng(0));
    const haltRng = new Rng(2);
    trainStep(state, batch, train, model.depth, train.lr, haltRng); // warm-up: the optimizer's moments
    const held = tf.memory().numBytes;
    let iterations = 0;
    let iterationsMax = 0;
    const info = await tf.profile(() => {
      const m = trainStep(state, batch, train, model.depth, train.lr, haltRng);
      iterations = m.modelStats!['deqIterations']!;
      iterationsMax = m.modelStats!['deqIterationsMax']!;
    });
    peaks.push(info.peakBytes);
    own.push(info.peakBytes - held);
    console.log(`  maxIter ${String(maxIter).padStart(2)}: ${iterations} / ${iterationsMax} iterations per solve (mean / max); tf.profile peak ${(info.peakBytes / 1e6).toFixed(2)} MB, `
      + `of which ${((info.peakBytes - held) / 1e6).toFixed(2)} MB above the ${(held / 1e6).toFixed(2)} MB held before the step`);
    disposeTrainState(state);
  }
  // (The bytes held before the second setting's step include what the first left behind.)
  console.log(`  ratio 32 / 8: peak ×${(peaks[1]! / peaks[0]!).toFixed(3)}, the step's own high-water ×${(own[1]! / own[0]!).toFixed(3)}`);
}

function stepMemoryTorch(): void {
  const python = torchPython(values.python);
  if (typeof python === 'string') {
    console.log(`torch: not available (${python})`);
    return;
  }
  const results: { peakRssDelta: number; savedBytes: number; iterations: number; iterationsMax: number; threads: number; torch: string; rssBefore: number }[] = [];
  for (const maxIter of [8, 32]) {
    const config = JSON.stringify({ model: forcedModel(maxIter), train: preset.train, vocab: STEP_VOCAB, seq: STEP_SEQ });
    const r = spawnSync(python.python, ['-m', 'reclab.deq.bench_step_memory', '--config', config], {
      encoding: 'utf8', env: workerEnvironment(process.env, torchEnginePath(__dirname)), stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`python -m reclab.deq.bench_step_memory exited with ${r.status ?? r.signal}`);
    results.push(JSON.parse(r.stdout.trim().split('\n').pop()!));
  }
  console.log(`torch ${results[0]!.torch} (cpu, ${results[0]!.threads} threads): the same step, a fresh process per setting:`);
  for (const [i, maxIter] of [8, 32].entries()) {
    const t = results[i]!;
    console.log(`  maxIter ${String(maxIter).padStart(2)}: ${t.iterations} / ${t.iterationsMax} iterations per solve (mean / max); peak RSS ${(t.peakRssDelta / 1e6).toFixed(2)} MB above the ${(t.rssBefore / 1e6).toFixed(1)} MB before the first step; `
      + `saved for backward ${(t.savedBytes / 1e6).toFixed(2)} MB`);
  }
  console.log(`  ratio 32 / 8: peak RSS ×${(results[1]!.peakRssDelta / results[0]!.peakRssDelta).toFixed(3)}, saved for backward ×${(results[1]!.savedBytes / results[0]!.savedBytes).toFixed(3)}`);
}

async function main() {
  const engines = values.engines.split(',');
  const parts = values.parts.split(',');
  console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (${os.cpus().length} cores)`);
  if (parts.includes('solvers')) {
    if (engines.includes('tfjs')) await benchTfjs();
    if (engines.includes('torch')) benchTorch();
  }
  if (parts.includes('step')) {
    if (engines.includes('tfjs')) await stepMemoryTfjs();
    if (engines.includes('torch')) stepMemoryTorch();
    console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  }
}

void main();
