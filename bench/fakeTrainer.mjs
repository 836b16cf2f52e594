/* global performance, setTimeout, clearTimeout */
// A stand-in for `reclab train --rpc` that produces step events at a fixed rate, for
// bench/host-ingest.bench.ts: it appends each event to <run-dir>/events.jsonl and (with --rpc)
// sends it as a JSON-RPC notification, exactly like the trainer, but without training anything.
//   node bench/fakeTrainer.mjs --run-dir DIR --rate EVENTS_PER_S --seconds S [--rpc]
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import rpcNode from 'vscode-jsonrpc/node';

const { values } = parseArgs({ options: { 'run-dir': { type: 'string' }, rate: { type: 'string' }, seconds: { type: 'string' }, rpc: { type: 'boolean' } } });
const dir = values['run-dir'];
const rate = Number(values.rate ?? 10000);
const seconds = Number(values.seconds ?? 5);
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'config.json'), JSON.stringify({ metadata: { runId: 'bench', preset: 'bench' }, config: { name: 'bench' } }));
const events = join(dir, 'events.jsonl');

let connection;
if (values.rpc) {
  connection = rpcNode.createMessageConnection(new rpcNode.StreamMessageReader(process.stdin), new rpcNode.StreamMessageWriter(process.stdout));
  connection.onRequest('reclab/stop', () => ({ stopping: true }));
  connection.listen();
}

const base = { v: 1, type: 'step', qHaltLoss: 0.01, tokenAccuracy: 0.81, exactAccuracy: 0.3, qHaltAccuracy: 0.97, meanHaltSteps: 3.2, haltedRows: 17, lr: 0.003, flopsForward: 330000000, flopsBackward: 340000000, hCycles: 2, lCycles: 2, stepSeconds: 0.0001 };
// As trainer/rpcChannel.ts: at once when idle, else batched at most every 20 ms.
let queue = [];
let timer;
let lastSent = -Infinity;
const send = () => {
  clearTimeout(timer);
  timer = undefined;
  if (!queue.length) return;
  lastSent = performance.now();
  void connection.sendNotification('reclab/events', { events: queue });
  queue = [];
};
const emit = (e) => {
  if (!connection) return;
  queue.push(e);
  if (timer) return;
  const wait = lastSent + 20 - performance.now();
  if (wait <= 0) send();
  else timer = setTimeout(send, wait);
};
const start = { v: 1, time: Date.now(), type: 'run_start', runId: 'bench', config: { model: { hCycles: 2, lCycles: 2 } }, backend: 'none', startStep: 0, totalSteps: rate * seconds, resumed: false, parameterCount: 1 };
appendFileSync(events, JSON.stringify(start) + '\n');
emit(start);

const t0 = performance.now();
let step = 0;
const total = Math.round(rate * seconds);
const tick = () => {
  const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
  let chunk = '';
  const batch = [];
  while (step < due) {
    step++;
    const e = { ...base, time: Date.now(), step, lmLoss: 1 / Math.sqrt(step) + 0.01 * Math.sin(step), gradNorm: 0.5 + 0.1 * Math.cos(step / 7), samplesPerSecond: 6400 + (step % 13) };
    chunk += JSON.stringify(e) + '\n';
    batch.push(e);
  }
  if (chunk) appendFileSync(events, chunk);
  for (const e of batch) emit(e);
  if (step < total) setTimeout(tick, 5);
  else {
    const done = { v: 1, time: Date.now(), type: 'done', step, status: 'completed', wallSeconds: seconds };
    appendFileSync(events, JSON.stringify(done) + '\n');
    emit(done);
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ runId: 'bench', status: 'completed', steps: step }));
    setTimeout(() => process.exit(0), 200);
  }
};
tick();
