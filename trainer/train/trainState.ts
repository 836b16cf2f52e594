// Everything a training run carries from one optimizer step to the next: parameters, optimizer
// slots, the EMA shadow, the fixed initial states, the deep-supervision carry and the step count.
// Checkpoints save exactly this (plus the data stream), so a resumed run continues bit for bit.
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../../protocol/config';
import type { Rng } from '../random';
import type { ParamSet, RecursiveModel } from '../model/recursiveModel';
import { initialCarry, type ActCarry } from './actCarry';
import { createAdamSlots, type AdamSlots } from './optimizers';

export interface TrainState {
  model: RecursiveModel;
  /** Parameter name -> variable. Variables keep tf.js's unique auto names, so several states can coexist. */
  params: Map<string, tf.Variable>;
  /** Names of the main parameters (AdamATan2/AdamW, EMA); the rest is the sign-SGD puzzle embedding. */
  mainNames: string[];
  /** Main parameters the weight decay skips (ParameterSpec.weightDecay false). */
  undecayed: ReadonlySet<string>;
  slots: Map<string, AdamSlots>;
  ema: Map<string, tf.Variable> | undefined;
  hInit: tf.Tensor1D;
  lInit: tf.Tensor1D;
  carry: ActCarry;
  /** Optimizer steps taken. */
  step: number;
  emaUpdates: number;
}

export function createTrainState(model: RecursiveModel, train: TrainConfig, rng: Rng): TrainState {
  const values = model.initialParameters(rng);
  const { hInit, lInit } = model.initialStates(rng);
  const specs = model.parameterSpecs();
  const params = new Map<string, tf.Variable>();
  for (const s of specs) params.set(s.name, tf.variable(tf.tensor(values.get(s.name)!, s.shape), true));
  const mainNames = specs.filter((s) => s.group === 'main').map((s) => s.name);
  const slots = new Map(mainNames.map((n) => [n, createAdamSlots(params.get(n)!)] as const));
  const ema = train.ema.enabled ? new Map(mainNames.map((n) => [n, tf.variable(params.get(n)!.clone(), false)] as const)) : undefined;
  return {
    model, params, mainNames, slots, ema, undecayed: new Set(specs.filter((s) => s.weightDecay === false).map((s) => s.name)),
    hInit: tf.keep(tf.tensor1d(hInit)), lInit: tf.keep(tf.tensor1d(lInit)),
    carry: initialCarry(train.batchSize, model.task.seqLen, [model.totalLen, model.width]),
    step: 0, emaUpdates: 0,
  };
}

/** The weights evaluation and checkpoints use: the EMA where there is one, else the raw ones. */
export function evaluationParams(state: TrainState): ParamSet {
  const out: Record<string, tf.Tensor> = {};
  for (const [name, v] of state.params) out[name] = state.ema?.get(name) ?? v;
  return out;
}

export function rawParams(state: TrainState): ParamSet {
  return Object.fromEntries(state.params);
}

export function disposeTrainState(state: TrainState): void {
  for (const v of state.params.values()) v.dispose();
  for (const s of state.slots.values()) { s.m.dispose(); s.v.dispose(); }
  for (const v of state.ema?.values() ?? []) v.dispose();
  state.hInit.dispose();
  state.lInit.dispose();
  state.carry.zH.dispose();
  state.carry.zL.dispose();
}
