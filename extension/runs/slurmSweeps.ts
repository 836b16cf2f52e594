// Slurm sweeps in the runs folders (a sweep folder with slurm.json): each one's task states, from
// `reclab sweep-status DIR --json` run in a trainer child process — the extension never parses
// Slurm's own output. Polled while a sweep has unfinished tasks; the tree and the commands read it.
import { execFile } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { parseSweepStatus, slurmSweepFiles, type SweepStatus, type SweepTaskStatus } from '../../protocol/slurmSweep';
import { statOrUndefined, subdirectories } from './runRegistry';

export interface CliResult { code: number; stdout: string; stderr: string }

/** Runs one trainer command (the extension host's Node as node) and collects its output. */
export function runTrainerCli(cli: string, args: string[], cwd?: string): Promise<CliResult> {
  return new Promise((done) => {
    execFile(process.execPath, [cli, ...args], { cwd, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

export const liveTaskStates: readonly SweepTaskStatus['state'][] = ['queued', 'running'];

export class SlurmSweeps implements vscode.Disposable {
  private readonly statuses = new Map<string, SweepStatus>();
  private readonly recordMtimes = new Map<string, number>();
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  private timer: ReturnType<typeof setInterval> | undefined;
  private polling: Promise<void> | undefined;

  constructor(private readonly cli: string, private readonly roots: () => string[], private readonly log: vscode.LogOutputChannel, private readonly pollMs = 3000) {}

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), this.pollMs);
    void this.poll();
  }

  /** The sweep folders known, newest first. */
  get sweeps(): string[] {
    return [...this.statuses.keys()].sort((a, b) => (a < b ? 1 : -1));
  }

  status(sweepDir: string): SweepStatus | undefined {
    return this.statuses.get(sweepDir);
  }

  /** The Slurm task writing this run directory, if it is one. */
  task(runDir: string): SweepTaskStatus | undefined {
    return this.statuses.get(dirname(runDir))?.tasks.find((t) => t.name === basename(runDir));
  }

  poll(): Promise<void> {
    this.polling ??= this.pollNow().finally(() => (this.polling = undefined));
    return this.polling;
  }

  /** Reads one sweep's status now (after a submit, cancel or re-run). */
  async refresh(sweepDir: string): Promise<SweepStatus | undefined> {
    const r = await runTrainerCli(this.cli, ['sweep-status', sweepDir, '--json']);
    if (r.code !== 0) {
      this.log.warn(`[slurm] sweep-status ${sweepDir}: ${r.stderr.trim()}`);
      return undefined;
    }
    try {
      const s = parseSweepStatus(r.stdout);
      const before = JSON.stringify(this.statuses.get(sweepDir));
      this.statuses.set(sweepDir, s);
      if (JSON.stringify(s) !== before) this.emitter.fire();
      return s;
    } catch (e) {
      this.log.warn(`[slurm] ${sweepDir}: ${(e as Error).message}`);
      return undefined;
    }
  }

  private async pollNow(): Promise<void> {
    const found = new Set<string>();
    for (const root of this.roots()) {
      for (const name of await subdirectories(root)) {
        const dir = join(root, name);
        const st = await statOrUndefined(join(dir, slurmSweepFiles.record));
        if (!st) continue;
        found.add(dir);
        const mtime = st.mtimeMs;
        const s = this.statuses.get(dir);
        // Finished sweeps are read again only when slurm.json changes (a re-run, a cancel).
        if (!s || s.finished < s.total || this.recordMtimes.get(dir) !== mtime) {
          this.recordMtimes.set(dir, mtime);
          await this.refresh(dir);
        }
      }
    }
    let removed = false;
    for (const dir of this.statuses.keys()) if (!found.has(dir)) removed = this.statuses.delete(dir) || removed;
    if (removed) this.emitter.fire();
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.emitter.dispose();
  }
}
