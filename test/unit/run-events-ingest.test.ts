// The host reads events.jsonl incrementally: torn and malformed lines are skipped with a warning
// (never a throw, never a stall), and the live RPC copy of a line is never delivered twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StepEvent, TrainerEvent } from '../../protocol/events';
import { EventMerger } from '../../extension/runs/eventMerger';
import { EventsFileTail } from '../../extension/runs/eventsFileTail';
import { RunSeries } from '../../extension/runs/runSeries';
import { RunDirectory } from '../../trainer/run/runDirectory';

const step = (n: number, extra: Partial<StepEvent> = {}): StepEvent => ({
  v: 1, time: 1_700_000_000_000 + n, type: 'step', step: n, lmLoss: 1 / n, qHaltLoss: 0.5, tokenAccuracy: 0.5, exactAccuracy: null,
  qHaltAccuracy: 0.9, meanHaltSteps: null, haltedRows: 0, lr: 1e-3, gradNorm: 1, samplesPerSecond: 640, flopsForward: 1, flopsBackward: 2,
  hCycles: 2, lCycles: 2, stage: 0, stepSeconds: 0.1, gradVarianceRunning: 0.5, lossScale: 1, ...extra,
});
const line = (e: TrainerEvent) => JSON.stringify(e) + '\n';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'reclab-tail-'));
  const path = join(dir, 'events.jsonl');
  const got: TrainerEvent[] = [];
  const warnings: string[] = [];
  const merger = new EventMerger((e) => got.push(e), (w) => warnings.push(w), 'run-x');
  const tail = new EventsFileTail(path, merger);
  return { path, got, warnings, merger, tail };
}

test('a malformed line in the middle and a torn last line are skipped with warnings', async () => {
  const { path, got, warnings, merger, tail } = setup();
  writeFileSync(path, line(step(1)) + '{"v":1,"time":5,"type":"step"\n' + 'not json at all\n' + line(step(2)) + JSON.stringify(step(3)).slice(0, 40));
  assert.equal(await tail.read(), 4);
  assert.deepEqual(got.map((e) => (e as StepEvent).step), [1, 2]);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0]!, /line 2 skipped/);
  assert.match(warnings[1]!, /line 3 skipped/);
  // The torn line stays pending while the writer may still finish it ...
  assert.equal(await tail.read(), 0);
  assert.ok(tail.pendingLength > 0);
  // ... and is reported when the writer is known to be gone.
  const torn = tail.finish();
  assert.ok(torn?.startsWith('{"v":1'));
  merger.tornLine(torn!);
  assert.match(warnings[2]!, /torn last line/);
  assert.equal(tail.pendingLength, 0);
});

test('a line split across two reads is delivered once, whole', async () => {
  const { path, got, tail } = setup();
  const l = line(step(7));
  writeFileSync(path, l.slice(0, 25));
  await tail.read();
  assert.equal(got.length, 0);
  appendFileSync(path, l.slice(25) + line(step(8)));
  await tail.read();
  assert.deepEqual(got.map((e) => (e as StepEvent).step), [7, 8]);
});

test('live RPC events and the file tail deliver each line once, whichever comes first', async () => {
  const { path, got, merger, tail } = setup();
  writeFileSync(path, line(step(1)) + line(step(2)));
  await tail.read();
  merger.startLive(tail.lineCount); // a new trainer process: its first notification is line 2
  merger.liveEvent(step(3));
  merger.liveEvent(step(4));
  appendFileSync(path, line(step(3)) + line(step(4)) + line(step(5)));
  await tail.read(); // 3 and 4 are not delivered again; 5 (not yet sent live) is
  merger.liveEvent(step(5)); // late live copy: dropped
  merger.liveEvent(step(6));
  appendFileSync(path, line(step(6)));
  await tail.read();
  assert.deepEqual(got.map((e) => (e as StepEvent).step), [1, 2, 3, 4, 5, 6]);
});

test('after a torn last line, the next trainer (the real writer) and the tail agree on line numbers: each event once', async () => {
  for (const finished of [true, false]) { // the previous trainer's exit seen by this host, or a fresh host (reload)
    const { path, got, warnings, merger, tail } = setup();
    writeFileSync(path, line(step(1)) + line(step(2)) + JSON.stringify(step(3)).slice(0, 30));
    await tail.read();
    if (finished) merger.tornLine(tail.finish()!);
    merger.startLive(tail.nextWriterLine);
    assert.equal(tail.nextWriterLine, 3, 'lines 0, 1 and the fragment');
    const writer = new RunDirectory(join(path, '..'));
    const live = [4, 5, 6].map((n) => writer.appendEvent(step(n)));
    merger.liveEvent(live[0]!); // RPC ahead of the file for the first event ...
    await tail.read(); // ... the file ahead for the others
    merger.liveEvent(live[1]!);
    merger.liveEvent(live[2]!);
    assert.deepEqual(got.map((e) => (e as StepEvent).step), [1, 2, 4, 5, 6], `finished=${finished}`);
    // The fragment line is counted, not decoded (the live event past it came first); a finished one was warned about.
    assert.equal(warnings.length, finished ? 1 : 0, warnings.join('\n'));
  }
});

test('a resumed run replaces the steps after its checkpoint', () => {
  const s = new RunSeries();
  for (let i = 1; i <= 10; i++) s.apply(step(i));
  const rewrites: [string, number][] = [];
  s.rewriteListeners.add((t, from) => rewrites.push([t, from]));
  s.apply({ v: 1, time: 2, type: 'run_start', runId: 'r', config: { model: { hCycles: 3, lCycles: 6 } } as never, backend: 'wasm', startStep: 6, totalSteps: 20, resumed: true, parameterCount: 1 });
  assert.equal(s.steps.length, 6);
  assert.deepEqual(rewrites, [['steps', 6]]);
  s.apply(step(7, { hCycles: 3, lCycles: 6 }));
  assert.deepEqual(Array.from(s.steps.column('step').subarray(0, s.steps.length)), [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(s.figures.hCycles, 3);
  assert.equal(s.figures.step, 7);
});
