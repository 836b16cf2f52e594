// The Fixed-Point Debugging panel (webview). It receives an inspection report (checked by
// protocol/fixedPointMessages.ts) and shows, for the selected puzzle: the residual traces per
// state (log-y) with the median over all puzzles, q_halt per step, the spectral radius, the
// answer grid at a selected step, the answer-state trajectory on its two principal components
// with the noisy-start runs overlaid (each fixed point its own colour, right vs wrong marked),
// and the fixed-point census as a table; plus the one-unknown probe. Selection survives reloads.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import 'uplot/dist/uPlot.min.css';
import './fixedpoint.css';
import uPlot from 'uplot';
import * as z from 'zod';
import { fixedPointStateOf, parseToFixedPointMessage, type FixedPointPanelState, type FromFixedPointMessage } from '../../protocol/fixedPointMessages';
import type { InspectReport, PuzzleInspection } from '../../protocol/inspectReport';
import { h } from '../shared/dom';
import { readTheme, watchTheme, withAlpha, type Theme } from '../training/theme';
import { answerGrid, censusAnswerText, innerSolveTrace, mazeAnswerGrid, pickerPuzzles, puzzleLabel, runColourIndex, spectralRadiusRows, summaryLine, termExplanations, traceTitles, trajectoryBounds } from './viewModel';

interface VsCodeApi {
  postMessage(message: FromFixedPointMessage): void;
  getState(): unknown;
  setState(state: FixedPointPanelState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

// The report schema (protocol/inspectReport.ts) runs here; the page's CSP refuses eval, so zod must not try its compiled fast path.
z.config({ jitless: true });

const sci = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toExponential(2));

class FixedPointApp {
  private readonly state: FixedPointPanelState;
  private report: InspectReport | undefined;
  private theme: Theme = readTheme();
  private charts: uPlot[] = [];
  private readonly $: <T extends HTMLElement>(id: string) => T = (id) => document.getElementById(id) as never;

  constructor(private readonly vscode: VsCodeApi) {
    this.state = fixedPointStateOf(vscode.getState());
    // The fixed skeleton is the only markup; every value from a report or message goes in as text (shared/dom.ts).
    document.body.innerHTML = `
      <div class="toolbar" role="toolbar">
        <label>Puzzle <vscode-single-select id="puzzle" class="puzzle"></vscode-single-select></label>
        <label title="List only the puzzles that settle on a wrong answer or whose census reaches a wrong fixed point"><input id="wrong-only" type="checkbox"> Wrong fixed points only</label>
        <label>Step <input id="step" type="range" min="1" max="1" value="1"><span id="step-value"></span></label>
        <vscode-button id="rerun" secondary>Re-run inspection</vscode-button>
        <vscode-button id="open-report" secondary>Open JSON</vscode-button>
        <span id="note" role="status"></span>
      </div>
      <p id="summary" class="summary"></p>
      <p id="empty" class="empty">Waiting for an inspection report…</p>
      <div id="content" class="content" hidden>
        <section class="panel wide"><h3>${traceTitles.acrossSteps}</h3><div id="residuals" class="chart"></div><div id="residuals-key" class="key"></div></section>
        <section id="inner-panel" class="panel wide" hidden><h3 id="inner-title"></h3><div id="inner" class="chart"></div><div id="inner-key" class="key"></div></section>
        <section class="panel"><h3>q_halt per step</h3><div id="qhalt" class="chart"></div></section>
        <section class="panel"><h3>Stability at the end state</h3><dl id="stability" class="facts"></dl></section>
        <section class="panel"><h3>Answer at step <span id="grid-step"></span></h3><div id="grid"></div><div id="grid-key" class="key">bold: given · green: right · red: wrong · underline: clashes with its row, column or box</div></section>
        <section class="panel"><h3>Trajectory of <span id="answer-state"></span> on its first two principal components</h3><canvas id="pca" width="420" height="320"></canvas><div id="pca-key" class="key"></div></section>
        <section class="panel wide"><h3>Fixed-point census</h3><p id="census-key" class="key">${termExplanations.census}.</p><div id="census"></div></section>
        <section class="panel wide"><h3>One-unknown probe (solved grids with 1, 2, 3 blanks)</h3><div id="probe"></div></section>
      </div>`;
    const puzzle = this.$<HTMLElement & { value: string }>('puzzle');
    puzzle.addEventListener('change', () => {
      this.state.puzzle = Number(puzzle.value) || 0;
      this.save();
      this.render();
    });
    const wrongOnly = this.$<HTMLInputElement>('wrong-only');
    wrongOnly.checked = this.state.wrongOnly;
    wrongOnly.addEventListener('change', () => {
      this.state.wrongOnly = wrongOnly.checked;
      this.save();
      if (!this.report) return;
      this.fillPicker();
      this.render();
    });
    const step = this.$<HTMLInputElement>('step');
    step.addEventListener('input', () => {
      this.state.step = Number(step.value) - 1;
      this.save();
      this.renderStep();
      if (this.report && this.puzzle) this.renderInner(this.report, this.puzzle);
    });
    this.$('rerun').addEventListener('click', () => this.vscode.postMessage({ type: 'rerun' }));
    this.$('open-report').addEventListener('click', () => this.vscode.postMessage({ type: 'openReport' }));
    window.addEventListener('message', (e: MessageEvent) => this.onMessage(e.data));
    watchTheme(() => { this.theme = readTheme(); this.render(); });
    let resize: ReturnType<typeof setTimeout> | undefined;
    window.addEventListener('resize', () => { clearTimeout(resize); resize = setTimeout(() => this.render(), 100); });
    this.vscode.postMessage({ type: 'ready' });
  }

