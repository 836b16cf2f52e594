// One esbuild build per target (design.md): the trainer CLI (node), the extension host (node/cjs,
// `vscode` external) and the webviews (browser/iife). Type-checking is `npm run typecheck`.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
const nativeExternals = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'onnxruntime-node'];

const targets = [
  {
    entryPoints: { 'trainer/cli': 'trainer/cli.ts' },
    platform: 'node', format: 'cjs', target: 'node20', external: nativeExternals,
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    // onnxruntime sessions in worker threads (trainer/onnx/onnxWorkerModel.ts loads it from beside cli.js).
    entryPoints: { 'trainer/onnxStepWorker': 'trainer/onnx/onnxStepWorker.ts' },
    platform: 'node', format: 'cjs', target: 'node20', external: nativeExternals,
  },
];
if (existsSync('extension/extension.ts')) {
  targets.push({
    entryPoints: { 'extension/extension': 'extension/extension.ts' },
    platform: 'node', format: 'cjs', target: 'node20', external: ['vscode', ...nativeExternals],
  });
}
const webviews = existsSync('webview') ? readdirSync('webview').filter((f) => /^[a-z-]+\/main\.ts$/.test(`${f}/main.ts`) && existsSync(`webview/${f}/main.ts`)) : [];
if (webviews.length > 0) {
  targets.push({
    entryPoints: Object.fromEntries(webviews.map((w) => [`webview/${w}`, `webview/${w}/main.ts`])),
    platform: 'browser', format: 'iife', target: 'es2022',
  });
}

// The wasm backend loads its .wasm files at run time from beside the bundle.
function copyWasmBinaries() {
  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  mkdirSync('dist/trainer', { recursive: true });
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) copyFileSync(join(wasmDir, f), join('dist/trainer', f));
}

// The JSON Schema of config files, for the extension's jsonValidation (IntelliSense on *.reclab.json).
async function writeConfigSchema() {
  const out = await esbuild.build({ entryPoints: ['protocol/configSchemaJson.ts'], bundle: true, write: false, platform: 'node', format: 'cjs' });
  const mod = { exports: {} };
  new Function('module', 'exports', 'require', out.outputFiles[0].text)(mod, mod.exports, require);
  mkdirSync('dist/schema', { recursive: true });
  writeFileSync('dist/schema/reclab-config.schema.json', JSON.stringify(mod.exports.configJsonSchema(), null, 2) + '\n');
  writeFileSync('dist/schema/reclab-config.editor.schema.json', JSON.stringify(mod.exports.configEditorJsonSchema(), null, 2) + '\n');
}

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
// jsonc-parser's main is a UMD build that requires its parts at run time, which a bundle cannot resolve: take its ES module build.
const common = { bundle: true, sourcemap: true, outdir: 'dist', logLevel: 'warning', define: { RECLAB_VERSION: JSON.stringify(pkg.version) }, alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' } };
if (watch) {
  for (const t of targets) await (await esbuild.context({ ...common, ...t })).watch();
} else {
  await Promise.all(targets.map((t) => esbuild.build({ ...common, ...t })));
  copyWasmBinaries();
  await writeConfigSchema();
}
