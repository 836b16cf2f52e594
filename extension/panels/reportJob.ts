// A trainer command that a panel runs in a child process and whose report file it then shows
// (`reclab inspect` for the Fixed-Point Debugging view, `reclab vote` for the Test-Time Scaling
// view): one job at a time, its stderr in the log, its failure as the trainer's own error lines.
import { readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { cappedText } from '../../protocol/messageGuards';
import { TrainerProcess } from '../trainer/trainerProcess';

const STOP_MS = 3000;

export class ReportJob {
  private job: TrainerProcess | undefined;

  constructor(private readonly extensionUri: vscode.Uri, private readonly log: vscode.LogOutputChannel, private readonly tag: string) {}

  get running(): boolean {
    return this.job?.running ?? false;
  }

  /** `reclab <args>` in `cwd`; null when it exited 0, else the error to show (capped, no stack lines). */
  async run(args: string[], cwd: string): Promise<string | null> {
    const cli = vscode.Uri.joinPath(this.extensionUri, 'dist', 'trainer', 'cli.js').fsPath;
    this.log.info(`[${this.tag}] ${args.join(' ')}`);
    const job = new TrainerProcess({ node: process.execPath, cli, args, cwd, rpc: false });
    this.job = job;
    job.onStderrLine((l) => this.log.info(`[${this.tag}] ${l}`));
    const exit = await job.exited;
    this.job = undefined;
    if (exit.code === 0) return null;
    const lines = job.lastStderr.filter((l) => !/^\s*at /.test(l));
    return cappedText(lines.join('\n') || `reclab ${args[0]} exited with ${exit.code ?? exit.signal}`);
  }

  stop(): void {
    void this.job?.stop(STOP_MS);
  }
}

/** The report at `path`, checked by `check`; or the error naming the file. */
export async function readReport<T>(path: string, check: (v: unknown) => T): Promise<{ report: T } | { error: string }> {
  try {
    return { report: check(JSON.parse(await readFile(path, 'utf8'))) };
  } catch (e) {
    return { error: cappedText(`${path}: ${(e as Error).message}`) };
  }
}
