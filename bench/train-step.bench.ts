// One TRM training step on 9x9 Sudoku (batch 64, D=128, 2 layers, 4 heads, T=3, n=6): samples/s,
// GFLOP/s (analytic matmul FLOPs, forward + backward) and peak memory, for every engine that loads
// here, side by side in one run: each TF.js backend, then the PyTorch engine on the CPU and on CUDA
// when torch sees a GPU (engines/torch `python -m reclab.bench_step`, which also times a plain
// PyTorch loop doing the same step). The figures later performance work is measured by.
//   npm run bench:train [-- --backends wasm,cpu --steps 3 --mixers attention,mlp_t --engines tfjs,torch --python PATH]
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import type { BackendName, ModelConfig, TrainConfig } from '../protocol/config';
import { presets } from '../protocol/presets';
import { selectBackend } from '../trainer/backend';
import { buildGeneratedSudokuDataset } from '../trainer/data/generatedDataset';
import { supervisionStepFlops } from '../trainer/model/flops';
import { TrmModel } from '../trainer/model/trm';
import { Rng } from '../trainer/random';
import { ExampleStream } from '../trainer/train/exampleStream';
import { createTrainState, disposeTrainState } from '../trainer/train/trainState';
import { trainStep } from '../trainer/train/trainStep';
import { runTorchBench, torchPython } from './torchBenchStep';

const { values } = parseArgs({ options: {
  backends: { type: 'string', default: 'tensorflow-gpu,tensorflow,wasm,cpu' },
  mixers: { type: 'string', default: 'attention,mlp_t' },
  steps: { type: 'string', default: '3' },
  batch: { type: 'string', default: '64' },
  'micro-batch': { type: 'string', default: '32' },
  'cpu-batch': { type: 'string', default: '4' },
  engines: { type: 'string', default: 'tfjs,torch' },
  python: { type: 'string' },
} });
const engines = values.engines.split(',');

const timedSteps = Number(values.steps);

async function benchOne(backend: string, mixer: ModelConfig['mixer'], batch: number, microBatch: number) {
  const model: ModelConfig = {
    ...presets['sudoku9-easy']!.model, mixer, hiddenSize: 128, numHeads: 4, expansion: 4, ffnMultipleOf: 256, layers: 2,
    hCycles: 3, lCycles: 6, puzzleEmbLen: 0, posEncodings: mixer === 'attention' ? 'rope' : 'none',
  };
  const train: TrainConfig = { ...presets['sudoku9-easy']!.train, batchSize: batch, microBatchSize: microBatch, haltMaxSteps: 16, optimizer: 'adamw' };
  const m = new TrmModel(model, { vocabSize: 11, seqLen: 81 });
  const ds = buildGeneratedSudokuDataset({ side: 9, trainPuzzles: 64, trainBlanks: [20, 40], testBlanks: [20, 20], testPerBlank: 1, seed: 1 });
  const stream = new ExampleStream(ds.train.map((p) => [p]), { kind: 'sudoku', side: 9 }, true, 1);
  const state = createTrainState(m, train, new Rng(1));
  const haltRng = new Rng(2);
  const depth = m.depth;
  const step = () => trainStep(state, stream.next(batch), train, depth, 1e-3, haltRng);
  let peakBytes = 0;
  let rssPeak = process.memoryUsage().rss;
  const prof = await tf.profile(() => { step(); }); // warm-up step, also measures peak tensor bytes
  peakBytes = prof.peakBytes;
  const times: number[] = [];
  for (let i = 0; i < timedSteps; i++) {
    const t0 = performance.now();
    step();
    times.push((performance.now() - t0) / 1000);
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }
  disposeTrainState(state);
  const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  const flops = supervisionStepFlops(m, depth, batch, true);
  return { backend, mixer, batch, microBatch, seconds: median, samplesPerSecond: batch / median, gflops: (flops.forward + flops.backward) / median / 1e9, stepGflop: (flops.forward + flops.backward) / 1e9, peakTensorMB: peakBytes / 2 ** 20, rssMB: rssPeak / 2 ** 20 };
}

