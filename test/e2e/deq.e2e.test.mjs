// End-to-end: the DEQ solver charts of the Live Training panel in a real VS Code (code-server)
// driven by Chromium. A short attractor-sudoku4 run (TRM-DEQ) started from the palette like the
// training suite's runs (a config file in the workspace: the preset with a periodic evaluation that
// also scores the solver capped at one iteration, eval.internalisation); inside the webview the
// "Solver (DEQ)" and "Solver residual (DEQ)" charts appear, their points grow with the run's solver
// rows (data-points, data-run-drawn), their keys show the phantom run's series (no adjoint toggle);
// the accuracy chart draws the capped evaluation beside the full one; removing the run from the
// panel hides the solver charts again (the panel's other runs, if any, are not DEQ runs).
// Started by run-e2e.sh, like training.e2e.test.mjs: CS_URL, CS_FOLDER, EXT_DIR, FAILURE_SHOT, HARNESS (DEQ_SHOT optional).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { poll, suiteBrowser } from './workbench.mjs';

const { chromium } = createRequire(join(process.env.HARNESS, 'package.json'))('playwright-core');
const { CS_URL, CS_FOLDER, EXT_DIR, DEQ_SHOT } = process.env;
const EXTENSION_ID = 'recursion-lab.recursion-lab';
const RUN = 'e2e-deq';

const t0 = Date.now();
const lap = (what) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);

function trainerProcesses() {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(join(EXT_DIR, 'dist', 'trainer', 'cli.js')));
}

let page;
let wb;
const { withShot } = suiteBrowser(chromium, 'deq', (b) => {
  ({ page, wb } = b);
});

test('a DEQ run shows the solver charts with their points; the capped evaluation on the accuracy chart; gone with the run', { timeout: 300_000 }, withShot(async () => {
  await wb.open(CS_URL, CS_FOLDER);
  lap('workbench ready');
  // attractor-sudoku4 as it is, with a cheap periodic evaluation every 3 steps (2 puzzles per blank count) and the internalisation at 1 iteration.
  writeFileSync(join(CS_FOLDER, 'deq-e2e.reclab.json'), JSON.stringify({
    extends: 'attractor-sudoku4', train: { steps: 100000 }, checkpointEverySteps: 0,
    eval: { everySteps: 3, puzzlesPerBlank: 2, gradientVarianceGroups: 0, internalisation: { iterations: [1] } }, refinement: { everySteps: 0 },
  }));
  await wb.runCommand('Recursion Lab: Start Training');
  await wb.pick('deq-e2e.reclab.json');
  await wb.pick('tfjs');
  await wb.answer(RUN);
  lap('DEQ run started');

  const webview = wb.webview(EXTENSION_ID);
  await webview.locator('.legend .run', { hasText: RUN }).locator('.status', { hasText: 'running' }).waitFor({ timeout: 90_000 });
  const solver = webview.locator('#chart-solver');
  const residual = webview.locator('#chart-residual');
  await solver.waitFor({ state: 'visible', timeout: 120_000 });
  await residual.waitFor({ state: 'visible', timeout: 10_000 });
  const drawn = async (chart) => JSON.parse((await chart.getAttribute('data-run-drawn')) || '{}')[RUN] ?? 0;
  const points = async (chart) => Number(await chart.getAttribute('data-points'));
  // Three solver rows: 3 points per line; the solver chart draws 3 lines (mean, max, converged), the residual chart 4.
  await poll('3 solver rows drawn', async () => (await points(solver)) >= 3 && (await drawn(solver)) >= 9 && (await drawn(residual)) >= 12, 180_000);
  const first = { points: await points(solver), solver: await drawn(solver), residual: await drawn(residual) };
  lap(`solver chart: ${first.points} rows, drawn ${first.solver} / residual ${first.residual}`);
  const later = await poll('more solver rows', async () => { const p = await points(solver); return p >= first.points + 2 && p; }, 120_000);
  assert.ok(later > first.points);
  assert.ok((await drawn(solver)) > first.solver, 'the drawn points grow with the rows');
  // The keys: the phantom run's series, each a toggle; no adjoint series (that is the IFT gradient's).
  // (The glyph before each label is a line for one run, a dash pattern when the panel overlays several.)
  const keyOf = async (chart) => (await chart.locator('.series-toggle').allTextContents()).map((t) => t.replace(/^[^a-z]+/i, '').trim());
  assert.deepEqual(await keyOf(solver), ['iterations (mean)', 'iterations (max)', 'converged']);
  assert.deepEqual(await keyOf(residual), ['abs mean', 'abs max', 'rel mean', 'rel max']);
  // The periodic evaluation with the solver capped at 1 iteration: a toggle and a point on the accuracy chart.
  const accuracy = webview.locator('#chart-accuracy');
  await poll('the capped evaluation on the accuracy chart', async () => (await keyOf(accuracy)).some((t) => t.includes('eval exact, solver capped')), 120_000);
  lap('accuracy chart: eval exact, solver capped');
  if (DEQ_SHOT) {
    await page.mouse.move(10, 10);
    await residual.scrollIntoViewIfNeeded();
    await page.screenshot({ path: DEQ_SHOT });
  }

  await wb.runCommand('Recursion Lab: Stop Run');
  await webview.locator('.legend .run', { hasText: RUN }).locator('.status', { hasText: 'stopped' }).waitFor({ timeout: 60_000 });
  await poll('no trainer process', async () => trainerProcesses().length === 0, 20_000);
  lap('DEQ run stopped');
  // Removed from the panel: no DEQ run left, the solver charts are hidden.
  await webview.locator('.legend .run', { hasText: RUN }).locator('button.remove').click();
  await webview.locator('.legend .run', { hasText: RUN }).waitFor({ state: 'detached', timeout: 15_000 });
  await solver.waitFor({ state: 'hidden', timeout: 15_000 });
  await residual.waitFor({ state: 'hidden', timeout: 5_000 });
  lap('run removed: solver charts hidden');
}));
