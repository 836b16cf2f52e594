/* global Buffer, document */
// End-to-end: the Puzzle Refinement and Fixed-Point Debugging views on a maze run and an HRM run,
// in a real VS Code (code-server) driven by Chromium.
//   1. Live maze: a tiny maze run (a few maze-small steps) trains from a terminal with refinement
//      snapshots; "Open Refinement View" on it; inside the webview the grid is a maze whose wall /
//      path / right / extra / missing counts (data attributes) are what the run's events.jsonl says
//      for that probe and frame, counted here independently; the scrubber changes them frame by frame.
//   2. Maze trace: "Inspect Puzzle…" on a maze run traces a held-out maze (test-set row); the grid
//      shows the trace file's last frame.
//   3. HRM: a tiny hrm-sudoku4 run's live snapshots in the refinement view (its digits).
//   4. Fixed points: "Inspect Fixed Points…" on the maze run (its held-out mazes) and on the HRM run;
//      the maze grid's counts are those of the inspection.json the trainer wrote.
// Screenshots go to $SHOT_DIR: refinement-maze-live.png, refinement-maze-trace.png,
// refinement-hrm.png, fixed-point-maze.png, fixed-point-hrm.png. Started by run-e2e.sh:
//   CS_URL, CS_FOLDER, EXT_DIR, SHOT_DIR, FAILURE_SHOT, HARNESS;
//   RECLAB_E2E_MAZE_RUN (optional): a trained maze run directory for the trace and fixed-point
//   pictures instead of the tiny one (copied into the workspace); RECLAB_E2E_MAZE_ROW the held-out
//   row to trace (default 1); RECLAB_E2E_HRM_RUN (optional): a trained hrm-sudoku4 run (with
//   refinement snapshots) for the HRM pictures instead of a tiny one trained here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { poll, refinementSnapshots, suiteBrowser, trainFromTerminal } from './workbench.mjs';

const { chromium } = createRequire(join(process.env.HARNESS, 'package.json'))('playwright-core');
const { CS_URL, CS_FOLDER, EXT_DIR, SHOT_DIR } = process.env;
const EXTENSION_ID = 'recursion-lab.recursion-lab';
const CLI = join(EXT_DIR, 'dist', 'trainer', 'cli.js');
const RUNS = join(CS_FOLDER, 'runs');
const MAZE = 'maze-live';
const HRM = 'hrm-live';
const CHARS = '# SGo';

const t0 = Date.now();
const lap = (what) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);

const train = (name, config) => trainFromTerminal({ cli: CLI, workspace: CS_FOLDER, runs: RUNS }, name, config);
const snapshots = (name) => refinementSnapshots(join(RUNS, name));

/** What the maze grid must show at (puzzle, frame), counted from the trajectory itself. */
function mazeExpectation(t, puzzle, frame) {
  const cells = t.side * t.side;
  const d = Buffer.from(t.digits, 'base64');
  const off = (puzzle * t.steps * t.cyclesPerStep + frame) * cells;
  const p = t.puzzles[puzzle];
  const predicted = [...Array(cells).keys()].map((i) => CHARS[d[off + i] - 1] ?? '?').join('');
  let path = 0, right = 0, extra = 0, missing = 0, broken = 0;
  for (let i = 0; i < cells; i++) {
    const on = predicted[i] === 'o', truth = p.solution[i] === 'o';
    if (on) path++;
    if (on && truth) right++;
    if (on && !truth) extra++;
    if (!on && truth) missing++;
    // The prediction contradicts the maze: an open cell that is neither open nor path, any other cell changed.
    if (p.question[i] === ' ' ? predicted[i] !== ' ' && !on : predicted[i] !== p.question[i]) broken++;
  }
  return { cells: predicted, walls: [...p.question].filter((c) => c === '#').length, path, right, extra, missing, broken };
}

/** The maze grid's data attributes. */
async function mazeShown(grid) {
  const a = async (k) => grid.getAttribute(`data-${k}`);
  return {
    cells: await a('cells'), walls: Number(await a('walls')), path: Number(await a('path')),
    right: Number(await a('path-right')), extra: Number(await a('path-extra')), missing: Number(await a('path-missing')),
    broken: Number(await a('broken')),
  };
}

