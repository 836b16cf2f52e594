// The DEQ solver statistics on their way to the Live Training panel: step events' modelStats
// (deq*) become solver rows in the host's RunSeries, cross as `solver` messages (checked by the
// webview's parser) and land in the webview's RunView, value for value; a run without them never
// gets a solver row or message (its panel draws exactly the other charts). The eval event's
// internalisation[0] becomes the eval table's internalisedExactAccuracy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvalEvent, StepEvent, TrainerEvent } from '../../protocol/events';
import { parseToWebviewMessage, solverColumnNames, type ToWebviewMessage } from '../../protocol/webviewMessages';
import { PanelFeed } from '../../extension/panels/panelFeed';
import { RunRegistry } from '../../extension/runs/runRegistry';
import { RunSeries } from '../../extension/runs/runSeries';
import { PanelRuns } from '../../webview/training/panelRuns';
import { tableOf } from '../../webview/training/runView';

const step = (n: number, modelStats?: Record<string, number>): StepEvent => ({
  v: 1, time: 1_700_000_000_000 + 100 * n, type: 'step', step: n, lmLoss: 1 / n, qHaltLoss: 0.5, tokenAccuracy: 0.5, exactAccuracy: null,
  qHaltAccuracy: 0.9, meanHaltSteps: null, haltedRows: 0, lr: 1e-3, gradNorm: 1, samplesPerSecond: 640, flopsForward: 1, flopsBackward: 2,
  hCycles: 2, lCycles: 2, stage: 0, stepSeconds: 0.1, gradVarianceRunning: 0.5, lossScale: 1, ...(modelStats ? { modelStats } : {}),
});
/** Step n's statistics: iterations 2 + n % 3 (mean) and 4 (max), residuals 1/n and 2/n, rel 0.1/n and 0.3/n, converged n/10. */
const deqStats = (n: number, adjoint: boolean): Record<string, number> => ({
  deqIterations: 2 + (n % 3), deqIterationsMax: 4, deqAbsMean: 1 / n, deqAbsMax: 2 / n, deqRelMean: 0.1 / n, deqRelMax: 0.3 / n, deqConvergedFraction: n / 10,
  ...(adjoint ? { deqAdjointIterations: 10 + n, deqAdjointAbsMax: 1e-6 * n, deqAdjointConvergedFraction: 1 } : {}),
});
const evalEvent = (n: number, internalisation?: EvalEvent['internalisation']): EvalEvent => ({
  v: 1, time: 1_700_000_000_000 + 100 * n, type: 'eval', step: n, scope: 'periodic', puzzles: 10, exactAccuracy: 0.8, tokenAccuracy: 0.9,
  qHaltAccuracy: 0.9, byBlanks: [], seconds: 0.1, hCycles: 2, lCycles: 2, earlyExit: { meanSteps: 2, exactAccuracy: 0, qHaltAccuracy: 0.9 },
  gradientVariance: null, trainSeconds: n / 10, flopsForwardTotal: n, flopsBackwardTotal: 2 * n, ...(internalisation ? { internalisation } : {}),
});

test('RunSeries: solver rows only from steps with deq statistics (NaN for an absent adjoint), truncated with the steps on a resume; eval internalisation[0] as a column', () => {
  const s = new RunSeries();
  s.apply(step(1));
  for (let n = 2; n <= 5; n++) s.apply(step(n, deqStats(n, n >= 4)));
  assert.equal(s.steps.length, 5);
  assert.equal(s.solver.length, 4);
  assert.deepEqual([...s.solver.column('step').subarray(0, 4)], [2, 3, 4, 5]);
  assert.equal(s.solver.get('deqIterations', 1), 2); // step 3: 2 + 3 % 3
  assert.equal(s.solver.get('deqAbsMax', 0), 1);
  assert.equal(s.solver.get('deqConvergedFraction', 3), 0.5);
  assert.ok(Number.isNaN(s.solver.get('deqAdjointIterations', 0)), 'phantom steps: no adjoint value');
  assert.equal(s.solver.get('deqAdjointIterations', 2), 14);
  s.apply(evalEvent(3, [{ iterations: 0, exactAccuracy: 0.25, tokenAccuracy: 0.7, exactLost: 0.55, tokenLost: 0.2 }, { iterations: 2, exactAccuracy: 0.5, tokenAccuracy: 0.8, exactLost: 0.3, tokenLost: 0.1 }]));
  s.apply(evalEvent(5));
  assert.equal(s.evals.get('internalisedExactAccuracy', 0), 0.25);
  assert.ok(Number.isNaN(s.evals.get('internalisedExactAccuracy', 1)));
  const rewritten: string[] = [];
  s.rewriteListeners.add((table, from) => rewritten.push(`${table}:${from}`));
  s.apply({ ...step(3, deqStats(3, false)), type: 'step' }); // a resume from step 2 rewrites step 3 on
  assert.equal(s.solver.length, 2);
  assert.deepEqual(rewritten, ['steps:2', 'solver:1']);
  assert.equal(tableOf('deqRelMax'), 'solver');
  assert.equal(tableOf('lmLoss'), 'steps');
});

