// The trainer's JSON-RPC frame scanner (trainer/rpcMessageReader.ts): well-formed frames come out
// whole whatever the chunking; garbage before, between and inside frames is reported and skipped,
// and the frames after it still come out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameScanner } from '../../trainer/rpcMessageReader';
import { rpcFrame } from './trainerChild';

const req = (id: number) => ({ jsonrpc: '2.0', id, method: 'reclab/stop' });

function scan(chunks: (string | Buffer)[]) {
  const skipped: string[] = [];
  const s = new FrameScanner((what) => skipped.push(what));
  const out: unknown[] = [];
  for (const c of chunks) out.push(...s.push(typeof c === 'string' ? Buffer.from(c) : c));
  return { out, skipped, scanner: s };
}

test('frames split at every byte boundary come out whole, none skipped', () => {
  const bytes = Buffer.from(rpcFrame(req(1)) + rpcFrame({ jsonrpc: '2.0', method: 'x', params: { text: 'é€' } }) + rpcFrame(req(2)));
  const { out, skipped } = scan([...bytes].map((b) => Buffer.from([b])));
  assert.deepEqual(out, [req(1), { jsonrpc: '2.0', method: 'x', params: { text: 'é€' } }, req(2)]);
  assert.deepEqual(skipped, []);
});

test('a header-less JSON line before a frame is skipped; the frame and the next one come out', () => {
  const { out, skipped } = scan(['{"jsonrpc":"2.0","id":9,"method":"reclab/stop"}\n', rpcFrame(req(1)), rpcFrame(req(2))]);
  assert.deepEqual(out, [req(1), req(2)]);
  assert.equal(skipped.length, 1);
});

test('a malformed header, a body that is not JSON and a bare line between frames are each skipped', () => {
  const { out, skipped } = scan([
    'Content-Length: twelve\r\n\r\n', rpcFrame(req(1)),
    'Content-Length: 5\r\n\r\nnope!', rpcFrame(req(2)),
    'hello\n', rpcFrame(req(3)),
    `Content-Length: ${2 ** 21}\r\n\r\n`, rpcFrame(req(4)),
  ]);
  assert.deepEqual(out, [req(1), req(2), req(3), req(4)]);
  assert.equal(skipped.length, 4, skipped.join(', '));
});

test('a header that announces more bytes than come: the scanner stalls, and abandoning the body recovers the next frame', () => {
  const { out, scanner } = scan(['Content-Length: 500\r\n\r\n{"half', rpcFrame(req(1))]);
  assert.deepEqual(out, []);
  assert.equal(scanner.stalled, true);
  assert.deepEqual(scanner.abandonBody(), [req(1)]);
});
