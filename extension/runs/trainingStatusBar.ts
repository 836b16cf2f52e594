// The status bar item while a run trains: name, curriculum stage (T, n), step, exact accuracy,
// samples/s. It follows the most recently started live run; a click opens its Live Training panel.
import * as vscode from 'vscode';
import type { RunEntry, RunRegistry } from './runRegistry';
import { percent } from './runsTree';

/** "$(pulse) sudoku4 · stage (T=2, n=2) · step 120/1500 · exact 12.5% · 640 samples/s" (with a curriculum: "stage 2/3 (T=2, n=4)") */
export function statusText(r: RunEntry): string {
  const f = r.series?.figures;
  const parts = [`$(pulse) ${r.name}`];
  if (r.status === 'starting' || !f?.started) return `${parts[0]} · starting…`;
  if (f.hCycles !== undefined && f.lCycles !== undefined) {
    const index = f.stages !== undefined && f.stages > 1 && f.stage !== undefined ? ` ${f.stage + 1}/${f.stages}` : '';
    parts.push(`stage${index} (T=${f.hCycles}, n=${f.lCycles})`);
  }
  parts.push(`step ${f.step}${f.totalSteps ? `/${f.totalSteps}` : ''}`);
  if (f.exactAccuracy !== undefined) parts.push(`exact ${percent(f.exactAccuracy)}`);
  if (f.samplesPerSecond !== undefined) parts.push(`${Math.round(f.samplesPerSecond).toLocaleString('en-US')} samples/s`);
  return parts.join(' · ');
}

export class TrainingStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('reclab.status', vscode.StatusBarAlignment.Left, 50);
  private readonly unsubscribe: (() => void)[];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private shown: RunEntry | undefined;

  constructor(private readonly registry: RunRegistry) {
    this.item.name = 'Recursion Lab: training run';
    this.unsubscribe = [registry.onDidChange(() => this.schedule()), registry.onDidChangeData(() => this.schedule())];
    this.update();
  }

  /** The run the item shows (the status bar click opens its panel). */
  get run(): RunEntry | undefined {
    return this.shown;
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.update();
    }, 250);
  }

  private update(): void {
    const live = this.registry.runs.filter((r) => r.live);
    // Prefer this window's trainers, then the newest (run ids start with a timestamp).
    live.sort((a, b) => Number(!!b.process?.running) - Number(!!a.process?.running) || (a.runId < b.runId ? 1 : -1));
    const r = live[0];
    this.shown = r;
    if (!r) {
      this.item.hide();
      return;
    }
    this.item.text = statusText(r) + (live.length > 1 ? ` (+${live.length - 1})` : '');
    this.item.tooltip = `Recursion Lab: ${r.runId} (${r.status}${r.process?.running ? '' : ', started outside this window'}). Click to open the Live Training panel.`;
    this.item.command = { command: 'reclab.openPanel', title: 'Open Live Panel', arguments: [r] };
    this.item.show();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const u of this.unsubscribe) u();
    this.item.dispose();
  }
}
