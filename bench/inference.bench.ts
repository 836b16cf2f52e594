// Inspection speed: supervision steps per second of one TRM step (9x9 Sudoku, D=128, 2 layers,
// 4 heads, SwiGLU 512, T=3, n=6 = 21 network calls) on onnxruntime-node (the exported graph,
// as `reclab inspect` runs it) beside the TF.js forward step (wasm backend) on the same
// weights, at batch 1 and 64. Random weights: speed does not depend on them.
//   npm run bench:inference [-- --batches 1,64 --mixers attention,mlp_t --seconds 4 --threads 0 --no-tfjs]
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import type { ModelConfig } from '../protocol/config';
import { presets } from '../protocol/presets';
import { selectBackend } from '../trainer/backend';
import { supervisionStepFlops } from '../trainer/model/flops';
import { TrmModel, type ParamSet } from '../trainer/model/trm';
import { OnnxStepModel } from '../trainer/onnx/onnxStepModel';
import { buildTrmStepModel } from '../trainer/onnx/trmStepGraph';
import { Rng } from '../trainer/random';

const { values } = parseArgs({ options: {
  batches: { type: 'string', default: '1,64' },
  mixers: { type: 'string', default: 'attention,mlp_t' },
  seconds: { type: 'string', default: '4' },
  threads: { type: 'string', default: '0' },
  'no-tfjs': { type: 'boolean', default: false },
} });

/** Runs `once` at least twice (after one warm-up) and until `seconds` have passed; steps per second. */
async function rate(once: () => Promise<void> | void, seconds: number): Promise<number> {
  await once();
  let n = 0;
  const t0 = performance.now();
  while (n < 2 || performance.now() - t0 < seconds * 1000) {
    await once();
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const backend = values['no-tfjs'] ? undefined : await selectBackend('wasm');
  const seconds = Number(values.seconds);
  const rows: string[] = [];
  rows.push('| mixer | batch | onnxruntime-node steps/s | GFLOP/s | TF.js wasm steps/s | GFLOP/s | ORT / TF.js |');
  rows.push('|---|---|---|---|---|---|---|');
  for (const mixer of values.mixers.split(',') as ModelConfig['mixer'][]) {
    const config: ModelConfig = {
      ...presets['sudoku9-easy']!.model, mixer, hiddenSize: 128, numHeads: 4, expansion: 4, ffnMultipleOf: 256, layers: 2,
      hCycles: 3, lCycles: 6, puzzleEmbLen: 0, posEncodings: mixer === 'attention' ? 'rope' : 'none',
    };
    const model = new TrmModel(config, { vocabSize: 11, seqLen: 81 });
    const rng = new Rng(1);
    const params = model.initialParameters(rng);
    const { hInit, lInit } = model.initialStates(rng);
    const onnx = await OnnxStepModel.fromBytes(buildTrmStepModel(model, { params, hInit, lInit }, { haltMaxSteps: 16 }), `trm-${mixer}`, { threads: Number(values.threads) });
    const p: Record<string, tf.Tensor> = {};
    if (backend) for (const s of model.parameterSpecs()) p[s.name] = tf.tensor(params.get(s.name)!, s.shape);
    const [h0, l0] = backend ? [tf.tensor1d(hInit), tf.tensor1d(lInit)] : [];
    for (const batch of values.batches.split(',').map(Number)) {
      const flops = supervisionStepFlops(model, model.depth, batch, false).forward;
      const size = batch * model.totalLen * model.width;
      const tokens = Int32Array.from({ length: batch * 81 }, () => 1 + rng.int(10));
      const input = { batch, tokens, states: [new Float32Array(size), new Float32Array(size)], reset: new Uint8Array(batch).fill(1) };
      const ortRate = await rate(async () => { await onnx.step(input); }, seconds);
      let tfRate = NaN;
      if (backend) {
        const tokTensor = tf.tensor2d(tokens, [batch, 81], 'int32');
        tfRate = await rate(() => {
          const out = tf.tidy(() => {
            const x = model.inputEmbedding(p as ParamSet, tokTensor);
            const zH = tf.broadcastTo(h0!, [batch, model.totalLen, model.width]) as tf.Tensor3D;
            const zL = tf.broadcastTo(l0!, [batch, model.totalLen, model.width]) as tf.Tensor3D;
            const next = model.cyclesWithoutGradient(p as ParamSet, zH, zL, x, 3, 6);
            const heads = model.heads(p as ParamSet, next.zH);
            return [next.zH, next.zL, heads.logits, heads.qHalt];
          });
          out.forEach((t) => t.dataSync());
          tf.dispose(out);
        }, seconds);
        tokTensor.dispose();
      }
      const g = (r: number) => (Number.isFinite(r) ? ((r * flops) / 1e9).toFixed(1) : '-');
      rows.push(`| ${mixer} | ${batch} | ${ortRate.toFixed(2)} | ${g(ortRate)} | ${Number.isFinite(tfRate) ? tfRate.toFixed(3) : '-'} | ${g(tfRate)} | ${Number.isFinite(tfRate) ? (ortRate / tfRate).toFixed(1) + 'x' : '-'} |`);
      process.stderr.write(rows[rows.length - 1] + '\n');
    }
    if (backend) tf.dispose([...Object.values(p), h0!, l0!]);
    await onnx.dispose();
  }
  process.stdout.write(`\nOne supervision step of the 9x9 TRM (D=128, 2 layers, T=3, n=6; forward FLOPs counted as in trainer/model/flops.ts)` +
    `${backend ? `; TF.js backend ${backend.name}` : ''}; onnxruntime-node threads: ${Number(values.threads) || 'default (all cores)'}\n\n${rows.join('\n')}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
