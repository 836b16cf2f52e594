// Where the PyTorch engine's package lives and the environment its worker runs in.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository folder holding engines/torch (walking up from this file: trainer/engines/ in the sources, dist/trainer/ when bundled). */
export function torchEnginePath(from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'engines', 'torch');
    if (existsSync(join(candidate, 'reclab'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`cannot find engines/torch/reclab above ${from}: the PyTorch engine's package ships with the repository`);
  }
}

/**
 * OpenBLAS picks its kernels by CPU model and misdetects some virtual CPUs (falling back to slow
 * generic kernels); naming the core type from the CPU's flags gives the fast path. Only where
 * the instructions exist: a forced core type the CPU lacks crashes with SIGILL.
 */
export function openblasCoreType(cpuinfo: string | undefined): string | undefined {
  const flags = /^flags\s*:(.*)$/m.exec(cpuinfo ?? '')?.[1]?.split(/\s+/) ?? [];
  if (flags.includes('avx512f')) return 'SkylakeX';
  if (flags.includes('avx2')) return 'Haswell';
  return undefined;
}

function readCpuinfo(): string | undefined {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return undefined; // not Linux
  }
}

/** The worker's environment: the engine on PYTHONPATH, OpenBLAS's core type unless the user set one, unbuffered output. */
export function workerEnvironment(base: NodeJS.ProcessEnv = process.env, enginePath = torchEnginePath()): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, PYTHONUNBUFFERED: '1' };
  env['PYTHONPATH'] = base['PYTHONPATH'] ? `${enginePath}:${base['PYTHONPATH']}` : enginePath;
  if (!base['OPENBLAS_CORETYPE']) {
    const core = openblasCoreType(readCpuinfo());
    if (core) env['OPENBLAS_CORETYPE'] = core;
  }
  return env;
}
