// The Test-Time Scaling panel (webview): a vote report (checked by protocol/voteMessages.ts) as
// the results table — one line per voting rule, columns single model / + perturbation /
// + bootstrapping / + both, with passes and model calls per puzzle — and the compute curve:
// accuracy of each rule against model calls per puzzle (log x), beside the single pass against
// supervision steps, so models are compared at equal compute.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import 'uplot/dist/uPlot.min.css';
import './vote.css';
import uPlot from 'uplot';
import * as z from 'zod';
import { parseToVoteMessage, type FromVoteMessage, type ToVoteMessage } from '../../protocol/voteMessages';
import type { VoteReport } from '../../protocol/voteReport';
import { h } from '../shared/dom';
import { readTheme, watchTheme, type Theme } from '../training/theme';
import { curveSeries, summaryLine, tableLines } from './viewModel';

interface VsCodeApi {
  postMessage(message: FromVoteMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

// The report schema runs here; the page's CSP refuses eval, so zod must not try its compiled fast path.
z.config({ jitless: true });

class VoteApp {
  private report: VoteReport | undefined;
  private theme: Theme = readTheme();
  private chart: uPlot | undefined;
  private state: Record<string, unknown>;
  private readonly $: <T extends HTMLElement>(id: string) => T = (id) => document.getElementById(id) as never;

  constructor(private readonly vscode: VsCodeApi) {
    const saved = vscode.getState();
    this.state = typeof saved === 'object' && saved !== null ? { ...(saved as Record<string, unknown>) } : {};
    document.body.innerHTML = `
      <div class="toolbar" role="toolbar">
        <vscode-button id="rerun" secondary>Vote again</vscode-button>
        <vscode-button id="open-report" secondary>Open JSON</vscode-button>
        <span id="note" role="status"></span>
      </div>
      <p id="summary" class="summary"></p>
      <p id="empty" class="empty">Waiting for a vote report…</p>
      <div id="content" hidden>
        <section class="panel"><h3>Exact accuracy by voting rule</h3><table id="results" class="table"></table>
          <p class="key">The reference rule decides with the labels (a checkpoint solves a puzzle when a strict majority of its halted passes is right; any checkpoint suffices): an upper bound, not a method for new puzzles. The other rules pick an answer without the labels, then it is scored.</p></section>
        <section class="panel"><h3>Test-time compute: accuracy against model calls per puzzle</h3><div id="curve" class="chart"></div>
          <p class="key">Model calls = passes × supervision steps. Passes are added as relabellings, then checkpoints, then seeds; the last series is one pass stopped after 1, 2, … supervision steps.</p></section>
      </div>`;
    this.$('rerun').addEventListener('click', () => this.vscode.postMessage({ type: 'rerun' }));
    this.$('open-report').addEventListener('click', () => this.vscode.postMessage({ type: 'openReport' }));
    window.addEventListener('message', (e: MessageEvent) => this.receive(e.data));
    window.addEventListener('resize', () => this.renderCurve());
    watchTheme(() => { this.theme = readTheme(); this.renderCurve(); });
    this.vscode.postMessage({ type: 'ready' });
  }

  private receive(raw: unknown): void {
    const parsed = parseToVoteMessage(raw);
    if (!parsed.ok) {
      this.$('note').textContent = `message rejected: ${parsed.error}`;
      return;
    }
    this.handle(parsed.message);
  }

  private handle(m: ToVoteMessage): void {
    switch (m.type) {
      case 'target':
        this.state = { ...this.state, target: m.target };
        this.vscode.setState(this.state);
        return;
      case 'voting':
        this.$('note').textContent = `voting on ${m.target}…`;
        return;
      case 'failed':
        this.$('note').textContent = 'the vote failed';
        this.$('empty').replaceChildren(h('pre', { class: 'error' }, m.message));
        this.$('empty').hidden = false;
        return;
      case 'report':
        this.report = m.report;
        this.$('note').textContent = '';
        this.render();
        return;
    }
  }

  private render(): void {
    const r = this.report;
    if (!r) return;
    this.$('empty').hidden = true;
    this.$('content').hidden = false;
    this.$('summary').textContent = summaryLine(r);
    const lines = tableLines(r);
    const table = this.$('results');
    table.replaceChildren(
      h('tr', {}, h('th', {}, 'rule'), ...r.table.map((row) => h('th', {}, row.label))),
      ...lines.map((l) => h('tr', { class: l.usesLabels ? 'labels' : '', 'data-rule': l.rule, title: l.description },
        h('td', {}, l.label), ...l.cells.map((c, i) => h('td', i === l.best ? { class: 'best' } : {}, c)))),
      h('tr', { class: 'cost' }, h('td', {}, 'passes / puzzle'), ...r.table.map((row) => h('td', {}, String(row.passesPerPuzzle)))),
      h('tr', { class: 'cost' }, h('td', {}, 'model calls / puzzle'), ...r.table.map((row) => h('td', {}, String(row.modelCallsPerPuzzle)))),
    );
    // For tests and tools: how many rules the table lists.
    table.dataset['rules'] = String(lines.length);
    this.renderCurve();
  }

  private renderCurve(): void {
    const r = this.report;
    if (!r) return;
    const el = this.$('curve');
    this.chart?.destroy();
    el.replaceChildren();
    const { x, series } = curveSeries(r);
    const palette = this.theme.palette;
    const axis = { stroke: this.theme.foreground, grid: { stroke: this.theme.grid }, ticks: { stroke: this.theme.grid }, font: this.theme.font };
    this.chart = new uPlot({
      width: Math.max(320, el.clientWidth || document.body.clientWidth - 48), height: 300,
      scales: { x: { time: false, distr: 3, log: 10 }, y: { range: [0, 100] } },
      axes: [{ ...axis, label: 'model calls per puzzle (log)' }, { ...axis, label: 'exact accuracy (%)', values: (_u, v) => v.map((t) => `${t}%`) }],
      series: [{}, ...series.map((s, i) => ({
        label: s.label, stroke: palette[i % palette.length], width: 2, spanGaps: true,
        dash: i >= palette.length ? [6, 3] : undefined, points: { show: true, size: 5 },
      }))],
    }, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    el.dataset['points'] = String(series.reduce((a, s) => a + s.values.filter((v) => v !== null).length, 0));
  }
}

new VoteApp(acquireVsCodeApi());
