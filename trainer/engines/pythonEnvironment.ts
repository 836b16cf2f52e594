// Finding the Python that runs the PyTorch engine and checking it can: python itself, torch >= 1.13,
// safetensors, numpy and jsonschema. A failure says exactly what to install and is a usage error
// (exit 2) raised before any run directory exists.
import { spawnSync } from 'node:child_process';

/** The oldest torch the engine supports (Debian's python3-torch). */
export const MIN_TORCH = [1, 13] as const;

/** Raised when the Python environment cannot run the engine; the CLI exits 2 with its message. */
export class PythonEnvironmentError extends Error {}

export interface PythonChoice {
  python: string;
  /** Where the choice came from, for the messages. */
  source: '--python' | 'RECLAB_PYTHON' | 'reclab.pythonPath' | 'PATH';
}

/**
 * `--python`, then `RECLAB_PYTHON`, then the extension's `reclab.pythonPath` setting (the extension
 * passes it as RECLAB_PYTHON_SETTING so an explicit RECLAB_PYTHON still wins), then `python3` on PATH.
 */
export function choosePython(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): PythonChoice {
  if (flag) return { python: flag, source: '--python' };
  if (env['RECLAB_PYTHON']) return { python: env['RECLAB_PYTHON'], source: 'RECLAB_PYTHON' };
  if (env['RECLAB_PYTHON_SETTING']) return { python: env['RECLAB_PYTHON_SETTING'], source: 'reclab.pythonPath' };
  return { python: 'python3', source: 'PATH' };
}

export interface PythonInfo {
  python: string;
  pythonVersion: string;
  torch: string;
  cudaDevices: number;
  /** Apple's Metal backend (torch.backends.mps) is available. */
  mps: boolean;
}

/** `--device` / `--dtype` of a torch run (the worker's own flags, reclab/devices.py). */
export const torchDevices = ['auto', 'cpu', 'cuda', 'mps'] as const;
export const torchDtypes = ['auto', 'bfloat16', 'float32'] as const;
export type TorchDevice = (typeof torchDevices)[number];
export type TorchDtype = (typeof torchDtypes)[number];

/**
 * The device and dtype asked for, checked against what the probed torch sees, as the worker would
 * check them (reclab/devices.py choose_device) but before any run directory exists. `auto` is CUDA
 * when torch sees a GPU, else MPS, else the CPU; dtype `auto` is bf16 autocast on CUDA, float32
 * elsewhere. Returns the flags for the worker (none when nothing was asked).
 */
export function checkTorchDevice(device: string | undefined, dtype: string | undefined, info: PythonInfo): string[] {
  if (device !== undefined && !(torchDevices as readonly string[]).includes(device)) {
    throw new PythonEnvironmentError(`--device: expected ${torchDevices.join('|')}, got "${device}"`);
  }
  if (dtype !== undefined && !(torchDtypes as readonly string[]).includes(dtype)) {
    throw new PythonEnvironmentError(`--dtype: expected ${torchDtypes.join('|')}, got "${dtype}"`);
  }
  const where = `torch ${info.torch} at ${info.python}`;
  if (device === 'cuda' && info.cudaDevices === 0) {
    throw new PythonEnvironmentError(`--device cuda: ${where} sees no CUDA GPU; use --device cpu, or a CUDA build of torch on a GPU machine (pip install torch)`);
  }
  if (device === 'mps' && !info.mps) throw new PythonEnvironmentError(`--device mps: ${where} reports MPS unavailable`);
  const kind = device && device !== 'auto' ? device : info.cudaDevices > 0 ? 'cuda' : info.mps ? 'mps' : 'cpu';
  if (dtype === 'bfloat16' && kind !== 'cuda') {
    throw new PythonEnvironmentError(`--dtype bfloat16 (autocast) is for CUDA; device ${kind}${device === undefined || device === 'auto' ? ' (what --device auto finds here)' : ''} trains in float32`);
  }
  return [...(device !== undefined ? ['--device', device] : []), ...(dtype !== undefined ? ['--dtype', dtype] : [])];
}

const INSTALL_HELP = [
  'install the PyTorch engine\'s requirements (torch >= 1.13, safetensors, numpy, jsonschema):',
  '  Debian/Ubuntu (CPU, fast with OpenBLAS): sudo apt-get install python3-torch libopenblas0-openmp python3-venv,',
  '    then in a venv made with --system-site-packages: pip install safetensors jsonschema',
  '  a GPU box (or any pip environment): pip install torch safetensors numpy jsonschema',
  'then point reclab at that python with --python PATH, RECLAB_PYTHON or the reclab.pythonPath setting',
].join('\n');

const PROBE = `import json, sys
missing = []
for name in ("torch", "safetensors", "numpy", "jsonschema"):
    try:
        __import__(name)
    except Exception as e:
        missing.append(name + ": " + str(e).splitlines()[0] if str(e) else name)
info = {"python": sys.version.split()[0], "missing": missing}
if not missing:
    import torch
    info["torch"] = torch.__version__
    info["cuda"] = torch.cuda.device_count() if torch.cuda.is_available() else 0
    mps = getattr(torch.backends, "mps", None)
    info["mps"] = bool(mps is not None and mps.is_available())
print(json.dumps(info))`;

/** "1.13.0a0+git..." -> [1, 13]. */
export function torchVersionTooOld(version: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return true;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major < MIN_TORCH[0] || (major === MIN_TORCH[0] && minor < MIN_TORCH[1]);
}

/** Runs the chosen python once; throws PythonEnvironmentError naming what is missing and how to install it. */
export function probePython(choice: PythonChoice): PythonInfo {
  const where = `${choice.python} (from ${choice.source})`;
  const r = spawnSync(choice.python, ['-c', PROBE], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) {
    const why = (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : r.error.message;
    throw new PythonEnvironmentError(`the PyTorch engine needs Python 3: ${where}: ${why}\n${INSTALL_HELP}`);
  }
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let info: { python?: string; missing?: string[]; torch?: string; cuda?: number; mps?: boolean };
  try {
    info = JSON.parse(line) as typeof info;
  } catch {
    throw new PythonEnvironmentError(`${where} does not run as Python 3 (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').pop() ?? ''}\n${INSTALL_HELP}`);
  }
  if (info.missing && info.missing.length > 0) {
    throw new PythonEnvironmentError(`${where} (Python ${info.python}) cannot import ${info.missing.join('; ')}\n${INSTALL_HELP}`);
  }
  const torch = info.torch ?? '?';
  if (torchVersionTooOld(torch)) {
    throw new PythonEnvironmentError(`${where} has torch ${torch}; the PyTorch engine needs torch >= ${MIN_TORCH.join('.')}\n${INSTALL_HELP}`);
  }
  return { python: choice.python, pythonVersion: info.python ?? '?', torch, cudaDevices: info.cuda ?? 0, mps: info.mps === true };
}
