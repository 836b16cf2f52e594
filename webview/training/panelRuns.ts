// The runs a Live Training panel holds, kept from the host's messages: the `runs` message says
// which runs (in overlay order), `steps` / `evals` / `solver` messages fill their tables. Rows of a run the
// last `runs` message did not name are dropped (the host sends a run's rows only after naming it).
// Pure: no DOM, so the host-to-webview path can be tested end to end in node.
import type { EvalsMessage, RunDescriptor, SolverMessage, StepsMessage } from '../../protocol/webviewMessages';
import { RunView } from './runView';

export class PanelRuns {
  readonly byKey = new Map<string, RunView>();
  order: string[] = [];

  /** The runs in overlay order. */
  get list(): RunView[] {
    return this.order.map((k) => this.byKey.get(k)).filter((r): r is RunView => !!r);
  }

  /** Applies a `runs` message; `colourFor` gives a new run its palette index. */
  setRuns(runs: RunDescriptor[], colourFor: (key: string) => number): void {
    const keys = new Set(runs.map((r) => r.key));
    for (const k of [...this.byKey.keys()]) if (!keys.has(k)) this.byKey.delete(k);
    for (const d of runs) {
      const existing = this.byKey.get(d.key);
      if (existing) existing.descriptor = d;
      else this.byKey.set(d.key, new RunView(d, colourFor(d.key)));
    }
    this.order = runs.map((r) => r.key);
  }

  /** Applies a `steps`, `evals` or `solver` message; false if its run is not shown. */
  applyRows(m: StepsMessage | EvalsMessage | SolverMessage): boolean {
    const r = this.byKey.get(m.key);
    if (!r) return false;
    if (m.type === 'steps') r.applySteps(m.start, m.columns);
    else if (m.type === 'evals') r.applyEvals(m.start, m.columns);
    else r.applySolver(m.start, m.columns);
    return true;
  }

  /** Some shown run is a DEQ run (has solver rows). */
  get anyDeq(): boolean {
    for (const r of this.byKey.values()) if (r.isDeq) return true;
    return false;
  }
}
