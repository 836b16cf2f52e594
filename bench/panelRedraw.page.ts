// Browser side of bench/panel-redraw.bench.ts: the panel's own chart code (MetricChart, RunView)
// with a synthetic run of N steps, and functions the benchmark calls to time redraws.
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
  }
  return c;
}

const oneSeries: ChartSpec = { id: 'loss', title: 'Loss (one series)', format: (v) => v.toFixed(3), lines: [{ metric: 'lmLoss', label: 'lm' }] };

let run: RunView;
const charts = new Map<string, MetricChart>();
const host = document.createElement('div');
host.style.cssText = 'display:grid;grid-template-columns:1fr 1fr;gap:12px;width:1400px';
document.body.append(host);

const api = {
  setup(n: number): void {
    run = new RunView({ key: '/bench/run', runId: 'bench', name: 'bench', status: 'running' }, 0);
    const chunk = 65_536;
    for (let s = 0; s < n; s += chunk) run.applySteps(s, synthetic(s, Math.min(chunk, n - s)));
  },
  /** Appends one step (a live update) and redraws `chart` ('one-series' or a panel chart id); returns ms. */
  redraw(chart: string, smoothing: number, append: boolean): number {
    if (append) run.applySteps(run.steps.length, synthetic(run.steps.length, 1));
    let c = charts.get(chart);
    if (!c) {
      const spec = chart === 'one-series' ? oneSeries : chartSpecs.find((s) => s.id === chart)!;
      c = new MetricChart(spec, host, { onZoom: () => {} });
      if (chart === 'one-series') c.root.style.gridColumn = '1 / 3';
      charts.set(chart, c);
    }
    const inputs: ChartInputs = { runs: [run], smoothing, logY: false, xMode: 'step', zoom: undefined, bandsRun: run, theme: readTheme() };
    const t0 = performance.now();
    c.render(inputs);
    return performance.now() - t0;
  },
  phases(chart: string): { prepare: number; align: number; draw: number } | undefined {
    return charts.get(chart)?.lastPhasesMs;
  },
  points(): number {
    return run.steps.length;
  },
};
(window as unknown as { bench: typeof api }).bench = api;
