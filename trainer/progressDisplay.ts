// The terminal view of a run: a cli-progress bar on a TTY (step, loss, exact accuracy,
// samples/s, ETA), plain lines otherwise (CI logs), and the evaluation table.
import cliProgress from 'cli-progress';
import type { EvalEvent, TrainerEvent } from '../protocol/events';

export function formatEvalTable(e: EvalEvent): string {
  const label = e.difficulty ?? 'blanks';
  const rows = e.byBlanks.map((b) => `  ${String(b.blanks).padStart(label.length)}  ${String(b.count).padStart(7)}  ${(100 * b.exactAccuracy).toFixed(1).padStart(7)} %`);
  const early = e.earlyExit
    ? `  early exit (at the halting rule: q_halt > 0, HRM q_halt > q_continue): ${e.earlyExit.meanSteps.toFixed(2)} steps, exact ${(100 * e.earlyExit.exactAccuracy).toFixed(2)} %, halting accuracy ${(100 * e.earlyExit.qHaltAccuracy).toFixed(1)} %`
    : undefined;
  const variance = e.gradientVariance !== null && e.gradientVariance !== undefined ? `  gradient variance V = ${e.gradientVariance.toFixed(3)}` : undefined;
  return [`${e.scope} evaluation at step ${e.step}, depth T=${e.hCycles} n=${e.lCycles} (${e.puzzles} held-out puzzles, ${e.seconds.toFixed(1)} s): exact ${(100 * e.exactAccuracy).toFixed(2)} %, token ${(100 * e.tokenAccuracy).toFixed(2)} %, q-halt ${(100 * e.qHaltAccuracy).toFixed(1)} %`,
    ...(early ? [early] : []), ...(variance ? [variance] : []),
    ...(e.path ? [`  path cells: exactly right ${(100 * e.path.exactAccuracy).toFixed(2)} %, mean IoU ${(100 * e.path.iou).toFixed(1)} %`] : []),
    ...(e.internalisation ?? []).map((c) => `  solver capped at ${c.iterations} iteration${c.iterations === 1 ? '' : 's'}${c.iterations === 0 ? ' (no solve)' : ''}: exact ${(100 * c.exactAccuracy).toFixed(2)} % (lost ${(100 * c.exactLost).toFixed(2)} points), token ${(100 * c.tokenAccuracy).toFixed(2)} % (lost ${(100 * c.tokenLost).toFixed(2)})`),
    `  ${label}  puzzles    exact`, ...rows].join('\n');
}

export class ProgressDisplay {
  private bar: cliProgress.SingleBar | undefined;
  private smoothedLoss: number | undefined;
  private trainExact: number | undefined;
  private evalExact: number | undefined;
  private lastLine = 0;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  handle(e: TrainerEvent): void {
    switch (e.type) {
      case 'run_start':
        this.log(`run ${e.runId}: ${e.config.model.arch}/${e.config.model.mixer} D=${e.config.model.hiddenSize} T=${e.config.model.hCycles} n=${e.config.model.lCycles}, ${e.parameterCount.toLocaleString('en-US')} parameters, backend ${e.backend}${e.resumed ? `, resumed at step ${e.startStep}` : ''}`);
        if (this.out.isTTY) {
          this.bar = new cliProgress.SingleBar({
            stream: this.out, etaBuffer: 50, hideCursor: true,
            format: 'step {value}/{total} [{bar}] loss {loss} | exact {exact} | {sps} samples/s | ETA {eta_formatted}',
          }, cliProgress.Presets.shades_classic);
          this.bar.start(e.totalSteps, e.startStep, this.payload(0));
        }
        break;
      case 'step': {
        const loss = e.lmLoss + 0.5 * e.qHaltLoss;
        this.smoothedLoss = this.smoothedLoss === undefined ? loss : 0.95 * this.smoothedLoss + 0.05 * loss;
        if (e.exactAccuracy !== null) this.trainExact = this.trainExact === undefined ? e.exactAccuracy : 0.9 * this.trainExact + 0.1 * e.exactAccuracy;
        if (this.bar) this.bar.update(e.step, this.payload(e.samplesPerSecond));
        else if (Date.now() - this.lastLine > 10_000) {
          this.lastLine = Date.now();
          this.out.write(`step ${e.step}: loss ${this.smoothedLoss.toFixed(4)}, train exact ${this.fmt(this.trainExact)}, ${e.samplesPerSecond.toFixed(0)} samples/s\n`);
        }
        break;
      }
      case 'eval':
        this.evalExact = e.exactAccuracy;
        this.log(formatEvalTable(e));
        break;
      case 'stage':
        if (e.stages > 1) this.log(`curriculum stage ${e.stage + 1}/${e.stages} from step ${e.step}: T=${e.hCycles}, n=${e.lCycles}`);
        break;
      case 'checkpoint':
        break;
      case 'done':
        this.bar?.stop();
        this.bar = undefined;
        this.out.write(`${e.status} at step ${e.step} after ${e.wallSeconds.toFixed(1)} s of training and evaluation\n`);
        break;
      case 'error':
        this.bar?.stop();
        this.bar = undefined;
        break;
    }
  }

  private payload(sps: number): Record<string, string> {
    const exact = this.evalExact !== undefined ? `${this.fmt(this.evalExact)} (eval)` : `${this.fmt(this.trainExact)} (train)`;
    return { loss: this.smoothedLoss?.toFixed(4) ?? '-', exact, sps: sps.toFixed(0) };
  }

  private fmt(x: number | undefined): string {
    return x === undefined ? '-' : `${(100 * x).toFixed(1)} %`;
  }

  /** A line above the bar. */
  private log(text: string): void {
    if (this.bar) {
      this.bar.stop();
      this.out.write(text + '\n');
      const total = this.bar.getTotal();
      const value = (this.bar as unknown as { value: number }).value;
      this.bar.start(total, value, this.payload(0));
    } else {
      this.out.write(text + '\n');
    }
  }
}
