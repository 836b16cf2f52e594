// The Runs Table panel (webview): one row per run with the config fields that differ between the
// runs shown, sortable (click a header) and filterable (free text, `field=value`, `column>n`);
// rows selected with their checkboxes are overlaid in the Live Training panel. Below the table, a
// parallel-coordinates chart over the same columns (one line per shown run, coloured by arm).
// Every message is checked (protocol/runsTableMessages.ts); sort, filter and selection survive a reload.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import './runs-table.css';
import {
  parseToRunsTableMessage, runsTableStateOf, type FromRunsTableMessage, type RowsMessage, type RunRow, type RunsTableState,
} from '../../protocol/runsTableMessages';
import { readTheme, watchTheme, type Theme } from '../training/theme';
import { filterRows, parallelAxes, sortRows, tableColumns, withNumericConfig, type Column } from './tableModel';

interface VsCodeApi {
  postMessage(message: FromRunsTableMessage): void;
  getState(): unknown;
  setState(state: RunsTableState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const SVG = 'http://www.w3.org/2000/svg';

class RunsTableApp {
  private readonly state: RunsTableState;
  private data: RowsMessage | undefined;
  private columns: Column[] = [];
  private theme: Theme = readTheme();
  private readonly $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

  constructor(private readonly vscode: VsCodeApi) {
    this.state = runsTableStateOf(vscode.getState());
    document.body.innerHTML = `
      <div class="toolbar" role="toolbar">
        <label>Filter <input id="filter" type="search" placeholder="text, field=value, column>n (all terms must match)" aria-label="Filter runs"></label>
        <vscode-button id="overlay" title="Show the selected runs overlaid in the Live Training panel">Overlay selected in Live panel</vscode-button>
        <span id="selection" class="hint"></span>
        <span id="note" role="status"></span>
      </div>
      <h2 id="title"></h2>
      <p id="empty" class="empty">Reading the runs…</p>
      <div class="table-box"><table id="runs"><thead></thead><tbody></tbody></table></div>
      <h2>Parallel coordinates</h2>
      <p class="hint">One line per run shown above, across the same columns; selected runs drawn thick. Categorical axes list their values in order.</p>
      <svg id="parallel" role="img" aria-label="Parallel coordinates of the runs"></svg>`;
    const filter = this.$<HTMLInputElement>('filter');
    filter.value = this.state.filter;
    filter.addEventListener('input', () => {
      this.state.filter = filter.value;
      this.save();
      this.render();
    });
    this.$('overlay').addEventListener('click', () => this.overlay());
    window.addEventListener('message', (e: MessageEvent<unknown>) => this.receive(e.data));
    watchTheme(() => {
      this.theme = readTheme();
      this.render();
    });
    window.addEventListener('resize', () => this.renderParallel());
    this.vscode.postMessage({ type: 'ready' });
  }

  private save(): void {
    this.vscode.setState({ ...this.state, selected: [...this.state.selected] });
  }

  private note(text: string, error = false): void {
    const n = this.$('note');
    n.textContent = text;
    n.classList.toggle('error', error);
  }

  private receive(raw: unknown): void {
    const parsed = parseToRunsTableMessage(raw);
    if (!parsed.ok) {
      this.note(`message rejected: ${parsed.error}`, true);
      return;
    }
    this.data = parsed.message;
    if (parsed.message.scope) this.state.scope = parsed.message.scope;
    else delete this.state.scope;
    // A selected run that is gone is no longer selected.
    const keys = new Set(parsed.message.rows.map((r) => r.key));
    this.state.selected = this.state.selected.filter((k) => keys.has(k));
    this.save();
    this.render();
  }

  private get shownRows(): RunRow[] {
    if (!this.data) return [];
    const col = this.columns.find((c) => c.id === this.state.sortColumn) ?? this.columns[0]!;
    return sortRows(filterRows(this.data.rows, this.columns, this.state.filter), col, this.state.sortDescending);
  }

  private render(): void {
    const d = this.data;
    if (!d) return;
    this.columns = withNumericConfig(tableColumns(d.fields), d.rows);
    this.$('title').textContent = `${d.title}${d.fields.length ? ` · differing config fields: ${d.fields.join(', ')}` : ' · every config field is the same'}`;
    const rows = this.shownRows;
    const empty = this.$('empty');
    empty.hidden = rows.length > 0;
    empty.textContent = d.rows.length ? 'No run matches the filter.' : 'No runs.';
    this.renderTable(rows);
    this.renderParallel();
    this.renderSelection();
  }

  private renderTable(rows: RunRow[]): void {
    const table = this.$<HTMLTableElement>('runs');
    const head = document.createElement('tr');
    const all = document.createElement('th');
    const allBox = document.createElement('input');
    allBox.type = 'checkbox';
    allBox.title = 'Select every run shown';
    allBox.checked = rows.length > 0 && rows.every((r) => this.state.selected.includes(r.key));
    allBox.addEventListener('change', () => {
      const shown = new Set(rows.map((r) => r.key));
      this.state.selected = allBox.checked ? [...new Set([...this.state.selected, ...shown])] : this.state.selected.filter((k) => !shown.has(k));
      this.save();
      this.render();
    });
    all.append(allBox);
    head.append(all);
    for (const c of this.columns) {
      const th = document.createElement('th');
      th.textContent = c.label;
      th.dataset['column'] = c.id;
      th.title = `Sort by ${c.label}`;
      th.classList.toggle('numeric', c.numeric);
      th.classList.toggle('config', c.id.startsWith('config.'));
      th.classList.toggle('sorted', c.id === this.state.sortColumn);
      th.classList.toggle('descending', c.id === this.state.sortColumn && this.state.sortDescending);
      th.addEventListener('click', () => {
        if (this.state.sortColumn === c.id) this.state.sortDescending = !this.state.sortDescending;
        else {
          this.state.sortColumn = c.id;
          this.state.sortDescending = c.numeric; // numbers: the largest first
        }
        this.save();
        this.render();
      });
      head.append(th);
    }
    table.tHead!.replaceChildren(head);
    const body = table.tBodies[0]!;
    body.replaceChildren(...rows.map((r) => {
      const tr = document.createElement('tr');
      tr.dataset['key'] = r.key;
      const selected = this.state.selected.includes(r.key);
      tr.classList.toggle('selected', selected);
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.checked = selected;
      box.setAttribute('aria-label', `Select ${r.name}`);
      box.addEventListener('change', () => {
        this.state.selected = box.checked ? [...this.state.selected, r.key] : this.state.selected.filter((k) => k !== r.key);
        this.save();
        this.render();
      });
      const first = document.createElement('td');
      first.append(box);
      tr.append(first);
      for (const c of this.columns) {
        const td = document.createElement('td');
        td.dataset['column'] = c.id;
        td.classList.toggle('numeric', c.numeric);
        if (c.id === 'status') td.classList.add(`status-${r.status}`);
        if (c.id === 'tags') {
          for (const t of r.tags) {
            const s = document.createElement('span');
            s.className = 'tag';
            s.textContent = t;
            td.append(s);
          }
        } else td.textContent = c.format(c.value(r));
        if (c.id === 'name') td.title = r.key;
        tr.append(td);
      }
      return tr;
    }));
  }

  private renderSelection(): void {
    const n = this.state.selected.length;
    this.$('selection').textContent = n ? `${n} selected` : 'select rows to overlay them';
    this.$('overlay').toggleAttribute('disabled', n === 0);
  }

  private overlay(): void {
    if (!this.state.selected.length) return;
    this.vscode.postMessage({ type: 'overlay', keys: [...this.state.selected] });
    this.note(`overlaying ${this.state.selected.length} run(s) in the Live Training panel`);
  }

  /** The parallel-coordinates chart of the shown rows, drawn as SVG (no inline styles: CSP). */
  private renderParallel(): void {
    const svg = this.$('parallel') as unknown as SVGSVGElement;
    const rows = this.shownRows;
    const axes = parallelAxes(this.columns, rows);
    const width = Math.max(320, (document.body.clientWidth || 800) - 24);
    const height = 260;
    const top = 40;
    const bottom = 24;
    svg.setAttribute('width', String(width));
    svg.setAttribute('height', String(height));
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    svg.replaceChildren();
    svg.dataset['axes'] = String(axes.length);
    svg.dataset['lines'] = String(rows.length);
    if (axes.length < 2) return;
    const left = 60;
    const right = 60;
    const xOf = (i: number) => left + (i * (width - left - right)) / (axes.length - 1);
    const yOf = (p: number) => top + (1 - p) * (height - top - bottom);
    const el = (name: string, attrs: Record<string, string | number>, text?: string) => {
      const e = document.createElementNS(SVG, name);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
      if (text !== undefined) e.textContent = text;
      return e;
    };
    axes.forEach((a, i) => {
      const g = el('g', { class: 'axis' });
      g.append(el('line', { x1: xOf(i), x2: xOf(i), y1: yOf(0), y2: yOf(1) }));
      // Column titles alternate between two rows so that neighbours do not overlap.
      g.append(el('text', { x: xOf(i), y: 12 + (i % 2) * 13, 'text-anchor': 'middle' }, a.column.label));
      const ticks = a.categories ? a.categories.map((c, k) => [c, a.categories!.length > 1 ? k / (a.categories!.length - 1) : 0.5] as const)
        : [[a.column.format(a.max), a.max > a.min ? 1 : 0.5] as const, ...(a.max > a.min ? [[a.column.format(a.min), 0] as const] : [])];
      for (const [label, p] of ticks.slice(0, 12)) g.append(el('text', { class: 'tick', x: xOf(i) + 4, y: yOf(p) + 3 }, String(label)));
      svg.append(g);
    });
    const arms = [...new Set(rows.map((r) => r.arm ?? r.preset ?? r.name))];
    const anySelected = this.state.selected.length > 0;
    for (const r of rows) {
      let d = '';
      axes.forEach((a, i) => {
        const p = a.position(r);
        if (p === undefined) return;
        d += `${d ? 'L' : 'M'}${xOf(i).toFixed(1)},${yOf(p).toFixed(1)}`;
      });
      if (!d) continue;
      const selected = this.state.selected.includes(r.key);
      const path = el('path', { d, class: selected ? 'selected' : anySelected ? 'dimmed' : '' });
      path.dataset['key'] = r.key;
      path.setAttribute('stroke', this.theme.palette[arms.indexOf(r.arm ?? r.preset ?? r.name) % this.theme.palette.length]!);
      path.append(el('title', {}, r.name));
      svg.append(path);
    }
  }
}

new RunsTableApp(acquireVsCodeApi());
