// The Attractor form (reference.md §4.1, attractor.py) on the recursive-model interface:
//   c = backbone(x)                         `model.attractor.backboneLayers` pre-norm blocks
//   y* = FP(y ↦ FPHead(y + c) − y)          FPHead = `model.layers` pre-norm blocks whose mixer and
//                                           MLP outputs are gated per channel by sigmoid(raw)·gammaMax
//   logits, q = heads(RMSNorm(y*))
// solved with model.deq's solver, outside any tape (memory does not grow with maxIter), and trained
// through the phantom gradient: K damped steps of the map from the constant y*, with c and the
// head on the tape (the IFT gradient is the torch engine's).
//
// Deep supervision and ACT carry the equilibrium from one supervision step to the next as the
// offset z_L = y* − c (z_H = RMSNorm(y*), what the heads read); both reset to zero, so a row's
// first solve starts at y0 = c as the reference's, and later ones at c + the carried offset (a
// warm start that follows c as the backbone trains). Each of the T = model.hCycles cycles of a
// step is one solve from the last; model.lCycles is not used. Between stepWithoutGradient and
// stepWithGradient z_L holds y* itself (the constant the phantom steps start from).
import * as tf from '@tensorflow/tfjs-core';
import { resolveAttractor, type AttractorConfig, type DeqConfig, type ModelConfig } from '../../protocol/config';
import { InputError } from '../inputError';
import { phantomUnroll } from '../deq/deqGradients';
import type { Rng } from '../random';
import { checkDeqTrainableOnTfjs, DeqSolving } from './deqSolving';
import { attractorStepFlops } from './flops';
import { LatentModelBase } from './latentModelBase';
import { rmsNorm } from './layers';
import type { Depth, FixedPointSolveModel, LatentStates, ParameterSpec, ParamSet, RecursiveModel, StepFlops, TaskShape } from './recursiveModel';

/** The raw gate value whose sigmoid(raw)·gammaMax is layerScaleInit. */
export function rawGateInit(a: Pick<AttractorConfig, 'layerScaleInit' | 'gammaMax'>): number {
  const q = a.layerScaleInit / a.gammaMax;
  return Math.log(q / (1 - q));
}

export class AttractorModel extends LatentModelBase implements RecursiveModel, FixedPointSolveModel {
  readonly arch = 'attractor' as const;
  readonly learnsQContinue = false;
  readonly attractor: AttractorConfig;
  private readonly solving: DeqSolving;

  constructor(config: ModelConfig, task: TaskShape) {
    super(config, task);
    this.attractor = resolveAttractor(config);
    const { layerScaleInit, gammaMax } = this.attractor;
    if (!(layerScaleInit < gammaMax)) throw new InputError(`model.attractor.layerScaleInit: ${layerScaleInit} must be below gammaMax ${gammaMax} (gate = sigmoid(raw) · gammaMax)`);
    this.solving = new DeqSolving(config);
  }

  get deq(): DeqConfig {
    return this.solving.deq;
  }

  get depth(): Depth {
    return { hCycles: this.config.hCycles, lCycles: this.config.lCycles };
  }

  parameterSpecs(): ParameterSpec[] {
    const gate = (i: number): ParameterSpec[] => ['mixer', 'mlp'].map((n) => (
      { name: `head.${i}.gate_${n}`, shape: [this.width], init: { kind: 'constant', value: rawGateInit(this.attractor) }, group: 'main', weightDecay: false }));
    return [
      ...this.embeddingSpecs(),
      ...this.blockSpecs('backbone', this.attractor.backboneLayers),
      ...this.blockSpecs('head', this.config.layers, gate),
      ...this.headSpecs(),
    ];
  }

  /** Both carried states start at zero: the offset y − c of a fresh row is 0 (y0 = c). */
  override initialStates(_rng: Rng): { hInit: Float32Array; lInit: Float32Array } {
    return { hInit: new Float32Array(this.width), lInit: new Float32Array(this.width) };
  }

  /** c = the backbone's pre-norm blocks on x. */
  context(p: ParamSet, x: tf.Tensor3D): tf.Tensor3D {
    return this.preNormBlocks(p, 'backbone', this.attractor.backboneLayers, x);
  }

