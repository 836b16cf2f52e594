// End-to-end against a real one-node Slurm (test/slurm/run-slurm-test.sh starts it and runs
// run-e2e.sh with RECLAB_E2E_TESTS=slurm and SLURM_CONF set): Run Ablation → Slurm submits the
// sweep as a job array; the progress notification counts finished tasks; the runs tree shows each
// task's scheduler state (running, queued with Slurm's reason); Stop Run on a task cancels it;
// Cancel Sweep cancels the rest; no trainer is left.
//   CS_URL, CS_FOLDER (workspace), EXT_DIR (installed extension), FAILURE_SHOT, HARNESS
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { launchPage, poll, Workbench } from './workbench.mjs';

const { chromium } = createRequire(join(process.env.HARNESS, 'package.json'))('playwright-core');
const { CS_URL, CS_FOLDER, EXT_DIR, FAILURE_SHOT } = process.env;
if (!process.env.SLURM_CONF) throw new Error('the slurm e2e suite needs a cluster: run it through test/slurm/run-slurm-test.sh');

const t0 = Date.now();
const lap = (what) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
const trainers = () => execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(join(EXT_DIR, 'dist', 'trainer', 'cli.js')) && / (train|resume) /.test(l));

let browser;
let page;
let wb;
before(async () => {
  ({ browser, page } = await launchPage(chromium));
  wb = new Workbench(page);
});
after(async () => {
  await browser?.close();
});

test('Run Ablation on Slurm: the runs tree shows each task\'s scheduler state; Stop Run and Cancel Sweep scancel; the notification counts finished tasks', { timeout: 300_000 }, async () => {
  try {
    await wb.open(CS_URL, CS_FOLDER);
    lap('workbench ready');
    await wb.runCommand('Recursion Lab: Run Ablation');
    await wb.pick('sudoku4');
    // The default arms (baseline, pdc, hsw, cgar): accept the multi-pick once it shows.
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'hsw-code' }).first().waitFor({ state: 'visible', timeout: 15_000 });
    await page.keyboard.press('Enter');
    await wb.pick('1');
    await wb.answer('1500'); // the steps question: sudoku4's own
    await wb.pick('Slurm');
    // The sweep folder (its slurm.json: the submission, and the indices sweep-cancel scancelled).
    const runsDir = join(CS_FOLDER, 'runs');
    const sweepDir = await poll('the sweep folder', async () => (existsSync(runsDir) ? readdirSync(runsDir) : [])
      .filter((n) => /^ablation-.*-slurm$/.test(n) && existsSync(join(runsDir, n, 'slurm.json'))).sort().map((n) => join(runsDir, n)).pop(), 30_000);
    lap('sweep submitted (4 tasks, 2 CPUs: 2 run, 2 wait)');

    // The progress notification counts finished tasks.
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: /\d\/4 tasks finished/ }).first();
    await toast.waitFor({ timeout: 60_000 });
    lap(`notification: ${(await toast.innerText()).trim().replace(/\s+/g, " ")}`);

    await wb.runCommand('View: Show Recursion Lab');
    const group = wb.treeRow('Runs', 'Slurm job');
    await group.waitFor({ timeout: 30_000 });
    await group.click();
    const row = (name) => wb.treeRow('Runs', name);
    const text = async (name) => ((await row(name).textContent().catch(() => '')) ?? '');
    // Seed-major order: tasks 0 and 1 (baseline, pdc) take the two CPUs, tasks 2 and 3 wait.
    await poll('two tasks running', async () => /slurm running/.test(await text('baseline-seed0')) && /slurm running/.test(await text('pdc-seed0')), 60_000);
    for (const name of ['hsw-seed0', 'cgar-seed0']) assert.match(await text(name), /slurm queued \((Resources|Priority)\)/);
    lap(`tree: ${await text('baseline-seed0')} | ${await text('hsw-seed0')}`);

    // Stop Run on one running task: scancel <job>_1, the tree shows it cancelled.
    // The row's inline Stop Run button shows while the pointer is on the row, and the tree redraws
    // its rows as the runs' steps change. The click is Playwright's checked one (no force): its
    // events reach the button under the pointer or none, and it tries again. Whether Stop Run ran is
    // read from the sweep's slurm.json (sweep-cancel records the index it scancelled): the click
    // is repeated only while no scancel happened, and it must have cancelled task 1 and no other.
    const cancelled = () => JSON.parse(readFileSync(join(sweepDir, 'slurm.json'), 'utf8')).submissions.flatMap((s) => s.cancelled ?? []);
    const stop = row('pdc-seed0').locator('.action-label[aria-label^="Stop Run"]');
    for (let attempt = 1; ; attempt++) {
      await row('pdc-seed0').hover({ timeout: 2_000 }).catch(() => {});
      const clicked = await stop.click({ timeout: 3_000 }).then(() => true, () => false);
      // A click that landed: `reclab sweep-cancel` (a Node child process) may take seconds here.
      const ran = await poll('the scancel of Stop Run', async () => cancelled().length > 0, clicked ? 20_000 : 0).catch(() => false);
      if (ran) break;
      if (attempt === 10) throw new Error(`Stop Run on pdc-seed0: ${attempt} clicks, no scancel recorded in slurm.json`);
      lap(`Stop Run click ${attempt} ${clicked ? 'ran no command' : 'did not land'}; again`);
    }
    assert.deepEqual(cancelled(), [1]);
    await poll('pdc-seed0 cancelled', async () => /slurm cancelled/.test(await text('pdc-seed0')), 60_000);
    lap(`after Stop Run: ${await text('pdc-seed0')}`);

    // Cancel Sweep: the rest of the array.
    await wb.runCommand('Recursion Lab: Cancel Sweep (Slurm)');
    await wb.pick('ablation-');
    await page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Cancel Sweep' }).first().click();
    for (const name of ['baseline-seed0', 'hsw-seed0', 'cgar-seed0']) await poll(`${name} cancelled`, async () => /slurm cancelled/.test(await text(name)), 60_000);
    await poll('the group to count 4/4 finished', async () => /4\/4 finished/.test(await group.textContent()), 30_000);
    await page.locator('.notifications-toasts .notification-toast', { hasText: /0 of 4 tasks completed/ }).first().waitFor({ timeout: 30_000 });
    lap(`tree: ${(await group.textContent()).trim()}; notification: 0 of 4 completed`);
    await poll('no trainer left', async () => trainers().length === 0, 30_000);
  } catch (e) {
    await page?.screenshot({ path: FAILURE_SHOT.replace(/\.png$/, '-slurm.png') }).catch(() => {});
    throw e;
  }
});
