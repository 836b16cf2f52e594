// What the Test-Time Scaling view shows, computed from a vote report without the DOM (tested in
// test/unit/vote-view.test.ts): the results table (one line per rule, one column per table row)
// and the compute curve as uPlot-aligned series over the union of model-call counts.
import type { RuleName, VoteReport } from '../../protocol/voteReport';

export interface TableLine {
  rule: RuleName;
  label: string;
  usesLabels: boolean;
  description: string;
  /** One per report.table row, as percentages. */
  cells: string[];
  /** Index of the best column (ties: the cheapest). */
  best: number;
}

export const percent = (x: number) => `${(100 * x).toFixed(1)}%`;

export function tableLines(r: VoteReport): TableLine[] {
  return r.rules.map((rule) => {
    const values = r.table.map((row) => row.accuracy[rule.name]);
    let best = 0;
    values.forEach((v, i) => { if (v > values[best]!) best = i; });
    return {
      rule: rule.name, label: rule.usesLabels ? `${rule.name} (uses labels: upper bound)` : rule.name,
      usesLabels: rule.usesLabels, description: rule.description, cells: values.map(percent), best,
    };
  });
}

export interface CurveSeries {
  label: string;
  /** Accuracy in percent, null where the series has no point at that x. */
  values: (number | null)[];
}

/**
 * x = model calls per puzzle (sorted, distinct) over the compute curve and the depth curve; one
 * series per rule on the curve's points, and "single pass, by depth" on the depth curve's.
 */
export function curveSeries(r: VoteReport): { x: number[]; series: CurveSeries[] } {
  const xs = [...new Set([...r.curve.map((p) => p.modelCallsPerPuzzle), ...r.depth.map((d) => d.step)])].sort((a, b) => a - b);
  const at = (pairs: [number, number][]) => {
    const byX = new Map(pairs);
    return xs.map((x) => (byX.has(x) ? 100 * byX.get(x)! : null));
  };
  const series = r.rules.map((rule) => ({
    label: rule.usesLabels ? `${rule.name} (labels)` : rule.name,
    values: at(r.curve.map((p) => [p.modelCallsPerPuzzle, p.accuracy[rule.name]])),
  }));
  series.push({ label: 'single pass, by supervision steps', values: at(r.depth.map((d) => [d.step, d.accuracy])) });
  return { x: xs, series };
}

export function summaryLine(r: VoteReport): string {
  const runs = new Set(r.models.map((m) => m.run)).size;
  const ckpts = Math.max(...r.models.map((m) => m.checkpoint)) + 1;
  return `${r.puzzles.count} puzzles (${r.puzzles.source}) · ${runs} run(s) × ${ckpts} checkpoint(s) · ${r.perturbation.names.length} perturbations (${r.perturbation.kind}) · ${r.steps} steps per pass · ${r.seconds.toFixed(1)} s, ${Math.round(r.stepCallsPerSecond)} step calls/s`;
}
