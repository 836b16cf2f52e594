// Our TRM-family models (trainer/model/trm.ts, hrm.ts, trmDeq.ts) as an ONNX graph of ONE
// supervision step, per the step contract (protocol/onnxContract.ts): the T cycles of n latent
// updates plus one answer update are unrolled, every network call reusing the same weight
// initializers (the frame: stepGraph.ts; the layers: layerGraph.ts).
//   reset -> z = where(reset, init, z)
//   x = sqrt(D) · [puzzle-embedding prefix ; embed(tokens)]
//   repeat T:  repeat n: z_L = L_net(z_L + z_H + x);   z_H = H_net(z_H + z_L)
//   (TRM: L_net = H_net = `layers.*`; HRM: `l_layers.*` and `h_layers.*`)
//   logits = lm_head(z_H[:, prefix:]);  q = q_head(z_H[:, 0])
// TRM-DEQ: each cycle's n-loop is the solve z_L = FP(z ↦ net(z + z_H + x)) unrolled as K plain
// fixed-point iterations (fpiGraph.ts: no early stop, per-sample lowest-residual return, as
// trainer/deq/fixedPointIteration.ts); two optional outputs: deq_residuals [B, T, K] (the
// relative residual of every iteration) and deq_inner_map [B, S, D], the inner map
// net(z_L + z_H + x) at the step's (post-reset) input states, for the inner map's spectral radius.
import { deqMapLabels, ONNX_CONTRACT_VERSION } from '../../protocol/onnxContract';
import { resolveDeq } from '../../protocol/config';
import type { RecursiveModel } from '../model/recursiveModel';
import { FixedPointUnroller } from './fpiGraph';
import { LayerGraph } from './layerGraph';
import { deqExportIterations, deqMetadata, StepGraph, stepMetadata, type DeqStepOutputs, type StepExportInfo, type StepWeights } from './stepGraph';

/** The metadata of a TRM, HRM or TRM-DEQ step export. */
export function trmStepMetadata(model: RecursiveModel, info: StepExportInfo): Record<string, string> {
  return stepMetadata(model, info, {
    ...(model.arch === 'hrm' ? { 'reclab.h_layers': String(model.config.hLayers ?? model.config.layers) } : {}),
    ...(model.arch === 'trm-deq' ? deqMetadata(model, info, 'z_L', deqMapLabels['trm-deq']) : {}),
  });
}

/** The serialized ModelProto of one supervision step of `model` (TRM, HRM or TRM-DEQ) with weights `w`. */
export function buildTrmStepModel(model: RecursiveModel, w: StepWeights, info: StepExportInfo): Uint8Array {
  if (model.arch === 'attractor') throw new Error('export: the Attractor form has its own step graph (attractorStepGraph.ts)');
  const deq = model.arch === 'trm-deq';
  const K = deq ? deqExportIterations(model, info.deqIterations) : 0;
  const cfg = model.config;
  const step = new StepGraph(model, w);
  const g = step.g;
  const layers = new LayerGraph(g, model, w.params);
  const x = layers.embedding(step.tokens);
  const lLayers = layers.blockWeights(model.arch === 'hrm' ? 'l_layers' : 'layers', cfg.layers);
  const hLayers = model.arch === 'hrm' ? layers.blockWeights('h_layers', cfg.hLayers ?? cfg.layers) : lLayers;
  const net = (stack: typeof lLayers, h: string, injection: string) => layers.postNormBlocks(stack, h, injection);

  let zH = step.zH, zL = step.zL;
  let deqOutputs: DeqStepOutputs | undefined;
  if (deq) {
    // The inner map at the input states (for its spectral radius), then T cycles of a K-iteration solve.
    const innerMap = net(lLayers, zL, g.op('Add', [zH, x]));
    const unroller = new FixedPointUnroller(g, K, resolveDeq(cfg).stopMode);
    for (let c = 0; c < cfg.hCycles; c++) {
      const injection = g.op('Add', [zH, x]);
      zL = unroller.solve((z) => net(lLayers, z, injection), zL).solution;
      zH = net(hLayers, zH, zL);
    }
    deqOutputs = { residuals: unroller.residuals, iterations: K, innerMap };
  } else {
    for (let c = 0; c < cfg.hCycles; c++) {
      for (let i = 0; i < cfg.lCycles; i++) zL = net(lLayers, zL, g.op('Add', [zH, x]));
      zH = net(hLayers, zH, zL);
    }
  }
  const D = model.width;
  return step.finish({ zH, zL }, {
    graphName: `${model.arch}_${cfg.mixer}_step`,
    docString: `One supervision step of a ${model.arch.toUpperCase()} (${cfg.mixer}, D=${D}, ${model.arch === 'hrm' ? `${cfg.hLayers ?? cfg.layers} H + ${cfg.layers} L` : cfg.layers} layers, T=${cfg.hCycles}, ${deq ? `each solve ${K} fixed-point iterations (trained with ${resolveDeq(cfg).solver})` : `n=${cfg.lCycles}`}); ONNX step contract ${ONNX_CONTRACT_VERSION}.`,
    metadata: trmStepMetadata(model, info),
    producerVersion: info.producerVersion,
    ...(deqOutputs ? { deq: deqOutputs } : {}),
  });
}
