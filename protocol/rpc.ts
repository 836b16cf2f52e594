// The live channel between the extension host and a trainer started with `reclab train --rpc`:
// JSON-RPC 2.0 (vscode-jsonrpc framing: Content-Length headers) over the trainer's stdin/stdout.
// The channel only lowers latency; events.jsonl stays the durable truth, and the k-th `event`
// notification of a trainer process is exactly the k-th line that process appended to it.
import { NotificationType, RequestType0 } from 'vscode-jsonrpc';
import type { TrainerEvent } from './events';

/** trainer -> host: one notification per event, sent after the event is on disk. */
export const trainerEventNotification = new NotificationType<TrainerEvent>('reclab/event');

export interface StopResult {
  /** True when a graceful stop (checkpoint, `done` with status "stopped", exit) is under way. */
  stopping: boolean;
}

/**
 * host -> trainer: stop gracefully, exactly as SIGTERM does. A second `stop` (like a second
 * signal) makes the trainer exit at once; hosts kill the process tree after a timeout instead.
 */
export const stopRequest = new RequestType0<StopResult, void>('reclab/stop');
