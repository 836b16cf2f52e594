// Tracing puzzles through the model for the refinement view: from H_init/L_init, K supervision
// steps at full depth without gradient; after every step (or every cycle) the argmax digit of
// each cell, its probability (stablemax or softmax, as the model was trained) and q_halt.
import * as tf from '@tensorflow/tfjs-core';
import { bytesToBase64, type RefinementTrajectory } from '../../protocol/refinement';
import type { Puzzle } from '../data/puzzle';
import { formatPuzzleString } from '../data/puzzleString';
import { encodeQuestion, FIRST_DIGIT_TOKEN } from '../data/tokenEncoding';
import type { ParamSet, RecursiveModel } from '../model/recursiveModel';
import { stablemaxS } from './losses';

export interface TraceOptions {
  steps: number;
  perCycle: boolean;
  lossType: 'stablemax' | 'softmax';
}

export function traceRefinement(model: RecursiveModel, p: ParamSet, hInit: tf.Tensor1D, lInit: tf.Tensor1D, puzzles: readonly Puzzle[], side: 4 | 9, opts: TraceOptions): RefinementTrajectory {
  const P = puzzles.length;
  const L = model.task.seqLen;
  const { hCycles, lCycles } = model.depth;
  const C = opts.perCycle ? hCycles : 1;
  const frames = opts.steps * C;
  const digits = new Uint8Array(P * frames * L);
  const confidence = new Uint8Array(P * frames * L);
  const qHalt = new Float32Array(P * frames);
  tf.tidy(() => {
    const tokens = tf.tensor2d(Int32Array.from(puzzles.flatMap((pz) => [...encodeQuestion(pz.question)])), [P, L], 'int32');
    const x = model.inputEmbedding(p, tokens);
    let zH = tf.broadcastTo(hInit, [P, model.totalLen, model.width]) as tf.Tensor3D;
    let zL = tf.broadcastTo(lInit, [P, model.totalLen, model.width]) as tf.Tensor3D;
    let frame = 0;
    for (let s = 0; s < opts.steps; s++) {
      for (let c = 0; c < hCycles; c++) {
        ({ zH, zL } = model.cyclesWithoutGradient(p, zH, zL, x, 1, lCycles));
        if (!opts.perCycle && c < hCycles - 1) continue;
        const heads = model.heads(p, zH);
        const probs = opts.lossType === 'softmax' ? tf.softmax(heads.logits) : tf.div(stablemaxS(heads.logits), tf.sum(stablemaxS(heads.logits), -1, true));
        const best = tf.argMax(probs, -1).dataSync();
        const bestP = tf.max(probs, -1).dataSync();
        const q = heads.qHalt.dataSync();
        for (let pz = 0; pz < P; pz++) {
          const off = (pz * frames + frame) * L;
          for (let i = 0; i < L; i++) {
            const token = best[pz * L + i]!;
            digits[off + i] = token >= FIRST_DIGIT_TOKEN && token < FIRST_DIGIT_TOKEN + side ? token - FIRST_DIGIT_TOKEN + 1 : 0;
            confidence[off + i] = Math.round(255 * bestP[pz * L + i]!);
          }
          qHalt[pz * frames + frame] = q[pz]!;
        }
        frame++;
      }
    }
  });
  return {
    side,
    puzzles: puzzles.map((pz) => ({ question: formatPuzzleString(pz.question), solution: pz.answer.some((d) => d === 0) ? undefined : formatPuzzleString(pz.answer), blanks: pz.blanks })),
    steps: opts.steps, cyclesPerStep: C,
    digits: bytesToBase64(digits), confidence: bytesToBase64(confidence), qHalt: bytesToBase64(new Uint8Array(qHalt.buffer)),
  };
}

/** `count` held-out puzzles spread from the fewest to the most blanks (mixed difficulty). */
export function probePuzzles(test: readonly Puzzle[], count: number): Puzzle[] {
  if (test.length === 0) return [];
  const sorted = [...test].sort((a, b) => a.blanks - b.blanks);
  const n = Math.min(count, sorted.length);
  return Array.from({ length: n }, (_, i) => sorted[n === 1 ? 0 : Math.round((i * (sorted.length - 1)) / (n - 1))]!);
}
