// The live channel between the extension host and a trainer started with `reclab train --rpc`:
// JSON-RPC 2.0 (vscode-jsonrpc framing: Content-Length headers) over the trainer's stdin/stdout.
// The channel only lowers latency; events.jsonl stays the durable truth, and the k-th event sent
// by a trainer process is exactly the k-th line that process appended to it.
import { NotificationType, RequestType0 } from 'vscode-jsonrpc';
import type { TrainerEvent } from './events';

export interface EventsParams {
  /** Consecutive events, in the order they were written to events.jsonl. */
  events: TrainerEvent[];
}

/**
 * trainer -> host: every event, sent once it is on disk. An event is sent at once when the
 * channel has been idle for BATCH_MS; events that come faster share one notification (sent at
 * most every BATCH_MS), so 10,000 events/s cost the host 50 messages, not 10,000.
 */
export const trainerEventsNotification = new NotificationType<EventsParams>('reclab/events');
export const EVENTS_BATCH_MS = 20;

export interface StopResult {
  /** True when a graceful stop (checkpoint, `done` with status "stopped", exit) is under way. */
  stopping: boolean;
}

/**
 * host -> trainer: stop gracefully, exactly as SIGTERM does. Answered at the trainer's next safe
 * point (after the step in progress, between evaluation batches), which may be seconds away; any
 * further stop (another request, a signal, stdin closing) is the same stop. Hosts wait, and kill
 * the process tree only after their stop timeout.
 */
export const stopRequest = new RequestType0<StopResult, void>('reclab/stop');
