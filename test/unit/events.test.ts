// events.jsonl lines: a reader gets an error value for a torn or malformed line, never a throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENTS_FORMAT_VERSION, parseEventLine, trainerEventTypes } from '../../protocol/events';

const isError = (r: ReturnType<typeof parseEventLine>): r is { error: string } => 'error' in r && typeof r.error === 'string' && !('type' in r);

test('a well-formed line of each type parses to the event itself', () => {
  assert.equal(EVENTS_FORMAT_VERSION, 1);
  for (const type of trainerEventTypes) {
    const line = JSON.stringify({ v: 1, time: 1700000000000, type, step: 3 });
    const r = parseEventLine(line);
    assert.ok(!isError(r), `${type}: ${JSON.stringify(r)}`);
    assert.equal((r as { type: string }).type, type);
    assert.equal((r as { step: number }).step, 3);
  }
  // An error event carries a "message", which is not confused with a parse error.
  const r = parseEventLine(JSON.stringify({ v: 1, time: 1, type: 'error', message: 'boom' }));
  assert.ok(!isError(r));
});

test('malformed lines give an error value, not a throw', () => {
  const step = JSON.stringify({ v: 1, time: 1, type: 'step', step: 1, lmLoss: 0.5 });
  const cases: [string, string, RegExp][] = [
    ['torn line', step.slice(0, step.length - 7), /JSON/],
    ['empty line', '', /JSON/],
    ['not an object (number)', '42', /object/],
    ['not an object (array)', '[1, 2]', /object/],
    ['not an object (null)', 'null', /object/],
    ['not an object (string)', '"step"', /object/],
    ['wrong version', JSON.stringify({ v: 2, time: 1, type: 'step' }), /version 2/],
    ['missing version', JSON.stringify({ time: 1, type: 'step' }), /version/],
    ['unknown type', JSON.stringify({ v: 1, time: 1, type: 'teleport' }), /teleport/],
    ['type not a string', JSON.stringify({ v: 1, time: 1, type: 7 }), /type/],
    ['no time', JSON.stringify({ v: 1, type: 'done' }), /time/],
  ];
  for (const [label, line, why] of cases) {
    let r: ReturnType<typeof parseEventLine> | undefined;
    assert.doesNotThrow(() => { r = parseEventLine(line); }, label);
    assert.ok(r && isError(r), `${label}: expected an error, got ${JSON.stringify(r)}`);
    assert.match(r.error, why, label);
  }
});
