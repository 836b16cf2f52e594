// End-to-end: the extension in a real VS Code (code-server) driven by Chromium. From the command
// palette start a short training run; inside the Live Training webview the loss chart's point count
// grows; the status bar shows the curriculum stage; Stop Run stops it; the runs tree shows it
// stopped; no trainer process is left. The same for a PyTorch-engine run (engine picked in Start
// Training, Python from the reclab.pythonPath setting). A screenshot of the panel during the run goes to $SHOT.
// Started by run-e2e.sh, which provides:
//   CS_URL, CS_FOLDER (workspace), EXT_DIR (installed extension), SHOT, FAILURE_SHOT, HARNESS
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { poll, suiteBrowser } from './workbench.mjs';

// playwright-core lives in the e2e cache (test/e2e/setup.sh), not in the repository's node_modules.
const { chromium } = createRequire(join(process.env.HARNESS, 'package.json'))('playwright-core');
const { CS_URL, CS_FOLDER, EXT_DIR, SHOT } = process.env;
const EXTENSION_ID = 'recursion-lab.recursion-lab';
const RUN_NAME = 'e2e-run';
const TORCH_RUN = 'e2e-torch';

const t0 = Date.now();
const lap = (what) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);

/** Trainer processes started from the installed extension. */
function trainerProcesses() {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(join(EXT_DIR, 'dist', 'trainer', 'cli.js')));
}

/** PyTorch engine workers (python -m reclab.worker) training in this test's workspace. */
function workerProcesses() {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes('-m reclab.worker') && l.includes(CS_FOLDER));
}


let page;
let wb;
/** The first run's loss points when it stopped (the reload test expects them back). */
let firstRunPoints = 1;

const { withShot } = suiteBrowser(chromium, 'training', (b) => {
  ({ page, wb } = b);
  lap('browser launched');
});

