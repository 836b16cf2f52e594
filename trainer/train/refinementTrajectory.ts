// Tracing puzzles through the model for the refinement view: from H_init/L_init, K supervision
// steps at full depth without gradient; after every step (or every cycle) the argmax digit of
// each cell, its probability (stablemax or softmax, as the model was trained) and q_halt.
// Sudoku cells record the digit; maze cells the predicted token (wall, open, S, G, path), the
// cells of trainer/data/mazeGrid.ts, so the view can draw the predicted path.
import * as tf from '@tensorflow/tfjs-core';
import { bytesToBase64, type RefinementTrajectory } from '../../protocol/refinement';
import { MAZE_CHARSET, MAZE_PATH, MAZE_WALL } from '../data/mazeGrid';
import type { Puzzle } from '../data/puzzle';
import { formatPuzzleString } from '../data/puzzleString';
import type { TaskDescription } from '../data/taskData';
import { encodeTaskQuestion } from '../data/taskEncoding';
import { FIRST_DIGIT_TOKEN } from '../data/tokenEncoding';
import type { ParamSet, RecursiveModel } from '../model/recursiveModel';
import { stablemaxS } from './losses';

export interface TraceOptions {
  steps: number;
  perCycle: boolean;
  lossType: 'stablemax' | 'softmax';
}

/** A maze grid (cells 1..5) as the trajectory's row-major characters "# SGo". */
export function mazeCellsString(grid: Uint8Array): string {
  return Array.from(grid, (c) => MAZE_CHARSET[c - 1] ?? '?').join('');
}

/** The trajectory's cell value of an argmax token: Sudoku digit 1..side (0 otherwise); maze cell 1..5 (0 for PAD). */
export function cellOfToken(task: TaskDescription, token: number): number {
  if (task.kind === 'maze') return token >= MAZE_WALL && token <= MAZE_PATH ? token : 0;
  return token >= FIRST_DIGIT_TOKEN && token < FIRST_DIGIT_TOKEN + task.side ? token - FIRST_DIGIT_TOKEN + 1 : 0;
}

export function traceRefinement(model: RecursiveModel, p: ParamSet, hInit: tf.Tensor1D, lInit: tf.Tensor1D, puzzles: readonly Puzzle[], task: TaskDescription, opts: TraceOptions): RefinementTrajectory {
  if (task.kind === 'maze' && task.height !== task.width) throw new Error(`refinement: ${task.height}x${task.width} maze: the view draws square mazes only`);
  const side = task.kind === 'maze' ? task.height : task.side;
  const P = puzzles.length;
  const L = model.task.seqLen;
  const { hCycles, lCycles } = model.depth;
  const C = opts.perCycle ? hCycles : 1;
  const frames = opts.steps * C;
  const digits = new Uint8Array(P * frames * L);
  const confidence = new Uint8Array(P * frames * L);
  const qHalt = new Float32Array(P * frames);
  tf.tidy(() => {
    const tokens = tf.tensor2d(Int32Array.from(puzzles.flatMap((pz) => [...encodeTaskQuestion(task, pz.question)])), [P, L], 'int32');
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
            digits[off + i] = cellOfToken(task, best[pz * L + i]!);
            confidence[off + i] = Math.round(255 * bestP[pz * L + i]!);
          }
          qHalt[pz * frames + frame] = q[pz]!;
        }
        frame++;
      }
    }
  });
  if (task.kind === 'maze') {
    return {
      task: 'maze', side,
      puzzles: puzzles.map((pz) => ({ question: mazeCellsString(pz.question), solution: mazeCellsString(pz.answer), blanks: pz.blanks })),
      steps: opts.steps, cyclesPerStep: C,
      digits: bytesToBase64(digits), confidence: bytesToBase64(confidence), qHalt: bytesToBase64(new Uint8Array(qHalt.buffer)),
    };
  }
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
