// CSV export of a panel's runs: one row per step and per evaluation, raw values, empty cells
// where a value does not exist, run ids quoted when they need it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runsToCsv } from '../../extension/panels/csvExport';
import { RunSeries } from '../../extension/runs/runSeries';
import type { EvalEvent, StepEvent } from '../../protocol/events';

test('steps and evals as CSV rows', () => {
  const s = new RunSeries();
  const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);
  const step = { v: 1, type: 'step', qHaltLoss: 0.25, qHaltAccuracy: 1, meanHaltSteps: null, haltedRows: 0, lr: 1e-3, flopsForward: 1, flopsBackward: 1,
    stage: 0, stepSeconds: 0.1, gradVarianceRunning: null, lossScale: 1, hCycles: 2, lCycles: 2 } as const;
  s.apply({ ...step, time: t0, step: 1, lmLoss: 2, tokenAccuracy: 0.5, exactAccuracy: null, gradNorm: 0.75, samplesPerSecond: 640 } as StepEvent);
  s.apply({ ...step, time: t0 + 1500, step: 2, lmLoss: 1.5, tokenAccuracy: 0.625, exactAccuracy: 0.125, gradNorm: 0.5, samplesPerSecond: 700 } as StepEvent);
  s.apply({ v: 1, type: 'eval', time: t0 + 2000, step: 2, scope: 'periodic', puzzles: 8, exactAccuracy: 0.25, tokenAccuracy: 0.75, qHaltAccuracy: 0.875 } as EvalEvent);
  const lines = runsToCsv([{ runId: 'run,1', series: s }]).trimEnd().split('\n');
  assert.equal(lines[0], 'run,kind,step,wall_time_iso,relative_seconds,lm_loss,q_halt_loss,token_accuracy,exact_accuracy,halting_accuracy,grad_norm,samples_per_second,h_cycles,l_cycles');
  assert.equal(lines[1], '"run,1",step,1,2026-01-02T03:04:05.000Z,0,2,0.25,0.5,,1,0.75,640,2,2');
  assert.equal(lines[2], '"run,1",step,2,2026-01-02T03:04:06.500Z,1.5,1.5,0.25,0.625,0.125,1,0.5,700,2,2');
  assert.equal(lines[3], '"run,1",eval,2,2026-01-02T03:04:07.000Z,2,,,0.75,0.25,0.875,,,,');
  assert.equal(lines.length, 4);
});