function expectedDigits(t, puzzle, frame) {
  const cells = t.side * t.side;
  const d = Buffer.from(t.digits, 'base64');
  const q = t.puzzles[puzzle].question;
  const off = (puzzle * t.steps * t.cyclesPerStep + frame) * cells;
  return [...q].map((ch, i) => (ch !== '.' ? ch : d[off + i] ? String(d[off + i]) : '.')).join('');
}

/** The frame of puzzle `p` with the most right path cells, then the fewest cells contradicting the maze, the later on a tie (for the picture). */
function mostPathFrame(t, p) {
  let best = t.steps * t.cyclesPerStep - 1, most = -Infinity;
  for (let f = 0; f < t.steps * t.cyclesPerStep; f++) {
    const e = mazeExpectation(t, p, f);
    const score = e.right * 10_000 - e.broken;
    if (score >= most) { most = score; best = f; }
  }
  return best;
}

let page;
let wb;
const { withShot } = suiteBrowser(chromium, 'maze', (b) => {
  mkdirSync(SHOT_DIR, { recursive: true });
  ({ page, wb } = b);
  lap('browser launched');
}, { width: 1440, height: 1000 });

const mazeConfig = {
  extends: 'maze-small',
  model: { hiddenSize: 32, numHeads: 2 },
  train: { steps: 40, batchSize: 16, microBatchSize: 16, haltMaxSteps: 3, lrWarmupSteps: 5 },
  data: { kind: 'generated-maze', size: 9, trainMazes: 60, testMazes: 12, minPathLength: 8, augment: true },
  eval: { everySteps: 0, puzzlesPerBlank: 1, batchSize: 64, gradientVarianceGroups: 0 },
  refinement: { everySteps: 20, probePuzzles: 3, perCycle: true },
};
let mazeRun = MAZE;
let hrmDone;

