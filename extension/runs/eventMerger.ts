// One ordered stream of a run's events from two sources that carry the same lines: the tail of
// events.jsonl (durable, every line, indexed from the top of the file) and the trainer's live
// RPC notifications (the k-th notification of a process = line base + k of the file). Whichever
// source delivers line i first wins; the other source's copy is dropped without being parsed.
// Torn and malformed lines are skipped with a warning, never delivered.
import { parseEventLine, type TrainerEvent } from '../../protocol/events';
import type { LineSink } from './eventsFileTail';

export class EventMerger implements LineSink {
  private next = 0;
  private rpcBase = -1;
  private rpcCount = 0;

  constructor(
    private readonly deliver: (e: TrainerEvent) => void,
    private readonly warn: (message: string) => void,
    private readonly label: string,
  ) {}

  /** Index of the next line to deliver. */
  get nextIndex(): number {
    return this.next;
  }

  needsFrom(): number {
    return this.next;
  }

  /** A line of events.jsonl. */
  line(index: number, text: string): void {
    if (index < this.next) return;
    this.next = index + 1;
    if (text.trim() === '') return;
    const parsed = parseEventLine(text);
    if ('error' in parsed) {
      this.warn(`${this.label}: events.jsonl line ${index + 1} skipped: ${parsed.error}: ${preview(text)}`);
      return;
    }
    this.deliver(parsed);
  }

  /** A trainer process starts writing: its first notification is line `base` of the file. */
  startLive(base: number): void {
    this.rpcBase = base;
    this.rpcCount = 0;
  }

  /** The next RPC notification of the current process (already parsed by the RPC library). */
  liveEvent(e: TrainerEvent): void {
    if (this.rpcBase < 0) return;
    const index = this.rpcBase + this.rpcCount++;
    if (index < this.next) return;
    this.next = index + 1;
    this.deliver(e);
  }

  /** A torn last line (the writer is gone): counted as consumed, with a warning. */
  tornLine(text: string): void {
    this.warn(`${this.label}: torn last line of events.jsonl skipped (the trainer stopped mid-write): ${preview(text)}`);
  }
}

function preview(text: string): string {
  const t = text.length > 120 ? `${text.slice(0, 120)}…` : text;
  return JSON.stringify(t);
}
