// What "Inspect Fixed Points…" runs: the trainer's `reclab inspect` command line for a run
// directory or an .onnx file, and where its report lands. No vscode import (unit-tested).
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, isAbsolute } from 'node:path';
import { INSPECT_REPORT_FILE, MAX_INSPECT_PUZZLES } from '../../protocol/inspectReport';
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

/**
 * The command line: pasted puzzles travel in a file (`puzzlesFile`, holding `puzzlesFileText`),
 * never as arguments — onnxruntime-node crashed once the command line reached ~29 kB.
 */
export function inspectArgs(t: InspectTarget, puzzlesFile?: string): string[] {
  if (t.kind === 'run') return ['inspect', t.dir, '--quiet', '--out', reportPathOf(t)];
  if (!puzzlesFile) throw new Error('inspectArgs: an .onnx target needs its puzzles file');
  return ['inspect', t.file, '--quiet', '--out', reportPathOf(t), '--puzzles', puzzlesFile];
}

/** What the puzzles file of an .onnx target holds: one puzzle a line. */
export function puzzlesFileText(t: Extract<InspectTarget, { kind: 'onnx' }>): string {
  return t.puzzles.join('\n') + '\n';
}

/** Puzzle strings typed by the user: separated by spaces, commas or newlines; each 16 or 81 characters of 1-9, '.' or '0' (optionally ":SOLUTION"). */
export function parsePuzzleList(text: string): { puzzles: string[]; error?: string } {
  const puzzles = text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
  if (puzzles.length === 0) return { puzzles, error: 'give at least one puzzle' };
  if (puzzles.length > MAX_INSPECT_PUZZLES) return { puzzles, error: `${puzzles.length} puzzles; an inspection takes at most ${MAX_INSPECT_PUZZLES}` };
  for (const p of puzzles) {
    const q = p.split(':')[0]!;
    if (!/^[0-9.]+$/.test(q) || (q.length !== 16 && q.length !== 81)) return { puzzles, error: `"${p.slice(0, 24)}${p.length > 24 ? '…' : ''}" is not a 16- or 81-character puzzle ('.' or 0 for blanks)` };
  }
  return { puzzles };
}

/**
 * The target a restored panel names in its saved webview state — state the webview can write, so
 * it is not trusted: the path must lie (after resolving symlinks) inside one of the workspace
 * folders and be a run directory (holding config.json) or an .onnx file. Its report is always
 * reportPathOf(target), never a path from the state.
 */
export function restoredTarget(path: string | undefined, workspaceFolders: readonly string[]): InspectTarget | { refused: string } {
  const confined = insideWorkspace(path, workspaceFolders);
  if ('refused' in confined) return confined;
  const real = confined.real;
  if (statSync(real).isDirectory()) {
    return existsSync(join(real, runFiles.config)) ? { kind: 'run', dir: real } : { refused: `${path}: not a run directory (no ${runFiles.config})` };
  }
  return extname(real) === '.onnx' ? { kind: 'onnx', file: real, puzzles: [] } : { refused: `${path}: neither a run directory nor an .onnx file` };
}

/** A path from untrusted state, resolved (symlinks too) and kept only when it lies inside one of the workspace folders. */
export function insideWorkspace(path: string | undefined, workspaceFolders: readonly string[]): { real: string } | { refused: string } {
  if (!path) return { refused: 'the saved state names no target' };
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return { refused: `${path}: no such file or directory` };
  }
  const inside = workspaceFolders.some((f) => {
    let root: string;
    try {
      root = realpathSync(f);
    } catch {
      return false;
    }
    const rel = relative(root, real);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  });
  return inside ? { real } : { refused: `${path}: outside the workspace folders` };
}
