// Overlaying runs in the Live Training panel: every run added to a panel reaches the webview with
// all of its rows, however the additions interleave with the host's flushes (issue 10, item 1:
// the second arm of an ablation was in the legend but never drawn). The host side is the real
// RunRegistry + PanelFeed, the webview side the real message parser + PanelRuns; the messages
// cross a structured clone with a delay, as postMessage does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvalEvent, StepEvent, TrainerEvent } from '../../protocol/events';
import { parseToWebviewMessage, type ToWebviewMessage } from '../../protocol/webviewMessages';
import { PanelFeed } from '../../extension/panels/panelFeed';
import { RunRegistry } from '../../extension/runs/runRegistry';
import { PanelRuns } from '../../webview/training/panelRuns';

const step = (n: number): StepEvent => ({
  v: 1, time: 1_700_000_000_000 + 100 * n, type: 'step', step: n, lmLoss: 1 / n, qHaltLoss: 0.5, tokenAccuracy: 0.5, exactAccuracy: null,
  qHaltAccuracy: 0.9, meanHaltSteps: null, haltedRows: 0, lr: 1e-3, gradNorm: 1, samplesPerSecond: 640, flopsForward: 1, flopsBackward: 2,
  hCycles: 2, lCycles: 2, stage: 0, stepSeconds: 0.1, gradVarianceRunning: 0.5, lossScale: 1,
});

function writeRun(root: string, name: string, steps: number, evalEvery: number): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const lines: TrainerEvent[] = [];
  for (let s = 1; s <= steps; s++) {
    lines.push(step(s));
    if (s % evalEvery === 0) {
      const e: EvalEvent = {
        v: 1, time: 1_700_000_000_000 + 100 * s, type: 'eval', step: s, scope: 'periodic', puzzles: 10, exactAccuracy: s / steps, tokenAccuracy: 0.5,
        qHaltAccuracy: 0.9, byBlanks: [], seconds: 0.1, hCycles: 2, lCycles: 2, earlyExit: { meanSteps: 2, exactAccuracy: 0, qHaltAccuracy: 0.9 },
        gradientVariance: null, trainSeconds: s / 10, flopsForwardTotal: s, flopsBackwardTotal: 2 * s,
      };
      lines.push(e);
    }
  }
  writeFileSync(join(dir, 'events.jsonl'), lines.map((e) => JSON.stringify(e)).join('\n') + '\n');
  return dir;
}

test('three runs added one after another to a panel all reach the webview with every step row', async () => {
  const root = mkdtempSync(join(tmpdir(), 'reclab-overlay-'));
  const sweep = join(root, 'ablation-20260101-000000');
  // Two arms of a sweep (310 and 200 rows: the sizes of issue 10's report) and a run beside them.
  const rows = new Map([[writeRun(sweep, 'baseline-seed0', 310, 31), 310], [writeRun(sweep, 'pdc-seed0', 200, 20), 200], [writeRun(root, 'single', 150, 15), 150]]);
  const log = { info() {}, warn() {}, error() {} };
  const registry = new RunRegistry({ roots: () => [root], log });
  const webview = new PanelRuns();
  let colour = 0;
  const feed = new PanelFeed(async (m: ToWebviewMessage) => {
    const copy = structuredClone(m);
    await new Promise((r) => setTimeout(r, 2)); // a postMessage round trip
    const parsed = parseToWebviewMessage(copy);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    if (parsed.message.type === 'runs') webview.setRuns(parsed.message.runs, () => colour++);
    else if (parsed.message.type === 'steps' || parsed.message.type === 'evals') webview.applyRows(parsed.message);
  }, 'panel-1', 5);
  // As TrainingPanel.addRuns: retain each run (reads its events.jsonl), then show it.
  for (const key of rows.keys()) feed.add(await registry.retain(key));
  for (let i = 0; i < 200 && [...rows].some(([k, n]) => webview.byKey.get(k)?.steps.length !== n); i++) {
    await new Promise((r) => setTimeout(r, 10));
    await feed.flush();
  }
  assert.deepEqual(webview.order, [...rows.keys()]);
  for (const [key, n] of rows) {
    const r = webview.byKey.get(key)!;
    assert.equal(r.steps.length, n, `${key}: step rows in the webview`);
    assert.equal(r.steps.get('step', n - 1), n);
    assert.equal(r.evals.length, 10, `${key}: eval rows`);
  }
  feed.dispose();
  registry.dispose();
});
