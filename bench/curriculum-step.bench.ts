// What the depth curriculum can save in wall-clock time on this machine: training steps at each
// stage depth of the paper schedule — (1,2), (2,4), (3,6) — timed interleaved in one process
// (so load on a shared machine falls on every depth alike), median per depth, and the speedup
// PDC would give at equal steps: t(3,6) / (0.3·t(1,2) + 0.3·t(2,4) + 0.4·t(3,6)), beside the
// FLOPs ratio of the same schedule. Both engines: the TF.js engine on the preset, then the PyTorch
// engine (engines/torch `python -m reclab.bench_step`: the 9x9 benchmark TRM, D=128 attention, the
// same stage depths and shares) when torch loads.
//   npm run bench:curriculum [-- --preset sudoku4-hard --rounds 15 --backend wasm --hidden 64 --engines tfjs,torch --python PATH --torch-rounds 5]
import { parseArgs } from 'node:util';
import type { BackendName } from '../protocol/config';
import { presets } from '../protocol/presets';
import { selectBackend } from '../trainer/backend';
import { loadTaskData } from '../trainer/data/taskData';
import { supervisionStepFlops } from '../trainer/model/flops';
import { TrmModel, type Depth } from '../trainer/model/trm';
import { Rng } from '../trainer/random';
import { depthSchedule } from '../trainer/train/depthCurriculum';
import { ExampleStream } from '../trainer/train/exampleStream';
import { createTrainState, disposeTrainState } from '../trainer/train/trainState';
import { trainStep } from '../trainer/train/trainStep';
import { runTorchBench, torchPython } from './torchBenchStep';

const { values } = parseArgs({ options: {
  preset: { type: 'string', default: 'sudoku4-hard' },
  rounds: { type: 'string', default: '15' },
  backend: { type: 'string', default: 'wasm' },
  hidden: { type: 'string' },
  engines: { type: 'string', default: 'tfjs,torch' },
  python: { type: 'string' },
  'torch-rounds': { type: 'string', default: '5' },
} });
const engines = values.engines.split(',');

async function main() {
  if (engines.includes('tfjs')) await benchTfjs();
  if (engines.includes('torch')) benchTorch();
}

function benchTorch(): void {
  const python = torchPython(values.python);
  if (typeof python === 'string') {
    console.log(`torch: not available (${python})`);
    return;
  }
  const r = runTorchBench(python.python, ['--rounds', values['torch-rounds']]);
  const c = r.curriculum!;
  const full = c.stages[c.stages.length - 1]!;
  console.log(`9x9 benchmark TRM (attention, D=128, batch 64) on the torch engine (${r.device}, torch ${r.torch}, ${r.threads} threads, load ${r.loadAverage.before.toFixed(1)} -> ${r.loadAverage.after.toFixed(1)}), ${values['torch-rounds']} interleaved rounds`);
  for (const s of c.stages) console.log(`  (T=${s.depth[0]}, n=${s.depth[1]}): median ${s.secondsPerStep.toFixed(3)} s/step (${(s.secondsPerStep / full.secondsPerStep).toFixed(2)} of full depth), ${s.gflopPerStep.toFixed(2)} GFLOP/step (${(s.gflopPerStep / full.gflopPerStep).toFixed(2)} of full depth)`);
  console.log(`  PDC at equal steps: wall-clock speedup ${c.wallClockSpeedup.toFixed(2)}x (goal >= 1.5x), training-FLOPs ratio ${c.flopsRatio.toFixed(2)}x`);
  console.log(`  full-depth engine step / plain PyTorch loop: ${r.engineOverPlain.toFixed(3)} (goal <= 1.10)`);
}

async function benchTfjs() {
  const backend = await selectBackend(values.backend as BackendName);
  const config = structuredClone(presets[values.preset]!);
  if (values.hidden) config.model.hiddenSize = Number(values.hidden);
  const data = loadTaskData(config.data, config.seed);
  const model = new TrmModel(config.model, { vocabSize: data.vocabSize, seqLen: data.seqLen });
  const schedule = depthSchedule(model.depth, { enabled: true, boundaries: [0.3, 0.6] });
  const state = createTrainState(model, config.train, new Rng(1));
  const stream = new ExampleStream(data.trainGroups, data.task, data.augmentOnTheFly, 2);
  const haltRng = new Rng(3);
  const step = (d: Depth) => trainStep(state, stream.next(config.train.batchSize), config.train, d, config.train.lr, haltRng);
  for (const d of schedule.stages) step(d); // warm-up
  const times = schedule.stages.map(() => [] as number[]);
  for (let r = 0; r < Number(values.rounds); r++) {
    schedule.stages.forEach((d, i) => {
      const t0 = performance.now();
      step(d);
      times[i]!.push((performance.now() - t0) / 1000);
    });
  }
  disposeTrainState(state);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const med = times.map(median);
  const shares = [0.3, 0.3, 0.4];
  const full = med[med.length - 1]!;
  const flops = schedule.stages.map((d) => { const f = supervisionStepFlops(model, d, config.train.batchSize, true); return f.forward + f.backward; });
  console.log(`${values.preset} on ${backend.name}: D=${config.model.hiddenSize}, batch ${config.train.batchSize}, ${values.rounds} interleaved rounds`);
  schedule.stages.forEach((d, i) => console.log(`  (T=${d.hCycles}, n=${d.lCycles}): median ${med[i]!.toFixed(3)} s/step (${(med[i]! / full).toFixed(2)} of full depth), ${(flops[i]! / 1e9).toFixed(2)} GFLOP/step (${(flops[i]! / flops[2]!).toFixed(2)} of full depth)`));
  const pdcTime = shares.reduce((a, s, i) => a + s * med[i]!, 0);
  const pdcFlops = shares.reduce((a, s, i) => a + s * flops[i]!, 0);
  console.log(`  PDC at equal steps: wall-clock speedup ${(full / pdcTime).toFixed(2)}x, training-FLOPs ratio ${(flops[2]! / pdcFlops).toFixed(2)}x`);
}

main();
