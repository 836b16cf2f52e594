// What the maze grid shows at one frame of one probe maze, computed from a decoded trajectory
// without the DOM (unit-tested): per cell what the question holds (wall, open, S, G), what the model
// predicts there, and the path marking against the true shortest path: a predicted path cell on the
// true path (right), one off it (extra), a true path cell the model left out (missing); plus cells
// whose prediction contradicts the question itself (a wall or S/G predicted as something else).
import { cellValueOf, MAZE_CELL, mazeCharOf, type DecodedTrajectory, type RefinementTrajectory } from '../../protocol/refinement';
import { cellOffset, changedCells } from './gridCells';

export type MazeGround = 'wall' | 'open' | 'start' | 'goal';
/** The path marking of a cell: on the path and right, predicted off the path, on the path but not predicted; null elsewhere. */
export type PathMark = 'right' | 'extra' | 'missing' | null;

export interface MazeCellView {
  ground: MazeGround;
  /** The model's predicted cell value (1 wall, 2 open, 3 S, 4 G, 5 path; 0 = PAD). */
  predicted: number;
  /** The model predicts the path here. */
  predictedPath: boolean;
  /** The true shortest path runs here (null without a solution). */
  truePath: boolean | null;
  mark: PathMark;
  /** The prediction against the solution (null without one). */
  correct: boolean | null;
  /** The prediction contradicts the maze itself: a wall, S or G not kept, an open cell predicted as wall / S / G (path marks aside). */
  broken: boolean;
  /** Probability of the predicted token, 0..1. */
  confidence: number;
  changed: boolean;
}

const groundOf = (v: number): MazeGround => (v === MAZE_CELL.wall ? 'wall' : v === MAZE_CELL.start ? 'start' : v === MAZE_CELL.goal ? 'goal' : 'open');

export function mazeCellsAt(t: RefinementTrajectory, d: DecodedTrajectory, puzzle: number, frame: number): MazeCellView[] {
  const p = t.puzzles[puzzle]!;
  const off = cellOffset(d, puzzle, frame);
  const changed = changedCells(d, puzzle, frame);
  return Array.from({ length: d.cells }, (_, i): MazeCellView => {
    const predicted = d.digits[off + i]!;
    const expected = p.solution ? cellValueOf('maze', p.solution[i]) : null;
    const predictedPath = predicted === MAZE_CELL.path;
    const truePath = expected === null ? null : expected === MAZE_CELL.path;
    const mark: PathMark = truePath === null ? null : predictedPath && truePath ? 'right' : predictedPath ? 'extra' : truePath ? 'missing' : null;
    const given = cellValueOf('maze', p.question[i]);
    const ground = groundOf(given);
    return {
      ground, predicted, predictedPath, truePath, mark,
      broken: ground === 'open' ? predicted !== MAZE_CELL.open && !predictedPath : predicted !== given,
      correct: expected === null ? null : predicted === expected,
      confidence: d.confidence[off + i]! / 255, changed: changed[i]!,
    };
  });
}

export interface MazeCounts {
  walls: number;
  open: number;
  /** Cells drawn as predicted path. */
  path: number;
  right: number;
  extra: number;
  missing: number;
  /** Cells whose prediction differs from the solution (path marks and contradicted walls / S / G); null without a solution. */
  wrong: number | null;
  /** True path cells (null without a solution). */
  truePath: number | null;
  /** Cells whose prediction contradicts the maze (MazeCellView.broken). */
  broken: number;
}

export function mazeCounts(cells: readonly MazeCellView[]): MazeCounts {
  const n = (f: (c: MazeCellView) => boolean) => cells.filter(f).length;
  const known = cells.every((c) => c.correct !== null);
  return {
    walls: n((c) => c.ground === 'wall'), open: n((c) => c.ground === 'open'), path: n((c) => c.predictedPath),
    right: n((c) => c.mark === 'right'), extra: n((c) => c.mark === 'extra'), missing: n((c) => c.mark === 'missing'),
    wrong: known ? n((c) => c.correct === false) : null, truePath: known ? n((c) => c.truePath === true) : null,
    broken: n((c) => c.broken),
  };
}

/** The predicted grid as "# SGo" characters ('?' for PAD), row-major: the grid's data-cells. */
export function mazePredictionString(cells: readonly MazeCellView[]): string {
  return cells.map((c) => mazeCharOf(c.predicted)).join('');
}

/** A screen-reader description: the counts, then the cells that are wrong by row and column. */
export function mazeDescription(cells: readonly MazeCellView[], side: number): string {
  const k = mazeCounts(cells);
  const at = (f: (c: MazeCellView) => boolean) => cells.map((c, i) => (f(c) ? `r${Math.floor(i / side) + 1}c${(i % side) + 1}` : '')).filter(Boolean);
  const parts = [`${side} by ${side} maze, ${k.walls} walls, ${k.path} cells predicted on the path`];
  if (k.truePath !== null) parts.push(`${k.right} of the ${k.truePath} true path cells right, ${k.extra} extra, ${k.missing} missing`);
  const extra = at((c) => c.mark === 'extra'), missing = at((c) => c.mark === 'missing');
  if (extra.length) parts.push(`extra at ${extra.slice(0, 12).join(' ')}${extra.length > 12 ? ' …' : ''}`);
  if (missing.length) parts.push(`missing at ${missing.slice(0, 12).join(' ')}${missing.length > 12 ? ' …' : ''}`);
  return parts.join('; ');
}
