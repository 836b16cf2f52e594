// `reclab train --rpc`: the live channel to the extension host (protocol/rpc.ts). stdin/stdout
// carry JSON-RPC only; anything else that writes to stdout (console.log, a library) goes to stderr.
import { Writable } from 'node:stream';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { TrainerEvent } from '../protocol/events';
import { EVENTS_BATCH_MS, stopRequest, trainerEventsNotification } from '../protocol/rpc';

export interface RpcChannel {
  notifyEvent(e: TrainerEvent): void;
  /** Resolves once every notification sent so far has been handed to stdout. */
  flush(): Promise<void>;
}

/** The same graceful stop as SIGTERM: the trainer's own handler when installed, else SIGTERM's default (exit). */
function stopLikeSigterm(): void {
  if (process.listenerCount('SIGTERM') > 0) process.emit('SIGTERM', 'SIGTERM');
  else process.exit(143);
}

export function openRpcChannel(): RpcChannel {
  const stdoutWrite = process.stdout.write.bind(process.stdout) as (chunk: Uint8Array | string, cb: (err?: Error | null) => void) => boolean;
  const rpcOut = new Writable({ write: (chunk: Buffer, _enc, cb) => void stdoutWrite(chunk, cb) });
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  // The host may go away (window closed): a broken pipe must not crash a run that is saving.
  process.stdout.on('error', () => {});
  rpcOut.on('error', () => {});

  const connection = createMessageConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(rpcOut));
  let stopping = false;
  connection.onRequest(stopRequest, () => {
    stopLikeSigterm();
    stopping = true;
    return { stopping };
  });
  // stdin closed = the host is gone: stop gracefully rather than train on as an orphan.
  connection.onClose(() => {
    if (!stopping) {
      stopping = true;
      stopLikeSigterm();
    }
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
    if (queue.length === 0) return;
    lastSent = performance.now();
    const sent = connection.sendNotification(trainerEventsNotification, { events: queue }).catch(() => {});
    queue = [];
    pending = pending.then(() => sent);
  };
  return {
    notifyEvent(e) {
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