  private save(): void {
    this.vscode.setState(this.state);
  }

  private note(text: string, error = false): void {
    const n = this.$('note');
    n.textContent = text;
    n.classList.toggle('error', error);
  }

  private onMessage(raw: unknown): void {
    const parsed = parseToFixedPointMessage(raw);
    if (!parsed.ok) {
      this.note(`message rejected: ${parsed.error}`, true);
      return;
    }
    const m = parsed.message;
    this.state.target = m.target;
    if (m.type === 'inspecting') {
      this.note(`inspecting ${m.target} on onnxruntime-node…`);
      if (!this.report) this.$('empty').textContent = 'Running the inspection in the trainer process…';
    } else if (m.type === 'failed') {
      this.note('inspection failed', true);
      const empty = this.$('empty');
      empty.hidden = false;
      empty.replaceChildren(h('pre', { class: 'error' }, m.message));
      this.$('content').hidden = true;
    } else {
      this.report = m.report;
      this.state.reportPath = m.reportPath;
      if (this.state.puzzle >= m.report.puzzles.length) this.state.puzzle = 0;
      if (this.state.step >= m.report.options.steps) this.state.step = m.report.options.steps - 1;
      this.note(`${m.report.puzzles.length} puzzles · ${m.report.seconds.toFixed(1)} s · ${m.reportPath}`);
      this.fillPicker();
      this.render();
    }
    this.save();
  }

  private fillPicker(): void {
    const r = this.report!;
    const select = this.$<HTMLElement & { value: string }>('puzzle');
    const shown = pickerPuzzles(r.puzzles, this.state.wrongOnly);
    if (shown.length && !shown.includes(this.state.puzzle)) this.state.puzzle = shown[0]!;
    select.replaceChildren(...(shown.length
      ? shown.map((i) => h('vscode-option', i === this.state.puzzle ? { value: String(i), selected: '' } : { value: String(i) }, puzzleLabel(r.puzzles[i]!, r.contract.task)))
      : [h('vscode-option', { value: '', disabled: '' }, 'no puzzle has a wrong fixed point')]));
    select.dataset['shown'] = String(shown.length);
    select.value = String(this.state.puzzle);
    const step = this.$<HTMLInputElement>('step');
    step.max = String(r.options.steps);
    step.value = String(this.state.step + 1);
  }

