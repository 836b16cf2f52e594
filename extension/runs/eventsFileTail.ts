// Incremental reader of a run's events.jsonl: each call reads what was appended since the last
// one and hands over complete lines with their index (0 = first line of the file). A line without
// its newline stays pending until the rest arrives; `finish()` declares it torn (the writer is gone).
// No vscode import: the unit tests and the host benchmark use it directly.
import { open, stat } from 'node:fs/promises';

const CHUNK = 1 << 22;
const NEWLINE = 0x0a;

export interface LineSink {
  /** Index of the first line the sink still needs; lines below it are counted, not decoded. */
  needsFrom(): number;
  line(index: number, text: string): void;
}

export class EventsFileTail {
  private offset = 0;
  private lines = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** finish() dropped a torn last line: the next newline ends it. */
  private tornDropped = false;
  private reading: Promise<number> | undefined;

  constructor(readonly path: string, private readonly sink: LineSink) {}

  /** Complete lines read so far. */
  get lineCount(): number {
    return this.lines;
  }

  /** Bytes after the last newline, waiting for the rest of their line. */
  get pendingLength(): number {
    return this.pendingBytes;
  }

  /**
   * Index of the first line a new writer appends: a writer that starts after a torn last line
   * first ends it with a newline (trainer/run/runDirectory.ts), so the fragment takes one index.
   */
  get nextWriterLine(): number {
    return this.lines + (this.pendingBytes > 0 || this.tornDropped ? 1 : 0);
  }

  /**
   * Reads to the current end of the file, yielding to the event loop between chunks so a large
   * file never blocks the host. Returns the number of new complete lines. Calls never overlap.
   */
  read(): Promise<number> {
    if (!this.reading) this.reading = this.readNow().finally(() => (this.reading = undefined));
    return this.reading;
  }

  /** The writer is gone: a pending partial line is torn. Returns it (for the warning) and drops it. */
  finish(): string | undefined {
    if (this.pendingBytes === 0) return undefined;
    const torn = Buffer.concat(this.pending).toString('utf8');
    this.pending = [];
    this.pendingBytes = 0;
    this.tornDropped = true;
    return torn;
  }

  private async readNow(): Promise<number> {
    let size: number;
    try {
      size = (await stat(this.path)).size;
    } catch {
      return 0; // not created yet
    }
    if (size < this.offset) {
      // Replaced or truncated: start over.
      this.offset = 0;
      this.lines = 0;
      this.pending = [];
      this.pendingBytes = 0;
      this.tornDropped = false;
    }
    if (size === this.offset) return 0;
    const before = this.lines;
    const fh = await open(this.path, 'r');
    try {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - this.offset));
      while (this.offset < size) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - this.offset), this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        this.consume(buf.subarray(0, bytesRead));
      }
    } finally {
      await fh.close();
    }
    return this.lines - before;
  }

  private consume(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) break;
      const index = this.lines++;
      if (index >= this.sink.needsFrom()) {
        let text: string;
        if (this.pendingBytes > 0) {
          text = Buffer.concat([...this.pending, chunk.subarray(start, nl)]).toString('utf8');
        } else {
          text = chunk.toString('utf8', start, nl);
        }
        this.sink.line(index, text);
      }
      this.pending = [];
      this.pendingBytes = 0;
      this.tornDropped = false;
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.pending.push(Buffer.from(chunk.subarray(start))); // copy: the read buffer is reused
      this.pendingBytes += chunk.length - start;
    }
  }
}