async function main() {
  const rows = [];
  for (const backend of engines.includes('tfjs') ? values.backends.split(',') : []) {
    let choice;
    try {
      choice = await selectBackend(backend as BackendName);
    } catch (e) {
      console.log(`${backend}: not available (${(e as Error).message})`);
      continue;
    }
    // The pure-JS cpu backend runs ~0.3 GFLOP/s: a full batch would take minutes per step.
    const batch = choice.name === 'cpu' ? Number(values['cpu-batch']) : Number(values.batch);
    const micro = Math.min(batch, Number(values['micro-batch']));
    for (const mixer of values.mixers.split(',') as ModelConfig['mixer'][]) {
      const r = await benchOne(backend, mixer, batch, micro);
      rows.push(r);
      console.log(`${backend.padEnd(14)} ${mixer.padEnd(9)} batch ${String(r.batch).padStart(3)} (micro ${r.microBatch}): ${r.seconds.toFixed(2)} s/step, ${r.samplesPerSecond.toFixed(1)} samples/s, ${r.gflops.toFixed(2)} GFLOP/s (${r.stepGflop.toFixed(1)} GFLOP a step), peak tensors ${r.peakTensorMB.toFixed(0)} MB, RSS ${r.rssMB.toFixed(0)} MB`);
    }
  }
  const wasm = rows.find((r) => r.backend === 'wasm' && r.mixer === 'attention');
  if (wasm) console.log(`wasm attention vs the 9.2 GFLOP/s measured with explicit transposes alone (perf-notes.md): ${(wasm.gflops / 9.2).toFixed(2)}x`);
  if (engines.includes('torch')) rows.push(...benchTorch());
  for (const r of rows.filter((x) => x.backend !== 'wasm')) {
    const w = rows.find((x) => x.backend === 'wasm' && x.mixer === r.mixer);
    if (w) console.log(`${r.backend} ${r.mixer} / wasm: ${(r.gflops / w.gflops).toFixed(2)}x GFLOP/s${r.backend === 'torch-cpu' ? ' (goal >= 5x)' : ''}`);
  }
}

/** The PyTorch engine (and the plain PyTorch loop beside it) on the CPU, then CUDA when present; attention only (as reclab.bench_step). */
function benchTorch(): { backend: string; mixer: string; gflops: number }[] {
  const python = torchPython(values.python);
  if (typeof python === 'string') {
    console.log(`torch: not available (${python})`);
    return [];
  }
  const rows = [];
  for (const device of python.cudaDevices > 0 ? ['cpu', 'cuda'] : ['cpu']) {
    const r = runTorchBench(python.python, ['--skip-curriculum', '--rounds', values.steps, '--batch', values.batch, '--device', device]);
    const label = `torch-${device}`;
    for (const [name, t] of [[label, r.engine], [`${label}-plain`, r.plain]] as const) {
      console.log(`${name.padEnd(14)} attention batch ${values.batch.padStart(3)}: ${t.secondsPerStep.toFixed(2)} s/step, ${(Number(values.batch) / t.secondsPerStep).toFixed(1)} samples/s, ${t.gflops.toFixed(2)} GFLOP/s (${r.gflopPerStep.toFixed(1)} GFLOP a step; torch ${r.torch}, ${r.threads} threads, load ${r.loadAverage.before.toFixed(1)} -> ${r.loadAverage.after.toFixed(1)})`);
    }
    console.log(`${label} engine / plain PyTorch loop: ${r.engineOverPlain.toFixed(3)} of its time (goal <= 1.10)`);
    rows.push({ backend: label, mixer: 'attention', gflops: r.engine.gflops });
  }
  if (python.cudaDevices === 0) console.log('torch-cuda: not available (torch sees no CUDA GPU)');
  return rows;
}

main();
