// What "Test-Time Scaling (Vote)…" runs: the trainer's `reclab vote` command line for one or more
// run directories, where its report lands, and the target a restored panel may take back from its
// saved state. No vscode import (unit-tested).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isObj, isText } from '../../protocol/messageGuards';
import { runFiles } from '../../protocol/runDirectory';
import { VOTE_REPORT_FILE } from '../../protocol/voteReport';
import { insideWorkspace } from './inspectTarget';

/** Held-out puzzles a vote from the extension takes (the CLI's --held-out sets any other number). */
export const VOTE_HELD_OUT = 200;

/** What one vote runs on: the runs (each a seed) and the newest `checkpoints` checkpoints of each. */
export interface VoteTarget {
  runs: string[];
  checkpoints: number;
}

export function voteArgs(t: VoteTarget): string[] {
  return ['vote', ...t.runs, '--checkpoints', String(t.checkpoints), '--held-out', String(VOTE_HELD_OUT), '--out', voteReportPath(t), '--quiet'];
}

export function voteReportPath(t: VoteTarget): string {
  return join(t.runs[0]!, VOTE_REPORT_FILE);
}

/**
 * The target a restored panel saved (getState). The webview can write that state, so it is not
 * trusted: every run must lie (symlinks resolved) inside a workspace folder and be a run directory
 * (holding config.json) — the host reads its report there, or runs `reclab vote`, which writes one.
 */
export function restoredVoteTarget(raw: unknown, workspaceFolders: readonly string[]): VoteTarget | { refused: string } {
  if (!isObj(raw) || !Array.isArray(raw['runs']) || raw['runs'].length === 0 || !raw['runs'].every((r) => isText(r))) return { refused: 'the saved state names no runs' };
  const runs: string[] = [];
  for (const path of raw['runs'] as string[]) {
    const confined = insideWorkspace(path, workspaceFolders);
    if ('refused' in confined) return confined;
    if (!statSync(confined.real).isDirectory() || !existsSync(join(confined.real, runFiles.config))) return { refused: `${path}: not a run directory (no ${runFiles.config})` };
    runs.push(confined.real);
  }
  const k = raw['checkpoints'];
  return { runs, checkpoints: Number.isInteger(k) && (k as number) >= 1 && (k as number) <= 64 ? (k as number) : 1 };
}
