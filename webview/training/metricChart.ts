// One chart of the panel: a uPlot plot of a ChartSpec's lines for every run (a faint raw line
// under its smoothed line), or per sweep arm the mean over its seeds with a ± sd band, the
// curriculum stage bands underneath, axis titles, per-series toggles, a hover readout. Each render
// downsamples every series to the pixel width (min/max per pixel), so its cost follows the
// chart's width, not the run's length, beyond one pass over the visible points.
import uPlot from 'uplot';
import type { XAxisMode } from '../../protocol/webviewMessages';
import { armBand, type RunSeriesView } from './armBands';
import type { ChartSpec } from './chartSpecs';
import { alignOnGrid, alignParts, type Part } from './alignOnGrid';
import { lowerBound, minMaxDownsample, type Downsampled } from './downsample';
import { gridWidth, MinMaxBuckets } from './minMaxBuckets';
import { lineExtents, polylinePath } from './polylinePath';
import type { MinMaxIndex } from './minMaxIndex';
import type { RunView } from './runView';
import { stageLabel } from './stageBands';
import { withAlpha, type Theme } from './theme';
import { groupedNumber, readoutValue, tickLabels } from './tickFormat';

export interface ChartInputs {
  runs: RunView[];
  /** TensorBoard smoothing weight in [0, 1). */
  smoothing: number;
  logY: boolean;
  xMode: XAxisMode;
  /** The x-range the user zoomed to; undefined = everything. */
  zoom: [number, number] | undefined;
  /** The run whose curriculum stages are drawn as bands. */
  bandsRun: RunView | undefined;
  theme: Theme;
  /** Series hidden with the chart key's toggles: `${chart id}:${metric}` or `${chart id}:eval:${column}`. */
  hidden: ReadonlySet<string>;
  /** Draw the runs of each sweep arm as their mean over seeds with a ± sd band. */
  groupByArm: boolean;
}

export interface ChartCallbacks {
  onZoom(range: [number, number] | undefined): void;
  /** A series toggle of the chart key was clicked. */
  onToggle(seriesId: string): void;
}

const xTitles: Record<XAxisMode, string> = { step: 'optimizer step', relative: 'time since the run started', wall: 'wall-clock time' };

/** An axis wide enough for its longest label (the font is ~7 px per character). */
const axisSize = (_u: uPlot, values: string[] | null) => 16 + 7 * Math.max(3, ...(values ?? []).map((v) => (v ?? '').length));

function formatDuration(s: number): string {
  const a = Math.abs(s);
  if (a < 120) return `${+s.toFixed(1)}s`;
  if (a < 7200) return `${+(s / 60).toFixed(1)}m`;
  return `${+(s / 3600).toFixed(2)}h`;
}

export class MetricChart {
  readonly root: HTMLElement;
  private readonly plotEl: HTMLElement;
  private readonly readoutEl: HTMLElement;
  private readonly keyEl: HTMLElement;
  private u: uPlot | undefined;
  private structure = '';
  private inputs: ChartInputs | undefined;
  private buffers = new Map<string, Downsampled>();
  /** Per step series: its min/max buckets, kept between redraws (a live update refills the last). */
  private buckets = new Map<string, MinMaxBuckets>();
  /**
   * Per uPlot series index: the downsampled points its line is drawn from, by polylinePath (not
   * from the aligned data uPlot holds, where such a series is all holes); undefined for the series
   * uPlot draws from its data (evaluation points, arm bands).
   */
  private lines: (Part | undefined)[] = [];
  /** Per y scale: the lowest and highest y of those lines inside the x-range (uPlot does not see them). */
  private extents = new Map<string, [number, number]>();
  private readonly linePath: uPlot.Series.PathBuilder = (u, seriesIdx) => polylinePath(u, seriesIdx, this.lines[seriesIdx]);
  private size: { width: number; height: number } | undefined;
  /** Milliseconds the last render took (data preparation and drawing), and its phases. */
  lastRenderMs = 0;
  lastPhasesMs = { prepare: 0, align: 0, draw: 0 };

