// Both sides parse every message of the host <-> Live Training panel boundary: the exact
// messages of protocol/webviewMessages.ts pass; anything else is rejected with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { panelIdOfState, parseFromWebviewMessage, parseToWebviewMessage, runKeysOfState, stepColumnNames, evalColumnNames } from '../../protocol/webviewMessages';

const columns = (names: readonly string[], n: number, typed = true) =>
  Object.fromEntries(names.map((k) => [k, typed ? new Float64Array(n).fill(1) : Array.from({ length: n }, (_, i) => (i === 0 ? null : i))]));

test('well-formed host -> webview messages are accepted', () => {
  const ok = [
    { type: 'runs', panelId: 'p1', runs: [] },
    { type: 'runs', panelId: 'p1', runs: [{ key: '/w/runs/a', runId: 'a', name: 'a', status: 'running', preset: 'sudoku4' }] },
    { type: 'steps', key: '/w/runs/a', start: 0, columns: columns(stepColumnNames, 3) },
    { type: 'evals', key: '/w/runs/a', start: 2, columns: columns(evalColumnNames, 1) },
    { type: 'reply', inReplyTo: 4, ok: true, message: 'exported' },
  ];
  for (const m of ok) assert.ok(parseToWebviewMessage(m).ok, JSON.stringify(m));
  // Plain arrays (a JSON round trip) become Float64Array, null becomes NaN.
  const p = parseToWebviewMessage({ type: 'steps', key: 'k', start: 0, columns: columns(stepColumnNames, 2, false) });
  assert.ok(p.ok && p.message.type === 'steps');
  if (p.ok && p.message.type === 'steps') {
    assert.ok(p.message.columns.lmLoss instanceof Float64Array);
    assert.ok(Number.isNaN(p.message.columns.lmLoss[0]!));
    assert.equal(p.message.columns.lmLoss[1], 1);
  }
});

test('malformed host -> webview messages are rejected', () => {
  const steps = columns(stepColumnNames, 3);
  const bad: [unknown, RegExp][] = [
    [null, /not an object/],
    ['steps', /not an object/],
    [[{ type: 'runs' }], /not an object/],
    [{}, /no "type"/],
    [{ type: 42 }, /no "type"/],
    [{ type: 'explode' }, /unknown message type/],
    [{ type: 'runs', panelId: 'p1' }, /runs is not an array/],
    [{ type: 'runs', runs: [] }, /panelId/],
    [{ type: 'runs', panelId: '../../etc', runs: [] }, /panelId/],
    [{ type: 'runs', panelId: 'p1', runs: [{ key: 'k', runId: 'a', name: 'a', status: 'exploded' }] }, /status/],
    [{ type: 'runs', panelId: 'p1', runs: [{ key: '', runId: 'a', name: 'a', status: 'running' }] }, /key/],
    [{ type: 'runs', panelId: 'p1', runs: [], extra: 1 }, /unexpected field "extra"/],
    [{ type: 'steps', key: 'k', start: -1, columns: steps }, /start/],
    [{ type: 'steps', key: 'k', start: 1.5, columns: steps }, /start/],
    [{ type: 'steps', key: 'k', start: 0 }, /columns is not an object/],
    [{ type: 'steps', key: 'k', start: 0, columns: { ...steps, lmLoss: new Float64Array(2) } }, /has 2 rows, expected 3|expected 2/],
    [{ type: 'steps', key: 'k', start: 0, columns: { ...steps, lmLoss: undefined } }, /lmLoss/],
    [{ type: 'steps', key: 'k', start: 0, columns: { ...steps, lmLoss: ['x', 1, 2] } }, /lmLoss.*not a number/],
    [{ type: 'steps', key: 'k', start: 0, columns: { ...steps, evil: new Float64Array(3) } }, /unexpected field "evil"/],
    [{ type: 'steps', key: 'k', start: 0, columns: columns(evalColumnNames, 3) }, /column|unexpected field/],
    [{ type: 'steps', key: 'x'.repeat(5000), start: 0, columns: steps }, /key/],
    [{ type: 'reply', inReplyTo: 1, ok: 'yes', message: '' }, /ok/],
    [{ type: 'reply', inReplyTo: -3, ok: true, message: '' }, /inReplyTo/],
    [{ type: 'ready' }, /unknown message type/], // a webview -> host message sent the wrong way
  ];
  for (const [m, why] of bad) {
    const r = parseToWebviewMessage(m);
    assert.ok(!r.ok, `accepted ${JSON.stringify(m)?.slice(0, 80)}`);
    if (!r.ok) assert.match(r.error, why);
  }
});

test('webview -> host: exactly ready, addRuns, removeRun, exportCsv', () => {
  for (const m of [{ type: 'ready' }, { type: 'addRuns', requestId: 1 }, { type: 'removeRun', key: '/w/runs/a' }, { type: 'exportCsv', requestId: 0 }]) {
    assert.ok(parseFromWebviewMessage(m).ok, JSON.stringify(m));
  }
  const bad: unknown[] = [
    undefined, 7, { type: 'ready', extra: true }, { type: 'exportCsv' }, { type: 'exportCsv', requestId: '1' },
    { type: 'exportCsv', requestId: Number.NaN }, { type: 'addRuns', requestId: 2 ** 60 }, { type: 'removeRun' },
    { type: 'removeRun', key: 3 }, { type: 'deleteEverything' }, { type: 'runs', runs: [] }, { type: '__proto__' },
  ];
  for (const m of bad) assert.ok(!parseFromWebviewMessage(m).ok, `accepted ${JSON.stringify(m)}`);
});

test('the serializer reads only string run keys and a well-formed panel id from a saved state', () => {
  assert.deepEqual(runKeysOfState({ keys: ['/a', 3, '', '/b'] }), ['/a', '/b']);
  assert.equal(panelIdOfState({ panelId: 'abc-1', keys: [] }), 'abc-1');
  assert.equal(panelIdOfState({ panelId: '../x' }), undefined);
  assert.equal(panelIdOfState(null), undefined);
  assert.deepEqual(runKeysOfState(undefined), []);
  assert.deepEqual(runKeysOfState({ keys: 'x' }), []);
});