test('start from the palette -> live panel grows -> status bar stage -> Stop Run -> tree shows stopped -> no trainer left', { timeout: 240_000 }, withShot(async () => {
  await wb.open(CS_URL, CS_FOLDER);
  lap('workbench ready');

  // 1. Start Training: preset quick pick, the engine, then the run name.
  await wb.runCommand('Recursion Lab: Start Training');
  await wb.pick('sudoku4');
  await wb.pick('tfjs');
  await wb.answer(RUN_NAME);
  lap('training started');

  // 2. The Live Training panel opens; its loss chart's point count grows.
  const webview = wb.webview(EXTENSION_ID);
  const lossChart = webview.locator('#chart-loss');
  await lossChart.waitFor({ timeout: 60_000 });
  const points = async () => Number(await lossChart.getAttribute('data-points'));
  const first = await poll('the first loss points', async () => (await points()) > 0 && points(), 90_000);
  lap(`loss chart: ${first} points`);
  const later = await poll('more loss points', async () => { const p = await points(); return p >= first + 20 && p; }, 60_000);
  lap(`loss chart: ${later} points`);
  assert.ok(later > first);
  // The legend shows the run as running.
  await webview.locator('.legend .run', { hasText: RUN_NAME }).locator('.status', { hasText: 'running' }).waitFor({ timeout: 10_000 });

  // 3. The status bar shows the curriculum stage (T, n) of the running run.
  const status = wb.statusBarItem(/stage \(T=\d+, n=\d+\)/);
  await status.waitFor({ timeout: 15_000 });
  const statusText = await status.textContent();
  assert.match(statusText, new RegExp(`${RUN_NAME}.*stage \\(T=2, n=2\\).*step \\d+`));
  lap(`status bar: ${statusText.trim()}`);

  // A picture of the panel during the run, for the README.
  await poll('a longer curve for the picture', async () => (await points()) >= 150, 60_000).catch(() => {});
  await page.mouse.move(10, 10);
  await page.screenshot({ path: SHOT });
  lap(`screenshot -> ${SHOT}`);

  // 4. Stop Run (one run trains, so no pick is needed): graceful stop.
  assert.equal(trainerProcesses().length, 1, 'exactly one trainer runs');
  await wb.runCommand('Recursion Lab: Stop Run');
  await webview.locator('.legend .run', { hasText: RUN_NAME }).locator('.status', { hasText: 'stopped' }).waitFor({ timeout: 30_000 });
  firstRunPoints = await points();
  lap(`panel shows stopped (${firstRunPoints} loss points)`);

  // 5. The runs tree shows it stopped.
  await wb.runCommand('View: Show Recursion Lab');
  const row = wb.treeRow('Runs', RUN_NAME);
  await row.waitFor({ timeout: 15_000 });
  await poll('the tree row to say stopped', async () => /stopped/.test(await row.textContent()), 15_000);
  lap(`tree: ${(await row.textContent()).trim()}`);

  // 6. No trainer process is left.
  await poll('no trainer process', async () => trainerProcesses().length === 0, 10_000);
  assert.ok(!(await wb.statusBarItem(/stage \(T=/).isVisible()), 'the status bar item is gone');
  lap('no trainer process left');
}));

test('a window reload stops a training run (no orphan) and brings the panel back with its runs', { timeout: 120_000 }, withShot(async () => {
  await wb.runCommand('Recursion Lab: Start Training');
  await wb.pick('sudoku4');
  await wb.pick('tfjs');
  await wb.answer('e2e-reload');
  await wb.statusBarItem(/e2e-reload · stage \(T=2, n=2\)/).waitFor({ timeout: 60_000 });
  assert.equal(trainerProcesses().length, 1);
  // The new run joins the open panel, overlaid on the first.
  const webview = wb.webview(EXTENSION_ID);
  await webview.locator('.legend .run', { hasText: 'e2e-reload' }).locator('.status', { hasText: 'running' }).waitFor({ timeout: 30_000 });
  lap('second run training, shown in the panel');

  await page.reload({ waitUntil: 'domcontentloaded' });
  await wb.open(CS_URL, CS_FOLDER);
  lap('window reloaded');
  await poll('the trainer to be gone after the reload', async () => trainerProcesses().length === 0, 20_000);
  lap('no trainer process left after the reload');

  // The serializer restores the panel with both runs and their data (read back from events.jsonl).
  for (const name of [RUN_NAME, 'e2e-reload']) await webview.locator('.legend .run', { hasText: name }).waitFor({ timeout: 60_000 });
  // At least the first run's curve comes back (a loaded machine may not have reached 150 points).
  await poll('restored loss points', async () => Number(await webview.locator('#chart-loss').getAttribute('data-points')) >= firstRunPoints, 30_000);
  await webview.locator('.legend .run', { hasText: 'e2e-reload' }).locator('.status', { hasText: 'stopped' }).waitFor({ timeout: 30_000 });
  lap('panel restored: both runs, the reloaded one stopped');
}));

test('a PyTorch-engine run started from the palette trains live in the panel, then stops with no worker left', { timeout: 300_000 }, withShot(async () => {
  // A config file in the workspace (offered by Start Training) that would train far longer than the test.
  writeFileSync(join(CS_FOLDER, 'torch-e2e.reclab.json'), JSON.stringify({ extends: 'sudoku4', engine: 'torch', train: { steps: 100000 }, eval: { everySteps: 200 } }));
  await wb.runCommand('Recursion Lab: Start Training');
  await wb.pick('torch-e2e.reclab.json');
  await wb.pick('torch');
  await wb.answer(TORCH_RUN);
  lap('torch run started');

  const webview = wb.webview(EXTENSION_ID);
  await webview.locator('.legend .run', { hasText: TORCH_RUN }).locator('.status', { hasText: 'running' }).waitFor({ timeout: 90_000 });
  // The panel's other runs are stopped, so the point count grows only with the torch run's steps.
  const points = async () => Number(await webview.locator('#chart-loss').getAttribute('data-points'));
  const first = await poll('torch loss points', async () => { const p = await points(); return p > 0 && p; }, 60_000);
  const later = await poll('more torch loss points', async () => { const p = await points(); return p >= first + 10 && p; }, 120_000);
  lap(`loss chart with the torch run: ${first} -> ${later} points`);
  assert.ok(later > first);
  assert.equal(workerProcesses().length, 1, 'exactly one PyTorch worker runs');

  await wb.runCommand('Recursion Lab: Stop Run');
  await webview.locator('.legend .run', { hasText: TORCH_RUN }).locator('.status', { hasText: 'stopped' }).waitFor({ timeout: 60_000 });
  lap('torch run stopped');
  await poll('no trainer or worker process', async () => trainerProcesses().length === 0 && workerProcesses().length === 0, 15_000);
  // The runs tree shows the engine.
  await wb.runCommand('View: Show Recursion Lab');
  const row = wb.treeRow('Runs', TORCH_RUN);
  await poll('the tree row to say stopped · torch', async () => /stopped.*torch/.test(await row.textContent()), 15_000);
  lap(`tree: ${(await row.textContent()).trim()}`);
}));
