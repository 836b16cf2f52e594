// `reclab train --rpc`: the live channel to the extension host (protocol/rpc.ts). stdin/stdout
// carry JSON-RPC only; anything else that writes to stdout (console.log, a library) goes to stderr.
// The channel never ends a run: a `stop` request and stdin closing (the host went away) are both
// stop requests (trainer/run/stopRequest.ts), and once it is closed, events are no longer sent —
// they are on disk in events.jsonl anyway.
import { Writable } from 'node:stream';
import { createMessageConnection, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { TrainerEvent } from '../protocol/events';
import { EVENTS_BATCH_MS, stopRequest, trainerEventsNotification } from '../protocol/rpc';
import { ResyncingMessageReader } from './rpcMessageReader';
import type { StopSource } from './run/stopRequest';

export interface RpcChannel {
  notifyEvent(e: TrainerEvent): void;
  /** Resolves once every notification sent so far has been handed to stdout. */
  flush(): Promise<void>;
}

const logLine = (line: string) => {
  process.stderr.write(line + '\n');
};

export function openRpcChannel(onStop: (source: StopSource) => void): RpcChannel {
  const stdoutWrite = process.stdout.write.bind(process.stdout) as (chunk: Uint8Array | string, cb: (err?: Error | null) => void) => boolean;
  const rpcOut = new Writable({ write: (chunk: Buffer, _enc, cb) => void stdoutWrite(chunk, cb) });
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  // The host may go away (window closed, host killed): broken pipes must not crash a run that is saving.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  rpcOut.on('error', () => {});

  const connection = createMessageConnection(new ResyncingMessageReader(process.stdin, logLine), new StreamMessageWriter(rpcOut));
  let closed = false;
  connection.onRequest(stopRequest, () => {
    onStop('rpc stop');
    return { stopping: true };
  });
  connection.onClose(() => {
    closed = true;
    onStop('stdin closed');
  });
  connection.onError(() => {});
  connection.listen();

  // Events go out at once when the channel is idle, else together at most every EVENTS_BATCH_MS.
  let pending: Promise<void> = Promise.resolve();
  let queue: TrainerEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastSent = -Infinity;
  const send = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const events = queue;
    queue = [];
    if (events.length === 0 || closed) return;
    lastSent = performance.now();
    let sent: Promise<void>;
    try {
      // A closed connection throws here (synchronously), not in the promise.
      sent = connection.sendNotification(trainerEventsNotification, { events }).catch(() => {});
    } catch {
      closed = true;
      return;
    }
    pending = pending.then(() => sent);
  };
  return {
    notifyEvent(e) {
      if (closed) return;
      queue.push(e);
      if (timer) return;
      const wait = lastSent + EVENTS_BATCH_MS - performance.now();
      if (wait <= 0) send();
      else timer = setTimeout(send, wait);
    },
    flush: () => {
      send();
      return pending;
    },
  };
}
