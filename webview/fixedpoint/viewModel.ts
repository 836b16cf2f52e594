// What the Fixed-Point Debugging view shows, computed from an inspection report without the DOM
// (unit-tested): the answer grid's cells at a step, the trajectory plot's bounds and colours, and
// the one-line verdicts.
import type { InspectReport, PuzzleInspection } from '../../protocol/inspectReport';
import { deqMapLabel } from '../../protocol/onnxContract';

export type CellKind = 'given' | 'right' | 'wrong' | 'blank' | 'unknown';

export interface GridCell {
  text: string;
  kind: CellKind;
  /** The digit clashes with another in its row, column or box. */
  conflict: boolean;
}

/** The answer at `step` (0-based) as cells: givens, right / wrong against the solution, blanks; conflicts marked. */
export function answerGrid(p: PuzzleInspection, step: number): { side: number; cells: GridCell[] } {
  const answer = p.trace.answers[Math.min(Math.max(step, 0), p.trace.answers.length - 1)]!;
  const side = Math.round(Math.sqrt(answer.length));
  const box = side === 9 ? 3 : side === 4 ? 2 : 1;
  const digit = (i: number) => (answer[i] === '.' ? 0 : Number(answer[i]));
  const unitOf = (i: number) => {
    const r = Math.floor(i / side), c = i % side;
    return [`r${r}`, `c${c}`, `b${Math.floor(r / box)}-${Math.floor(c / box)}`];
  };
  const seen = new Map<string, number>();
  for (let i = 0; i < answer.length; i++) {
    const d = digit(i);
    if (d) for (const u of unitOf(i)) seen.set(`${u}:${d}`, (seen.get(`${u}:${d}`) ?? 0) + 1);
  }
  const cells = Array.from({ length: answer.length }, (_, i): GridCell => {
    const d = digit(i);
    const conflict = d > 0 && unitOf(i).some((u) => (seen.get(`${u}:${d}`) ?? 0) > 1);
    const given = p.question[i] !== '.';
    const text = d ? String(d) : '';
    if (!d) return { text, kind: 'blank', conflict };
    if (given && p.question[i] === answer[i]) return { text, kind: 'given', conflict };
    if (!p.solution) return { text, kind: given ? 'wrong' : 'unknown', conflict };
    return { text, kind: p.solution[i] === answer[i] ? 'right' : 'wrong', conflict };
  });
  return { side, cells };
}

export type MazeGround = 'wall' | 'open' | 'start' | 'goal';

export interface MazeGridCell {
  ground: MazeGround;
  /** The answer puts the path here. */
  path: boolean;
  /** Against the solution's path: predicted and true (right), predicted only (extra), true only (missing). */
  mark: 'right' | 'extra' | 'missing' | null;
  /** The answer contradicts the maze itself here (a wall, S or G not kept). */
  broken: boolean;
}

export interface MazeGridCounts { walls: number; path: number; right: number; extra: number; missing: number; broken: number }

const MAZE_GROUND: Record<string, MazeGround> = { '#': 'wall', ' ': 'open', S: 'start', G: 'goal' };

/** A maze answer (report strings in "# SGo", '?' for PAD) at `step` as cells: the maze's walls / S / G, the answer's path and its marks. */
export function mazeAnswerGrid(p: PuzzleInspection, step: number): { side: number; cells: MazeGridCell[]; counts: MazeGridCounts } {
  const answer = p.trace.answers[Math.min(Math.max(step, 0), p.trace.answers.length - 1)]!;
  const side = Math.round(Math.sqrt(answer.length));
  const cells = Array.from({ length: answer.length }, (_, i): MazeGridCell => {
    const ground = MAZE_GROUND[p.question[i]!] ?? 'open';
    const path = answer[i] === 'o';
    const truePath = p.solution ? p.solution[i] === 'o' : null;
    const mark = truePath === null ? null : path && truePath ? 'right' : path ? 'extra' : truePath ? 'missing' : null;
    const broken = ground === 'open' ? answer[i] !== ' ' && answer[i] !== 'o' : answer[i] !== p.question[i];
    return { ground, path, mark, broken };
  });
  const n = (f: (c: MazeGridCell) => boolean) => cells.filter(f).length;
  return {
    side, cells,
    counts: { walls: n((c) => c.ground === 'wall'), path: n((c) => c.path), right: n((c) => c.mark === 'right'), extra: n((c) => c.mark === 'extra'), missing: n((c) => c.mark === 'missing'), broken: n((c) => c.broken) },
  };
}