  constructor(readonly spec: ChartSpec, parent: HTMLElement, private readonly callbacks: ChartCallbacks) {
    this.root = document.createElement('section');
    this.root.className = 'chart';
    this.root.id = `chart-${spec.id}`;
    this.root.dataset['points'] = '0';
    const head = document.createElement('header');
    const title = document.createElement('h2');
    title.textContent = spec.title;
    this.keyEl = document.createElement('span');
    this.keyEl.className = 'key';
    head.append(title, this.keyEl);
    this.plotEl = document.createElement('div');
    this.plotEl.className = 'plot';
    this.readoutEl = document.createElement('div');
    this.readoutEl.className = 'readout';
    this.readoutEl.textContent = '\u00a0';
    this.root.append(head, this.plotEl, this.readoutEl);
    parent.append(this.root);
    this.plotEl.addEventListener('dblclick', () => this.callbacks.onZoom(undefined));
    new ResizeObserver((entries) => {
      const r = entries[entries.length - 1]!.contentRect;
      this.size = { width: Math.round(r.width), height: Math.round(r.height) };
    }).observe(this.plotEl);
  }

  destroy(): void {
    this.u?.destroy();
    this.u = undefined;
    this.root.remove();
  }

  /** Redraws with `inputs`; rebuilds the plot when its series or scales change. */
  render(inputs: ChartInputs): void {
    const t0 = performance.now();
    this.inputs = inputs;
    const { runs, smoothing, xMode, theme } = inputs;
    const spec = this.spec;
    // The plot's size as the ResizeObserver last saw it: reading clientWidth here would force a
    // layout per chart, after the previous chart's DOM writes (five charts, five layouts a frame).
    this.size ??= { width: this.plotEl.clientWidth, height: this.plotEl.clientHeight };
    const width = Math.max(100, this.size.width || 400);
    const height = Math.max(120, this.size.height || 220);
    const logY = spec.logY === 'always' || (!!spec.logY && inputs.logY);
    const table = spec.table ?? 'steps';
    const showRaw = smoothing > 0;

    // x-range: the zoom, else every run's full extent.
    let xMin = Infinity;
    let xMax = -Infinity;
    if (inputs.zoom) [xMin, xMax] = inputs.zoom;
    else {
      for (const r of runs) {
        for (const t of ['steps', 'evals'] as const) {
          const n = r.rows(t);
          if (n === 0) continue;
          const xs = r.x(xMode, t);
          xMin = Math.min(xMin, xs[0]!);
          xMax = Math.max(xMax, xs[n - 1]!);
        }
      }
    }
    const buckets = Math.round(width);
    const parts: Part[] = [];
    const series: uPlot.Series[] = [{}];
    const structureBits: string[] = [spec.id, xMode, String(logY), String(showRaw), theme.kind, theme.palette.join(), theme.foreground];
    let points = 0;
    // Points drawn per run (its first line, after downsampling), for the e2e tests and the hover.
    const runPoints: Record<string, number> = {};
    // ... and all the points drawn for it, over its lines and evaluation points.
    const runDrawn: Record<string, number> = {};
    const addDrawn = (name: string, n: number) => (runDrawn[name] = (runDrawn[name] ?? 0) + n);
    const hidden = inputs.hidden;
    // Available: has a toggle in the key (an adjoint line only when some run has adjoint values, a
    // DEQ-only evaluation only beside a DEQ run); shown: available and not toggled off.
    const anyDeq = runs.some((r) => r.isDeq);
    const lineAvailable = spec.lines.map((l) => !l.whenPresent || runs.some((r) => r.present(l.metric)));
    const evalAvailable = (spec.evalPoints ?? []).map((e) => !e.deqOnly || anyDeq);
    const lineShown = spec.lines.map((l, i) => lineAvailable[i]! && !hidden.has(`${spec.id}:${l.metric}`));
    const evalShown = (spec.evalPoints ?? []).map((e, i) => evalAvailable[i]! && !hidden.has(`${spec.id}:eval:${e.column}`));
    structureBits.push(lineShown.join(), evalShown.join(), lineAvailable.join(), evalAvailable.join(), String(inputs.groupByArm));
    // One run: each series its own colour. Several: the run's colour, the series told by its dash.
    const perSeriesColour = runs.length === 1;
    const seriesColour = (i: number) => theme.palette[i % theme.palette.length]!;
    // Group by arm: arms with two or more runs become one mean line with a ± sd band.
    const groups = new Map<string, RunView[]>();
    if (inputs.groupByArm) for (const r of runs) if (r.descriptor.arm) groups.set(r.descriptor.arm, [...(groups.get(r.descriptor.arm) ?? []), r]);
    for (const [arm, members] of groups) if (members.length < 2) groups.delete(arm);
    const grouped = new Set([...groups.values()].flat());
    const bands: uPlot.Band[] = [];
    const lines: (Part | undefined)[] = [];
    for (const r of runs) {
      if (grouped.has(r)) continue;
      structureBits.push(`${r.key}:${r.colour}`);
      const n = r.rows(table);
      points += table === 'steps' ? r.lossPoints : n;
      const xs = r.x(xMode, table);
      for (const [li, line] of spec.lines.entries()) {
        if (!lineShown[li]) continue;
        const colour = perSeriesColour ? seriesColour(li) : theme.palette[r.colour % theme.palette.length]!;
        const scale = line.scale ?? 'y';
        const raw = r.metric(line.metric);
        if (showRaw) {
          parts.push(this.downsample(`${r.key}:${line.metric}:raw`, xs, raw, n, xMin, xMax, buckets, logY, r.minMaxIndex(line.metric, false)));
          series.push({ label: `${r.descriptor.name} ${line.label} (raw)`, scale, stroke: withAlpha(colour, 0.22), width: 1, dash: line.dash, spanGaps: true, points: { show: false }, auto: false, paths: this.linePath });
          lines[series.length - 1] = parts[parts.length - 1];
        }
        const sm = showRaw ? r.smoothedMetric(line.metric, smoothing) : raw;
        const drawn = this.downsample(`${r.key}:${line.metric}:smooth`, xs, sm, n, xMin, xMax, buckets, logY, r.minMaxIndex(line.metric, showRaw));
        parts.push(drawn);
        runPoints[r.descriptor.name] ??= drawn.n;
        addDrawn(r.descriptor.name, drawn.n);
        series.push({ label: `${r.descriptor.name} ${line.label}`, scale, stroke: colour, width: 1.5, dash: perSeriesColour ? undefined : line.dash, spanGaps: true, points: { show: false }, auto: false, paths: this.linePath });
        lines[series.length - 1] = drawn;
      }
      runPoints[r.descriptor.name] ??= 0;
      for (const [ei, ev] of (spec.evalPoints ?? []).entries()) {
        if (!evalShown[ei]) continue;
        const colour = perSeriesColour ? seriesColour(spec.lines.length + ei) : theme.palette[r.colour % theme.palette.length]!;
        const ne = r.evals.length;
        const evalsDrawn = this.downsample(`${r.key}:eval:${ev.column}`, r.x(xMode, 'evals'), r.evals.column(ev.column), ne, xMin, xMax, buckets, logY);
        parts.push(evalsDrawn);
        addDrawn(r.descriptor.name, evalsDrawn.n);
        series.push({ label: `${r.descriptor.name} ${ev.label}`, scale: ev.scale ?? 'y', stroke: colour, width: 0, paths: () => null, points: { show: true, size: 7, width: 1.5, stroke: colour, fill: theme.background } });
      }
    }
    for (const [arm, members] of groups) {
      const colour = theme.palette[members[0]!.colour % theme.palette.length]!;
      structureBits.push(`arm:${arm}:${members.map((m) => m.key).join(',')}`);
      for (const m of members) points += table === 'steps' ? m.lossPoints : m.rows(table);
      for (const [li, line] of spec.lines.entries()) {
        if (!lineShown[li]) continue;
        const scale = line.scale ?? 'y';
        const views: RunSeriesView[] = members.map((m) => ({ x: m.x(xMode, table), y: showRaw ? m.smoothedMetric(line.metric, smoothing) : m.metric(line.metric), n: m.rows(table) }));
        const band = armBand(views, xMin, xMax, Math.max(8, Math.round(buckets / 2)));
        if (logY) for (let i = 0; i < band.n; i++) if (!(band.lo[i]! > 0)) band.lo[i] = band.mean[i]! > 0 ? band.mean[i]! : NaN;
        const base = series.length;
        parts.push({ x: band.x, y: band.hi, n: band.n }, { x: band.x, y: band.lo, n: band.n }, { x: band.x, y: band.mean, n: band.n });
        series.push(
          { label: `${arm} ${line.label} (mean + sd)`, scale, stroke: withAlpha(colour, 0.35), width: 0.5, spanGaps: true, points: { show: false } },
          { label: `${arm} ${line.label} (mean − sd)`, scale, stroke: withAlpha(colour, 0.35), width: 0.5, spanGaps: true, points: { show: false } },
          { label: `${arm} ${line.label} (mean of ${members.length} seeds)`, scale, stroke: colour, width: 2, dash: line.dash, spanGaps: true, points: { show: false } },
        );
        bands.push({ series: [base, base + 1], fill: withAlpha(colour, 0.15) });
        if (li === 0) for (const m of members) runPoints[m.descriptor.name] ??= band.n;
        for (const m of members) addDrawn(m.descriptor.name, band.n);
      }
    }
    const tAlign = performance.now();
    const data = this.align(parts, series.length, lines, xMin, xMax, buckets);
    this.lines = lines;
    this.extents = lineExtents(lines.flatMap((p, s) => (p ? [{ scale: series[s]!.scale ?? 'y', points: p }] : [])), xMin, xMax);
    const tDraw = performance.now();
    const structure = structureBits.join('|');
    const range = Number.isFinite(xMin) && Number.isFinite(xMax) ? { min: xMin - (xMax > xMin ? 0 : 1), max: xMax + (xMax > xMin ? 0 : 1) } : undefined;
    if (!this.u || structure !== this.structure) {
      this.structure = structure;
      this.u?.destroy();
      this.u = new uPlot({ ...this.options(inputs, series, width, height, logY), bands }, data, this.plotEl);
      this.renderKey(inputs, lineAvailable, evalAvailable);
    }
    const u = this.u;
    // One synchronous commit: data, size and x-range, drawn once.
    u.batch(() => {
      if (u.width !== width || u.height !== height) u.setSize({ width, height });
      u.setData(data, false);
      if (range) u.setScale('x', range);
    });
    this.lastPhasesMs = { prepare: tAlign - t0, align: tDraw - tAlign, draw: performance.now() - tDraw };
    this.root.dataset['points'] = String(points);
    this.root.dataset['runPoints'] = JSON.stringify(runPoints);
    this.root.dataset['runDrawn'] = JSON.stringify(runDrawn);
    this.root.dataset['drawn'] = String(parts.reduce((a, p) => a + p.n, 0));
    this.lastRenderMs = performance.now() - t0;
    this.root.dataset['renderMs'] = this.lastRenderMs.toFixed(2);
  }

