// The readable terminal summary of an inspection report.
import type { InspectReport } from '../../protocol/inspectReport';
import { deqMapLabel } from '../../protocol/onnxContract';

const SPARK = '▁▂▃▄▅▆▇█';

/** A log-scale sparkline of positive values (one character per value). */
export function logSparkline(values: readonly number[]): string {
  const logs = values.map((v) => Math.log10(Math.max(v, 1e-12)));
  const lo = Math.min(...logs), hi = Math.max(...logs);
  return logs.map((l) => SPARK[hi === lo ? 0 : Math.round(((l - lo) / (hi - lo)) * (SPARK.length - 1))]).join('');
}

const e = (x: number) => (Number.isFinite(x) ? x.toExponential(1) : String(x));
const pct = (a: number, b: number) => `${a}/${b} (${b ? ((100 * a) / b).toFixed(1) : '0.0'} %)`;

export function formatInspectSummary(r: InspectReport): string {
  const c = r.contract;
  const s = r.summary;
  const o = r.options;
  const lines: string[] = [];
  lines.push(`model: ${r.source.model}`);
  lines.push(`  ${c.arch}, T=${c.hCycles} n=${c.lCycles}, states ${c.states.map((x) => `${x.name} [${x.seq}x${x.width}]`).join(', ')}; task ${c.task} (L=${c.seqLen}, V=${c.vocabSize})`);
  lines.push(`puzzles: ${s.puzzles} (${r.source.puzzles}), ${o.steps} supervision steps each`);
  lines.push('');
  lines.push(`relative residual ‖Δz‖/‖z‖ per step, median over puzzles (log sparkline, steps 1..${o.steps}):`);
  for (const [name, v] of Object.entries(s.medianResidual)) {
    const picks = [0, 1, 3, 7, 15, 31, 63, 127, 255].filter((i) => i < v.length);
    lines.push(`  ${name.padEnd(6)} ${logSparkline(v)}  ${picks.map((i) => `s${i + 1} ${e(v[i]!)}`).join('  ')}`);
  }
  lines.push('');
  lines.push(`correct at step ${o.steps}: ${pct(s.correctAtEnd, s.puzzles)}`);
  const crit = Object.entries(s.criticalSteps).sort((a, b) => (a[0] === 'none' ? 1 : b[0] === 'none' ? -1 : Number(a[0]) - Number(b[0])));
  lines.push(`critical step (first step after which the answer stays right): ${crit.map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  lines.push(`right at some step, wrong at the end: ${s.rightThenLeft}`);
  lines.push(`settled (one-step residual at the end < ${e(o.settleTolerance)}): ${pct(s.settled, s.puzzles)}`);
  lines.push(`  settled on a WRONG fixed point: ${s.settledWrong}`);
  lines.push(`  never settled: ${s.neverSettled} (of which right at the end: ${s.neverSettledCorrect})`);
  if (s.spectralRadius) {
    lines.push(`spectral radius of the step map at the end state (${o.powerIterations} power iterations): median ${s.spectralRadius.median.toFixed(3)}, max ${s.spectralRadius.max.toFixed(3)}, > 1 for ${s.spectralRadius.aboveOne} puzzles`);
  }
  if (s.deq) {
    const d = s.deq;
    lines.push(`inner solve (${d.cycles} × ${d.iterations} iterations of "${d.solverExport}" within each step; trained with "${d.solverTrained}"):`);
    const last = d.medianInnerResidual.map((t) => t[t.length - 1]!);
    if (last.length) lines.push(`  last iteration's relative residual per step, median over puzzles: ${logSparkline(last)}  s1 ${e(last[0]!)}  s${last.length} ${e(last[last.length - 1]!)}`);
    if (d.innerSpectralRadius) {
      lines.push(`  spectral radius of the inner map ${deqMapLabel(c)} at the end state: median ${d.innerSpectralRadius.median.toFixed(3)}, max ${d.innerSpectralRadius.max.toFixed(3)}, > 1 for ${d.innerSpectralRadius.aboveOne} puzzles`);
    }
  }
  if (s.fixedPointsPerPuzzle) {
    const maze = c.task === 'maze';
    const symmetries = maze ? 7 : (c.sudokuSide ?? 1) - 1;
    const runs = 1 + o.perturbations + (o.relabel ? symmetries : 0);
    lines.push(`fixed-point census (${runs} runs a puzzle: unperturbed, ${o.perturbations} with noise std ${o.noiseStd} on the initial states${o.relabel ? `, ${symmetries} ${maze ? 'rotations / reflections' : 'digit relabellings'}` : ''}):`);
    lines.push(`  distinct settled fixed points per puzzle: ${Object.entries(s.fixedPointsPerPuzzle).sort((a, b) => Number(a[0]) - Number(b[0])).map(([k, v]) => `${k}: ${v} puzzles`).join(', ')}`);
    lines.push(`  puzzles with at least one wrong fixed point reached: ${s.puzzlesWithWrongFixedPoint}`);
    const unsettled = r.puzzles.reduce((a, p) => a + (p.census?.unsettled ?? 0), 0);
    const total = r.puzzles.reduce((a, p) => a + (p.census?.runs ?? 0), 0);
    lines.push(`  runs that did not settle: ${pct(unsettled, total)}`);
  }
  for (const p of r.probe) {
    lines.push(`one-unknown probe, ${p.blanks} blank${p.blanks > 1 ? 's' : ''} on ${p.puzzles} solved grids: ${p.failures} wrong at the end, ${p.rightThenLeft} right then left`);
  }
  lines.push('');
  const shown = r.puzzles.slice(0, 10);
  const deq = c.deq !== undefined;
  if (c.task === 'maze') lines.push(`valid S→G path at the end (label-free, mazeRules): ${pct(r.puzzles.filter((p) => p.violations === 0).length, r.puzzles.length)}`);
  if (deq) lines.push(`  (rho: the step map's spectral radius; inner rho: the inner map's, the solve's ${deqMapLabel(c)})`);
  lines.push(`  #  ${c.task === 'maze' ? '  path' : 'blanks'} correct critical end-residual  rho    fixed points (right/wrong)  q_halt${deq ? '  inner rho' : ''}`);
  for (const p of shown) {
    const fps = p.census ? `${p.census.fixedPoints.filter((f) => f.correct).length}/${p.census.fixedPoints.filter((f) => f.correct === false).length}` : '-';
    lines.push(`${String(p.index + 1).padStart(3)}  ${String(p.blanks).padStart(6)} ${String(p.correct ?? '?').padStart(7)} ${String(p.criticalStep ?? '-').padStart(8)} ${e(p.endResidualMax).padStart(12)}  ${p.spectralRadius === null ? '  -  ' : p.spectralRadius.toFixed(3)}  ${fps.padStart(22)}  ${p.trace.qHalt[p.trace.qHalt.length - 1]!.toFixed(2).padStart(7)}${deq ? `  ${p.deq?.innerSpectralRadius == null ? '  -' : p.deq.innerSpectralRadius.toFixed(3)}`.padStart(11) : ''}`);
  }
  if (r.puzzles.length > shown.length) lines.push(`  ... ${r.puzzles.length - shown.length} more in the JSON report`);
  lines.push(`(${r.seconds.toFixed(1)} s)`);
  return lines.join('\n');
}
