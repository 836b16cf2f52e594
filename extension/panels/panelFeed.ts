// What one Live Training panel is sent: for each of its runs, the step and eval rows it does not
// have yet, at most every `intervalMs` (10,000 events/s become ten messages a second), in chunks
// small enough for postMessage, as Float64Array columns (they cross without JSON). No vscode import.
import type { RunDescriptor, ToWebviewMessage } from '../../protocol/webviewMessages';
import type { RunEntry } from '../runs/runRegistry';

export const CHUNK_ROWS = 65_536;

interface Cursor {
  entry: RunEntry;
  steps: number;
  evals: number;
  solver: number;
  unsubscribe: () => void;
}

export class PanelFeed {
  private readonly cursors = new Map<string, Cursor>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing: Promise<void> | undefined;
  private again = false;
  private lastRuns = '';
  private disposed = false;

  constructor(
    private readonly post: (m: ToWebviewMessage) => PromiseLike<unknown> | void,
    private readonly panelId: string,
    private readonly intervalMs = 100,
  ) {}

  get keys(): string[] {
    return [...this.cursors.keys()];
  }

  has(key: string): boolean {
    return this.cursors.has(key);
  }

  /** Shows a run (its full history is sent, then what arrives). */
  add(entry: RunEntry): void {
    if (this.cursors.has(entry.key)) return;
    const c: Cursor = { entry, steps: 0, evals: 0, solver: 0, unsubscribe: () => {} };
    const onRewrite = (table: 'steps' | 'evals' | 'solver', fromRow: number) => {
      if (table === 'steps') c.steps = Math.min(c.steps, fromRow);
      else if (table === 'evals') c.evals = Math.min(c.evals, fromRow);
      else c.solver = Math.min(c.solver, fromRow);
    };
    entry.series?.rewriteListeners.add(onRewrite);
    c.unsubscribe = () => entry.series?.rewriteListeners.delete(onRewrite);
    this.cursors.set(entry.key, c);
    this.schedule(0);
  }

  remove(key: string): void {
    const c = this.cursors.get(key);
    if (!c) return;
    c.unsubscribe();
    this.cursors.delete(key);
    this.schedule(0);
  }

  /** The run's data or status changed. */
  changed(key: string): void {
    if (this.cursors.has(key)) this.schedule(this.intervalMs);
  }

  /** Everything again (the webview was reloaded and lost its data). */
  resend(): void {
    this.lastRuns = '';
    for (const c of this.cursors.values()) {
      c.steps = 0;
      c.evals = 0;
      c.solver = 0;
    }
    this.schedule(0);
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const c of this.cursors.values()) c.unsubscribe();
    this.cursors.clear();
  }

  /** Sends what is pending now (the benchmark and tests call it directly). */
  flush(): Promise<void> {
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = this.flushNow().finally(() => {
      this.flushing = undefined;
      if (this.again) {
        this.again = false;
        this.schedule(0);
      }
    });
    return this.flushing;
  }

  private schedule(ms: number): void {
    if (this.disposed) return;
    if (this.timer) {
      if (ms > 0) return; // a flush is already due
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
  }

  private async flushNow(): Promise<void> {
    // Only the runs of the `runs` message this flush posts get rows: a run added while the flush
    // awaits a post is sent by the next flush, after the webview has been told of it (rows of a
    // run it does not know are dropped there, and its cursor would have moved past them).
    const cursors = [...this.cursors.values()];
    const runs: RunDescriptor[] = cursors.map((c) => c.entry.descriptor);
    const runsJson = JSON.stringify(runs);
    if (runsJson !== this.lastRuns) {
      this.lastRuns = runsJson;
      await this.post({ type: 'runs', panelId: this.panelId, runs });
    }
    for (const c of cursors) {
      const s = c.entry.series;
      if (!s || this.cursors.get(c.entry.key) !== c) continue;
      while (c.steps < s.steps.length && !this.disposed) {
        const start = c.steps;
        const end = Math.min(s.steps.length, start + CHUNK_ROWS);
        c.steps = end;
        await this.post({ type: 'steps', key: c.entry.key, start, columns: s.steps.slice(start, end) });
      }
      // DEQ runs only: a run without solver statistics never gets a `solver` message.
      while (c.solver < s.solver.length && !this.disposed) {
        const start = c.solver;
        const end = Math.min(s.solver.length, start + CHUNK_ROWS);
        c.solver = end;
        await this.post({ type: 'solver', key: c.entry.key, start, columns: s.solver.slice(start, end) });
      }
      if (c.evals < s.evals.length && !this.disposed) {
        const start = c.evals;
        c.evals = s.evals.length;
        await this.post({ type: 'evals', key: c.entry.key, start, columns: s.evals.slice(start) });
      }
    }
  }
}