  /**
   * uPlot's data: the series it draws itself (evaluation points, arm bands) on one grid of 4 columns
   * per pixel (the union of all their x would be ~2 points per pixel per series, and uPlot walks
   * it for each series), with a column at each end of the x-range; the lines (drawn by
   * polylinePath from `lines`) are left empty there: one shared array of holes.
   */
  private align(parts: Part[], seriesCount: number, lines: (Part | undefined)[], xMin: number, xMax: number, buckets: number): uPlot.AlignedData {
    if (!parts.length) return [new Float64Array(0)];
    const own = parts.filter((p) => !lines.includes(p));
    const finite = Number.isFinite(xMin) && Number.isFinite(xMax);
    // The ends of the x-range, so that uPlot has data (and draws) when it draws no series itself.
    const ends: Part[] = finite ? [{ x: Float64Array.of(xMin, xMax), y: Float64Array.of(0, 0), n: 2 }] : [];
    const aligned = finite && xMax > xMin ? alignOnGrid([...ends, ...own], xMin, xMax, buckets * 4) : alignParts([...ends, ...own]);
    const m = (aligned[0] as Float64Array).length;
    const holes: (number | undefined)[] = new Array<number | undefined>(m);
    const data: uPlot.AlignedData = [aligned[0]];
    let k = 1 + ends.length;
    for (let s = 1; s < seriesCount; s++) data.push(lines[s] ? holes : aligned[k++]!);
    return data;
  }