  /** FPHead(h + injection): the gated pre-norm blocks. */
  fpHead(p: ParamSet, h: tf.Tensor3D, injection: tf.Tensor3D): tf.Tensor3D {
    const gammaMax = this.attractor.gammaMax;
    const gates = (i: number) => ({
      mixer: tf.mul(tf.sigmoid(p[`head.${i}.gate_mixer`]!), gammaMax),
      mlp: tf.mul(tf.sigmoid(p[`head.${i}.gate_mlp`]!), gammaMax),
    });
    return this.preNormBlocks(p, 'head', this.config.layers, tf.add(h, injection) as tf.Tensor3D, gates);
  }

  /** The attractor map f(y) = FPHead(y + c) − y, whose fixed point is y*. */
  attractorMap(p: ParamSet, c: tf.Tensor3D): (y: tf.Tensor) => tf.Tensor {
    return (y) => tf.sub(this.fpHead(p, y as tf.Tensor3D, c), y);
  }

  // The interface's networks: both are FPHead (the map's y + c pattern is net(h, injection)).
  lNet(p: ParamSet, h: tf.Tensor3D, injection: tf.Tensor3D): tf.Tensor3D {
    return this.fpHead(p, h, injection);
  }

  hNet(p: ParamSet, h: tf.Tensor3D, injection: tf.Tensor3D): tf.Tensor3D {
    return this.fpHead(p, h, injection);
  }

  /**
   * Runs `fn` with every solve capped at `iterations` map evaluations; 0: no solve, y stays the
   * solve's initial state c + offset. For eval.internalisation.
   */
  withSolveCap<T>(iterations: number, fn: () => T): T {
    return this.solving.withCap(iterations, fn);
  }

  checkTrainableOnTfjs(): void {
    checkDeqTrainableOnTfjs(this.deq, 'the Attractor');
  }

  /** `solves` solves from y0 = c + zL (each from the last), outside any tape: [c, y*], new tensors. */
  private solveAnswer(p: ParamSet, zL: tf.Tensor3D, x: tf.Tensor3D, solves: number): [tf.Tensor3D, tf.Tensor3D] {
    const c = tf.tidy(() => this.context(p, x));
    let y = tf.add(c, zL) as tf.Tensor3D;
    if (!this.solving.skipsSolve) {
      const map = this.attractorMap(p, c);
      for (let k = 0; k < solves; k++) {
        const next = this.solving.solve(map, y).solution as tf.Tensor3D;
        y.dispose();
        y = next;
      }
    }
    return [c, y];
  }

  /** `cycles` solves, returning the carried states (RMSNorm(y*), y* − c); ownership as the base class. */
  override cyclesWithoutGradient(p: ParamSet, zH: tf.Tensor3D, zL: tf.Tensor3D, x: tf.Tensor3D, cycles: number, _lCycles: number): LatentStates {
    if (cycles === 0) return { zH, zL };
    const [c, y] = this.solveAnswer(p, zL, x, cycles);
    const out = tf.tidy(() => ({ zH: rmsNorm(y, this.config.rmsNormEps) as tf.Tensor3D, zL: tf.sub(y, c) as tf.Tensor3D }));
    tf.dispose([c, y]);
    return out;
  }

  /** The T solves; z_L of the result is y* itself, for stepWithGradient. */
  stepWithoutGradient(p: ParamSet, s: LatentStates, x: tf.Tensor3D, depth: Depth): LatentStates {
    const [c, y] = this.solveAnswer(p, s.zL, x, depth.hCycles);
    c.dispose();
    return { zH: tf.tidy(() => rmsNorm(y, this.config.rmsNormEps) as tf.Tensor3D), zL: y };
  }

  /** c on the tape, the phantom steps from the constant y* (s.zL), then the carried states. */
  stepWithGradient(p: ParamSet, s: LatentStates, x: tf.Tensor3D, _depth: Depth): LatentStates {
    const c = this.context(p, x);
    const y = phantomUnroll(this.attractorMap(p, c), s.zL, { steps: this.deq.phantomSteps, tau: this.deq.phantomDamping }) as tf.Tensor3D;
    return { zH: rmsNorm(y, this.config.rmsNormEps) as tf.Tensor3D, zL: tf.sub(y, c) as tf.Tensor3D };
  }

  takeStepStatistics(): Record<string, number> | undefined {
    return this.solving.takeStepStatistics();
  }

  stepFlops(depth: Depth, rows: number, training: boolean): StepFlops {
    return attractorStepFlops(this, depth, rows, training, this.deq, this.attractor.backboneLayers);
  }
}
