// The Live Training panel's progress line per run: the host's step, the percentage and the time
// left from the rate of the last step rows (hand-computed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stepColumnNames, type RunDescriptor } from '../../protocol/webviewMessages';
import { progressText, stepRate } from '../../webview/training/progress';
import { RunView } from '../../webview/training/runView';

function view(d: Partial<RunDescriptor>, steps: number[], secondsPerStep: number): RunView {
  const r = new RunView({ key: '/r/a', runId: 'a', name: 'a', status: 'running', ...d }, 0);
  const cols = Object.fromEntries(stepColumnNames.map((c) => [c, new Float64Array(steps.length)])) as Record<(typeof stepColumnNames)[number], Float64Array>;
  steps.forEach((s, i) => {
    cols.step[i] = s;
    cols.time[i] = 1_700_000_000_000 + 1000 * secondsPerStep * s;
  });
  r.applySteps(0, cols);
  return r;
}

test('a running run: step of total, percent, and the time left at its recent rate', () => {
  // 200 steps at 0.5 s a step: 2 steps/s; 800 steps left -> 400 s = 6.7 min.
  const r = view({ step: 200, totalSteps: 1000 }, Array.from({ length: 200 }, (_, i) => i + 1), 0.5);
  assert.equal(stepRate(r), 2);
  assert.equal(progressText(r), 'step 200 / 1,000 (20%) · 6.7 min left');
});

test('a finished run has no time left; a run without a total shows its step', () => {
  assert.equal(progressText(view({ step: 30, totalSteps: 30, status: 'completed' }, [1, 2, 3], 1)), 'step 30 / 30 (100%)');
  assert.equal(progressText(view({ status: 'completed' }, [5, 6, 7], 1)), 'step 7');
  assert.equal(progressText(view({}, [], 1)), '');
});