test('live maze run: the refinement view draws the maze; wall and path counts are those of the snapshot, frame by frame', { timeout: 420_000 }, withShot(async () => {
  const mazeDone = train(MAZE, mazeConfig);
  await wb.open(CS_URL, CS_FOLDER);
  await wb.runCommand('View: Close All Editors');
  lap('workbench ready');
  await mazeDone;
  hrmDone = process.env.RECLAB_E2E_HRM_RUN ? Promise.resolve() : train(HRM, {
    extends: 'hrm-sudoku4', model: { hiddenSize: 32 },
    train: { steps: 30, batchSize: 16, microBatchSize: 16 }, data: { trainPuzzles: 60, testPerBlank: 4 },
    eval: { everySteps: 0, puzzlesPerBlank: 1, batchSize: 64, gradientVarianceGroups: 0 },
    refinement: { everySteps: 15, probePuzzles: 3, perCycle: true },
  });
  const all = snapshots(MAZE);
  assert.deepEqual(all.map((e) => e.step), [20, 40]);
  lap('maze run trained: snapshots at steps 20, 40');

  await wb.runCommand('Recursion Lab: Open Refinement View');
  await wb.pick(MAZE);
  const webview = wb.webview(EXTENSION_ID);
  const grid = webview.locator('#grid[data-task="maze"]');
  await grid.waitFor({ timeout: 60_000 });
  await poll('the last snapshot (step 40)', async () => (await grid.getAttribute('data-snapshot-step')) === '40', 30_000);
  const t = all[1].trajectory;
  assert.equal(t.task, 'maze');
  assert.equal(await grid.getAttribute('data-side'), '9');
  const question = await grid.getAttribute('data-question');
  const puzzle = Number(await grid.getAttribute('data-puzzle'));
  assert.equal(question, t.puzzles[puzzle].question, 'the grid shows the probe maze of the snapshot');
  const last = t.steps * t.cyclesPerStep - 1;
  assert.equal(await grid.getAttribute('data-frame'), String(last));
  assert.deepEqual(await mazeShown(grid), mazeExpectation(t, puzzle, last), 'walls, path, right / extra / missing at the last frame');
  assert.ok((await mazeShown(grid)).walls > 0);
  assert.match(await webview.locator('#facts').textContent(), /path length \d+/);
  lap(`maze drawn: ${JSON.stringify({ ...(await mazeShown(grid)), cells: undefined })}`);

  // Every frame of every probe: the scrubber shows that frame's counts.
  for (let p = 0; p < t.puzzles.length; p++) {
    await grid.click();
    await page.keyboard.press('Home');
    while (Number(await grid.getAttribute('data-puzzle')) !== p) await page.keyboard.press('ArrowDown');
    for (let f = 0; f <= last; f++) {
      await webview.locator('#scrubber').fill(String(f));
      await poll(`probe ${p} frame ${f}`, async () => (await grid.getAttribute('data-frame')) === String(f) && (await grid.getAttribute('data-puzzle')) === String(p), 10_000);
      assert.deepEqual(await mazeShown(grid), mazeExpectation(t, p, f), `probe ${p} frame ${f}`);
    }
  }
  lap(`scrubbed ${t.puzzles.length} probes x ${last + 1} frames`);
  // The training-step slider: the first snapshot's maze counts.
  await webview.locator('#snapshot').fill('0');
  await poll('the snapshot of step 20', async () => (await grid.getAttribute('data-snapshot-step')) === '20', 15_000);
  const p20 = Number(await grid.getAttribute('data-puzzle')), f20 = Number(await grid.getAttribute('data-frame'));
  assert.deepEqual(await mazeShown(grid), mazeExpectation(all[0].trajectory, p20, f20));
  await webview.locator('#snapshot').fill('1');
  await poll('back to step 40', async () => (await grid.getAttribute('data-snapshot-step')) === '40', 15_000);
  const shotFrame = mostPathFrame(t, 0);
  await grid.click();
  while (Number(await grid.getAttribute('data-puzzle')) !== 0) await page.keyboard.press('ArrowUp');
  await webview.locator('#scrubber').fill(String(shotFrame));
  await poll(`frame ${shotFrame}`, async () => (await grid.getAttribute('data-frame')) === String(shotFrame), 10_000);
  await page.mouse.move(10, 10);
  await page.screenshot({ path: join(SHOT_DIR, 'refinement-maze-live.png') });
  lap('screenshot refinement-maze-live.png');
}));

test('maze trace: Inspect Puzzle… on a maze run traces a held-out maze, drawn from the trace file', { timeout: 240_000 }, withShot(async () => {
  if (process.env.RECLAB_E2E_MAZE_RUN) {
    const src = process.env.RECLAB_E2E_MAZE_RUN;
    cpSync(src, join(RUNS, basename(src)), { recursive: true });
    for (const stale of ['model.onnx', 'inspection.json', 'traces']) rmSync(join(RUNS, basename(src), stale), { recursive: true, force: true });
    // The name the runs registry shows: config.name, else the run id of its metadata, else the folder's name.
    const file = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8'));
    mazeRun = file.config?.name ?? file.metadata?.runId ?? basename(src);
  }
  const dirName = process.env.RECLAB_E2E_MAZE_RUN ? basename(process.env.RECLAB_E2E_MAZE_RUN) : MAZE;
  await wb.runCommand('View: Close All Editors');
  await wb.runCommand('Recursion Lab: Inspect Puzzle…');
  await wb.pick(mazeRun);
  await wb.answer(process.env.RECLAB_E2E_MAZE_ROW ?? '1');
  const webview = wb.webview(EXTENSION_ID);
  const grid = webview.locator('#grid[data-task="maze"]');
  await grid.waitFor({ timeout: 120_000 });
  assert.match(await webview.locator('#source').textContent(), /Trace · run/);
  const tracesDir = join(RUNS, dirName, 'traces');
  await poll('the trace file', async () => existsSync(tracesDir) && readdirSync(tracesDir).length === 1, 30_000);
  const traced = JSON.parse(readFileSync(join(tracesDir, readdirSync(tracesDir)[0]), 'utf8')).trajectory;
  const last = traced.steps * traced.cyclesPerStep - 1;
  assert.equal(await grid.getAttribute('data-frame'), String(last));
  assert.deepEqual(await mazeShown(grid), mazeExpectation(traced, 0, last));
  const shotFrame = mostPathFrame(traced, 0);
  await webview.locator('#scrubber').fill(String(shotFrame));
  await poll(`frame ${shotFrame}`, async () => (await grid.getAttribute('data-frame')) === String(shotFrame), 10_000);
  assert.deepEqual(await mazeShown(grid), mazeExpectation(traced, 0, shotFrame));
  lap(`trace drawn: ${JSON.stringify({ ...(await mazeShown(grid)), cells: undefined })}`);
  await page.mouse.move(10, 10);
  await page.screenshot({ path: join(SHOT_DIR, 'refinement-maze-trace.png') });
  lap('screenshot refinement-maze-trace.png');
}));

