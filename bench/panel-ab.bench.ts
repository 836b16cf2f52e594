// A/B of the panel redraw: the chart code of a git ref (A, default HEAD) against the working tree
// (B), each bundled from bench/panelRedraw.page.ts into its own page of one headless Chromium,
// the same synthetic runs in both, redraws interleaved A, B, A, B ... so that the load of a shared
// machine falls on both alike. Prints per case the medians, B/A and the phases (downsampling,
// aligning, uPlot draw) of each.
//   node --import tsx bench/panel-ab.bench.ts [ref] [rounds]     (after test/e2e/setup.sh; rounds 0: pixels only)
// SHOTS=dir also writes each chart of the timed cases as PNG, per version.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { launchChromium, type Page } from './headlessChromium';

type Phases = { prepare: number; align: number; draw: number };
interface PanelBench {
  setup(n: number, count: number): void;
  redrawPanel(smoothing: number, append: boolean): number;
  panelPhases(): Phases;
  runPoints(c: string): string;
}

const html = `<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="stylesheet" href="page.css">
  <style>body{margin:0;font:12px sans-serif;--vscode-editor-foreground:#ccc;--vscode-editor-background:#1e1e1e;background:#1e1e1e}.plot{height:240px}</style></head>
  <body class="vscode-dark"><script src="page.js"></script></body></html>`;

async function bundle(root: string, out: string): Promise<void> {
  mkdirSync(out, { recursive: true });
  await esbuild.build({
    entryPoints: { page: join(root, 'bench/panelRedraw.page.ts'), configs: join(root, 'bench/panelConfigs.page.ts') }, bundle: true, format: 'iife', platform: 'browser', target: 'es2022',
    outdir: out, logLevel: 'warning', nodePaths: [resolve('node_modules')],
  });
  writeFileSync(join(out, 'index.html'), html);
  writeFileSync(join(out, 'configs.html'), html.replace('page.css', 'configs.css').replace('page.js', 'configs.js'));
}

interface Shot { width: number; rgba: string }

