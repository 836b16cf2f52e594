/* global setTimeout */
// End-to-end: comparing runs in a real VS Code (code-server) driven by Chromium (issue 10).
//   1. A single sudoku4 run trains from a terminal; "Run Ablation" from the palette (sudoku4, arms
//      baseline and pdc, 1 seed, 3 steps) ends with a notification whose "Open Report" opens the Sweep
//      Report webview: the arms' table and the two plots.
//   2. "Open Runs Table" from the report: one row per arm, with the config field that differs
//      between the arms (train.curriculum.enabled) and each row's value of it, read here from the
//      sweep's own config files.
//   3. The workspace's Runs table: select two arms and the single run, "Overlay selected": the Live
//      Training panel shows exactly those three runs, and every chart draws every one of them, with
//      as many points as their events.jsonl has step rows (counted here).
// Screenshots (sweep report, runs table, panel with three runs) go to $SHOT_DIR. Started by
// run-e2e.sh, which provides CS_URL, CS_FOLDER, EXT_DIR, SHOT_DIR, FAILURE_SHOT, HARNESS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { suiteBrowser } from './workbench.mjs';

const { chromium } = createRequire(join(process.env.HARNESS, 'package.json'))('playwright-core');
const { CS_URL, CS_FOLDER, EXT_DIR, SHOT_DIR } = process.env;
const EXTENSION_ID = 'recursion-lab.recursion-lab';
const CLI = join(EXT_DIR, 'dist', 'trainer', 'cli.js');
const RUNS = join(CS_FOLDER, 'runs');
const SINGLE = 'compare-single';
const ARMS = ['baseline', 'pdc']; // of the defaults baseline, pdc, hsw, cgar: hsw and cgar are unticked
const STEPS = 3;

const t0 = Date.now();
const lap = (what) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);

/** As workbench.mjs's poll, but a probe that throws (a webview mid-reload) counts as not yet. */
async function poll(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => false);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Step rows of a run, counted in its events.jsonl here (independently of the extension). */
function stepRows(dir) {
  const file = join(dir, 'events.jsonl');
  if (!existsSync(file)) return 0;
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"type":"step"')).length;
}

let page;
let wb;

const { withShot } = suiteBrowser(chromium, 'compare', (b) => {
  mkdirSync(SHOT_DIR, { recursive: true });
  ({ page, wb } = b);
  lap('browser launched');
});

