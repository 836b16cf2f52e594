// `reclab train --rpc`: the live channel to the extension host (protocol/rpc.ts). stdin/stdout
// carry JSON-RPC only; anything else that writes to stdout (console.log, a library) goes to stderr.
import { Writable } from 'node:stream';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { TrainerEvent } from '../protocol/events';
import { stopRequest, trainerEventNotification } from '../protocol/rpc';

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

  let pending: Promise<void> = Promise.resolve();
  return {
    notifyEvent(e) {
      const sent = connection.sendNotification(trainerEventNotification, e).catch(() => {});
      pending = pending.then(() => sent);
    },
    flush: () => pending,
  };
}
