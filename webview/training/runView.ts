// One run as the panel holds it: the step, eval and (DEQ runs) solver tables the host sends (rows
// replaced from a given start), and what the charts derive from them, each kept current
// incrementally: the x-values per x-axis mode, the smoothed columns, the gradient variance, the stage bands.
import { ColumnTable } from '../../protocol/columnTable';
import {
  evalColumnNames, solverColumnNames, stepColumnNames, type EvalColumnName, type EvalColumns, type RunDescriptor, type SolverColumnName, type SolverColumns,
  type StepColumnName, type StepColumns, type XAxisMode,
} from '../../protocol/webviewMessages';
import { MinMaxIndex } from './minMaxIndex';
import { SmoothedColumn } from './smoothing';
import { extendStageBands, type StageBand } from './stageBands';

/** A charted per-step series: a column of the step table, or of the solver table (DEQ runs). */
export type StepMetric = StepColumnName | SolverColumnName;
export type RowTable = 'steps' | 'solver';
export type RunTable = RowTable | 'evals';

const solverOnly = new Set<string>(solverColumnNames.filter((c) => c !== 'step' && c !== 'time'));
/** The table a per-step metric lives in. */
export const tableOf = (metric: StepMetric): RowTable => (solverOnly.has(metric) ? 'solver' : 'steps');

interface XCache {
  values: Float64Array;
  done: number;
  version: number;
  origin: number;
}

export class RunView {
  readonly steps = new ColumnTable<StepColumnName>(stepColumnNames, 256);
  readonly evals = new ColumnTable<EvalColumnName>(evalColumnNames, 16);
  /** DEQ runs: the solver's statistics per step (empty for every other run). */
  readonly solver = new ColumnTable<SolverColumnName>(solverColumnNames, 16);
  /** Bumped when step rows already held are replaced (a resume rewrote the timeline). */
  private stepsVersion = 0;
  private evalsVersion = 0;
  private solverVersion = 0;
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

  applySolver(start: number, columns: SolverColumns): void {
    if (start > this.solver.length) return;
    if (start < this.solver.length) this.solverVersion++;
    this.solver.setFrom(start, columns);
    for (const c of solverColumnNames) if (!this.presentColumns.has(c) && columns[c].some(Number.isFinite)) this.presentColumns.add(c);
  }

  private readonly presentColumns = new Set<string>();
  /** Some solver row of the run has a value in `metric` (e.g. the IFT adjoint's); step metrics always count as present. */
  present(metric: StepMetric): boolean {
    return tableOf(metric) === 'steps' || this.presentColumns.has(metric);
  }

  /** The run has solver statistics (a DEQ run): the panel shows its solver charts. */
  get isDeq(): boolean {
    return this.solver.length > 0;
  }

  /** Rows of a table. */
  rows(table: RunTable): number {
    return this.table(table).length;
  }

  private table(table: RunTable): ColumnTable<string> {
    return (table === 'steps' ? this.steps : table === 'evals' ? this.evals : this.solver) as unknown as ColumnTable<string>;
  }

  private version(table: RunTable): number {
    return table === 'steps' ? this.stepsVersion : table === 'evals' ? this.evalsVersion : this.solverVersion;
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

  /** x of each step row (table 'steps'), eval row ('evals') or solver row ('solver') in the given mode. */
  x(mode: XAxisMode, table: RunTable): Float64Array {
    const t = this.table(table);
    if (mode === 'step') return t.column('step');
    const key = `${mode}:${table}`;
    const version = this.version(table);
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

  /** A raw step metric (of the step or the solver table). */
  metric(name: StepMetric): Float64Array {
    return this.table(tableOf(name)).column(name);
  }

  /** The TensorBoard-smoothed step metric for `weight`. */
  smoothedMetric(name: StepMetric, weight: number): Float64Array {
    let s = this.smoothed.get(name);
    if (!s) this.smoothed.set(name, (s = new SmoothedColumn()));
    const t = tableOf(name);
    return s.update(this.metric(name), this.rows(t), weight, this.version(t));
  }

  /** The min/max index of a step metric, raw or smoothed (call after metric / smoothedMetric). */
  minMaxIndex(name: StepMetric, smoothed: boolean): MinMaxIndex {
    const key = `${name}:${smoothed}`;
    let ix = this.indexes.get(key);
    if (!ix) this.indexes.set(key, (ix = new MinMaxIndex()));
    const s = smoothed ? this.smoothed.get(name) : undefined;
    const t = tableOf(name);
    if (s) ix.update(s.values, this.rows(t), s.generation);
    else ix.update(this.metric(name), this.rows(t), this.version(t));
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