/** The HRM run: a trained one copied in (RECLAB_E2E_HRM_RUN), else the tiny one. */
let hrm = { name: HRM, dir: HRM };

test('HRM run: the refinement view shows its snapshots (digits of the events)', { timeout: 300_000 }, withShot(async () => {
  await hrmDone;
  if (process.env.RECLAB_E2E_HRM_RUN) {
    const src = process.env.RECLAB_E2E_HRM_RUN;
    cpSync(src, join(RUNS, basename(src)), { recursive: true });
    for (const stale of ['model.onnx', 'inspection.json', 'traces']) rmSync(join(RUNS, basename(src), stale), { recursive: true, force: true });
    const file = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8'));
    hrm = { name: file.config?.name ?? file.metadata?.runId ?? basename(src), dir: basename(src) };
  }
  const all = snapshots(hrm.dir);
  if (!process.env.RECLAB_E2E_HRM_RUN) assert.deepEqual(all.map((e) => e.step), [15, 30]);
  assert.ok(all.length >= 2, 'the HRM run has refinement snapshots');
  const lastStep = String(all.at(-1).step);
  await wb.runCommand('View: Close All Editors');
  await wb.runCommand('Recursion Lab: Open Refinement View');
  await wb.pick(hrm.name);
  const webview = wb.webview(EXTENSION_ID);
  const grid = webview.locator('#grid[data-digits]');
  await grid.waitFor({ timeout: 60_000 });
  await poll(`the snapshot of step ${lastStep}`, async () => (await grid.getAttribute('data-snapshot-step')) === lastStep, 30_000);
  assert.equal(await grid.getAttribute('data-task'), null, 'a Sudoku grid, not a maze');
  const t = all.at(-1).trajectory;
  const p = Number(await grid.getAttribute('data-puzzle'));
  const f = Number(await grid.getAttribute('data-frame'));
  assert.equal(await grid.getAttribute('data-digits'), expectedDigits(t, p, f));
  // For the picture: the probe that becomes right latest, at the frame before it does (read from the events here).
  const frames = t.steps * t.cyclesPerStep;
  const settledAt = (q) => {
    const right = (fr) => expectedDigits(t, q, fr) === t.puzzles[q].solution;
    let first = -1;
    for (let fr = frames - 1; fr >= 0 && right(fr); fr--) first = fr;
    return first;
  };
  const wrongAt = (q, fr) => [...expectedDigits(t, q, fr)].filter((ch, i) => ch !== t.puzzles[q].solution[i]).length;
  let shot = { q: p, frame: 0, score: -1 };
  for (let q = 0; q < t.puzzles.length; q++) {
    if (!t.puzzles[q].solution) continue;
    const frame = Math.max(0, settledAt(q) - 1);
    const score = frame * 1000 + wrongAt(q, frame);
    if (score > shot.score) shot = { q, frame, score };
  }
  await grid.click();
  await page.keyboard.press('Home');
  while (Number(await grid.getAttribute('data-puzzle')) !== shot.q) await page.keyboard.press('ArrowDown');
  await webview.locator('#scrubber').fill(String(shot.frame));
  await poll(`frame ${shot.frame}`, async () => (await grid.getAttribute('data-frame')) === String(shot.frame), 10_000);
  assert.equal(await grid.getAttribute('data-digits'), expectedDigits(t, shot.q, shot.frame));
  lap(`HRM probe ${shot.q + 1} at frame ${shot.frame + 1} of ${frames}`);
  await page.mouse.move(10, 10);
  await page.screenshot({ path: join(SHOT_DIR, 'refinement-hrm.png') });
  lap('screenshot refinement-hrm.png');
}));

