// Browser side of the configuration check in bench/panel-ab.bench.ts: the panel's charts
// (MetricChart, RunView) drawn for runs and settings the redraw benchmark does not cover (log y,
// a zoom, sweep arms grouped with ± sd bands, wall-clock and relative x, hidden series, a run of
// one row, a run without rows, runs of a few rows), so that two versions of the chart code can be
// compared pixel for pixel.
import 'uplot/dist/uPlot.min.css';
import { evalColumnNames, stepColumnNames, type EvalColumns, type StepColumns, type XAxisMode } from '../protocol/webviewMessages';
import { chartSpecs } from '../webview/training/chartSpecs';
import { MetricChart, type ChartInputs } from '../webview/training/metricChart';
import { RunView } from '../webview/training/runView';
import { readTheme } from '../webview/training/theme';

function steps(n: number, seed: number, start = 0): StepColumns {
  const c = Object.fromEntries(stepColumnNames.map((k) => [k, new Float64Array(n)])) as StepColumns;
  let s = seed;
  for (let i = 0; i < n; i++) {
    const step = start + i + 1;
    s = (s * 1103515245 + 12345) % 2147483648;
    const noise = s / 2147483648 - 0.5;
    c.step[i] = step;
    c.time[i] = 1.7e12 + step * 250 + seed;
    c.lmLoss[i] = (2 + seed / 1e9) / Math.sqrt(1 + step / 300) + 0.2 * noise + (step % 997 === 0 ? 3 : 0);
    c.qHaltLoss[i] = 0.05 + 0.02 * noise;
    c.tokenAccuracy[i] = Math.min(1, 0.3 + step / 2e4 + 0.05 * noise);
    c.exactAccuracy[i] = step % 3 ? NaN : Math.min(1, step / 2e4 + 0.05 * noise);
    c.qHaltAccuracy[i] = 0.9 + 0.05 * noise;
    c.gradNorm[i] = 0.5 + 0.2 * noise;
    c.gradVariance[i] = 0.1 + 0.05 * noise;
    c.samplesPerSecond[i] = 6400 + 300 * noise;
    c.hCycles[i] = step < 3000 ? 1 : 2;
    c.lCycles[i] = step < 3000 ? 2 : 4;
    c.lr[i] = 1e-4 * (0.1 + 0.45 * (1 + Math.cos((Math.PI * step) / 1e4)));
  }
  return c;
}

function evals(n: number, every: number, seed: number): EvalColumns {
  const c = Object.fromEntries(evalColumnNames.map((k) => [k, new Float64Array(n)])) as EvalColumns;
  for (let i = 0; i < n; i++) {
    const step = (i + 1) * every;
    c.step[i] = step;
    c.time[i] = 1.7e12 + step * 250 + seed;
    c.exactAccuracy[i] = Math.min(1, step / 1e4);
    c.tokenAccuracy[i] = Math.min(1, 0.4 + step / 1e4);
    c.qHaltAccuracy[i] = 0.9;
    c.gradientVariance[i] = 0.08 + 0.01 * Math.sin(i);
  }
  return c;
}

const host = document.createElement('div');
host.style.cssText = 'display:grid;grid-template-columns:1fr 1fr;gap:12px;width:1400px';
document.body.append(host);

function run(k: number, n: number, arm?: string): RunView {
  const r = new RunView({ key: `/cfg/run${k}`, runId: `cfg${k}`, name: `cfg${k}`, status: 'running', arm }, k);
  if (n > 0) r.applySteps(0, steps(n, 1000 + k));
  if (n > 0) r.applyEvals(0, evals(Math.max(1, Math.floor(n / 500)), 500, 1000 + k));
  return r;
}

interface Config { name: string; runs: () => RunView[]; logY?: boolean; xMode?: XAxisMode; zoom?: [number, number]; smoothing?: number; hidden?: string[]; groupByArm?: boolean }
const configs: Config[] = [
  { name: 'one run, 20k rows, log y', runs: () => [run(0, 20_000)], logY: true },
  { name: 'three runs, zoomed to steps 4,000-4,600', runs: () => [run(0, 20_000), run(1, 12_000), run(2, 8_000)], zoom: [4000, 4600] },
  { name: 'three runs, zoomed between two rows', runs: () => [run(0, 20_000), run(1, 12_000), run(2, 3)], zoom: [1000.2, 1000.7] },
  { name: 'two arms of two seeds each, grouped (mean ± sd bands), and a single run', runs: () => [run(0, 9_000, 'a'), run(1, 9_000, 'a'), run(2, 9_000, 'b'), run(3, 9_000, 'b'), run(4, 5_000)], groupByArm: true },
  { name: 'wall-clock x, series hidden', runs: () => [run(0, 20_000), run(1, 6_000)], xMode: 'wall', hidden: ['loss:qHaltLoss', 'accuracy:eval:exactAccuracy', 'gradient:gradNorm'] },
  { name: 'relative x, no smoothing, log y', runs: () => [run(0, 20_000), run(1, 6_000)], xMode: 'relative', smoothing: 0, logY: true },
  { name: 'a run of one row, a run without rows, a run of three', runs: () => [run(0, 1), run(1, 0), run(2, 3)] },
];

let charts: MetricChart[] = [];
const api = {
  configs: () => configs.map((c) => c.name),
  /** Draws configuration `i` in every chart of the panel; returns each canvas' RGBA, base64. */
  draw(i: number): { width: number; rgba: string }[] {
    for (const c of charts) c.destroy();
    charts = chartSpecs.map((spec) => new MetricChart(spec, host, { onZoom: () => {}, onToggle: () => {} }));
    const c = configs[i]!;
    const runs = c.runs();
    const inputs: ChartInputs = {
      runs, smoothing: c.smoothing ?? 0.6, logY: !!c.logY, xMode: c.xMode ?? 'step', zoom: c.zoom, bandsRun: runs[0], theme: readTheme(),
      hidden: new Set(c.hidden ?? []), groupByArm: !!c.groupByArm,
    };
    for (const ch of charts) ch.render(inputs);
    // A live update too: a row appended to every run with rows, drawn again.
    for (const r of runs) if (r.steps.length) r.applySteps(r.steps.length, steps(1, 1000 + r.colour, r.steps.length));
    for (const ch of charts) ch.render(inputs);
    return Array.from(document.querySelectorAll('canvas'), (cv) => {
      const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
      let s = '';
      for (let j = 0; j < d.length; j += 8192) s += String.fromCharCode(...d.subarray(j, j + 8192));
      return { width: cv.width, rgba: btoa(s) };
    });
  },
};
(window as unknown as { configs: typeof api }).configs = api;