test('ablation -> notification "Open Report" -> sweep report -> runs table with the differing field -> three runs overlaid and all drawn', { timeout: 600_000 }, withShot(async () => {
  // The single run, from a terminal (it appears in the window by itself).
  const configs = join(CS_FOLDER, '..', 'configs');
  mkdirSync(configs, { recursive: true });
  const cfg = join(configs, `${SINGLE}.reclab.json`);
  writeFileSync(cfg, JSON.stringify({
    extends: 'sudoku4', name: SINGLE, checkpointEverySteps: 0, train: { steps: 40 }, data: { testPerBlank: 20 },
    eval: { everySteps: 20, puzzlesPerBlank: 5, gradientVarianceGroups: 0 }, refinement: { everySteps: 0 },
  }));
  const single = spawn(process.execPath, [CLI, 'train', '--config', cfg, '--run-dir', join(RUNS, SINGLE), '--quiet'], { stdio: 'ignore' });
  const singleDone = new Promise((resolve, reject) => single.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`single run exited with ${c}`)))));

  await wb.open(CS_URL, CS_FOLDER);
  await wb.runCommand('View: Close All Editors');
  lap('workbench ready');

  // 1. Run Ablation from the palette: preset, arms (the defaults), seeds, steps, where to run.
  await wb.runCommand('Recursion Lab: Run Ablation');
  await wb.pick('sudoku4');
  await wb.quickInput.waitFor({ state: 'visible', timeout: 15_000 });
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'pdc' }).first().waitFor({ timeout: 15_000 });
  // Untick hsw and cgar: the first row mentioning each is its own (hsw-code, cgar-code come after).
  for (const [arm, left] of [['hsw', 3], ['cgar', 2]]) {
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: arm }).first();
    const box = row.locator('input[type="checkbox"], .monaco-custom-toggle, .quick-input-list-checkbox').first();
    if (await box.count()) await box.click();
    else await row.click({ position: { x: 12, y: 14 } });
    await poll(`${arm} unticked`, async () => new RegExp(`(^|\\D)${left} Selected`).test(await page.locator('.quick-input-widget').textContent()), 5_000);
  }
  await page.keyboard.press('Enter');
  await wb.pick('1');
  await wb.answer(String(STEPS));
  await wb.pick('Local');
  lap('ablation started');
  const openReport = page.locator('.notification-toast', { hasText: /Ablation sudoku4 .* finished/ }).locator('.monaco-button', { hasText: 'Open Report' });
  await openReport.waitFor({ timeout: 540_000 });
  lap(`notification: ${(await page.locator('.notification-toast', { hasText: 'finished' }).first().textContent()).trim().slice(0, 120)}`);
  await openReport.click();
  const sweep = readdirSync(RUNS).filter((d) => d.startsWith('ablation-')).map((d) => join(RUNS, d)).find((d) => existsSync(join(d, 'ablation.json')));
  assert.ok(sweep, 'the sweep folder with its ablation.json');

  // The sweep report: the table (one row per arm) and the two plots of ablation.html.
  const report = wb.visibleWebview(EXTENSION_ID);
  await report.locator('#report table').first().waitFor({ timeout: 30_000 });
  const armCells = await report.locator('#report table').first().locator('tbody tr td:first-child').allTextContents();
  assert.deepEqual(armCells.map((c) => c.trim()), ARMS);
  assert.equal(await report.locator('#report svg.chart').count(), 2);
  assert.equal(await report.locator('#report svg.chart path.run').count(), 2 * ARMS.length, 'a curve per run in each plot');
  await page.mouse.move(10, 10);
  await page.screenshot({ path: join(SHOT_DIR, 'sweep-report.png') });
  lap('sweep report shown; screenshot sweep-report.png');

  // 2. Its runs table: one row per arm, the differing config field with each run's value.
  await report.locator('#runs-table').click();
  let table = wb.visibleWebview(EXTENSION_ID);
  await poll('the sweep runs table rows', async () => (await table.locator('#runs tbody tr').count()) === ARMS.length, 30_000);
  const headers = (await table.locator('#runs thead th').allTextContents()).map((h) => h.trim());
  assert.ok(headers.includes('train.curriculum.enabled'), `differing fields among ${headers.join(' | ')}`);
  for (const arm of ARMS) {
    const own = JSON.parse(readFileSync(join(sweep, 'configs', `${arm}-seed0.reclab.json`), 'utf8'));
    const rowEl = table.locator(`#runs tbody tr[data-key$="/${arm}-seed0"]`);
    assert.equal((await rowEl.locator('td[data-column="arm"]').textContent()).trim(), arm);
    assert.equal((await rowEl.locator('td[data-column="preset"]').textContent()).trim(), 'sudoku4');
    assert.equal((await rowEl.locator('td[data-column="config.train.curriculum.enabled"]').textContent()).trim(), String(own.train.curriculum.enabled));
    assert.equal((await rowEl.locator('td[data-column="steps"]').textContent()).trim(), String(STEPS));
  }
  await page.mouse.move(10, 10);
  await page.screenshot({ path: join(SHOT_DIR, 'runs-table.png') });
  lap(`sweep runs table: ${ARMS.length} rows with train.curriculum.enabled; screenshot runs-table.png`);

  // 3. The workspace's runs table: select two arms and the single run, overlay them.
  await singleDone;
  // One webview at a time on screen (a hidden one's frame can sit under the active one).
  await wb.runCommand('View: Close All Editors');
  await wb.runCommand('Recursion Lab: Open Runs Table');
  table = wb.visibleWebview(EXTENSION_ID);
  const picked = [join(sweep, 'baseline-seed0'), join(sweep, 'pdc-seed0'), join(RUNS, SINGLE)];
  for (const key of picked) {
    const box = table.locator(`#runs tbody tr[data-key="${key}"] input[type="checkbox"]`);
    await box.waitFor({ timeout: 30_000 });
    await box.check();
  }
  await poll('3 selected', async () => /3 selected/.test(await table.locator('#selection').textContent()), 10_000);
  await table.locator('#overlay').click();
  lap('overlay requested');
  await poll('the Live Training panel in front', async () => /Live Training/.test(await page.locator('.tabs-container .tab.active').textContent()), 30_000);
  await wb.runCommand('View: Close Other Editors in Group');

  const panel = wb.visibleWebview(EXTENSION_ID);
  const names = ['baseline-seed0', 'pdc-seed0', SINGLE];
  await poll('the Live Training panel with exactly the three runs', async () => {
    const legend = (await panel.locator('.legend .run .name').allTextContents()).map((t) => t.trim());
    return legend.length === 3 && names.every((n) => legend.includes(n));
  }, 60_000);
  const expected = picked.reduce((a, d) => a + stepRows(d), 0);
  assert.equal(expected, STEPS + STEPS + 40);
  for (const chart of ['loss', 'accuracy', 'gradient', 'lr', 'throughput']) {
    const el = panel.locator(`#chart-${chart}`);
    // Every run has points drawn in every chart (lines and evaluation points: a 3-step run has no
    // halted rows, so no token accuracy line, but its evaluations are drawn).
    await poll(`${chart}: every run drawn`, async () => {
      const per = JSON.parse((await el.getAttribute('data-run-drawn')) || '{}');
      return names.every((n) => per[n] > 0) && Number(await el.getAttribute('data-points')) === expected;
    }, 60_000);
    const per = JSON.parse(await el.getAttribute('data-run-drawn'));
    lap(`${chart}: points drawn per run ${JSON.stringify(per)}, ${await el.getAttribute('data-points')} step rows`);
  }
  // The raw points: all of the 3 + 3 + 40 rows are few enough to be drawn one for one in the loss chart.
  const loss = JSON.parse(await panel.locator('#chart-loss').getAttribute('data-run-points'));
  assert.deepEqual(loss, { 'baseline-seed0': stepRows(picked[0]), 'pdc-seed0': stepRows(picked[1]), [SINGLE]: stepRows(picked[2]) });
  await page.mouse.move(10, 10);
  await page.screenshot({ path: join(SHOT_DIR, 'panel-three-runs.png') });
  lap('three runs overlaid and drawn; screenshot panel-three-runs.png');
}));