/** Per canvas: how many pixels differ between a and b (and by more than a quarter of the range), and where. */
function pixelDiffs(a: Shot[], b: Shot[]): string {
  if (a.length !== b.length) return `${a.length} canvases against ${b.length}`;
  return a.map((sa, i) => {
    const pa = Buffer.from(sa.rgba, 'base64');
    const pb = Buffer.from(b[i]!.rgba, 'base64');
    if (pa.length !== pb.length || sa.width !== b[i]!.width) return 'size differs';
    let px = 0;
    let strong = 0;
    const w = sa.width;
    let x0 = Infinity, x1 = -1, y0 = Infinity, y1 = -1;
    for (let j = 0; j < pa.length; j += 4) {
      const delta = Math.max(Math.abs(pa[j]! - pb[j]!), Math.abs(pa[j + 1]! - pb[j + 1]!), Math.abs(pa[j + 2]! - pb[j + 2]!), Math.abs(pa[j + 3]! - pb[j + 3]!));
      if (delta === 0) continue;
      px++;
      if (delta > 64) strong++;
      const x = (j / 4) % w;
      const y = Math.floor(j / 4 / w);
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    return px ? `${px} of ${pa.length / 4}, ${strong} by more than 64 of 255 (within x ${x0}-${x1}, y ${y0}-${y1} of ${w} wide)` : `0 of ${pa.length / 4}`;
  }).join('; ');
}

async function main(): Promise<void> {
  const ref = process.argv[2] ?? 'HEAD';
  const rounds = Number(process.argv[3] ?? 40);
  const dir = mkdtempSync(join(tmpdir(), 'reclab-panel-ab-'));
  // A: the ref's files (git archive only reads the repository).
  const srcA = join(dir, 'src-a');
  mkdirSync(srcA);
  execFileSync('bash', ['-c', `git archive ${JSON.stringify(ref)} bench protocol webview | tar -x -C ${JSON.stringify(srcA)}`]);
  // The configuration page of the working tree, if the ref has none, on the ref's chart code.
  if (!existsSync(join(srcA, 'bench/panelConfigs.page.ts'))) copyFileSync('bench/panelConfigs.page.ts', join(srcA, 'bench/panelConfigs.page.ts'));
  await bundle(srcA, join(dir, 'a'));
  await bundle(process.cwd(), join(dir, 'b'));

  const browser = await launchChromium();
  const pages: Page[] = [];
  for (const v of ['a', 'b']) {
    const p = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
    await p.goto(pathToFileURL(join(dir, v, 'index.html')).href);
    pages.push(p);
  }
  const bench = (p: Page) => p as Page;
  const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
  console.log(`A = ${ref}, B = the working tree; ${rounds} interleaved redraws each; load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  // rounds 0: only the drawings of the other settings are compared.
  for (const [n, count] of rounds > 0 ? [[1_000_000, 1], [100_000, 3]] as const : []) {
    for (const p of pages) await bench(p).evaluate(([m, c]: readonly [number, number]) => (window as unknown as { bench: PanelBench }).bench.setup(m, c), [n, count] as const);
    for (const p of pages) for (let i = 0; i < 3; i++) await p.evaluate(() => (window as unknown as { bench: PanelBench }).bench.redrawPanel(0.6, true), 0);
    const times: number[][] = [[], []];
    const phases: Phases[][] = [[], []];
    for (let r = 0; r < rounds; r++) {
      // Alternate which variant goes first, so neither always follows the other.
      const order = r % 2 ? [1, 0] : [0, 1];
      for (const k of order) {
        times[k]!.push(await pages[k]!.evaluate(() => (window as unknown as { bench: PanelBench }).bench.redrawPanel(0.6, true), 0));
        phases[k]!.push(await pages[k]!.evaluate(() => (window as unknown as { bench: PanelBench }).bench.panelPhases(), 0));
      }
    }
    const ma = median(times[0]!);
    const mb = median(times[1]!);
    console.log(`\n${count} run(s) of ${n.toLocaleString('en-US')} points: whole panel median A ${ma.toFixed(2)} ms, B ${mb.toFixed(2)} ms, B/A ${(mb / ma).toFixed(2)}`);
    for (const [k, name] of [[0, 'A'], [1, 'B']] as const) {
      const ph = (key: keyof Phases) => median(phases[k]!.map((p) => p[key])).toFixed(2);
      const drawn = await pages[k]!.evaluate(() => (window as unknown as { bench: PanelBench }).bench.runPoints('loss'), 0);
      console.log(`  ${name}: downsampling ${ph('prepare')} ms, aligning ${ph('align')} ms, uPlot draw ${ph('draw')} ms; p95 ${[...times[k]!].sort((x, y) => x - y)[Math.floor(rounds * 0.95)]!.toFixed(2)} ms; loss run points ${drawn}`);
    }
    // The drawings themselves, chart by chart (both pages drew the same rows): pixels that differ.
    const shots = await Promise.all(pages.map((p) => p.evaluate(() => Array.from(document.querySelectorAll('canvas'), (c) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let s = '';
      for (let i = 0; i < d.length; i += 8192) s += String.fromCharCode(...d.subarray(i, i + 8192));
      return { width: c.width, rgba: btoa(s) };
    }), 0)));
    console.log(`  pixels that differ between A and B, per chart canvas: ${pixelDiffs(shots[0]!, shots[1]!)}`);
    if (process.env['SHOTS']) {
      for (const [k, p] of pages.entries()) {
        const urls = await p.evaluate(() => Array.from(document.querySelectorAll('canvas')).map((c) => c.toDataURL('image/png')), 0);
        urls.forEach((u, i) => writeFileSync(join(process.env['SHOTS']!, `${count}runs-chart${i}-${'ab'[k]}.png`), Buffer.from(u.split(',')[1]!, 'base64')));
      }
    }
  }
  // Settings the timed runs do not cover, drawn by both versions: pixels that differ.
  const cfgPages: Page[] = [];
  for (const v of ['a', 'b']) {
    const p = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
    await p.goto(pathToFileURL(join(dir, v, 'configs.html')).href);
    cfgPages.push(p);
  }
  type Configs = { configs(): string[]; draw(i: number): Shot[] };
  const names = await cfgPages[1]!.evaluate(() => (window as unknown as { configs: Configs }).configs.configs(), 0);
  console.log('\nother settings (drawn, then a row appended and drawn again): pixels that differ between A and B, per chart canvas');
  for (const [i, name] of names.entries()) {
    const [a, b] = await Promise.all(cfgPages.map((p) => p.evaluate((k: number) => (window as unknown as { configs: Configs }).configs.draw(k), i)));
    console.log(`  ${name}: ${pixelDiffs(a!, b!)}`);
    if (process.env['SHOTS']) {
      for (const [k, p] of cfgPages.entries()) {
        const urls = await p.evaluate(() => Array.from(document.querySelectorAll('canvas'), (c) => c.toDataURL('image/png')), 0);
        urls.forEach((u, c) => writeFileSync(join(process.env['SHOTS']!, `config${i}-chart${c}-${'ab'[k]}.png`), Buffer.from(u.split(',')[1]!, 'base64')));
      }
    }
  }
  console.log(`load average at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}

void main();
