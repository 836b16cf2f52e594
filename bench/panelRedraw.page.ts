// Browser side of bench/panel-redraw.bench.ts: the panel's own chart code (MetricChart, RunView)
// with synthetic runs of N steps each, and functions the benchmark calls to time redraws.
import 'uplot/dist/uPlot.min.css';
import { stepColumnNames, type StepColumns } from '../protocol/webviewMessages';
import { chartSpecs, type ChartSpec } from '../webview/training/chartSpecs';
import { MetricChart, type ChartInputs } from '../webview/training/metricChart';
import { RunView } from '../webview/training/runView';
import { readTheme } from '../webview/training/theme';

function synthetic(start: number, n: number): StepColumns {
  const c = Object.fromEntries(stepColumnNames.map((k) => [k, new Float64Array(n)])) as StepColumns;
  let s = 987654321 + start;
  for (let i = 0; i < n; i++) {
    const step = start + i + 1;
    s = (s * 1103515245 + 12345) % 2147483648;
    const noise = s / 2147483648 - 0.5;
    c.step[i] = step;
    c.time[i] = 1.7e12 + step * 100;
    c.lmLoss[i] = 2 / Math.sqrt(1 + step / 1000) + 0.2 * noise;
    c.qHaltLoss[i] = 0.05 + 0.02 * noise;
    c.tokenAccuracy[i] = Math.min(1, 0.3 + step / 2e6 + 0.05 * noise);
    c.exactAccuracy[i] = step % 3 ? NaN : Math.min(1, step / 2e6 + 0.05 * noise);
    c.qHaltAccuracy[i] = 0.9 + 0.05 * noise;
    c.gradNorm[i] = 0.5 + 0.2 * noise;
    c.gradVariance[i] = 0.1 + 0.05 * noise;
    c.samplesPerSecond[i] = 6400 + 300 * noise;
    c.hCycles[i] = step < 300_000 ? 1 : step < 700_000 ? 2 : 3;
    c.lCycles[i] = step < 300_000 ? 2 : step < 700_000 ? 4 : 6;
    c.lr[i] = step < 2000 ? 1e-4 * (step / 2000) : 1e-4 * (0.1 + 0.45 * (1 + Math.cos((Math.PI * step) / 1e6)));
  }
  return c;
}

const oneSeries: ChartSpec = { id: 'loss', title: 'Loss (one series)', ticks: 'number', yLabel: 'loss', lines: [{ metric: 'lmLoss', label: 'lm' }] };

let runs: RunView[] = [];
const charts = new Map<string, MetricChart>();
const host = document.createElement('div');
host.style.cssText = 'display:grid;grid-template-columns:1fr 1fr;gap:12px;width:1400px';
document.body.append(host);

const api = {
  /** `count` runs of `n` steps each (the charts drawn so far are dropped). */
  setup(n: number, count = 1): void {
    for (const c of charts.values()) c.destroy();
    charts.clear();
    runs = [];
    for (let k = 0; k < count; k++) {
      const run = new RunView({ key: `/bench/run${k}`, runId: `bench${k}`, name: `bench${k}`, status: 'running' }, k);
      const chunk = 65_536;
      for (let s = 0; s < n; s += chunk) run.applySteps(s, synthetic(s, Math.min(chunk, n - s)));
      runs.push(run);
    }
  },
  /** Appends one step to every run (a live update) and redraws `chart` ('one-series' or a panel chart id); returns ms. */
  redraw(chart: string, smoothing: number, append: boolean): number {
    if (append) for (const run of runs) run.applySteps(run.steps.length, synthetic(run.steps.length, 1));
    const c = chartOf(chart);
    const t0 = performance.now();
    c.render(inputsOf(smoothing));
    return performance.now() - t0;
  },
  /** Appends one step to every run and redraws every chart of the panel, as one frame does; returns ms. */
  redrawPanel(smoothing: number, append: boolean): number {
    if (append) for (const run of runs) run.applySteps(run.steps.length, synthetic(run.steps.length, 1));
    const inputs = inputsOf(smoothing);
    const t0 = performance.now();
    for (const spec of chartSpecs) chartOf(spec.id).render(inputs);
    return performance.now() - t0;
  },
  /** The phases of the last redrawPanel, summed over its charts (ms). */
  panelPhases(): { prepare: number; align: number; draw: number } {
    const sum = { prepare: 0, align: 0, draw: 0 };
    for (const spec of chartSpecs) {
      const p = chartOf(spec.id).lastPhasesMs;
      sum.prepare += p.prepare;
      sum.align += p.align;
      sum.draw += p.draw;
    }
    return sum;
  },
  /** Points drawn per run in `chart` (its data-run-points). */
  runPoints(chart: string): string {
    return chartOf(chart).root.dataset['runPoints'] ?? '';
  },
  phases(chart: string): { prepare: number; align: number; draw: number } | undefined {
    return charts.get(chart)?.lastPhasesMs;
  },
  points(): number {
    return runs[0]?.steps.length ?? 0;
  },
};

function chartOf(chart: string): MetricChart {
  let c = charts.get(chart);
  if (!c) {
    const spec = chart === 'one-series' ? oneSeries : chartSpecs.find((s) => s.id === chart)!;
    c = new MetricChart(spec, host, { onZoom: () => {}, onToggle: () => {} });
    if (chart === 'one-series') c.root.style.gridColumn = '1 / 3';
    charts.set(chart, c);
  }
  return c;
}

function inputsOf(smoothing: number): ChartInputs {
  return { runs, smoothing, logY: false, xMode: 'step', zoom: undefined, bandsRun: runs[0], theme: readTheme(), hidden: new Set(), groupByArm: false };
}
(window as unknown as { bench: typeof api }).bench = api;
