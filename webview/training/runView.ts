// One run as the panel holds it: the step and eval tables the host sends (rows replaced from a
// given start), and what the charts derive from them, each kept current incrementally: the
// x-values per x-axis mode, the smoothed columns, the gradient variance, the stage bands.
import { ColumnTable } from '../../protocol/columnTable';
import {
  evalColumnNames, stepColumnNames, type EvalColumnName, type EvalColumns, type RunDescriptor, type StepColumnName, type StepColumns, type XAxisMode,
} from '../../protocol/webviewMessages';
import { MinMaxIndex } from './minMaxIndex';
import { SmoothedColumn } from './smoothing';
import { extendStageBands, type StageBand } from './stageBands';

export type StepMetric = StepColumnName;

interface XCache {
  values: Float64Array;
  done: number;
  version: number;
  origin: number;
}

export class RunView {
  readonly steps = new ColumnTable<StepColumnName>(stepColumnNames, 256);
  readonly evals = new ColumnTable<EvalColumnName>(evalColumnNames, 16);
  /** Bumped when step rows already held are replaced (a resume rewrote the timeline). */
  private stepsVersion = 0;
  private evalsVersion = 0;
  private readonly smoothed = new Map<StepMetric, SmoothedColumn>();
  private readonly indexes = new Map<string, MinMaxIndex>();
  private readonly xCaches = new Map<string, XCache>();
  private bands: StageBand[] = [];
  private bandsDone = 0;
  private bandsVersion = -1;

  constructor(public descriptor: RunDescriptor, public colour: number) {}

  get key(): string {
    return this.descriptor.key;
  }

  applySteps(start: number, columns: StepColumns): void {
    if (start > this.steps.length) return; // a gap: the host resends from where we are
    if (start < this.steps.length) this.stepsVersion++;
    this.steps.setFrom(start, columns);
  }

  applyEvals(start: number, columns: EvalColumns): void {
    if (start > this.evals.length) return;
    if (start < this.evals.length) this.evalsVersion++;
    this.evals.setFrom(start, columns);
  }

  /** Time origin of "relative" x: the first step (or eval) of the run, in ms. */
  private get t0(): number {
    return this.steps.length > 0 ? this.steps.get('time', 0) : this.evals.get('time', 0);
  }

  /** x of each step row (table 'steps') or eval row ('evals') in the given mode. */
  x(mode: XAxisMode, table: 'steps' | 'evals'): Float64Array {
    const t = table === 'steps' ? this.steps : this.evals;
    if (mode === 'step') return t.column('step');
    const key = `${mode}:${table}`;
    const version = table === 'steps' ? this.stepsVersion : this.evalsVersion;
    const origin = mode === 'relative' ? this.t0 : 0;
    let c = this.xCaches.get(key);
    if (!c || c.version !== version || c.done > t.length || !Object.is(c.origin, origin)) {
      c = { values: new Float64Array(Math.max(64, t.length)), done: 0, version, origin };
      this.xCaches.set(key, c);
    }
    if (c.values.length < t.length) {
      const grown = new Float64Array(Math.max(t.length, c.values.length * 2));
      grown.set(c.values.subarray(0, c.done));
      c.values = grown;
    }
    const time = t.column('time');
    for (let i = c.done; i < t.length; i++) c.values[i] = (time[i]! - origin) / 1000;
    c.done = t.length;
    return c.values;
  }

  /** A raw step metric. */
  metric(name: StepMetric): Float64Array {
    return this.steps.column(name);
  }

  /** The TensorBoard-smoothed step metric for `weight`. */
  smoothedMetric(name: StepMetric, weight: number): Float64Array {
    let s = this.smoothed.get(name);
    if (!s) this.smoothed.set(name, (s = new SmoothedColumn()));
    return s.update(this.metric(name), this.steps.length, weight, this.stepsVersion);
  }

  /** The min/max index of a step metric, raw or smoothed (call after metric / smoothedMetric). */
  minMaxIndex(name: StepMetric, smoothed: boolean): MinMaxIndex {
    const key = `${name}:${smoothed}`;
    let ix = this.indexes.get(key);
    if (!ix) this.indexes.set(key, (ix = new MinMaxIndex()));
    const s = smoothed ? this.smoothed.get(name) : undefined;
    if (s) ix.update(s.values, this.steps.length, s.generation);
    else ix.update(this.steps.column(name), this.steps.length, this.stepsVersion);
    return ix;
  }

  stageBands(): StageBand[] {
    if (this.bandsVersion !== this.stepsVersion || this.bandsDone > this.steps.length) {
      this.bands = [];
      this.bandsDone = 0;
      this.bandsVersion = this.stepsVersion;
    }
    // The last band may still grow: re-extend from its start row.
    extendStageBands(this.bands, this.steps.column('hCycles'), this.steps.column('lCycles'), this.bandsDone, this.steps.length);
    this.bandsDone = this.steps.length;
    return this.bands;
  }

  /** Points of the loss chart's raw line: one per step row. */
  get lossPoints(): number {
    return this.steps.length;
  }
}
