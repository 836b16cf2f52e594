// What the grid shows at one frame of one probe puzzle, computed from a decoded trajectory without
// the DOM (unit-tested): per cell the digit drawn (the given, else the model's prediction), its
// confidence, right / wrong against the solution, and whether the prediction changed since the
// previous frame; plus the per-puzzle verdicts the selector and the side facts show.
import { settledFrame, type DecodedTrajectory, type RefinementPuzzle, type RefinementTask, type RefinementTrajectory } from '../../protocol/refinement';
import { positionOf } from './frameIndex';

export interface CellView {
  /** The digit drawn: the given, else the prediction (0 = the argmax was not a digit). */
  digit: number;
  given: boolean;
  /** The model's predicted digit (for a given cell too: the model predicts every cell). */
  predicted: number;
  /** Probability of the predicted token, 0..1. */
  confidence: number;
  /** The prediction against the solution (a given against itself when there is no solution); null when unknown. */
  correct: boolean | null;
  /** The prediction differs from the previous frame's (false at frame 0). */
  changed: boolean;
}

/** Offset of (puzzle, frame) in the decoded [puzzles, frames, cells] arrays. */
export function cellOffset(d: DecodedTrajectory, puzzle: number, frame: number): number {
  return (puzzle * d.frames + frame) * d.cells;
}

/** The model's predicted digits at a frame. */
export function predictedDigits(d: DecodedTrajectory, puzzle: number, frame: number): Uint8Array {
  const off = cellOffset(d, puzzle, frame);
  return d.digits.subarray(off, off + d.cells);
}

/** Cells whose prediction differs from the previous frame's; none at frame 0. */
export function changedCells(d: DecodedTrajectory, puzzle: number, frame: number): boolean[] {
  if (frame <= 0) return new Array<boolean>(d.cells).fill(false);
  const now = predictedDigits(d, puzzle, frame);
  const before = predictedDigits(d, puzzle, frame - 1);
  return Array.from(now, (v, i) => v !== before[i]);
}

const digitOf = (ch: string | undefined): number => (ch === undefined || ch === '.' || ch === '0' ? 0 : Number(ch));

export function cellsAt(t: RefinementTrajectory, d: DecodedTrajectory, puzzle: number, frame: number): CellView[] {
  const p = t.puzzles[puzzle]!;
  const off = cellOffset(d, puzzle, frame);
  const changed = changedCells(d, puzzle, frame);
  return Array.from({ length: d.cells }, (_, i): CellView => {
    const givenDigit = digitOf(p.question[i]);
    const predicted = d.digits[off + i]!;
    const expected = p.solution ? digitOf(p.solution[i]) : givenDigit;
    return {
      digit: givenDigit || predicted,
      given: givenDigit !== 0,
      predicted,
      confidence: d.confidence[off + i]! / 255,
      correct: expected ? predicted === expected : null,
      changed: changed[i]!,
    };
  });
}

/** The drawn digits as one string, '.' where nothing is drawn (the grid's data-digits). */
export function digitsString(cells: readonly CellView[]): string {
  return cells.map((c) => (c.digit ? String(c.digit) : '.')).join('');
}

/** Cells whose prediction is wrong against the solution (givens included), or null without a solution. */
export function wrongCount(cells: readonly CellView[]): number | null {
  if (cells.some((c) => c.correct === null)) return null;
  return cells.filter((c) => c.correct === false).length;
}

/** A screen-reader description of the grid: one sentence per row, blanks as "blank", predictions marked. */
export function gridDescription(cells: readonly CellView[], side: number): string {
  const rows: string[] = [];
  for (let r = 0; r < side; r++) {
    const row = cells.slice(r * side, (r + 1) * side).map((c) => {
      if (c.given) return `${c.digit} given`;
      if (!c.digit) return 'blank';
      return `${c.digit}${c.correct === false ? ' wrong' : c.correct ? ' right' : ''}`;
    });
    rows.push(`row ${r + 1}: ${row.join(', ')}`);
  }
  return rows.join('; ');
}

/** The q_halt logits of one puzzle, one per frame. */
export function qHaltOf(d: DecodedTrajectory, puzzle: number): Float32Array {
  return d.qHalt.subarray(puzzle * d.frames, (puzzle + 1) * d.frames);
}

/** The settled frame of a puzzle (first frame from which the whole answer is right to the end), -1 when never, null without a solution. */
export function settledFrameOf(p: RefinementPuzzle, d: DecodedTrajectory, puzzle: number, task: RefinementTask = 'sudoku'): number | null {
  return p.solution ? settledFrame(d, puzzle, p.solution, task) : null;
}

/** "settled at step 2 · cycle 1", "wrong at the end", "no solution to compare". */
export function settledText(settled: number | null, cyclesPerStep: number): string {
  if (settled === null) return 'no solution to compare against';
  if (settled < 0) return 'not right at the end';
  const p = positionOf(settled, cyclesPerStep);
  return `right from step ${p.step}${cyclesPerStep > 1 ? ` · cycle ${p.cycle}` : ''} on`;
}

/** What a puzzle's `blanks` counts, as the selector and the facts say it: "6 blanks", "path length 14". */
export function difficultyText(p: RefinementPuzzle, task: RefinementTask = 'sudoku'): string {
  return task === 'maze' ? `path length ${p.blanks}` : `${p.blanks} blanks`;
}

/** The puzzle selector's label: "#2 · 6 blanks · ✓ from step 3" / "✗ at the end" (a maze: "#2 · path length 14 · …"). */
export function puzzleLabel(p: RefinementPuzzle, index: number, settled: number | null, cyclesPerStep: number, task: RefinementTask = 'sudoku'): string {
  const verdict = settled === null ? '?' : settled < 0 ? '✗ at the end' : `✓ from step ${positionOf(settled, cyclesPerStep).step}`;
  return `#${index + 1} · ${difficultyText(p, task)} · ${verdict}`;
}