  private get puzzle(): PuzzleInspection | undefined {
    return this.report?.puzzles[this.state.puzzle];
  }

  private render(): void {
    const r = this.report;
    const p = this.puzzle;
    if (!r || !p) return;
    this.$('empty').hidden = true;
    this.$('content').hidden = false;
    this.$('summary').textContent = summaryLine(r);
    this.$('answer-state').textContent = r.contract.answerState ? `the answer state ${r.contract.answerState}` : 'the answer state';
    for (const c of this.charts) c.destroy();
    this.charts = [];
    this.renderResiduals(r, p);
    this.renderInner(r, p);
    this.renderQHalt(p);
    this.renderStability(r, p);
    this.renderCensus(p, r.contract.task);
    this.renderProbe(r);
    const maze = r.contract.task === 'maze';
    this.$('census-key').textContent = `${maze ? termExplanations.mazeCensus : termExplanations.census}.`;
    this.$('grid-key').textContent = maze
      ? 'dark: wall · S / G: start and goal · shaded: the answer\'s path (green dot: on the true path; red ✗: not on it) · dashed red: a true path cell left out · red outline: a wall, S or G the answer does not keep'
      : 'bold: given · green: right · red: wrong · underline: clashes with its row, column or box';
    this.renderStep();
  }

  private chartWidth(id: string): number {
    return Math.max(240, (this.$(id).parentElement?.clientWidth ?? 480) - 24);
  }

  private axes(): uPlot.Axis[] {
    const t = this.theme;
    const axis = (o: Partial<uPlot.Axis> = {}): uPlot.Axis => ({ stroke: t.muted, font: t.font, grid: { stroke: t.grid, width: 1 }, ticks: { stroke: t.grid, width: 1, size: 4 }, ...o });
    return [axis(), axis({ size: 64, values: (_u, splits) => splits.map((v) => (v == null ? '' : Math.abs(v) < 1e-2 || Math.abs(v) >= 1e4 ? v.toExponential(0) : String(+v.toPrecision(3)))) })];
  }

  private renderResiduals(r: InspectReport, p: PuzzleInspection): void {
    const states = r.contract.states.map((s) => s.name);
    const steps = Array.from({ length: r.options.steps }, (_, i) => i + 1);
    const positive = (v: number[]) => v.map((x) => (x > 0 && Number.isFinite(x) ? x : null)); // null in JSON for NaN
    const series: uPlot.Series[] = [{ label: 'step' }];
    const data: (number | null)[][] = [steps];
    states.forEach((s, i) => {
      const colour = this.theme.palette[i % this.theme.palette.length]!;
      series.push({ label: s, stroke: colour, width: 2 });
      data.push(positive(p.trace.residuals[s]!));
      series.push({ label: `${s} (median of all puzzles)`, stroke: withAlpha(colour, 0.5), width: 1, dash: [4, 4] });
      data.push(positive(r.summary.medianResidual[s] ?? []));
    });
    const el = this.$('residuals');
    el.replaceChildren();
    this.charts.push(new uPlot({
      width: this.chartWidth('residuals'), height: 240, series, axes: this.axes(),
      scales: { x: { time: false }, y: { distr: 3, log: 10 } }, legend: { show: false }, cursor: { points: { show: false } },
    }, data as uPlot.AlignedData, el));
    // For tests and tools: how many residual values the chart holds.
    el.dataset['points'] = String(data.slice(1).reduce((a, d) => a + d.filter((x) => x !== null).length, 0));
    this.$('residuals-key').textContent = states.map((s) => `── ${s}   ╌╌ ${s} median over ${r.puzzles.length} puzzles`).join('    ');
  }

