// The sweep's report: a markdown table and a self-contained HTML page (inline SVG plots, no
// scripts, no external files) of exact accuracy against training time and cumulative FLOPs.
import type { ArmSummary, RunResult } from './ablationResults';

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(2)} %` : '–');
const num = (x: number | undefined, d = 2) => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '–');
const gflop = (x: number) => (Number.isFinite(x) ? `${(x / 1e9).toFixed(0)}` : '–');

export interface SweepDescription {
  preset: string;
  steps: number;
  seeds: number;
  depth: { hCycles: number; lCycles: number };
  target: number;
  setting: string;
}

export function markdownTable(arms: ArmSummary[], sweep: SweepDescription): string {
  const head = `| arm | runs (failed) | final exact, mean ± sd | Δ vs baseline (points) | train time (s) | speedup vs baseline | speedup (median step times) | train GFLOP | FLOP ratio | time to ${pct(sweep.target)} (s, runs reaching it) | grad-variance ratio | halting acc. (early exit) | mean reasoning steps |`;
  const sep = '|' + '---|'.repeat(13);
  const rows = arms.map((a) => `| ${a.arm} | ${a.seeds} (${a.failed}) | ${pct(a.finalExactMean)} ± ${num(100 * a.finalExactSd)} | ${num(a.accuracyDeltaPoints)} | ${num(a.trainSecondsMean, 1)} | ${num(a.speedupVsBaseline)}x | ${num(a.speedupMedianBased)}x | ${gflop(a.flopsMean)} | ${num(a.flopsRatioVsBaseline)}x | ${a.secondsToTargetMean !== undefined ? `${num(a.secondsToTargetMean, 1)} (${a.reachedTarget}/${a.seeds - a.failed})` : `never (0/${a.seeds - a.failed})`} | ${num(a.gradientVarianceRatio)} | ${pct(a.haltingAccuracyMean)} | ${num(a.meanReasoningSteps)} |`);
  const stages = arms.filter((a) => a.stageStepSeconds.length > 0).map((a) => `| ${a.arm} | ${a.stageStepSeconds.map((s) => `(${s.hCycles},${s.lCycles}): ${num(s.meanSeconds, 3)} s × ${s.steps}`).join(' · ')} |`);
  return [
    `Ablation: preset ${sweep.preset}, ${sweep.setting}, base depth T=${sweep.depth.hCycles} n=${sweep.depth.lCycles}, ${sweep.steps} optimizer steps, ${sweep.seeds} seed(s) per arm.`,
    '', head, sep, ...rows, '',
    'Mean step time per curriculum stage (T, n):', '', '| arm | stages |', '|---|---|', ...stages, '',
  ].join('\n');
}

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/** One SVG line chart: a faint line per run, coloured by arm; x from `xOf`, y = exact accuracy. */
function chartSvg(title: string, xLabel: string, runs: RunResult[], armNames: string[], xOf: (p: RunResult['curve'][number]) => number): string {
  const W = 560, H = 340, L = 56, R = 16, T = 30, B = 46;
  const points = runs.flatMap((r) => r.curve.map(xOf));
  const xMax = Math.max(1e-9, ...points);
  const x = (v: number) => L + (v / xMax) * (W - L - R);
  const y = (v: number) => T + (1 - v) * (H - T - B);
  const grid = [0, 0.25, 0.5, 0.75, 1].map((v) => `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${(v * 100).toFixed(0)}%</text>`).join('');
  const xTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${x(f * xMax)}" y="${H - B + 16}" text-anchor="${f === 1 ? 'end' : 'middle'}" font-size="11">${(f * xMax).toPrecision(3)}</text>`).join('');
  const lines = runs.filter((r) => r.curve.length > 0).map((r) => {
    const colour = palette[armNames.indexOf(r.arm) % palette.length];
    const d = r.curve.map((p, i) => `${i ? 'L' : 'M'}${x(xOf(p)).toFixed(1)},${y(p.exact).toFixed(1)}`).join(' ');
    return `<path class="run" data-arm="${escapeXml(r.arm)}" d="${d}" fill="none" stroke="${colour}" stroke-width="1.6" stroke-opacity="0.8"><title>${escapeXml(`${r.arm} seed ${r.seed}`)}</title></path>`;
  }).join('');
  const legend = armNames.map((a, i) => `<g transform="translate(${L + 10 + (i % 3) * 150},${T + 12 + Math.floor(i / 3) * 16})"><rect width="12" height="3" y="-4" fill="${palette[i % palette.length]}"/><text x="18" font-size="12">${escapeXml(a)}</text></g>`).join('');
  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeXml(title)}">
<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="600">${escapeXml(title)}</text>${grid}${xTicks}
<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#333"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#333"/>
<text x="${(W + L) / 2}" y="${H - 8}" text-anchor="middle" font-size="12">${escapeXml(xLabel)}</text>${lines}${legend}</svg>`;
}

/** The report's content (summary, table, plots, stage table, failed runs): the HTML file's body and the extension's sweep report view. */
export function reportBody(arms: ArmSummary[], runs: RunResult[], sweep: SweepDescription): string {
  const armNames = arms.map((a) => a.arm);
  const ok = runs.filter((r) => r.status === 'completed');
  const table = markdownTable(arms, sweep).split('\n').filter((l) => l.startsWith('|'));
  const toHtmlTable = (lines: string[]) => {
    const cells = (l: string) => l.split('|').slice(1, -1).map((c) => escapeXml(c.trim()));
    const [head, , ...body] = lines;
    return `<table><thead><tr>${cells(head!).map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody>${body.map((l) => `<tr>${cells(l).map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  };
  const mainRows = table.slice(0, 2 + arms.length);
  const stageRows = table.slice(2 + arms.length);
  const failed = runs.filter((r) => r.status === 'failed').map((r) => `<li>${escapeXml(`${r.arm} seed ${r.seed}: ${r.error ?? 'failed'}`)}</li>`).join('');
  return `<h1>Ablation: ${escapeXml(armNames.join(', '))}</h1>
<p>Preset <b>${escapeXml(sweep.preset)}</b>, ${escapeXml(sweep.setting)}; base depth T=${sweep.depth.hCycles}, n=${sweep.depth.lCycles}; ${sweep.steps} optimizer steps; ${sweep.seeds} seed(s) per arm. Training time excludes evaluation (every arm evaluates at full depth). Accuracy: exact match on the held-out puzzles (periodic evaluations on a subset, the last point on the whole set).</p>
${toHtmlTable(mainRows)}
<div class="charts">${chartSvg('Exact accuracy vs training time', 'training time (s)', ok, armNames, (p) => p.trainSeconds)}${chartSvg('Exact accuracy vs cumulative FLOPs', 'training FLOPs (forward + backward)', ok, armNames, (p) => p.flops)}</div>
<h2>Step time per curriculum stage</h2>${stageRows.length > 2 ? toHtmlTable(stageRows) : '<p>–</p>'}
${failed ? `<h2>Failed runs</h2><ul>${failed}</ul>` : ''}`;
}

export function htmlReport(arms: ArmSummary[], runs: RunResult[], sweep: SweepDescription): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Recursion Lab ablation — ${escapeXml(sweep.preset)}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:12px 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:16px}</style></head>
<body>${reportBody(arms, runs, sweep)}
</body></html>
`;
}
