// Panel redraw benchmark: the Live Training panel's chart code in headless Chromium with a run
// of 1,000,000 steps, then three overlaid runs of 100,000 (target: the whole panel under 16 ms). A redraw = what a live update costs: one
// new step appended, the smoothing brought up to date, every series downsampled to the pixel width
// (min/max per pixel) and drawn by uPlot. Figures: median and 95th percentile over 40 redraws.
// Needs Chromium and playwright-core: test/e2e/setup.sh installs them (it runs here if needed).
//   npm run bench:panel     (or: node --import tsx bench/panel-redraw.bench.ts [points] [points of each of the 3 runs])
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { launchChromium } from './headlessChromium';

async function main(): Promise<void> {
  const N = Number(process.argv[2] ?? 1_000_000);

  const dir = mkdtempSync(join(tmpdir(), 'reclab-panel-bench-'));
  await esbuild.build({ entryPoints: { page: 'bench/panelRedraw.page.ts' }, bundle: true, format: 'iife', platform: 'browser', target: 'es2022', outdir: dir, logLevel: 'warning' });
  writeFileSync(join(dir, 'index.html'), `<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="stylesheet" href="page.css">
  <style>body{margin:0;font:12px sans-serif;--vscode-editor-foreground:#ccc;--vscode-editor-background:#1e1e1e;background:#1e1e1e}.plot{height:240px}</style></head>
  <body class="vscode-dark"><script src="page.js"></script></body></html>`);

  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(pathToFileURL(join(dir, 'index.html')).href);
  const t0 = Date.now();
  await page.evaluate((n: number) => (window as unknown as { bench: { setup(n: number): void } }).bench.setup(n), N);
  console.log(`synthetic run of ${N.toLocaleString('en-US')} steps loaded in ${Date.now() - t0} ms`);

  type Bench = { redraw(chart: string, smoothing: number, append: boolean): number };
  async function measure(chart: string, smoothing: number, rounds = 40): Promise<{ median: number; p95: number; first: number }> {
    const first = await page.evaluate(([c, s]: readonly [string, number]) => (window as unknown as { bench: Bench }).bench.redraw(c, s, false), [chart, smoothing] as const);
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      times.push(await page.evaluate(([c, s]: readonly [string, number]) => (window as unknown as { bench: Bench }).bench.redraw(c, s, true), [chart, smoothing] as const));
    }
    times.sort((a, b) => a - b);
    const phases = await page.evaluate((c: string) => (window as unknown as { bench: { phases(c: string): unknown } }).bench.phases(c), chart);
    if (process.env['PHASES']) console.log(chart, JSON.stringify(phases));
    return { median: times[Math.floor(times.length / 2)]!, p95: times[Math.floor(times.length * 0.95)]!, first };
  }

  type Phases = { prepare: number; align: number; draw: number };
  type PanelBench = { redrawPanel(smoothing: number, append: boolean): number; panelPhases(): Phases; setup(n: number, count: number): void; runPoints(c: string): string };
  const medianOf = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  async function measurePanel(rounds = 30): Promise<{ median: number; p95: number; first: number; phases: Phases }> {
    const first = await page.evaluate(() => (window as unknown as { bench: PanelBench }).bench.redrawPanel(0.6, false), 0);
    const times: number[] = [];
    const phases: Phases[] = [];
    for (let i = 0; i < rounds; i++) {
      times.push(await page.evaluate(() => (window as unknown as { bench: PanelBench }).bench.redrawPanel(0.6, true), 0));
      phases.push(await page.evaluate(() => (window as unknown as { bench: PanelBench }).bench.panelPhases(), 0));
    }
    times.sort((a, b) => a - b);
    const phase = (k: keyof Phases) => medianOf(phases.map((p) => p[k]));
    return { median: times[Math.floor(times.length / 2)]!, p95: times[Math.floor(times.length * 0.95)]!, first, phases: { prepare: phase('prepare'), align: phase('align'), draw: phase('draw') } };
  }
  const phaseLine = (p: Phases) => `  phases (medians, summed over the five charts): downsampling ${p.prepare.toFixed(2)} ms, x grid (evaluation points, bands) and y extents of the lines ${p.align.toFixed(2)} ms, uPlot draw ${p.draw.toFixed(2)} ms`;

  const rows: [string, string, number][] = [
    ['one-series', '1 series (lm loss, raw), 1400 px wide', 0],
    ['loss', 'loss chart: lm + Q, raw + smoothed (4 series)', 0.6],
    ['accuracy', 'accuracy chart: 3 metrics raw + smoothed + eval (7 series)', 0.6],
    ['gradient', 'gradient chart: norm + variance, raw + smoothed (4 series)', 0.6],
    ['lr', 'learning-rate chart: raw + smoothed (2 series)', 0.6],
    ['throughput', 'throughput chart: raw + smoothed (2 series)', 0.6],
  ];
  console.log(`\nredraw after a live update, ${N.toLocaleString('en-US')} points per series (headless Chromium, software canvas)`);
  console.log('chart'.padEnd(62), 'median ms'.padStart(10), 'p95 ms'.padStart(8), 'first ms'.padStart(9));
  let one = 0;
  let panel = 0;
  for (const [id, label, smoothing] of rows) {
    const r = await measure(id, smoothing);
    if (id === 'one-series') one = r.median;
    else panel += r.median;
    console.log(label.padEnd(62), r.median.toFixed(2).padStart(10), r.p95.toFixed(2).padStart(8), r.first.toFixed(1).padStart(9));
  }
  console.log(`${'five panel charts, sum of their medians'.padEnd(62)} ${panel.toFixed(2).padStart(10)}`);
  const whole = await measurePanel();
  console.log(`${'whole panel, one frame (all five charts redrawn together)'.padEnd(62)} ${whole.median.toFixed(2).padStart(10)} ${whole.p95.toFixed(2).padStart(8)} ${whole.first.toFixed(1).padStart(9)}`);
  console.log(phaseLine(whole.phases));

  // Three overlaid runs of 100,000 points each (issue 10): the whole panel again, every run drawn.
  const M = Number(process.argv[3] ?? 100_000);
  await page.evaluate((m: number) => (window as unknown as { bench: PanelBench }).bench.setup(m, 3), M);
  const three = await measurePanel();
  const drawn = await page.evaluate(() => (window as unknown as { bench: PanelBench }).bench.runPoints('loss'), 0);
  console.log(`${`whole panel, 3 overlaid runs of ${M.toLocaleString('en-US')} points`.padEnd(62)} ${three.median.toFixed(2).padStart(10)} ${three.p95.toFixed(2).padStart(8)} ${three.first.toFixed(1).padStart(9)}`);
  console.log(phaseLine(three.phases));
  console.log(`  points drawn per run in the loss chart (after min/max downsampling): ${drawn}`);

  console.log(`\ntarget: the whole panel redraws < 16 ms at 1,000,000 points a run -> ${whole.median.toFixed(2)} ms (${whole.median < 16 ? 'met' : 'NOT met'}; ratio to budget ${(whole.median / 16).toFixed(2)})`);
  console.log(`target: three overlaid runs of 100,000 points < 16 ms -> ${three.median.toFixed(2)} ms (${three.median < 16 ? 'met' : 'NOT met'}; ratio ${(three.median / 16).toFixed(2)})`);
  console.log(`one series at 1,000,000 points: ${one.toFixed(2)} ms`);
  console.log('warm (median, p95) = a live update: one step appended to every run, then the redraw the panel does for it (smoothing,');
  console.log('  min/max buckets, x grid, uPlot draw), with the charts built and their caches holding the previous frame;');
  console.log('cold ("first") = the first draw of a chart: the smoothing, indexes and buckets of every whole series, and building the plot.');
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}

void main();
