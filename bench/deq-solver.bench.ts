// DEQ solvers side by side on both engines: iterations and time to tolerance of plain fixed-point
// iteration vs Anderson (m = 5) vs Broyden on a 9x9-sized state [B, 81, D] (z ↦ tanh(zW + x), W symmetric with ‖W‖₂ = 0.95, x ~ 0.1·N(0, 1),
// stop rule rel < tol), and the memory of a phantom (K = 2) and an IFT gradient at max 8 vs 32
// solver iterations beside backprop through the whole solve (BPTT). TF.js: tf.profile peakBytes;
// torch (`python -m reclab.deq.bench --json`): bytes saved for backward (and CUDA peak on a GPU).
//   npm run bench:deq [-- --batch 16 --hidden 64 --rounds 5 --tol 1e-4 --backend wasm --engines tfjs,torch --python PATH]
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
import { torchPython } from './torchBenchStep';

const { values } = parseArgs({ options: {
  batch: { type: 'string', default: '16' },
  hidden: { type: 'string', default: '64' },
  rounds: { type: 'string', default: '5' },
  tol: { type: 'string', default: '1e-4' },
  backend: { type: 'string', default: 'wasm' },
  engines: { type: 'string', default: 'tfjs,torch' },
  python: { type: 'string' },
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

async function main() {
  const engines = values.engines.split(',');
  if (engines.includes('tfjs')) await benchTfjs();
  if (engines.includes('torch')) benchTorch();
}

void main();