/** A fixed point's answer as the census table shows it: a maze's by its path (the grid string is long). */
export function censusAnswerText(answer: string, task: string): string {
  if (task !== 'maze') return answer;
  return `${[...answer].filter((ch) => ch === 'o').length} path cells`;
}

export interface Bounds { xMin: number; xMax: number; yMin: number; yMax: number }

/** Bounds of the trajectory plot: every main and perturbed point, padded by 5 % (never zero-width). */
export function trajectoryBounds(p: PuzzleInspection): Bounds | undefined {
  const t = p.trajectory;
  if (!t) return undefined;
  const pts = [...t.main, ...t.perturbed.flatMap((r) => r.points)].filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (pts.length === 0) return undefined;
  let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
  for (const [x, y] of pts) {
    xMin = Math.min(xMin, x); xMax = Math.max(xMax, x); yMin = Math.min(yMin, y); yMax = Math.max(yMax, y);
  }
  const padX = Math.max((xMax - xMin) * 0.05, 1e-9), padY = Math.max((yMax - yMin) * 0.05, 1e-9);
  return { xMin: xMin - padX, xMax: xMax + padX, yMin: yMin - padY, yMax: yMax + padY };
}

/** Palette slot of a perturbed run: its fixed point's index (each fixed point its own colour), or -1 when it did not settle. */
export function runColourIndex(fixedPoint: number | null, paletteSize: number): number {
  return fixedPoint === null ? -1 : fixedPoint % paletteSize;
}

/** The puzzle picker's label: number, blanks (a maze: path length), verdict at the end, settled or not, fixed points. */
export function puzzleLabel(p: PuzzleInspection, task = 'sudoku'): string {
  const verdict = p.correct === null ? '?' : p.correct ? '✓' : '✗';
  const fps = p.census ? ` · ${p.census.fixedPoints.length} fixed point${p.census.fixedPoints.length === 1 ? '' : 's'}` : '';
  return `#${p.index + 1} · ${task === 'maze' ? `path length ${p.blanks}` : `${p.blanks} blanks`} · ${verdict} · ${p.settled ? 'settled' : 'not settled'}${fps}`;
}

/** A puzzle worth debugging: it settles on a wrong answer, or its census finds a wrong fixed point. */
export function hasWrongFixedPoint(p: PuzzleInspection): boolean {
  return (p.settled && p.correct === false) || !!p.census?.fixedPoints.some((f) => f.correct === false);
}

/** The indexes the puzzle picker lists: all, or with `wrongOnly` those with a wrong fixed point. */
export function pickerPuzzles(puzzles: PuzzleInspection[], wrongOnly: boolean): number[] {
  return puzzles.map((p, i) => (!wrongOnly || hasWrongFixedPoint(p) ? i : -1)).filter((i) => i >= 0);
}

/** What the view's terms mean, in one line each (shown beside them). */
export const termExplanations = {
  spectralRadius: 'largest |eigenvalue| of the step map\'s Jacobian at the end state: below 1 a small push dies out (a stable fixed point), above 1 it grows',
  /** `map`: the solve's map in words (deqMapLabel of the report's contract). */
  innerSpectralRadius: (map: string) => `largest |eigenvalue| of the inner map ${map} that the solver iterates inside one step (TorchDEQ's sradius), at the end state: below 1 plain iteration converges there`,
  criticalStep: 'the first step from which the answer is right and stays right',
  census: 'the end states reached from noisy starts and relabelled copies of the puzzle, grouped by the answer they decode to',
  mazeCensus: 'the end states reached from noisy starts and the rotated / reflected copies of the maze (answers mapped back), grouped by the answer they decode to',
  mazeValidity: 'label-free: the answer is one simple path from S to G over the open cells that keeps every wall',
} as const;

