// The Attractor form (trainer/model/attractor.ts) as an ONNX graph of ONE supervision step, per
// the step contract (protocol/onnxContract.ts; the frame: stepGraph.ts, the layers: layerGraph.ts):
//   reset -> z_L = where(reset, L_init, z_L)            (L_init = 0: a fresh row starts at y0 = c)
//   x = sqrt(D) · [puzzle-embedding prefix ; embed(tokens)]
//   c = backbone(x)                                      pre-norm blocks `backbone.{i}.…`
//   y = c + z_L;  repeat T: y = FPI_K(f, from y)         f(y) = FPHead(y + c) − y
//   z_H' = RMSNorm(y);  z_L' = y − c;  logits, q from z_H'
// FPHead = the pre-norm blocks `head.{i}.…`, their mixer and MLP outputs gated per channel by
// sigmoid(raw)·gammaMax (folded into [D] constants here). Each of the T = hCycles solves is K plain
// fixed-point iterations (fpiGraph.ts: no early stop, per-sample lowest-residual return, as the
// TF.js solver with solver "fpi" and minIter = maxIter = K). The step does not read z_H (the heads'
// copy of y*); only its shape (z_H_init).
// DEQ outputs: deq_residuals [B, T, K] = ‖f(y_k) − y_k‖ / (‖f(y_k)‖ + 1e-9) of every iteration,
// on the solve's own iterate y as the TF.js solver measures it; deq_inner_map = the attractor map
// at the step's (post-reset) input written in the carried state z_L (reclab.deq_inner_state):
// z_L ↦ f(c + z_L) − c, whose Jacobian in z_L is ∂f/∂y at y = c + z_L and whose fixed point is
// y* − c, so inspect's power iteration on it (perturbing z_L) measures the solve's ρ(∂f/∂y).
import { ONNX_CONTRACT_VERSION, deqMapLabels } from '../../protocol/onnxContract';
import { resolveDeq } from '../../protocol/config';
import { AttractorModel } from '../model/attractor';
import type { RecursiveModel } from '../model/recursiveModel';
import { FixedPointUnroller } from './fpiGraph';
import { LayerGraph, type BlockGates } from './layerGraph';
import { deqExportIterations, deqMetadata, StepGraph, stepMetadata, type StepExportInfo, type StepWeights } from './stepGraph';

/** The metadata of an Attractor step export. */
export function attractorStepMetadata(model: AttractorModel, info: StepExportInfo): Record<string, string> {
  return stepMetadata(model, info, {
    'reclab.backbone_layers': String(model.attractor.backboneLayers),
    'reclab.gamma_max': String(model.attractor.gammaMax),
    ...deqMetadata(model, info, 'z_L', deqMapLabels.attractor),
  });
}

/** sigmoid(raw)·gammaMax per channel, as AttractorModel.fpHead computes its gates. */
function gateValues(raw: Float32Array, gammaMax: number): Float32Array {
  return raw.map((r) => gammaMax / (1 + Math.exp(-r)));
}

/** The serialized ModelProto of one supervision step of the Attractor `model` with weights `w`. */
export function buildAttractorStepModel(model: RecursiveModel, w: StepWeights, info: StepExportInfo): Uint8Array {
  if (!(model instanceof AttractorModel)) throw new Error(`export: buildAttractorStepModel needs the Attractor form, got ${model.arch}`);
  const K = deqExportIterations(model, info.deqIterations);
  const cfg = model.config;
  const D = model.width;
  const { backboneLayers, gammaMax } = model.attractor;
  const step = new StepGraph(model, w);
  const g = step.g;
  const layers = new LayerGraph(g, model, w.params);
  const x = layers.embedding(step.tokens);
  const backbone = layers.blockWeights('backbone', backboneLayers);
  const head = layers.blockWeights('head', cfg.layers);
  const gates: BlockGates[] = head.map((_, i) => {
    const gate = (n: 'mixer' | 'mlp') => g.float(`head.${i}.gate_${n}_scaled`, gateValues(w.params.get(`head.${i}.gate_${n}`)!, gammaMax), [D]);
    return { mixer: gate('mixer'), mlp: gate('mlp') };
  });

  const c = layers.preNormBlocks(backbone, x);
  const f = (y: string) => g.op('Sub', [layers.preNormBlocks(head, g.op('Add', [y, c]), gates), y]);
  let y = g.op('Add', [c, step.zL]);
  const innerMap = g.op('Sub', [f(y), c]);
  const unroller = new FixedPointUnroller(g, K, resolveDeq(cfg).stopMode);
  for (let t = 0; t < cfg.hCycles; t++) y = unroller.solve(f, y).solution;

  return step.finish({ zH: layers.rmsNorm(y), zL: g.op('Sub', [y, c]) }, {
    graphName: `attractor_${cfg.mixer}_step`,
    docString: `One supervision step of the Attractor form (${cfg.mixer}, D=${D}, ${backboneLayers} backbone + ${cfg.layers} head blocks, T=${cfg.hCycles} solves of ${K} fixed-point iterations each (trained with ${resolveDeq(cfg).solver})); ONNX step contract ${ONNX_CONTRACT_VERSION}.`,
    metadata: attractorStepMetadata(model, info),
    producerVersion: info.producerVersion,
    deq: { residuals: unroller.residuals, iterations: K, innerMap },
  });
}