/** "Inspect Fixed Points…" on a run (the trainer exports it, then inspects its held-out puzzles); resolves to its report. */
async function inspectRun(name, dirName) {
  rmSync(join(RUNS, dirName, 'inspection.json'), { force: true });
  await wb.runCommand('View: Close All Editors');
  await wb.runCommand('Recursion Lab: Inspect Fixed Points…');
  await wb.pick(name);
  const webview = wb.webview(EXTENSION_ID);
  await webview.locator('#residuals[data-points]').waitFor({ timeout: 240_000 });
  return { webview, report: JSON.parse(readFileSync(join(RUNS, dirName, 'inspection.json'), 'utf8')) };
}

test('fixed points of the maze run (held-out mazes) and of the HRM run', { timeout: 600_000 }, withShot(async () => {
  const dirName = process.env.RECLAB_E2E_MAZE_RUN ? basename(process.env.RECLAB_E2E_MAZE_RUN) : MAZE;
  const { webview, report } = await inspectRun(mazeRun, dirName);
  assert.equal(report.contract.task, 'maze');
  const grid = webview.locator('#grid[data-task="maze"]');
  await grid.waitFor({ timeout: 30_000 });
  const p = report.puzzles[0];
  // The step slider starts at step 1; go to the last step.
  await webview.locator('#step').fill(String(report.options.steps));
  await poll('the last step', async () => (await grid.getAttribute('data-step')) === String(report.options.steps - 1), 10_000);
  const answer = p.trace.answers[report.options.steps - 1];
  const count = (f) => [...answer].filter((_, i) => f(i)).length;
  assert.equal(Number(await grid.getAttribute('data-walls')), [...p.question].filter((c) => c === '#').length);
  assert.equal(Number(await grid.getAttribute('data-path')), count((i) => answer[i] === 'o'));
  assert.equal(Number(await grid.getAttribute('data-path-right')), count((i) => answer[i] === 'o' && p.solution[i] === 'o'));
  assert.equal(Number(await grid.getAttribute('data-path-missing')), count((i) => answer[i] !== 'o' && p.solution[i] === 'o'));
  assert.equal(await webview.locator('#grid td').count(), answer.length, 'one table cell per maze cell');
  assert.match(await webview.locator('#stability').textContent(), /valid path at the end/);
  assert.match(await webview.locator('#puzzle').textContent(), /path length \d+/);
  assert.match(await webview.locator('#census').textContent(), /rotations \/ reflections/);
  lap(`maze fixed points: ${report.puzzles.length} held-out mazes`);
  await grid.evaluate((e) => { e.closest('section').scrollIntoView({ block: 'start' }); document.scrollingElement.scrollTop -= 90; });
  await page.mouse.move(10, 10);
  await page.screenshot({ path: join(SHOT_DIR, 'fixed-point-maze.png') });
  lap('screenshot fixed-point-maze.png');

  const h = await inspectRun(hrm.name, hrm.dir);
  assert.equal(h.report.contract.task, 'sudoku');
  assert.equal(h.report.contract.arch, 'hrm');
  await h.webview.locator('#grid table.side-4').waitFor({ timeout: 30_000 });
  await h.webview.locator('#grid').evaluate((e) => { e.closest('section').scrollIntoView({ block: 'start' }); document.scrollingElement.scrollTop -= 90; });
  await page.mouse.move(10, 10);
  await page.screenshot({ path: join(SHOT_DIR, 'fixed-point-hrm.png') });
  lap('screenshot fixed-point-hrm.png');
}));
