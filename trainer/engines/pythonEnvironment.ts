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
  let info: { python?: string; missing?: string[]; torch?: string; cuda?: number };
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
  return { python: choice.python, pythonVersion: info.python ?? '?', torch, cudaDevices: info.cuda ?? 0 };
}
