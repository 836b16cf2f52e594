// One trainer child process, supervised: spawned with the running Node (the extension host's own
// executable), its stderr split into lines for the log, its live events over JSON-RPC (--rpc), and
// a stop that is graceful first (the trainer checkpoints, then exits) and a process-tree kill after
// a timeout. No vscode import: unit tests drive it against the real CLI.
import { spawn, type ChildProcess } from 'node:child_process';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { TrainerEvent } from '../../protocol/events';
import { stopRequest, trainerEventsNotification } from '../../protocol/rpc';
import { killProcessTree } from './processTree';

export interface TrainerLaunch {
  /** The Node executable; in VS Code `process.execPath` (run as Node via ELECTRON_RUN_AS_NODE). */
  node: string;
  /** dist/trainer/cli.js */
  cli: string;
  /** CLI arguments, e.g. ['train', '--preset', 'sudoku4', '--run-dir', dir]; '--rpc' is added when `rpc`. */
  args: string[];
  cwd: string;
  rpc: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface TrainerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stop() was called before it exited. */
  stopRequested: boolean;
  /** It did not exit in time after stop() and its process tree was killed. */
  killed: boolean;
  /** Why it was killed, for the log (set with `killed`). */
  killReason?: string;
}

const STDERR_KEEP = 40;

export class TrainerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<TrainerExit>;
  private connection: MessageConnection | undefined;
  private readonly eventListeners = new Set<(e: TrainerEvent) => void>();
  private readonly stderrListeners = new Set<(line: string) => void>();
  private readonly recentStderr: string[] = [];
  private stderrPartial = '';
  private stopRequested = false;
  private killed = false;
  private killReason: string | undefined;
  private exitInfo: TrainerExit | undefined;
  private readonly groupLeader = process.platform !== 'win32';

  constructor(readonly launch: TrainerLaunch) {
    const args = [launch.cli, ...launch.args, ...(launch.rpc ? ['--rpc'] : [])];
    this.child = spawn(launch.node, args, {
      cwd: launch.cwd,
      env: { ...process.env, ...launch.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: launch.rpc ? ['pipe', 'pipe', 'pipe'] : ['ignore', 'ignore', 'pipe'],
      // Its own process group, so that the whole tree can be killed in one go.
      detached: this.groupLeader,
      windowsHide: true,
    });
    this.exited = new Promise((resolve) => {
      let settled = false;
      const settle = (code: number | null, signal: NodeJS.Signals | null) => {
        if (settled) return;
        settled = true;
        this.flushStderr();
        this.connection?.dispose();
        this.exitInfo = { code, signal, stopRequested: this.stopRequested, killed: this.killed, ...(this.killReason ? { killReason: this.killReason } : {}) };
        resolve(this.exitInfo);
      };
      // 'close' comes once stdio is drained too (the last notifications); a grandchild holding
      // the pipes must not delay the exit for long, hence the timer.
      this.child.on('exit', (code, signal) => {
        const timer = setTimeout(() => settle(code, signal), 500);
        this.child.on('close', () => {
          clearTimeout(timer);
          settle(code, signal);
        });
      });
      // spawn failed (ENOENT...): 'exit' may never come.
      this.child.on('error', (err) => {
        this.emitStderr(`failed to start the trainer: ${err.message}`);
        if (this.child.pid === undefined) settle(null, null);
      });
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => this.onStderr(chunk));
    if (launch.rpc && this.child.stdout && this.child.stdin) {
      this.child.stdin.on('error', () => {}); // EPIPE when it exits first
      const c = createMessageConnection(new StreamMessageReader(this.child.stdout), new StreamMessageWriter(this.child.stdin));
      c.onNotification(trainerEventsNotification, (p) => {
        if (!p || !Array.isArray(p.events)) return;
        for (const e of p.events) for (const l of this.eventListeners) l(e);
      });
      c.onError(() => {});
      c.listen();
      this.connection = c;
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  get exit(): TrainerExit | undefined {
    return this.exitInfo;
  }

  /** The last lines of stderr (for an error message). */
  get lastStderr(): readonly string[] {
    return this.recentStderr;
  }

  onEvent(listener: (e: TrainerEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onStderrLine(listener: (line: string) => void): () => void {
    this.stderrListeners.add(listener);
    return () => this.stderrListeners.delete(listener);
  }

  /**
   * Graceful stop: the RPC `stop` request (or SIGTERM without RPC, or when the channel is broken),
   * which makes the trainer checkpoint and exit at its next safe point. The trainer answers the
   * request only there, after the step in progress, which can take many seconds: no second signal
   * is sent meanwhile (it would be the same stop anyway). If it has not exited after `timeoutMs`
   * (reclab.stopTimeoutSeconds), its process tree is killed.
   */
  async stop(timeoutMs: number): Promise<TrainerExit> {
    if (!this.running) return this.exited;
    this.requestStop();
    const exitedInTime = await Promise.race([this.exited.then(() => true), delay(timeoutMs).then(() => false)]);
    if (!exitedInTime && this.running) {
      this.killReason = `it had not exited ${timeoutMs / 1000} s after the stop request (reclab.stopTimeoutSeconds)`;
      await this.kill();
    }
    return this.exited;
  }

  /** Sends the graceful stop (once) and returns at once; the trainer ends at its next safe point. */
  requestStop(): void {
    if (!this.running || this.stopRequested) return;
    this.stopRequested = true;
    const sigterm = () => {
      if (this.running) this.signal('SIGTERM');
    };
    if (this.connection) {
      try {
        this.connection.sendRequest(stopRequest).then(undefined, sigterm);
      } catch {
        sigterm(); // the connection is closed already
      }
    } else {
      sigterm();
    }
  }

  /** stop() or requestStop() was called. */
  get stopping(): boolean {
    return this.stopRequested;
  }

  /** Kills the process tree at once. */
  async kill(): Promise<TrainerExit> {
    if (this.running && this.child.pid !== undefined) {
      this.killed = true;
      await killProcessTree(this.child.pid, this.groupLeader);
    }
    return this.exited;
  }

  private signal(sig: NodeJS.Signals): void {
    try {
      // The whole group: `reclab ablate` exits on SIGTERM, and its `train` children must stop too.
      if (this.groupLeader && this.child.pid !== undefined) process.kill(-this.child.pid, sig);
      else this.child.kill(sig);
    } catch {
      // gone
    }
  }

  private onStderr(chunk: string): void {
    const parts = (this.stderrPartial + chunk).split(/\r?\n|\r/);
    this.stderrPartial = parts.pop() ?? '';
    for (const line of parts) if (line.trim() !== '') this.emitStderr(line);
  }

  private flushStderr(): void {
    if (this.stderrPartial.trim() !== '') this.emitStderr(this.stderrPartial);
    this.stderrPartial = '';
  }

  private emitStderr(line: string): void {
    this.recentStderr.push(line);
    if (this.recentStderr.length > STDERR_KEEP) this.recentStderr.shift();
    for (const l of this.stderrListeners) l(line);
  }
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref?.());
