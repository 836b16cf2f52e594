// The PyTorch engine's side of the benchmarks: `python -m reclab.bench_step --json` (engines/torch)
// in the worker's environment (PYTHONPATH, OPENBLAS_CORETYPE), with the Python the CLI would use.
import { spawnSync } from 'node:child_process';
import { choosePython, probePython, type PythonInfo } from '../trainer/engines/pythonEnvironment';
import { torchEnginePath, workerEnvironment } from '../trainer/engines/workerEnvironment';

export interface TorchStepTiming {
  secondsPerStep: number;
  gflops: number;
}

export interface TorchBenchResult {
  torch: string;
  device: string;
  threads: number;
  gflopPerStep: number;
  loadAverage: { before: number; after: number };
  engine: TorchStepTiming;
  plain: TorchStepTiming;
  engineOverPlain: number;
  curriculum?: { stages: { depth: [number, number]; secondsPerStep: number; gflopPerStep: number }[]; wallClockSpeedup: number; flopsRatio: number };
}

/** The probed Python, or why the torch engine cannot run here (the benchmark then says so and goes on). */
export function torchPython(flag?: string): PythonInfo | string {
  try {
    return probePython(choosePython(flag));
  } catch (e) {
    return (e as Error).message.split('\n')[0]!;
  }
}

export function runTorchBench(python: string, args: string[]): TorchBenchResult {
  const r = spawnSync(python, ['-m', 'reclab.bench_step', '--json', ...args], {
    encoding: 'utf8', env: workerEnvironment(process.env, torchEnginePath(__dirname)), stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`python -m reclab.bench_step ${args.join(' ')} exited with ${r.status ?? r.signal}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as TorchBenchResult;
}