  /**
   * A y scale's range: uPlot's own (rangeNum with its 10% padding, or rangeLog to whole decades)
   * over the data uPlot ranged itself (dataMin/dataMax, null when none) and the lines' extents.
   */
  private yRange(key: string, log: boolean): uPlot.Range.Function {
    return (_u, dataMin, dataMax) => {
      const e = this.extents.get(key);
      const lo = Math.min(dataMin ?? Infinity, e ? e[0] : Infinity);
      const hi = Math.max(dataMax ?? -Infinity, e ? e[1] : -Infinity);
      if (!(lo <= hi)) return [null, null];
      return log ? uPlot.rangeLog(lo, hi, 10, false) : uPlot.rangeNum(lo, hi, 0.1, true);
    };
  }

  private downsample(key: string, xs: Float64Array, ys: Float64Array, n: number, xMin: number, xMax: number, buckets: number, positiveOnly: boolean, index?: MinMaxIndex): Part {
    const out = this.minMax(key, xs, ys, n, xMin, xMax, buckets, index);
    this.buffers.set(key, out);
    if (positiveOnly) {
      // A log scale has no place for zero or negative values: leave them out.
      let m = 0;
      for (let i = 0; i < out.n; i++) {
        if (out.y[i]! > 0) {
          out.x[m] = out.x[i]!;
          out.y[m++] = out.y[i]!;
        }
      }
      out.n = m;
    }
    return out;
  }

