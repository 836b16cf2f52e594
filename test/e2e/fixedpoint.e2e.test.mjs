// End-to-end: the Fixed-Point Debugging view in a real VS Code (code-server) driven by Chromium.
// A tiny model is trained and exported with the installed trainer CLI to an .onnx file in the
// workspace; the explorer's context menu on it runs "Inspect Fixed Points…", the puzzle is typed
// into the input box, and inside the webview the residual chart has data and the census counts
// its runs. A screenshot of the view goes to $FP_SHOT when set. Then the same for a tiny TRM-DEQ
// export: the view adds the inner solve's chart ("iterations within step s") beside the chart
// across supervision steps, and lists the inner map's spectral radius beside the step map's
// (screenshot to $FP_SHOT with "-deq" before ".png").
// Started like training.e2e.test.mjs (run-e2e.sh): CS_URL, CS_FOLDER, EXT_DIR, FAILURE_SHOT, HARNESS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchPage, Workbench } from './workbench.mjs';

const { chromium } = createRequire(join(process.env.HARNESS, 'package.json'))('playwright-core');
const { CS_URL, CS_FOLDER, EXT_DIR, FAILURE_SHOT, FP_SHOT } = process.env;
const EXTENSION_ID = 'recursion-lab.recursion-lab';
const MODEL = 'trm-step.onnx';
const DEQ_MODEL = 'trm-deq-step.onnx';
const PUZZLE = '1.3..4.22..3.3.1';

const t0 = Date.now();
const lap = (what) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);

let browser;
let page;
let wb;
const scratch = mkdtempSync(join(tmpdir(), 'reclab-fp-e2e-'));

before(async () => {
  // A tiny sudoku4 TRM, trained for a few steps on the cpu backend and exported as a plain .onnx file.
  const cli = join(EXT_DIR, 'dist', 'trainer', 'cli.js');
  const config = join(scratch, 'tiny.reclab.json');
  writeFileSync(config, JSON.stringify({
    extends: 'sudoku4', seed: 1, checkpointEverySteps: 0,
    model: { hiddenSize: 16, layers: 1, hCycles: 2, lCycles: 2 },
    train: { batchSize: 8, microBatchSize: 8, haltMaxSteps: 4 },
    data: { trainPuzzles: 40, testBlanks: [4, 5], testPerBlank: 2 },
    eval: { everySteps: 0, puzzlesPerBlank: 1, batchSize: 16 },
  }));
  const run = join(scratch, 'run');
  execFileSync(process.execPath, [cli, 'train', '--config', config, '--run-dir', run, '--steps', '5', '--backend', 'cpu', '--quiet'], { stdio: 'inherit', timeout: 120_000 });
  execFileSync(process.execPath, [cli, 'export', run, '--out', join(CS_FOLDER, MODEL)], { stdio: 'inherit', timeout: 60_000 });
  // The same with the solve: trm-deq, Anderson max 4 (exported as 4 plain iterations a solve).
  const deqConfig = join(scratch, 'tiny-deq.reclab.json');
  writeFileSync(deqConfig, JSON.stringify({
    extends: 'sudoku4', seed: 1, checkpointEverySteps: 0,
    model: { arch: 'trm-deq', hiddenSize: 16, layers: 1, hCycles: 2, lCycles: 2, deq: { solver: 'anderson', maxIter: 4, minIter: 2 } },
    train: { batchSize: 8, microBatchSize: 8, haltMaxSteps: 4 },
    data: { trainPuzzles: 40, testBlanks: [4, 5], testPerBlank: 2 },
    eval: { everySteps: 0, puzzlesPerBlank: 1, batchSize: 16 },
  }));
  const deqRun = join(scratch, 'deq-run');
  execFileSync(process.execPath, [cli, 'train', '--config', deqConfig, '--run-dir', deqRun, '--steps', '3', '--backend', 'cpu', '--quiet'], { stdio: 'inherit', timeout: 180_000 });
  execFileSync(process.execPath, [cli, 'export', deqRun, '--out', join(CS_FOLDER, DEQ_MODEL)], { stdio: 'inherit', timeout: 60_000 });
  lap('tiny models (trm, trm-deq) trained and exported into the workspace');
  ({ browser, page } = await launchPage(chromium, { width: 1440, height: 1000 }));
  wb = new Workbench(page);
});

