// A run's progress as the panel's legend shows it: "step 1,200 / 5,000 (24%) · 3.2 min left". The
// step is the host's (the figure the status bar and the runs tree show); the time left is from the
// rate of the run's last 100 step rows. Pure: no DOM.
import type { RunView } from './runView';

const RATE_ROWS = 100;

function duration(s: number): string {
  if (s < 90) return `${Math.max(1, Math.round(s))} s`;
  if (s < 5400) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** Steps per second over the last RATE_ROWS step rows (undefined with fewer than two rows or no time passing). */
export function stepRate(r: RunView): number | undefined {
  const n = r.steps.length;
  if (n < 2) return undefined;
  const k = Math.max(0, n - 1 - RATE_ROWS);
  const dt = (r.steps.get('time', n - 1) - r.steps.get('time', k)) / 1000;
  const ds = r.steps.get('step', n - 1) - r.steps.get('step', k);
  return dt > 0 && ds > 0 ? ds / dt : undefined;
}

export function progressText(r: RunView): string {
  const d = r.descriptor;
  const step = d.step ?? (r.steps.length ? r.steps.get('step', r.steps.length - 1) : undefined);
  if (step === undefined) return '';
  const total = d.totalSteps;
  let text = `step ${step.toLocaleString('en-US')}`;
  if (total) text += ` / ${total.toLocaleString('en-US')} (${Math.min(100, Math.floor((100 * step) / total))}%)`;
  const live = d.status === 'running' || d.status === 'starting';
  const rate = stepRate(r);
  if (live && total && rate && step < total) text += ` · ${duration((total - step) / rate)} left`;
  return text;
}