  /**
   * Min/max downsampling of one series: few points in range are kept one for one; many, in a
   * step series (with its index), go through its MinMaxBuckets, so a redraw after appended rows
   * only refills the last buckets.
   */
  private minMax(key: string, xs: Float64Array, ys: Float64Array, n: number, xMin: number, xMax: number, buckets: number, index?: MinMaxIndex): Downsampled {
    const previous = this.buffers.get(key);
    if (!index || !(xMax > xMin) || lowerBound(xs, xMax, 0, n) - lowerBound(xs, xMin, 0, n) <= 2 * buckets) {
      this.buckets.delete(key);
      return minMaxDownsample(xs, ys, n, xMin, xMax, buckets, previous, index);
    }
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = new MinMaxBuckets()));
    return b.downsample(xs, ys, n, xMin, xMax, gridWidth(xMax - xMin, buckets), index, previous);
  }

  private options(inputs: ChartInputs, series: uPlot.Series[], width: number, height: number, logY: boolean): uPlot.Options {
    const { theme, xMode } = inputs;
    const spec = this.spec;
    const axis = (o: Partial<uPlot.Axis>): uPlot.Axis => ({
      stroke: theme.muted, font: theme.font, labelFont: theme.font,
      grid: { stroke: theme.grid, width: 1 }, ticks: { stroke: theme.grid, width: 1, size: 4 }, ...o,
    });
    const kind = logY ? 'log' : spec.ticks;
    const yValues = (_u: uPlot, splits: number[], _axis: number, _space: number, incr: number) => tickLabels(splits, incr, kind);
    const xAxis: Partial<uPlot.Axis> = { label: xTitles[xMode], labelSize: 18, labelFont: theme.font };
    const axes: uPlot.Axis[] = [
      axis(xMode === 'relative' ? { ...xAxis, values: (_u, splits) => splits.map(formatDuration) }
        : xMode === 'step' ? { ...xAxis, values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? groupedNumber(v) : '')) } : xAxis),
      axis({ values: yValues, size: axisSize, label: spec.yLabel, labelSize: 18, labelFont: theme.font }),
    ];
    const scales: uPlot.Scales = {
      x: { time: xMode === 'wall', auto: false },
      y: logY ? { distr: 3, log: 10, range: this.yRange('y', true) } : spec.yRange ? { range: spec.yRange } : { range: this.yRange('y', false) },
    };
    if (spec.lines.some((l) => l.scale === 'y2') || spec.evalPoints?.some((e) => e.scale === 'y2')) {
      scales['y2'] = logY ? { distr: 3, log: 10, range: this.yRange('y2', true) } : spec.y2Range ? { range: spec.y2Range } : { range: this.yRange('y2', false) };
      const y2Values = (_u: uPlot, splits: number[], _axis: number, _space: number, incr: number) => tickLabels(splits, incr, logY ? 'log' : spec.y2Ticks ?? 'number');
      axes.push(axis({ scale: 'y2', side: 1, grid: { show: false }, values: y2Values, size: axisSize, label: spec.y2Label, labelSize: 18, labelFont: theme.font }));
    }
    return {
      width, height, series, axes, scales,
      legend: { show: false },
      cursor: {
        drag: { x: true, y: false, setScale: false },
        points: { show: false },
        bind: { dblclick: () => () => null },
      },
      hooks: {
        drawClear: [(u) => this.drawBands(u)],
        // A drag selects an x-range: zoom every chart to it (double-click zooms out).
        setSelect: [(u) => {
          const { left, width: w } = u.select;
          if (w > 2) this.callbacks.onZoom([u.posToVal(left, 'x'), u.posToVal(left + w, 'x')]);
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
        }],
        setCursor: [(u) => this.updateReadout(u)],
      },
    };
  }

  /** The key: one toggle per series (click to hide or show it in every run), in its colour or dash. */
  private renderKey(inputs: ChartInputs, lineAvailable: boolean[], evalAvailable: boolean[]): void {
    const perSeriesColour = inputs.runs.length === 1;
    const palette = inputs.theme.palette;
    const items: { id: string; glyph: string; label: string; colour?: string }[] = [];
    this.spec.lines.forEach((l, i) => lineAvailable[i] && items.push({
      id: `${this.spec.id}:${l.metric}`, label: l.label,
      glyph: perSeriesColour ? '──' : l.dash ? (l.dash[0]! > 3 ? '╌╌' : '┈┈') : '──',
      colour: perSeriesColour ? palette[i % palette.length] : undefined,
    }));
    (this.spec.evalPoints ?? []).forEach((e, i) => evalAvailable[i] && items.push({
      id: `${this.spec.id}:eval:${e.column}`, label: e.label, glyph: '○',
      colour: perSeriesColour ? palette[(this.spec.lines.length + i) % palette.length] : undefined,
    }));
    this.keyEl.replaceChildren(...items.map((it) => {
      const b = document.createElement('button');
      b.className = 'series-toggle';
      b.dataset['series'] = it.id;
      const on = !inputs.hidden.has(it.id);
      b.setAttribute('aria-pressed', String(on));
      b.title = `${on ? 'Hide' : 'Show'} ${it.label}`;
      const g = document.createElement('span');
      g.className = 'glyph';
      g.textContent = it.glyph;
      if (it.colour) g.style.color = it.colour;
      b.append(g, ` ${it.label}`);
      b.addEventListener('click', () => this.callbacks.onToggle(it.id));
      return b;
    }));
    if (inputs.smoothing > 0) {
      const faint = document.createElement('span');
      faint.className = 'faint';
      faint.textContent = '(faint: raw)';
      this.keyEl.append(faint);
    }
  }

  private drawBands(u: uPlot): void {
    const inp = this.inputs;
    const run = inp?.bandsRun;
    if (!inp || !run || run.steps.length === 0) return;
    const bands = run.stageBands();
    const xs = run.x(inp.xMode, 'steps');
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    const dpr = window.devicePixelRatio || 1;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    ctx.font = `${Math.round(10 * dpr)}px ${inp.theme.font.replace(/^\S+\s+/, '')}`;
    ctx.textBaseline = 'top';
    ctx.textAlign = 'left'; // uPlot leaves the last axis' alignment on the context
    for (let i = 0; i < bands.length; i++) {
      const b = bands[i]!;
      const next = bands[i + 1];
      const x0 = u.valToPos(xs[b.startRow]!, 'x', true);
      const x1 = u.valToPos(next ? xs[next.startRow]! : xs[b.endRow]!, 'x', true);
      const a = Math.max(left, x0);
      const z = Math.min(left + width, next ? x1 : Math.max(x1, a + 1));
      if (!(z > a)) continue;
      ctx.fillStyle = withAlpha(inp.theme.foreground, i % 2 ? 0.1 : 0.05);
      ctx.fillRect(a, top, z - a, height);
      const label = stageLabel(b);
      if (z - a > ctx.measureText(label).width + 8 * dpr) {
        ctx.fillStyle = inp.theme.muted;
        ctx.fillText(label, a + 4 * dpr, top + 3 * dpr);
      }
    }
    ctx.restore();
  }

  private updateReadout(u: uPlot): void {
    const inp = this.inputs;
    const left = u.cursor.left ?? -1;
    if (!inp || left < 0) {
      this.readoutEl.textContent = '\u00a0';
      return;
    }
    const x = u.posToVal(left, 'x');
    const parts: string[] = [];
    const table = this.spec.table ?? 'steps';
    for (const r of inp.runs) {
      const n = r.rows(table);
      if (n === 0) continue;
      const xs = r.x(inp.xMode, table);
      let i = Math.min(n - 1, lowerBound(xs, x, 0, n));
      if (i > 0 && Math.abs(xs[i - 1]! - x) < Math.abs(xs[i]! - x)) i--;
      const vals = this.spec.lines.filter((l) => !l.whenPresent || r.present(l.metric)).map((l) => {
        const col = inp.smoothing > 0 ? r.smoothedMetric(l.metric, inp.smoothing) : r.metric(l.metric);
        const kind = l.scale === 'y2' && this.spec.y2Ticks ? this.spec.y2Ticks : this.spec.ticks;
        return `${l.label} ${readoutValue(col[i]!, kind)}`;
      });
      parts.push(`${r.descriptor.name} @ step ${r.x('step', table)[i]}: ${vals.join(', ')}`);
    }
    this.readoutEl.textContent = parts.join('   |   ') || '\u00a0';
  }
}
