// CSV of the runs a panel shows: one row per training step and one per evaluation, raw values
// (no smoothing), empty cells where a value does not exist. No vscode import.
import type { RunSeries } from '../runs/runSeries';

const header = ['run', 'kind', 'step', 'wall_time_iso', 'relative_seconds', 'lm_loss', 'q_halt_loss', 'token_accuracy',
  'exact_accuracy', 'halting_accuracy', 'grad_norm', 'samples_per_second', 'h_cycles', 'l_cycles'];

function cell(x: number): string {
  return Number.isFinite(x) ? String(x) : '';
}

function quote(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function runsToCsv(runs: { runId: string; series: RunSeries }[]): string {
  const out: string[] = [header.join(',')];
  for (const { runId, series } of runs) {
    const id = quote(runId);
    const st = series.steps;
    const t0 = st.length > 0 ? st.get('time', 0) : series.evals.length > 0 ? series.evals.get('time', 0) : 0;
    const rel = (t: number) => cell((t - t0) / 1000);
    const iso = (t: number) => (Number.isFinite(t) ? new Date(t).toISOString() : '');
    for (let i = 0; i < st.length; i++) {
      const t = st.get('time', i);
      out.push([id, 'step', cell(st.get('step', i)), iso(t), rel(t), cell(st.get('lmLoss', i)), cell(st.get('qHaltLoss', i)),
        cell(st.get('tokenAccuracy', i)), cell(st.get('exactAccuracy', i)), cell(st.get('qHaltAccuracy', i)), cell(st.get('gradNorm', i)),
        cell(st.get('samplesPerSecond', i)), cell(st.get('hCycles', i)), cell(st.get('lCycles', i))].join(','));
    }
    const ev = series.evals;
    for (let i = 0; i < ev.length; i++) {
      const t = ev.get('time', i);
      out.push([id, 'eval', cell(ev.get('step', i)), iso(t), rel(t), '', '', cell(ev.get('tokenAccuracy', i)), cell(ev.get('exactAccuracy', i)),
        cell(ev.get('qHaltAccuracy', i)), '', '', '', ''].join(','));
    }
  }
  return out.join('\n') + '\n';
}
