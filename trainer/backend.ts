// TensorFlow.js backend choice (design.md "Engines and backends"): tfjs-node-gpu > tfjs-node >
// wasm > cpu, the first that loads wins, unless --backend names one. The native two are
// optional dependencies that cannot install everywhere; their absence is reported, not fatal.
import * as tf from '@tensorflow/tfjs-core';
// Named imports, not bare ones: the packages declare themselves side-effect free to bundlers,
// and a bare import would be dropped together with the backend registration it performs.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { BackendName } from '../protocol/config';

export interface BackendChoice {
  /** The tf.js backend name in use ('tensorflow', 'wasm', 'cpu'). */
  name: string;
  /** The option that selected it, and what was tried and failed before it. */
  requested: BackendName;
  notes: string[];
}

const order: Exclude<BackendName, 'auto'>[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

async function tryBackend(kind: Exclude<BackendName, 'auto'>): Promise<string> {
  const req = createRequire(__filename);
  switch (kind) {
    case 'tensorflow-gpu':
      req('@tensorflow/tfjs-node-gpu');
      if (!(await tf.setBackend('tensorflow'))) throw new Error('tfjs-node-gpu loaded but its backend did not initialise');
      return 'tensorflow';
    case 'tensorflow':
      req('@tensorflow/tfjs-node');
      if (!(await tf.setBackend('tensorflow'))) throw new Error('tfjs-node loaded but its backend did not initialise');
      return 'tensorflow';
    case 'wasm': {
      setWasmPaths(wasmDirectory() + '/');
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');
      return 'wasm';
    }
    case 'cpu':
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not initialise');
      return 'cpu';
  }
}

/** The .wasm binaries: beside the bundle (dist/trainer), else in node_modules (tests via tsx). */
function wasmDirectory(): string {
  if (existsSync(join(__dirname, 'tfjs-backend-wasm-simd.wasm'))) return __dirname;
  const req = createRequire(__filename);
  return dirname(req.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
}

export const backendPackageVersions = { '@tensorflow/tfjs-backend-cpu': version_cpu, '@tensorflow/tfjs-backend-wasm': version_wasm };

export async function selectBackend(requested: BackendName): Promise<BackendChoice> {
  const candidates = requested === 'auto' ? order : [requested];
  const notes: string[] = [];
  for (const kind of candidates) {
    try {
      const name = await tryBackend(kind);
      return { name, requested, notes };
    } catch (e) {
      const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
      notes.push(`${kind} unavailable: ${reason}`);
      if (requested !== 'auto') throw new Error(`--backend ${requested}: ${reason}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could start (${notes.join('; ')})`);
}
