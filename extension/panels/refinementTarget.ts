// What "Inspect Puzzle…" runs: the trainer's `reclab trace` command line for a run and a typed
// puzzle or a test-set row, where the trace lands, and the facts of the run the input box needs
// (the puzzle size it was trained on, whether it has a checkpoint). No vscode import (unit-tested).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkPuzzleInput } from '../../protocol/puzzleInput';
import { runFiles } from '../../protocol/runDirectory';

export type TraceInput = { kind: 'puzzle'; text: string } | { kind: 'testRow'; row: number };

/** Supervision steps a trace runs (the trainer's default), each recorded after every recursion cycle. */
export const TRACE_STEPS = 16;

/** runs/<id>/traces/trace-20261129-153012-123.json: in the run, so a restored panel finds it again. */
export function tracePathOf(runDir: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').replace('.', '-').slice(0, 19);
  return join(runDir, 'traces', `trace-${stamp}.json`);
}

/** `reclab trace` arguments; the puzzle is passed in its compact form (checked before). */
export function traceArgs(runDir: string, input: TraceInput, out: string): string[] {
  const source = input.kind === 'puzzle' ? ['--puzzle', compactPuzzle(input.text)] : ['--test-row', String(input.row)];
  return ['trace', runDir, ...source, '--steps', String(TRACE_STEPS), '--per-cycle', '--out', out, '--json'];
}

/** A typed or pasted puzzle as 16 or 81 characters, '.' for blanks (grid-drawing characters dropped). */
export function compactPuzzle(text: string): string {
  return text.replace(/[\s|+\-_]/g, '').replace(/0/g, '.');
}

/** The input box's live check: undefined when `text` is a puzzle this run can trace, else the reason. */
export function puzzleInputProblem(text: string, trainedSide: 4 | 9): string | undefined {
  const check = checkPuzzleInput(text, trainedSide);
  return check.ok ? undefined : check.reason;
}

/** A test-set row typed in the input box: a non-negative integer (the trainer checks the upper bound). */
export function parseTestRow(text: string): { row: number } | { error: string } {
  const t = text.trim();
  if (!/^\d{1,9}$/.test(t)) return { error: 'a row number: 0 is the first puzzle of the test set' };
  return { row: Number(t) };
}

/** The Sudoku size a run was trained on, from its config.json ({ config: { data } }); undefined when unreadable. */
export function trainedSideOfConfig(file: unknown): 4 | 9 | undefined {
  const config = (file as { config?: { data?: { kind?: unknown; side?: unknown } } } | null)?.config;
  const data = config?.data;
  if (!data) return undefined;
  if (data.kind === 'generated-sudoku') return data.side === 4 || data.side === 9 ? data.side : undefined;
  if (data.kind === 'sudoku-csv') return 9;
  return undefined;
}

/** The maze side a run was trained on (generated-maze size, 30 for Maze-Hard CSVs); undefined for Sudoku or when unreadable. */
export function trainedMazeSideOfConfig(file: unknown): number | undefined {
  const data = (file as { config?: { data?: { kind?: unknown; size?: unknown } } } | null)?.config?.data;
  if (data?.kind === 'generated-maze') return typeof data.size === 'number' && Number.isInteger(data.size) ? data.size : undefined;
  if (data?.kind === 'maze-csv') return 30;
  return undefined;
}

export function hasCheckpoint(runDir: string): boolean {
  try {
    return readdirSync(join(runDir, runFiles.checkpoints)).some((n) => /^step-\d+\.ckpt$/.test(n));
  } catch {
    return false;
  }
}

/** The reason `reclab trace` gave for refusing (its "reclab trace: …" stderr line), without the usage line. */
export function traceFailureReason(stderr: readonly string[], fallback: string): string {
  const line = [...stderr].reverse().find((l) => /^reclab trace: /.test(l));
  if (line) return line.replace(/^reclab trace: /, '');
  const last = stderr.filter((l) => !/^\s*at /.test(l) && !/^usage: /.test(l)).slice(-1)[0];
  return last ?? fallback;
}

/** refinement.everySteps of a run's config.json (0 = no snapshots), undefined when unreadable. */
export function refinementEveryOfConfig(file: unknown): number | undefined {
  const every = (file as { config?: { refinement?: { everySteps?: unknown } } } | null)?.config?.refinement?.everySteps;
  return typeof every === 'number' && Number.isInteger(every) && every >= 0 ? every : undefined;
}

/** The facts of a run's config.json the refinement view needs. */
export function runConfigFacts(runDir: string): { side?: 4 | 9; mazeSide?: number; refinementEvery?: number } {
  try {
    const file: unknown = JSON.parse(readFileSync(join(runDir, runFiles.config), 'utf8'));
    const mazeSide = trainedMazeSideOfConfig(file);
    return { side: trainedSideOfConfig(file), ...(mazeSide ? { mazeSide } : {}), refinementEvery: refinementEveryOfConfig(file) };
  } catch {
    return {};
  }
}
