// The trainer's reader of JSON-RPC frames (`Content-Length: N\r\n\r\n` + N bytes of JSON) on stdin
// that survives malformed input: a line without a header, a bad header, a body that is not JSON are
// logged and skipped, and reading resumes at the next `Content-Length:` header. (vscode-jsonrpc's
// own reader stays out of step after one header-less line, and every later request, a stop among
// them, is lost.)
import { AbstractMessageReader, Disposable, type DataCallback, type Message } from 'vscode-jsonrpc';

const HEADER_START = /content-length:/i;
/** The host only sends small requests; a larger announced body is a malformed header. */
const MAX_BODY = 1 << 20;
const MAX_HEADER = 8192;
/** A body still incomplete this long after a later header arrived: its own header lied about the length. */
const STALLED_BODY_MS = 1000;

/** Splits a byte stream into JSON-RPC messages, skipping (and reporting) whatever is not a frame. */
export class FrameScanner {
  private buf = Buffer.alloc(0);
  private bodyLength: number | undefined;

  constructor(private readonly skipped: (what: string, bytes: Buffer) => void) {}

  /** True when a body is being waited for while a later header is already buffered. */
  get stalled(): boolean {
    return this.bodyLength !== undefined && this.buf.length < this.bodyLength && HEADER_START.test(this.buf.toString('latin1'));
  }

  push(chunk: Buffer): unknown[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    return this.scan();
  }

  /** Gives up the body being waited for (its header was wrong) and rescans from the next header. */
  abandonBody(): unknown[] {
    this.skipped('a header announcing more bytes than came', this.buf.subarray(0, 80));
    this.bodyLength = undefined;
    this.dropUntilHeader(1);
    return this.scan();
  }

  private scan(): unknown[] {
    const out: unknown[] = [];
    for (;;) {
      if (this.bodyLength === undefined) {
        if (!this.dropUntilHeader(0)) return out;
        const text = this.buf.toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) {
          if (this.buf.length > MAX_HEADER) {
            this.skipped('an unterminated header', this.buf.subarray(0, 80));
            this.buf = this.buf.subarray(HEADER_START.source.length);
            continue;
          }
          return out;
        }
        const lines = text.slice(0, end).split('\r\n');
        const length = Number(/^content-length:[ \t]*(\d+)[ \t]*$/i.exec(lines[0]!)?.[1] ?? NaN);
        if (!(length <= MAX_BODY) || !lines.every((l) => /^[!-9;-~]+:[^\r\n]*$/.test(l))) {
          this.skipped('a malformed header', this.buf.subarray(0, end));
          this.buf = this.buf.subarray(end + 4);
          continue;
        }
        this.bodyLength = length;
        this.buf = this.buf.subarray(end + 4);
      }
      if (this.buf.length < this.bodyLength) return out;
      const body = this.buf.subarray(0, this.bodyLength);
      this.bodyLength = undefined;
      let message: unknown;
      try {
        message = JSON.parse(body.toString('utf8'));
      } catch {
        message = undefined;
      }
      if (typeof message === 'object' && message !== null && !Array.isArray(message)) {
        this.buf = this.buf.subarray(body.length);
        out.push(message);
      }
      // Else not a JSON object: the bytes stay and are skipped up to the next header (the header
      // may have lied about the length, and a real frame start inside them).
    }
  }

  /** Drops bytes before the next `Content-Length:` at or after `from`; false if there is none yet. */
  private dropUntilHeader(from: number): boolean {
    const text = this.buf.toString('latin1');
    const at = text.slice(from).search(HEADER_START);
    // No header yet: wait for one (reporting the garbage once, when it comes), unless that is too much to keep.
    if (at < 0 && this.buf.length <= MAX_HEADER) return false;
    // Keep a tail that may be the start of a header split across chunks.
    const cut = at < 0 ? Math.max(from, this.buf.length - 14) : from + at;
    const dropped = this.buf.subarray(0, cut);
    // Header lines before Content-Length (Content-Type) and blank lines are not worth a report.
    if (!/^(?:[!-9;-~]+:[^\r\n]*\r\n|\s)*$/.test(dropped.toString('latin1'))) this.skipped('input that is not a JSON-RPC frame', dropped.subarray(0, 80));
    this.buf = this.buf.subarray(cut);
    return at >= 0;
  }
}

export class ResyncingMessageReader extends AbstractMessageReader {
  constructor(private readonly stream: NodeJS.ReadableStream, private readonly log: (line: string) => void) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    const scanner = new FrameScanner((what, bytes) => this.log(`rpc: skipped malformed input on stdin (${what}): ${JSON.stringify(bytes.toString('utf8'))}`));
    let stallTimer: ReturnType<typeof setTimeout> | undefined;
    const deliver = (messages: unknown[]) => {
      for (const m of messages) callback(m as Message);
      if (stallTimer) clearTimeout(stallTimer);
      stallTimer = scanner.stalled ? setTimeout(() => deliver(scanner.abandonBody()), STALLED_BODY_MS) : undefined;
      stallTimer?.unref();
    };
    const onData = (chunk: Buffer | string) => deliver(scanner.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    let closed = false;
    const onClose = () => {
      if (closed) return;
      closed = true;
      this.fireClose();
    };
    const onError = (e: Error) => this.fireError(e);
    this.stream.on('data', onData);
    this.stream.on('end', onClose);
    this.stream.on('close', onClose);
    this.stream.on('error', onError);
    return Disposable.create(() => {
      if (stallTimer) clearTimeout(stallTimer);
      this.stream.off('data', onData);
      this.stream.off('end', onClose);
      this.stream.off('close', onClose);
      this.stream.off('error', onError);
    });
  }
}