after(async () => {
  await browser?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** The explorer's context menu on `model` -> Inspect Fixed Points…, answering the puzzle prompt. */
async function inspectFromExplorer(model) {
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: model }).first();
    await row.waitFor({ timeout: 30_000 });
    // The extension's menu contribution appears once its host has started: retry the context menu.
    const item = page.locator('.monaco-menu .action-item', { hasText: 'Inspect Fixed Points…' }).first();
    for (let attempt = 0; ; attempt++) {
      await row.click({ button: 'right' });
      try {
        await item.waitFor({ state: 'visible', timeout: 3_000 });
        break;
      } catch (e) {
        await page.keyboard.press('Escape');
        if (attempt > 20) throw e;
      }
    }
    // Hover focuses the item and Enter runs it (a click right after the menu opens can be ignored).
    await item.hover();
    await page.keyboard.press('Enter');
    await wb.answer(PUZZLE);
    lap(`inspection of ${model} started`);
}

test('explorer context menu on an .onnx file -> Inspect Fixed Points… -> the residual chart has data, the census its runs', { timeout: 240_000 }, async () => {
  try {
    await wb.open(CS_URL, CS_FOLDER);
    lap('workbench ready');
    await inspectFromExplorer(MODEL);

    const webview = wb.webview(EXTENSION_ID);
    const residuals = webview.locator('#residuals[data-points]');
    await residuals.waitFor({ timeout: 120_000 });
    const points = Number(await residuals.getAttribute('data-points'));
    // 4 steps (the model's N_sup, reclab.halt_max_steps), one value per step for each of the two
    // states (z_H, z_L) and their medians.
    assert.ok(points >= 8, `residual chart points: ${points}`);
    lap(`residual chart: ${points} points`);
    // The census ran 1 + 8 noisy + 3 relabelled runs (a barely trained model may settle on none).
    assert.match(await webview.locator('#census').textContent(), /12 runs; \d+ did not settle/);
    assert.match(await webview.locator('#summary').textContent(), /right after 4 steps/);
    assert.equal(await webview.locator('#inner-panel').isHidden(), true, 'no inner-solve chart for a TRM');
    if (FP_SHOT) {
      await page.mouse.move(10, 10);
      await page.screenshot({ path: FP_SHOT });
      lap(`screenshot -> ${FP_SHOT}`);
    }
  } catch (e) {
    await page?.screenshot({ path: FAILURE_SHOT.replace(/\.png$/, '-fixedpoint.png') }).catch(() => {});
    throw e;
  }
});

test('a TRM-DEQ export: the inner solve chart (iterations within step s) beside the chart across supervision steps; both spectral radii, labelled', { timeout: 240_000 }, async () => {
  try {
    await inspectFromExplorer(DEQ_MODEL);
    const webview = wb.visibleWebview(EXTENSION_ID);
    const inner = webview.locator('#inner[data-points]');
    await inner.waitFor({ timeout: 150_000 });
    // T = 2 solves of K = 4 iterations within the selected step: 8 residuals (a zero one would be a gap).
    const points = Number(await inner.getAttribute('data-points'));
    assert.ok(points >= 6 && points <= 8, `inner chart points: ${points}`);
    assert.match(await webview.locator('#inner-title').textContent(), /^Inner solve \(iterations within step \d+\)/);
    assert.match(await webview.locator('#inner-key').textContent(), /2 solves of 4 iterations each \(exported as plain fixed-point iteration "fpi"; trained with "anderson"/);
    assert.match(await webview.locator('#residuals').locator('xpath=..').locator('h3').textContent(), /across supervision steps/);
    const stability = await webview.locator('#stability').textContent();
    assert.match(stability, /step map: spectral radius ρ\(J\) at z_K/);
    assert.match(stability, /inner map \(solver\): spectral radius ρ\(∂f\/∂z_L\) at z_K\d\.\d{3}/);
    lap(`inner-solve chart: ${points} points; both radii listed`);
    if (FP_SHOT) {
      await page.mouse.move(10, 10);
      await page.screenshot({ path: FP_SHOT.replace(/\.png$/, '-deq.png') });
      lap(`screenshot -> ${FP_SHOT.replace(/\.png$/, '-deq.png')}`);
    }
  } catch (e) {
    await page?.screenshot({ path: FAILURE_SHOT.replace(/\.png$/, '-fixedpoint-deq.png') }).catch(() => {});
    throw e;
  }
});