/** The header's one-line verdict over all puzzles. */
export function summaryLine(r: InspectReport): string {
  const s = r.summary;
  const parts = [
    `${s.correctAtEnd}/${s.puzzles} right after ${r.options.steps} steps`,
    `${s.settledWrong} settled on a wrong fixed point`,
    `${s.neverSettled} never settled`,
  ];
  if (s.spectralRadius) parts.push(`${s.deq ? 'step map ' : ''}spectral radius median ${s.spectralRadius.median.toFixed(3)} (max ${s.spectralRadius.max.toFixed(3)})`);
  if (s.deq?.innerSpectralRadius) parts.push(`inner map (solver) spectral radius median ${s.deq.innerSpectralRadius.median.toFixed(3)} (max ${s.deq.innerSpectralRadius.max.toFixed(3)})`);
  if (s.puzzlesWithWrongFixedPoint !== null) parts.push(`${s.puzzlesWithWrongFixedPoint} puzzles reach a wrong fixed point in the census`);
  return parts.join(' · ');
}

/** Chart titles: the per-step trace and the inner solve's trace are different iterations; these say which. */
export const traceTitles = {
  acrossSteps: 'Relative residual ‖Δz‖/‖z‖ across supervision steps (log scale)',
  innerSolve: (step: number) => `Inner solve (iterations within step ${step}): relative residual ‖f(z_k) − z_k‖/‖f(z_k)‖ (log scale)`,
} as const;

export interface InnerSolveTrace {
  /** 1-based supervision step shown. */
  step: number;
  /** x: iteration 1..T·K counted across the step's T solves. */
  iterations: number[];
  /** The selected puzzle's residual per iteration, and the median over all puzzles (null where missing). */
  residuals: (number | null)[];
  median: (number | null)[];
  /** Iterations where a new cycle's solve begins (1-based, after the first). */
  cycleStarts: number[];
  /** Key line: the solve as exported and the solver trained. */
  key: string;
}

/**
 * The inner solve's residual trace inside supervision step `step` (0-based, clamped) of a DEQ
 * model's report; undefined for other models or reports without the trace.
 */
export function innerSolveTrace(r: InspectReport, p: PuzzleInspection, step: number): InnerSolveTrace | undefined {
  const d = r.contract.deq;
  const traces = p.deq?.innerResiduals;
  if (!d || !traces || traces.length === 0) return undefined;
  const s = Math.min(Math.max(step, 0), traces.length - 1);
  const T = r.contract.hCycles, K = d.iterations;
  const n = T * K;
  const clean = (v: readonly (number | null)[] | undefined) => Array.from({ length: n }, (_, i) => {
    const x = v?.[i];
    return x !== null && x !== undefined && Number.isFinite(x) && x > 0 ? x : null;
  });
  return {
    step: s + 1,
    iterations: Array.from({ length: n }, (_, i) => i + 1),
    residuals: clean(traces[s]),
    median: clean(r.summary.deq?.medianInnerResidual[s]),
    cycleStarts: Array.from({ length: T - 1 }, (_, c) => (c + 1) * K + 1),
    key: `${T} solve${T === 1 ? '' : 's'} of ${K} iterations each (exported as plain fixed-point iteration "${d.solverExport}"; trained with "${d.solverTrained}", which reaches the same fixed point when it converges)`,
  };
}

/** The stability rows of the two spectral radii, each labelled with the map it belongs to. */
export function spectralRadiusRows(r: InspectReport, p: PuzzleInspection): [string, string][] {
  const fmt = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${x.toFixed(3)}${x > 1 ? ' (unstable)' : ''}`);
  const rows: [string, string][] = [['step map: spectral radius ρ(J) at z_K', `${fmt(p.spectralRadius)} — ${termExplanations.spectralRadius}`]];
  if (r.contract.deq) {
    const inner = r.contract.deq.innerState;
    rows.push([`inner map (solver): spectral radius ρ(∂f/∂${inner}) at z_K`, `${fmt(p.deq?.innerSpectralRadius)} — ${termExplanations.innerSpectralRadius(deqMapLabel(r.contract))}`]);
  }
  return rows;
}
