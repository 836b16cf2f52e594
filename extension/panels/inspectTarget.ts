// What "Inspect Fixed Points…" runs: the trainer's `reclab inspect` command line for a run
// directory or an .onnx file, and where its report lands. No vscode import (unit-tested).
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { INSPECT_REPORT_FILE } from '../../protocol/inspectReport';
import { runFiles } from '../../protocol/runDirectory';

export type InspectTarget = { kind: 'run'; dir: string } | { kind: 'onnx'; file: string; puzzles: string[] };

/** An .onnx file that is a run's own export (runs/<id>/model.onnx) is inspected as that run (its held-out puzzles). */
export function targetOfOnnxFile(file: string): InspectTarget | undefined {
  const dir = dirname(file);
  if (basename(file) === runFiles.onnxModel && existsSync(join(dir, runFiles.config))) return { kind: 'run', dir };
  return undefined;
}

export function reportPathOf(t: InspectTarget): string {
  return t.kind === 'run' ? join(t.dir, INSPECT_REPORT_FILE) : join(dirname(t.file), `${basename(t.file, '.onnx')}.${INSPECT_REPORT_FILE}`);
}

export function inspectArgs(t: InspectTarget): string[] {
  const target = t.kind === 'run' ? t.dir : t.file;
  return ['inspect', target, '--quiet', '--out', reportPathOf(t), ...(t.kind === 'onnx' ? t.puzzles.flatMap((p) => ['--puzzle', p]) : [])];
}

/** Puzzle strings typed by the user: separated by spaces, commas or newlines; each 16 or 81 characters of 1-9, '.' or '0' (optionally ":SOLUTION"). */
export function parsePuzzleList(text: string): { puzzles: string[]; error?: string } {
  const puzzles = text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
  if (puzzles.length === 0) return { puzzles, error: 'give at least one puzzle' };
  for (const p of puzzles) {
    const q = p.split(':')[0]!;
    if (!/^[0-9.]+$/.test(q) || (q.length !== 16 && q.length !== 81)) return { puzzles, error: `"${p.slice(0, 24)}${p.length > 24 ? '…' : ''}" is not a 16- or 81-character puzzle ('.' or 0 for blanks)` };
  }
  return { puzzles };
}
