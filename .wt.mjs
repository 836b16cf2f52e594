import ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
const S = 82, D = 64;
if (isMainThread) {
  const [file, B, n] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
  const workers = Array.from({ length: n }, () => new Worker(new URL(import.meta.url), { workerData: { file, B } }));
  const rows = await Promise.all(workers.map((w) => new Promise((res) => w.on('message', res))));
  const total = rows.reduce((a, b) => a + b.rows, 0), secs = Math.max(...rows.map((r) => r.secs));
  console.log(`worker_threads=${n} B=${B}: ${(total / secs).toFixed(0)} row-steps/s`);
  process.exit(0);
} else {
  const { file, B } = workerData;
  const s = await ort.InferenceSession.create(readFileSync(file), { graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1 });
  const f = { tokens: new ort.Tensor('int64', new BigInt64Array(B * 81).fill(1n), [B, 81]),
    z_H: new ort.Tensor('float32', new Float32Array(B * S * D).map(() => Math.random()), [B, S, D]), z_L: new ort.Tensor('float32', new Float32Array(B * S * D).map(() => Math.random()), [B, S, D]),
    reset: new ort.Tensor('bool', new Uint8Array(B).fill(0), [B]) };
  await s.run(f);
  let rows = 0; const t0 = performance.now();
  while (performance.now() - t0 < 4000) { await s.run(f); rows += B; }
  parentPort.postMessage({ rows, secs: (performance.now() - t0) / 1000 });
}
