// The Live Training panel (webview). It receives typed messages from the extension host, checks
// every one (protocol/webviewMessages.ts), keeps each run's tables (RunView) and draws four uPlot
// charts; its settings and runs survive a reload through the webview state.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import 'uplot/dist/uPlot.min.css';
import './training.css';
import {
  parseToWebviewMessage, xAxisModes, type FromWebviewMessage, type RunDescriptor, type ToWebviewMessage, type TrainingPanelState, type XAxisMode,
} from '../../protocol/webviewMessages';
import { chartSpecs, solverChartSpecs } from './chartSpecs';
import { progressText } from './progress';
import { MetricChart, type ChartInputs } from './metricChart';
import { PanelRuns } from './panelRuns';
import { readTheme, watchTheme, type Theme } from './theme';

interface VsCodeApi {
  postMessage(message: FromWebviewMessage): void;
  getState(): unknown;
  setState(state: TrainingPanelState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const DEFAULT_SMOOTHING = 0.6;
const PALETTE_SIZE = 6;

function loadState(raw: unknown): TrainingPanelState {
  const s: TrainingPanelState = { keys: [], smoothing: DEFAULT_SMOOTHING, logY: false, xAxis: 'step', colours: {}, hidden: [], groupByArm: false };
  if (typeof raw !== 'object' || raw === null) return s;
  const o = raw as Record<string, unknown>;
  if (typeof o['panelId'] === 'string') s.panelId = o['panelId'];
  if (Array.isArray(o['keys'])) s.keys = o['keys'].filter((k): k is string => typeof k === 'string');
  if (typeof o['smoothing'] === 'number' && o['smoothing'] >= 0 && o['smoothing'] < 1) s.smoothing = o['smoothing'];
  if (typeof o['logY'] === 'boolean') s.logY = o['logY'];
  if ((xAxisModes as readonly unknown[]).includes(o['xAxis'])) s.xAxis = o['xAxis'] as XAxisMode;
  if (Array.isArray(o['hidden'])) s.hidden = o['hidden'].filter((k): k is string => typeof k === 'string' && k.length < 128).slice(0, 64);
  if (typeof o['groupByArm'] === 'boolean') s.groupByArm = o['groupByArm'];
  if (typeof o['colours'] === 'object' && o['colours'] !== null) {
    for (const [k, v] of Object.entries(o['colours'] as Record<string, unknown>)) if (typeof v === 'number' && Number.isInteger(v) && v >= 0) s.colours[k] = v;
  }
  return s;
}

class TrainingPanelApp {
  private readonly state: TrainingPanelState;
  private readonly panelRuns = new PanelRuns();
  private readonly charts: MetricChart[] = [];
  /** The DEQ solver charts: hidden, and not drawn, unless the panel holds a run with solver rows. */
  private readonly solverCharts: MetricChart[] = [];
  private theme: Theme = readTheme();
  private zoom: [number, number] | undefined;
  private frame = 0;
  private nextRequest = 1;
  private readonly pending = new Map<number, (ok: boolean, message: string) => void>();
  private readonly el: {
    smoothing: HTMLInputElement; smoothingValue: HTMLElement; xAxis: HTMLElement & { value: string }; logY: HTMLElement & { checked: boolean }; groupByArm: HTMLElement & { checked: boolean };
    addRuns: HTMLElement; exportCsv: HTMLElement; note: HTMLElement; legend: HTMLElement; charts: HTMLElement; empty: HTMLElement;
  };

  constructor(private readonly vscode: VsCodeApi) {
    this.state = loadState(vscode.getState());
    document.body.innerHTML = `
      <div class="toolbar" role="toolbar">
        <label class="smoothing" title="TensorBoard smoothing: debiased exponential moving average">Smoothing
          <input id="smoothing" type="range" min="0" max="0.999" step="0.001"><span id="smoothing-value"></span></label>
        <label class="x-axis">x-axis
          <vscode-single-select id="x-axis">
            <vscode-option value="step">Step</vscode-option>
            <vscode-option value="relative">Relative time</vscode-option>
            <vscode-option value="wall">Wall time</vscode-option>
          </vscode-single-select></label>
        <vscode-checkbox id="log-y" label="Log scale (loss, gradient)"></vscode-checkbox>
        <vscode-checkbox id="group-by-arm" label="Group by arm (mean ± sd over seeds)" title="The runs of each ablation arm as one line, the mean over their seeds, with a band of ± one standard deviation"></vscode-checkbox>
        <vscode-button id="add-runs" secondary>Add runs…</vscode-button>
        <vscode-button id="export-csv" secondary>Export CSV</vscode-button>
        <span id="note" role="status"></span>
      </div>
      <div id="legend" class="legend"></div>
      <p id="empty" class="empty">No runs in this panel. Start one with <b>Recursion Lab: Start Training</b>, or <b>Add runs…</b></p>
      <div id="charts" class="charts"></div>`;
    const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
    this.el = {
      smoothing: $('smoothing'), smoothingValue: $('smoothing-value'), xAxis: $('x-axis'), logY: $('log-y'), groupByArm: $('group-by-arm'),
      addRuns: $('add-runs'), exportCsv: $('export-csv'), note: $('note'), legend: $('legend'), charts: $('charts'), empty: $('empty'),
    };
    const callbacks = { onZoom: (r: [number, number] | undefined) => this.setZoom(r), onToggle: (id: string) => this.toggleSeries(id) };
    for (const spec of chartSpecs) this.charts.push(new MetricChart(spec, this.el.charts, callbacks));
    for (const spec of solverChartSpecs) {
      const chart = new MetricChart(spec, this.el.charts, callbacks);
      chart.root.hidden = true;
      this.solverCharts.push(chart);
    }
    this.bindControls();
    window.addEventListener('message', (ev: MessageEvent<unknown>) => this.receive(ev.data));
    watchTheme(() => {
      this.theme = readTheme();
      this.scheduleRender();
    });
    new ResizeObserver(() => this.scheduleRender()).observe(this.el.charts);
    this.renderLegend();
    this.post({ type: 'ready' });
  }

  private bindControls(): void {
    const { smoothing, smoothingValue, xAxis, logY } = this.el;
    smoothing.value = String(this.state.smoothing);
    smoothingValue.textContent = this.state.smoothing.toFixed(3);
    smoothing.addEventListener('input', () => {
      const v = Number(smoothing.value);
      this.state.smoothing = Number.isFinite(v) ? Math.min(0.999, Math.max(0, v)) : DEFAULT_SMOOTHING;
      smoothingValue.textContent = this.state.smoothing.toFixed(3);
      this.saveState();
      this.scheduleRender();
    });
    xAxis.value = this.state.xAxis;
    xAxis.addEventListener('change', () => {
      const v = xAxis.value;
      if (!(xAxisModes as readonly string[]).includes(v)) return;
      this.state.xAxis = v as XAxisMode;
      this.zoom = undefined;
      this.saveState();
      this.scheduleRender();
    });
    logY.checked = this.state.logY;
    logY.addEventListener('change', () => {
      this.state.logY = !!logY.checked;
      this.saveState();
      this.scheduleRender();
    });
    const group = this.el.groupByArm;
    group.checked = this.state.groupByArm;
    group.addEventListener('change', () => {
      this.state.groupByArm = !!group.checked;
      this.saveState();
      this.scheduleRender();
    });
    this.el.addRuns.addEventListener('click', () => this.request('addRuns'));
    this.el.exportCsv.addEventListener('click', () => this.request('exportCsv'));
  }

  private toggleSeries(id: string): void {
    const hidden = new Set(this.state.hidden);
    if (hidden.has(id)) hidden.delete(id);
    else hidden.add(id);
    this.state.hidden = [...hidden];
    this.saveState();
    this.scheduleRender();
  }

  private post(m: FromWebviewMessage): void {
    this.vscode.postMessage(m);
  }

  private request(type: 'addRuns' | 'exportCsv'): void {
    const requestId = this.nextRequest++;
    this.pending.set(requestId, (ok, message) => this.note(message, !ok));
    this.post({ type, requestId });
  }

  private note(text: string, isError = false): void {
    this.el.note.textContent = text;
    this.el.note.classList.toggle('error', isError);
  }

  private receive(raw: unknown): void {
    const parsed = parseToWebviewMessage(raw);
    if (!parsed.ok) {
      console.warn(`Live Training: ignored a malformed message (${parsed.error})`);
      this.note(`ignored a malformed message: ${parsed.error}`, true);
      return;
    }
    this.handle(parsed.message);
  }

  private handle(m: ToWebviewMessage): void {
    switch (m.type) {
      case 'runs':
        this.state.panelId = m.panelId;
        this.setRuns(m.runs);
        break;
      case 'steps':
      case 'evals':
      case 'solver':
        if (this.panelRuns.applyRows(m)) this.scheduleRender();
        break;
      case 'reply': {
        const done = this.pending.get(m.inReplyTo);
        this.pending.delete(m.inReplyTo);
        done?.(m.ok, m.message);
        break;
      }
    }
  }

  private setRuns(runs: RunDescriptor[]): void {
    const keys = new Set(runs.map((r) => r.key));
    this.panelRuns.setRuns(runs, (k) => this.colourFor(k));
    this.state.keys = this.panelRuns.order;
    for (const k of Object.keys(this.state.colours)) if (!keys.has(k)) delete this.state.colours[k];
    this.saveState();
    this.renderLegend();
    this.scheduleRender();
  }

  /** A run keeps its colour for as long as the panel shows it (saved in the state). */
  private colourFor(key: string): number {
    const saved = this.state.colours[key];
    if (saved !== undefined) return saved;
    const used = new Map<number, number>();
    for (const r of this.panelRuns.byKey.values()) used.set(r.colour % PALETTE_SIZE, (used.get(r.colour % PALETTE_SIZE) ?? 0) + 1);
    let best = 0;
    for (let i = 0; i < PALETTE_SIZE; i++) if ((used.get(i) ?? 0) < (used.get(best) ?? 0)) best = i;
    this.state.colours[key] = best;
    return best;
  }

  private renderLegend(): void {
    const legend = this.el.legend;
    legend.replaceChildren();
    for (const r of this.panelRuns.list) {
      const key = r.key;
      const item = document.createElement('span');
      item.className = `run status-${r.descriptor.status}`;
      item.dataset['key'] = key;
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = this.theme.palette[r.colour % this.theme.palette.length]!;
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = r.descriptor.name;
      name.title = `${r.descriptor.runId}${r.descriptor.preset ? ` · ${r.descriptor.preset}` : ''}\n${key}`;
      const status = document.createElement('span');
      status.className = 'status';
      status.textContent = r.descriptor.status;
      const progress = document.createElement('span');
      progress.className = 'progress';
      progress.textContent = progressText(r);
      const remove = document.createElement('button');
      remove.className = 'remove';
      remove.title = 'Remove from this panel';
      remove.textContent = '×';
      remove.addEventListener('click', () => this.post({ type: 'removeRun', key }));
      if (r.descriptor.arm) item.dataset['arm'] = r.descriptor.arm;
      item.append(swatch, name, status, progress, remove);
      legend.append(item);
    }
    this.el.empty.hidden = this.panelRuns.order.length > 0;
  }

  private setZoom(range: [number, number] | undefined): void {
    this.zoom = range;
    this.scheduleRender();
  }

  private saveState(): void {
    this.vscode.setState({ ...this.state, keys: [...this.state.keys], colours: { ...this.state.colours }, hidden: [...this.state.hidden] });
  }

  private scheduleRender(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Redraws every chart now; returns the milliseconds it took. */
  render(): number {
    const t0 = performance.now();
    const runs = this.panelRuns.list;
    const live = runs.find((r) => r.descriptor.status === 'running' || r.descriptor.status === 'starting');
    const inputs: ChartInputs = {
      runs, smoothing: this.state.smoothing, logY: this.state.logY, xMode: this.state.xAxis, zoom: this.zoom,
      bandsRun: live ?? runs[0], theme: this.theme, hidden: new Set(this.state.hidden), groupByArm: this.state.groupByArm,
    };
    if (this.legendColoursStale()) this.renderLegend();
    for (const c of this.charts) c.render(inputs);
    const deq = this.panelRuns.anyDeq;
    for (const c of this.solverCharts) {
      c.root.hidden = !deq;
      if (deq) c.render(inputs);
    }
    const ms = performance.now() - t0;
    this.el.charts.dataset['renderMs'] = ms.toFixed(2);
    return ms;
  }

  private legendTheme = '';
  private legendColoursStale(): boolean {
    const t = this.theme.palette.join();
    if (t === this.legendTheme) return false;
    this.legendTheme = t;
    return true;
  }
}

new TrainingPanelApp(acquireVsCodeApi());