test('host -> webview: a DEQ run\'s solver rows reach the panel value for value; a TRM run beside it gets no solver message', async () => {
  const root = mkdtempSync(join(tmpdir(), 'reclab-solver-panel-'));
  const write = (name: string, events: TrainerEvent[]): string => {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'events.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    return dir;
  };
  const deqRun = write('deq', Array.from({ length: 120 }, (_, i) => step(i + 1, deqStats(i + 1, true))));
  const trmRun = write('trm', Array.from({ length: 80 }, (_, i) => step(i + 1)));
  const registry = new RunRegistry({ roots: () => [root], log: { info() {}, warn() {}, error() {} } });
  const webview = new PanelRuns();
  const solverMessages: string[] = [];
  let colour = 0;
  const feed = new PanelFeed(async (m: ToWebviewMessage) => {
    const parsed = parseToWebviewMessage(structuredClone(m));
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    const msg = parsed.message;
    if (msg.type === 'runs') webview.setRuns(msg.runs, () => colour++);
    else if (msg.type === 'steps' || msg.type === 'evals' || msg.type === 'solver') webview.applyRows(msg);
    if (msg.type === 'solver') solverMessages.push(msg.key);
  }, 'panel-1', 5);
  feed.add(await registry.retain(deqRun));
  feed.add(await registry.retain(trmRun));
  for (let i = 0; i < 200 && (webview.byKey.get(deqRun)?.solver.length !== 120 || webview.byKey.get(trmRun)?.steps.length !== 80); i++) {
    await new Promise((r) => setTimeout(r, 10));
    await feed.flush();
  }
  const d = webview.byKey.get(deqRun)!;
  const t = webview.byKey.get(trmRun)!;
  assert.equal(d.solver.length, 120);
  assert.ok(d.isDeq && !t.isDeq && webview.anyDeq);
  assert.equal(t.solver.length, 0);
  assert.ok(solverMessages.length >= 1 && solverMessages.every((k) => k === deqRun), 'solver messages only for the DEQ run');
  for (const i of [0, 41, 119]) {
    const want = { step: i + 1, time: 1_700_000_000_000 + 100 * (i + 1), ...deqStats(i + 1, true) } as Record<string, number>;
    for (const c of solverColumnNames) assert.equal(d.solver.get(c, i), want[c], `row ${i} ${c}`);
  }
  // The webview reads a solver metric from the solver table, its x from the solver rows' steps.
  assert.equal(d.metric('deqAdjointIterations')[7], 18);
  assert.equal(d.x('step', 'solver')[7], 8);
  assert.ok(d.present('deqAdjointAbsMax') && !t.present('deqAdjointAbsMax'));
  feed.dispose();
  registry.dispose();
});

test('the panel parser accepts a solver message and rejects one with the step columns or a missing column', () => {
  const cols = (names: readonly string[], n: number) => Object.fromEntries(names.map((c) => [c, new Float64Array(n).fill(1)]));
  const ok = parseToWebviewMessage({ type: 'solver', key: 'k', start: 0, columns: cols(solverColumnNames, 3) });
  assert.ok(ok.ok && ok.message.type === 'solver' && ok.message.columns.deqRelMax.length === 3);
  const missing = parseToWebviewMessage({ type: 'solver', key: 'k', start: 0, columns: cols(solverColumnNames.filter((c) => c !== 'deqRelMax'), 3) });
  assert.ok(!missing.ok && /deqRelMax/.test(missing.error), missing.ok ? '' : missing.error);
  const wrong = parseToWebviewMessage({ type: 'solver', key: 'k', start: 0, columns: cols(['step', 'time', 'lmLoss'], 3) });
  assert.ok(!wrong.ok);
});
