// One stop request per trainer process, however it arrives: the RPC `stop`, SIGTERM (a host, a
// scheduler's scancel), SIGINT, the host's stdin closing. The first one asks for a graceful stop
// (the run ends at its next safe point with a checkpoint, `done` "stopped", exit 0); every later
// one is the same stop. Only a person at a terminal (stdin is a TTY) pressing Ctrl-C a second time
// quits at once, exit 130, losing the steps since the last checkpoint.
import { isatty } from 'node:tty';

export type StopSource = 'SIGINT' | 'SIGTERM' | 'rpc stop' | 'stdin closed';

export const EXIT_INTERRUPTED = 130;

export class StopRequest {
  private first: StopSource | undefined;
  private installed = false;
  private readonly listeners = new Set<(source: StopSource, quitAtOnce: boolean) => void>();

  constructor(
    private readonly log: (line: string) => void = (line) => void process.stderr.write(line + '\n'),
    private readonly interactive: () => boolean = () => isatty(0),
  ) {}

  /** True once any stop has arrived; the training loop and evaluation poll it at their safe points. */
  get requested(): boolean {
    return this.first !== undefined;
  }

  /**
   * Someone who must act on the stop rather than poll it (the PyTorch engine's supervisor, which
   * passes it on to its worker): called on the first request, and with quitAtOnce just before a
   * second Ctrl-C at a terminal exits the process. Returns the unsubscribe.
   */
  onRequest(listener: (source: StopSource, quitAtOnce: boolean) => void): () => void {
    this.listeners.add(listener);
    if (this.first !== undefined) listener(this.first, false);
    return () => this.listeners.delete(listener);
  }

  request(source: StopSource): void {
    if (this.first === undefined) {
      this.first = source;
      const again = this.interactive() ? '; press Ctrl-C again to quit at once (losing the steps since the last checkpoint)' : '';
      this.log(`${source}: stopping at the next safe point (checkpoint first)${again}`);
      for (const l of this.listeners) l(source, false);
      return;
    }
    if (source === 'SIGINT' && this.interactive()) {
      this.log('SIGINT again: quitting at once');
      for (const l of this.listeners) l(source, true);
      process.exit(EXIT_INTERRUPTED);
    }
    this.log(`${source}: already stopping (${this.first} asked first)`);
  }

  /** SIGINT and SIGTERM become stop requests (once per process). */
  installSignalHandlers(): void {
    if (this.installed) return;
    this.installed = true;
    process.on('SIGINT', () => this.request('SIGINT'));
    process.on('SIGTERM', () => this.request('SIGTERM'));
  }
}

/**
 * A safe point: lets the event loop run so that signals and RPC requests that came in during a
 * long synchronous step reach the stop request (an RPC request is decoded in one turn and
 * dispatched in the next, hence two).
 */
export async function letStopRequestsIn(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
}