  /** DEQ models: the inner solve's residual per iteration within the selected step, beside the per-step trace. */
  private renderInner(r: InspectReport, p: PuzzleInspection): void {
    const t = innerSolveTrace(r, p, this.state.step);
    const panel = this.$('inner-panel');
    panel.hidden = !t;
    const el = this.$('inner');
    const old = this.charts.findIndex((c) => c.root.parentElement === el);
    if (old >= 0) this.charts.splice(old, 1)[0]!.destroy();
    el.replaceChildren();
    if (!t) return;
    this.$('inner-title').textContent = traceTitles.innerSolve(t.step);
    const colour = this.theme.palette[1 % this.theme.palette.length]!;
    this.charts.push(new uPlot({
      width: this.chartWidth('inner'), height: 200, axes: this.axes(), legend: { show: false }, cursor: { points: { show: false } },
      scales: { x: { time: false }, y: { distr: 3, log: 10 } },
      series: [{ label: 'iteration' }, { label: 'this puzzle', stroke: colour, width: 2, points: { show: true, size: 4 } },
        { label: 'median of all puzzles', stroke: withAlpha(colour, 0.5), width: 1, dash: [4, 4] }],
    }, [t.iterations, t.residuals, t.median] as uPlot.AlignedData, el));
    el.dataset['points'] = String(t.residuals.filter((x) => x !== null).length);
    el.dataset['step'] = String(t.step);
    this.$('inner-key').textContent = `── this puzzle   ╌╌ median over ${r.puzzles.length} puzzles · x: iteration within step ${t.step}${t.cycleStarts.length ? ` (new cycle's solve at ${t.cycleStarts.join(', ')})` : ''} · ${t.key}`;
  }

  private renderQHalt(p: PuzzleInspection): void {
    const el = this.$('qhalt');
    el.replaceChildren();
    const steps = p.trace.qHalt.map((_, i) => i + 1);
    this.charts.push(new uPlot({
      width: this.chartWidth('qhalt'), height: 180, axes: this.axes(), legend: { show: false }, cursor: { points: { show: false } },
      scales: { x: { time: false } },
      series: [{}, { label: 'q_halt', stroke: this.theme.palette[2], width: 2, points: { show: true, size: 4 } }],
    }, [steps, p.trace.qHalt] as uPlot.AlignedData, el));
  }

  private renderStability(r: InspectReport, p: PuzzleInspection): void {
    const rows: [string, string][] = [
      ...spectralRadiusRows(r, p),
      ['one-step residual at the end', `${sci(p.endResidualMax)} (${Object.entries(p.endResidual).map(([k, v]) => `${k} ${sci(v)}`).join(', ')})`],
      ['settled', p.settled ? `yes (< ${sci(r.options.settleTolerance)})` : 'no'],
      ['right at the end', p.correct === null ? 'unknown (no solution)' : p.correct ? 'yes' : 'no'],
      ['critical step', `${p.criticalStep === null ? '–' : String(p.criticalStep)} — ${termExplanations.criticalStep}`],
      ['right, then left', p.rightThenLeft ? 'yes' : 'no'],
      r.contract.task === 'maze'
        ? ['valid path at the end', `${p.violations === null ? '–' : p.violations === 0 ? 'yes' : 'no'} — ${termExplanations.mazeValidity}`]
        : ['constraint violations at the end', p.violations === null ? '–' : String(p.violations)],
    ];
    this.$('stability').replaceChildren(...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  }

  private renderStep(): void {
    const p = this.puzzle;
    if (!p) return;
    const step = Math.min(this.state.step, p.trace.answers.length - 1);
    this.$('step-value').textContent = `${step + 1} / ${p.trace.answers.length}`;
    const v = p.trace.violations[step] ?? null;
    const check = this.report?.contract.task === 'maze' ? (v === null ? '–' : v === 0 ? 'a valid path' : 'not a valid path') : `violations ${v ?? '–'}`;
    this.$('grid-step').textContent = `${step + 1} (q_halt ${p.trace.qHalt[step]!.toFixed(2)}, ${check})`;
    const grid = this.$('grid');
    if (this.report?.contract.task === 'maze') {
      const m = mazeAnswerGrid(p, step);
      const rows = Array.from({ length: m.side }, (_, r) => h('tr', {}, ...Array.from({ length: m.side }, (_, c) => {
        const cell = m.cells[r * m.side + c]!;
        const text = cell.ground === 'start' ? 'S' : cell.ground === 'goal' ? 'G' : cell.mark === 'right' ? '•' : cell.mark === 'extra' ? '✗' : '';
        return h('td', { class: `${cell.ground}${cell.path ? ' path' : ''}${cell.mark ? ` ${cell.mark}` : ''}${cell.broken ? ' broken' : ''}` }, text);
      })));
      grid.replaceChildren(h('table', { class: `grid maze${m.side > 12 ? ' small' : ''}` }, ...rows));
      // For tests: what the maze grid draws.
      Object.assign(grid.dataset, { task: 'maze', side: String(m.side), walls: String(m.counts.walls), path: String(m.counts.path), pathRight: String(m.counts.right), pathExtra: String(m.counts.extra), pathMissing: String(m.counts.missing), broken: String(m.counts.broken), step: String(step) });
    } else {
      const { side, cells } = answerGrid(p, step);
      const box = side === 9 ? 3 : 2;
      const rows = Array.from({ length: side }, (_, r) => h('tr', {}, ...Array.from({ length: side }, (_, c) => {
        const cell = cells[r * side + c]!;
        const edges = `${c % box === box - 1 && c < side - 1 ? ' box-right' : ''}${r % box === box - 1 && r < side - 1 ? ' box-bottom' : ''}`;
        return h('td', { class: `${cell.kind}${cell.conflict ? ' conflict' : ''}${edges}` }, cell.text);
      })));
      grid.replaceChildren(h('table', { class: `grid side-${side}` }, ...rows));
    }
    this.drawTrajectory(p, step);
  }

  private drawTrajectory(p: PuzzleInspection, step: number): void {
    const canvas = this.$<HTMLCanvasElement>('pca');
    const ctx = canvas.getContext('2d');
    const b = trajectoryBounds(p);
    const t = p.trajectory;
    if (!ctx || !b || !t) return;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.min(560, this.chartWidth('pca')), h = Math.round(w * 0.75);
    canvas.style.width = `${w}px`;
    canvas.style.height = `${h}px`;
    canvas.width = w * dpr;
    canvas.height = h * dpr;
    ctx.scale(dpr, dpr);
    ctx.clearRect(0, 0, w, h);
    const pad = 12;
    const X = (x: number) => pad + ((x - b.xMin) / (b.xMax - b.xMin)) * (w - 2 * pad);
    const Y = (y: number) => h - pad - ((y - b.yMin) / (b.yMax - b.yMin)) * (h - 2 * pad);
    const palette = this.theme.palette;
    const fps = p.census?.fixedPoints ?? [];
    const path = (pts: [number, number][], colour: string, width: number) => {
      ctx.strokeStyle = colour;
      ctx.lineWidth = width;
      ctx.beginPath();
      pts.forEach(([x, y], i) => (i ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
      ctx.stroke();
    };
    // The end of a run: a filled disc on a right fixed point, a cross on a wrong one, a ring when unsettled.
    const endMark = (pt: [number, number], colour: string, fixedPoint: number | null) => {
      const [x, y] = [X(pt[0]), Y(pt[1])];
      ctx.strokeStyle = colour;
      ctx.fillStyle = colour;
      ctx.lineWidth = 2;
      const fp = fixedPoint === null ? undefined : fps[fixedPoint];
      ctx.beginPath();
      if (fp?.correct === false) {
        ctx.moveTo(x - 5, y - 5); ctx.lineTo(x + 5, y + 5); ctx.moveTo(x + 5, y - 5); ctx.lineTo(x - 5, y + 5);
        ctx.stroke();
      } else if (fp) {
        ctx.arc(x, y, 4, 0, 2 * Math.PI);
        ctx.fill();
      } else {
        ctx.arc(x, y, 4, 0, 2 * Math.PI);
        ctx.stroke();
      }
    };
    for (const run of t.perturbed) {
      const k = runColourIndex(run.fixedPoint, palette.length);
      const colour = k < 0 ? this.theme.muted : palette[k]!;
      path(run.points, withAlpha(colour, 0.45), 1);
      const last = run.points[run.points.length - 1];
      if (last) endMark(last, colour, run.fixedPoint);
    }
    const mainIndex = fps.findIndex((f) => f.includesUnperturbed);
    path(t.main, this.theme.foreground, 2);
    const at = t.main[Math.min(step + 1, t.main.length - 1)]!; // main[0] is z_0
    ctx.fillStyle = this.theme.foreground;
    ctx.beginPath();
    ctx.arc(X(t.main[0]![0]), Y(t.main[0]![1]), 3, 0, 2 * Math.PI);
    ctx.fill();
    endMark(t.main[t.main.length - 1]!, this.theme.foreground, mainIndex < 0 ? null : mainIndex);
    ctx.strokeStyle = palette[1]!;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(X(at[0]), Y(at[1]), 7, 0, 2 * Math.PI);
    ctx.stroke();
    this.$('pca-key').textContent = `PC1 ${(100 * t.explained[0]).toFixed(0)} %, PC2 ${(100 * t.explained[1]).toFixed(0)} % of the unperturbed run's variance · `
      + `bold: unperturbed run (ring: selected step) · faint: ${t.perturbed.length} noisy starts, coloured by fixed point · ● right fixed point, ✕ wrong, ○ not settled`;
  }

  private renderCensus(p: PuzzleInspection, task: string): void {
    const c = p.census;
    if (!c) {
      this.$('census').textContent = 'No census in this report (run with --perturbations N or relabellings).';
      return;
    }
    const palette = this.theme.palette;
    const rows = c.fixedPoints.map((f, i) => {
      const swatch = h('span', { class: 'swatch' });
      // Colours through the CSSOM: the CSP refuses inline style attributes in markup.
      swatch.style.background = palette[runColourIndex(i, palette.length)] ?? '';
      return h('tr', {},
        h('td', {}, swatch, ` ${i + 1}`),
        h('td', { class: 'mono' }, censusAnswerText(f.answer, task)),
        h('td', { class: f.correct ? 'ok' : f.correct === false ? 'bad' : '' }, f.correct === null ? '?' : f.correct ? 'right' : 'wrong'),
        h('td', {}, f.violations ?? '–'), h('td', {}, f.reached), h('td', {}, `${f.byNoise}${f.includesUnperturbed ? ' (incl. unperturbed)' : ''}`),
        h('td', {}, f.byRelabel), h('td', {}, f.stateClusters));
    });
    const head = ['fixed point', 'answer', '', task === 'maze' ? 'invalid' : 'violations', 'runs', 'noisy starts', task === 'maze' ? 'rotations / reflections' : 'relabellings', 'distinct end states'];
    this.$('census').replaceChildren(
      h('table', { class: 'table' }, h('thead', {}, h('tr', {}, ...head.map((t) => h('th', {}, t)))), h('tbody', {}, ...rows)),
      h('p', { class: 'key' }, `${c.runs} runs; ${c.unsettled} did not settle (${c.unsettledCorrect} of them right at the end).`));
  }

  private renderProbe(r: InspectReport): void {
    const head = ['blanks', 'grids', 'right at the end', 'wrong at the end', 'right, then left'];
    this.$('probe').replaceChildren(r.probe.length === 0 ? (r.contract.task === 'maze' ? 'No probe for a maze model (blanking cells of a solved maze poses no maze).' : 'No probe in this report.') : h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, ...head.map((t) => h('th', {}, t)))),
      h('tbody', {}, ...r.probe.map((p) => h('tr', {},
        h('td', {}, p.blanks), h('td', {}, p.puzzles), h('td', {}, p.correctAtEnd),
        h('td', { class: p.failures ? 'bad' : '' }, p.failures), h('td', { class: p.rightThenLeft ? 'bad' : '' }, p.rightThenLeft))))));
  }
}

new FixedPointApp(acquireVsCodeApi());
