// End-to-end: the Test-Time Scaling view in a real VS Code (code-server) driven by Chromium. A
// tiny sudoku4 run with three checkpoints is trained with the installed trainer CLI into the
// workspace's runs/; "Recursion Lab: Test-Time Scaling (Vote)…" from the palette picks it and two
// checkpoints, and inside the webview the results table lists every voting rule with its four
// columns, the passes row reads 1 / 4 / 2 / 8 (4 digit shifts × 2 checkpoints), and the compute
// curve has points. A screenshot goes to $VOTE_SHOT when set.
// Started like training.e2e.test.mjs (run-e2e.sh): CS_URL, CS_FOLDER, EXT_DIR, FAILURE_SHOT, HARNESS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { suiteBrowser } from './workbench.mjs';

const { chromium } = createRequire(join(process.env.HARNESS, 'package.json'))('playwright-core');
const { CS_URL, CS_FOLDER, EXT_DIR, VOTE_SHOT } = process.env;
const EXTENSION_ID = 'recursion-lab.recursion-lab';
const RUN = 'vote-tiny';

const t0 = Date.now();
const lap = (what) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);

let page;
let wb;
const suite = suiteBrowser(chromium, 'vote', async (b) => {
  // Three checkpoints (steps 4, 8, 12) of a tiny sudoku4 TRM on the cpu backend, in runs/ of the workspace.
  const cli = join(EXT_DIR, 'dist', 'trainer', 'cli.js');
  const config = join(CS_FOLDER, 'vote-tiny.reclab.json');
  writeFileSync(config, JSON.stringify({
    extends: 'sudoku4', name: RUN, seed: 1, checkpointEverySteps: 4,
    model: { hiddenSize: 16, layers: 1, hCycles: 2, lCycles: 2 },
    train: { steps: 12, batchSize: 8, microBatchSize: 8, haltMaxSteps: 4, checkpoints: { keepLast: 3 } },
    data: { trainPuzzles: 40, testBlanks: [4, 5], testPerBlank: 10 },
    eval: { everySteps: 0, puzzlesPerBlank: 1, batchSize: 16 }, refinement: { everySteps: 0 },
  }));
  execFileSync(process.execPath, [cli, 'train', '--config', config, '--run-dir', join(CS_FOLDER, 'runs', RUN), '--backend', 'cpu', '--quiet'], { stdio: 'inherit', timeout: 120_000 });
  lap('tiny run with 3 checkpoints trained into runs/');
  ({ page, wb } = b);
}, { width: 1440, height: 1000 });

test('palette -> Test-Time Scaling (Vote)… -> run, 2 checkpoints -> the results table and the compute curve inside the webview', { timeout: 240_000 }, suite.withShot(async () => {
  await wb.open(CS_URL, CS_FOLDER);
  lap('workbench ready');
  await wb.runCommand('Recursion Lab: Test-Time Scaling (Vote)');
  await wb.pick(RUN);
  await wb.pick('newest 2 checkpoints');
  lap('vote started');
  const webview = wb.visibleWebview(EXTENSION_ID);
  const table = webview.locator('#results[data-rules]');
  await table.waitFor({ timeout: 120_000 });
  assert.equal(await table.getAttribute('data-rules'), '8');
  for (const rule of ['single', 'reference', 'reference-label-free', 'valid-grid', 'majority', 'majority-halted', 'max-q-halt', 'min-residual']) {
    const cells = await webview.locator(`#results tr[data-rule="${rule}"] td`).allTextContents();
    assert.equal(cells.length, 5, `${rule}: ${cells.join(' | ')}`);
    for (const c of cells.slice(1)) assert.match(c, /^\d+\.\d%$/);
  }
  assert.match(await webview.locator('#results tr[data-rule="reference"] td').first().textContent(), /uses labels/);
  const passes = await webview.locator('#results tr.cost').first().locator('td').allTextContents();
  assert.deepEqual(passes, ['passes / puzzle', '1', '4', '2', '8']);
  const points = Number(await webview.locator('#curve').getAttribute('data-points'));
  assert.ok(points >= 9 * 4, `curve points: ${points}`);
  assert.match(await webview.locator('#summary').textContent(), /1 run\(s\) × 2 checkpoint\(s\) · 4 perturbations \(shift\) · 4 steps per pass/);
  lap(`results table: 8 rules; curve: ${points} points`);
  if (VOTE_SHOT) {
    await page.mouse.move(10, 10);
    await page.screenshot({ path: VOTE_SHOT });
    lap(`screenshot -> ${VOTE_SHOT}`);
  }
}));
