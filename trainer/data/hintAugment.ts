// Augmented HRM's "hint" examples (reference.md §3.1): beside each training example, a second one
// with the same solution and k ~ Uniform{1, …, u − 1} of its u unknown cells filled in from the
// solution — down to a single remaining unknown. The unknown cells are those where the question
// differs from the solution, so the same rule serves Sudoku (blanks) and mazes (the open cells of
// the path, revealed as path in the input).
import type { Rng } from '../random';
import type { Puzzle } from './puzzle';

/** Cells where `question` and `answer` differ (the cells the model has to fill). */
export function unknownCells(question: Uint8Array, answer: Uint8Array): number[] {
  if (question.length !== answer.length) throw new RangeError(`question has ${question.length} cells, answer ${answer.length}`);
  const out: number[] = [];
  for (let i = 0; i < question.length; i++) if (question[i] !== answer[i]) out.push(i);
  return out;
}

/**
 * The hint example of `p`, or null when it has fewer than 2 unknown cells (nothing can be revealed
 * while keeping one unknown). `blanks` of the result counts the unknown cells left.
 */
export function hintExample(p: Puzzle, rng: Rng): Puzzle | null {
  const unknown = unknownCells(p.question, p.answer);
  if (unknown.length < 2) return null;
  const k = 1 + rng.int(unknown.length - 1);
  const question = p.question.slice();
  // A uniformly random k-subset: the first k of a Fisher-Yates shuffle.
  for (const cell of rng.shuffle(unknown).slice(0, k)) question[cell] = p.answer[cell]!;
  return { question, answer: p.answer, blanks: unknown.length - k };
}

/** Each group followed by the hint examples of its members (groups of 2n, as the reference's --hint build). */
export function withHintExamples(groups: readonly Puzzle[][], rng: Rng): Puzzle[][] {
  return groups.map((g) => [...g, ...g.map((p) => hintExample(p, rng)).filter((h): h is Puzzle => h !== null)]);
}
