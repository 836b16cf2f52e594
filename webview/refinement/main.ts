// The Puzzle Refinement panel (webview). It receives one refinement trajectory at a time (checked
// by protocol/refinementMessages.ts): live, a run's latest snapshot of its probe puzzles; offline,
// a `reclab trace` of one puzzle. It draws the grid of the selected puzzle at the selected frame
// (supervision step × recursion cycle) on a canvas, q_halt over the frames beside it, and a
// scrubber with play/pause, speed and the frame where the answer became right and stayed right.
// Keys: ← → a frame, Shift+← → / PageUp PageDown a step, Home End, ↑ ↓ the puzzle, Space play.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import './refinement.css';
import { decodeTrajectory, taskOf, type DecodedTrajectory, type RefinementTrajectory } from '../../protocol/refinement';
import {
  parseToRefinementMessage, playbackSpeeds, refinementStateOf,
  type FromRefinementMessage, type RefinementPanelState, type RefinementSource,
} from '../../protocol/refinementMessages';
import { readTheme, watchTheme } from '../training/theme';
import { frameLabel, navigate, playbackNext, positionOf, resolveFrame, stepTickFractions } from './frameIndex';
import { drawGrid, drawMaze, readGridColours, type GridColours } from './gridCanvas';
import { cellsAt, difficultyText, digitsString, gridDescription, puzzleLabel, qHaltOf, settledFrameOf, settledText, wrongCount } from './gridCells';
import { mazeCellsAt, mazeCounts, mazeDescription, mazePredictionString } from './mazeCells';
import { puzzleAfterSnapshot, puzzleOptionsHtml, snapshotIndex, snapshotLabel, snapshotStepAt } from './puzzlePicker';
import { drawQHaltChart } from './qHaltChart';

interface VsCodeApi {
  postMessage(message: FromRefinementMessage): void;
  getState(): unknown;
  setState(state: RefinementPanelState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

type Select = HTMLElement & { value: string };
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const sameSource = (a: RefinementSource | undefined, b: RefinementSource) =>
  !!a && a.kind === b.kind && a.runKey === b.runKey && (a.kind !== 'trace' || (b.kind === 'trace' && a.tracePath === b.tracePath));

interface Shown {
  source: RefinementSource;
  snapshotStep: number | null;
  snapshotSteps: number[];
  trajectory: RefinementTrajectory;
  decoded: DecodedTrajectory;
  /** Per puzzle: the settled frame (-1 never, null without a solution). */
  settled: (number | null)[];
}

class RefinementApp {
  private readonly state: RefinementPanelState;
  private source: RefinementSource | undefined;
  private shown: Shown | undefined;
  private colours: GridColours = readGridColours(readTheme());
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly $: <T extends HTMLElement>(id: string) => T = (id) => document.getElementById(id) as never;

  constructor(private readonly vscode: VsCodeApi) {
    this.state = refinementStateOf(vscode.getState());
    document.body.innerHTML = `
      <div class="toolbar" role="toolbar">
        <label>Puzzle <vscode-single-select id="puzzle" class="puzzle" aria-label="Probe puzzle"></vscode-single-select></label>
        <vscode-button id="play" secondary title="Play / pause (Space)">Play</vscode-button>
        <label>Speed <vscode-single-select id="speed" class="speed" aria-label="Playback speed">${
          playbackSpeeds.map((s) => `<vscode-option value="${s}">${s} frames/s</vscode-option>`).join('')}</vscode-single-select></label>
        <vscode-button id="inspect" secondary title="Trace a puzzle you type, or one from the test set, through the run's checkpoint">Inspect Puzzle…</vscode-button>
        <span id="note" role="status"></span>
      </div>
      <p id="source" class="source"></p>
      <p id="empty" class="empty">Waiting for a refinement trajectory…</p>
      <div id="content" class="content" hidden>
        <div id="snapshots" class="scrubber snapshots" hidden>
          <div class="track">
            <input id="snapshot" type="range" min="0" max="0" value="0" step="1" aria-label="Training step of the snapshot">
          </div>
          <span id="snapshot-label" class="frame-label"></span>
        </div>
        <div class="scrubber">
          <div class="track">
            <input id="scrubber" type="range" min="0" max="0" value="0" step="1" aria-label="Frame: supervision step and recursion cycle">
            <div id="ticks" class="ticks" aria-hidden="true"></div>
          </div>
          <span id="frame-label" class="frame-label"></span>
        </div>
        <div class="main">
          <div class="grid-box"><canvas id="grid" role="img" tabindex="0"></canvas></div>
          <div class="side">
            <h3>q_halt per frame <span class="key">(halts when &gt; 0)</span></h3>
            <canvas id="qhalt" aria-label="q_halt per frame"></canvas>
            <dl id="facts" class="facts"></dl>
          </div>
        </div>
        <p class="key" id="legend"></p>
      </div>`;
    const puzzle = this.$<Select>('puzzle');
    puzzle.addEventListener('change', () => this.selectPuzzle(Number(puzzle.value) || 0));
    const speed = this.$<Select>('speed');
    speed.value = String(this.state.speed);
    speed.addEventListener('change', () => {
      this.state.speed = Number(speed.value) || this.state.speed;
      this.save();
      if (this.timer) this.play(); // restart at the new speed
    });
    const scrubber = this.$<HTMLInputElement>('scrubber');
    scrubber.addEventListener('input', () => this.setFrame(Number(scrubber.value)));
    const snapshot = this.$<HTMLInputElement>('snapshot');
    snapshot.addEventListener('input', () => this.selectSnapshot(Number(snapshot.value)));
    this.$('play').addEventListener('click', () => (this.timer ? this.pause() : this.play()));
    this.$('inspect').addEventListener('click', () => this.vscode.postMessage({ type: 'inspectPuzzle' }));
    window.addEventListener('keydown', (e) => this.onKey(e));
    window.addEventListener('message', (e: MessageEvent) => this.onMessage(e.data));
    watchTheme(() => {
      this.colours = readGridColours(readTheme());
      this.renderFrame();
    });
    let resize: ReturnType<typeof setTimeout> | undefined;
    window.addEventListener('resize', () => {
      clearTimeout(resize);
      resize = setTimeout(() => this.renderFrame(), 100);
    });
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
    const parsed = parseToRefinementMessage(raw);
    if (!parsed.ok) {
      this.note(`message rejected: ${parsed.error}`, true);
      return;
    }
    const m = parsed.message;
    if (m.type === 'status') {
      if (this.source?.kind === 'live') this.source = { ...this.source, status: m.status };
      this.renderSource();
      return;
    }
    if (!sameSource(this.source, m.source)) this.shown = undefined;
    this.source = m.source;
    this.state.source = m.source.kind === 'live' ? { kind: 'live', runKey: m.source.runKey } : { kind: 'trace', runKey: m.source.runKey, tracePath: m.source.tracePath };
    this.save();
    if (m.type === 'trajectory') {
      const decoded = decodeTrajectory(m.trajectory);
      this.shown = {
        source: m.source, snapshotStep: m.snapshotStep, snapshotSteps: m.snapshotSteps, trajectory: m.trajectory, decoded,
        settled: m.trajectory.puzzles.map((p, i) => settledFrameOf(p, decoded, i, taskOf(m.trajectory))),
      };
      this.state.puzzle = puzzleAfterSnapshot(this.state.puzzle, m.trajectory.puzzles.length);
      // After a reload: ask again for the snapshot the slider was on.
      const wanted = this.state.snapshotStep;
      if (m.source.kind === 'live' && wanted !== null && wanted !== m.snapshotStep && m.snapshotSteps.includes(wanted)) {
        this.vscode.postMessage({ type: 'selectSnapshot', step: wanted });
      }
      this.note('');
      this.renderAll();
      return;
    }
    // waiting / failed: keep a trajectory of the same source on screen, with a note.
    if (this.shown) {
      this.note(m.message, m.type === 'failed');
    } else {
      this.pause();
      this.note(m.type === 'failed' ? 'failed' : '', m.type === 'failed');
      const empty = this.$('empty');
      empty.hidden = false;
      empty.innerHTML = m.type === 'failed' ? `<pre class="error">${esc(m.message)}</pre>` : esc(m.message);
      this.$('content').hidden = true;
    }
    this.renderSource();
  }

  private renderSource(): void {
    const s = this.source;
    const el = this.$('source');
    if (!s) {
      el.textContent = '';
      return;
    }
    if (s.kind === 'live') {
      const at = this.shown?.snapshotStep;
      el.innerHTML = `Live · run <b>${esc(s.runName)}</b> (${esc(s.status)})${at !== undefined && at !== null ? ` · the probe puzzles as traced at training step <b>${at}</b>` : ''}`;
    } else {
      el.innerHTML = `Trace · run <b>${esc(s.runName)}</b> · checkpoint <code>${esc(s.checkpoint.split(/[\\/]/).pop() ?? s.checkpoint)}</code> · <span class="path">${esc(s.tracePath)}</span>`;
    }
  }

  private get frames(): number {
    return this.shown?.decoded.frames ?? 0;
  }

  private get frame(): number {
    return resolveFrame(this.state.frame, this.frames);
  }

  private setFrame(f: number): void {
    if (!this.shown) return;
    const frames = this.frames;
    const clamped = Math.max(0, Math.min(frames - 1, f));
    this.state.frame = clamped === frames - 1 ? -1 : clamped; // the last frame follows new snapshots
    this.save();
    this.renderFrame();
  }

  private selectPuzzle(i: number): void {
    const n = this.shown?.trajectory.puzzles.length ?? 0;
    if (n === 0) return;
    this.state.puzzle = ((i % n) + n) % n;
    this.save();
    const select = this.$<Select>('puzzle');
    if (select.value !== String(this.state.puzzle)) select.value = String(this.state.puzzle);
    this.renderScrubberMarks();
    this.renderFrame();
  }

  /** The training-step slider moved: ask the host for that snapshot (the last position follows new ones). */
  private selectSnapshot(index: number): void {
    const steps = this.shown?.snapshotSteps ?? [];
    if (!steps.length) return;
    const step = snapshotStepAt(steps, index);
    this.state.snapshotStep = step;
    this.save();
    this.$('snapshot-label').textContent = snapshotLabel(steps, index);
    this.vscode.postMessage({ type: 'selectSnapshot', step });
  }

  private renderSnapshots(): void {
    const s = this.shown;
    const box = this.$('snapshots');
    const steps = s?.source.kind === 'live' ? s.snapshotSteps : [];
    box.hidden = steps.length === 0;
    if (!s || !steps.length) return;
    const slider = this.$<HTMLInputElement>('snapshot');
    const index = snapshotIndex(steps, s.snapshotStep);
    slider.max = String(steps.length - 1);
    slider.value = String(index);
    slider.disabled = steps.length < 2;
    slider.dataset['step'] = String(s.snapshotStep ?? '');
    slider.dataset['steps'] = steps.join(',');
    this.$('snapshot-label').textContent = snapshotLabel(steps, index);
  }

  private play(): void {
    if (!this.shown) return;
    this.pause();
    if (this.frame >= this.frames - 1) this.setFrame(0);
    this.timer = setInterval(() => {
      const next = playbackNext(this.frame, this.frames);
      if (next === undefined) this.pause();
      else this.setFrame(next);
    }, 1000 / this.state.speed);
    this.$('play').textContent = 'Pause';
  }

  private pause(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.$('play').textContent = 'Play';
  }

  private onKey(e: KeyboardEvent): void {
    if (!this.shown || e.altKey || e.ctrlKey || e.metaKey) return;
    const target = e.target as HTMLElement | null;
    // The selects and buttons keep their own keys.
    if (target?.closest('vscode-single-select, vscode-option, vscode-button')) return;
    if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
      e.preventDefault();
      this.selectPuzzle(this.state.puzzle + (e.key === 'ArrowDown' ? 1 : -1));
      return;
    }
    if (e.key === ' ') {
      e.preventDefault();
      if (this.timer) this.pause();
      else this.play();
      return;
    }
    const next = navigate(this.frame, e, this.frames, this.shown.trajectory.cyclesPerStep);
    if (next === undefined) return;
    e.preventDefault();
    this.pause();
    this.setFrame(next);
  }

  private renderAll(): void {
    const s = this.shown;
    if (!s) return;
    this.$('empty').hidden = true;
    this.$('content').hidden = false;
    this.renderSource();
    const t = s.trajectory;
    const select = this.$<Select>('puzzle');
    select.innerHTML = puzzleOptionsHtml(t.puzzles.map((p, i) => puzzleLabel(p, i, s.settled[i]!, t.cyclesPerStep, taskOf(t))), this.state.puzzle);
    select.value = String(this.state.puzzle);
    this.renderSnapshots();
    const scrubber = this.$<HTMLInputElement>('scrubber');
    scrubber.max = String(s.decoded.frames - 1);
    this.renderScrubberMarks();
    this.$('legend').textContent = taskOf(t) === 'maze'
      ? 'dark: wall · S / G: start and goal · shading: a cell the model puts on the path, by its confidence · '
      + 'green dot: on the true shortest path · red ✗: on the predicted path but not the true one · dashed red ring: a true path cell the model left out · '
      + 'red outline: the prediction contradicts the maze (a wall not kept, an open cell predicted as wall, S or G) · orange ring: changed since the previous frame · '
      + 'green line / ▲: the frame from which the whole answer is right and stays right · '
      + 'keys: ← → frame (recursion cycle), Shift+← → or PageUp/PageDown step, Home/End, ↑ ↓ maze, Space play'
      : 'bold on grey: given · shading: the model\'s confidence in its digit · ✓ / ✗ against the solution '
      + '(a small red digit over a given: the model predicts another digit there) · ring: changed since the previous frame · '
      + 'green line / ▲: the frame from which the whole answer is right and stays right · '
      + 'keys: ← → frame (recursion cycle), Shift+← → or PageUp/PageDown step, Home/End, ↑ ↓ puzzle, Space play';
    this.renderFrame();
  }

  /** Step boundaries under the scrubber and the ▲ at the settled frame of the selected puzzle. */
  private renderScrubberMarks(): void {
    const s = this.shown;
    if (!s) return;
    const t = s.trajectory;
    const settled = s.settled[this.state.puzzle] ?? null;
    // Positions set through the CSSOM: the CSP refuses inline style attributes.
    const at = (x: number) => `calc(${x} * (100% - 16px) + 8px)`; // the thumb's centre travels 8px inside each end
    const ticks = this.$('ticks');
    ticks.replaceChildren();
    const add = (cls: string, x: number, text = '', title = '') => {
      const el = document.createElement('span');
      el.className = cls;
      el.style.left = at(x);
      el.textContent = text;
      if (title) el.title = title;
      ticks.append(el);
    };
    for (const x of stepTickFractions(t.steps, t.cyclesPerStep)) add('tick', x);
    if (settled !== null && settled >= 0) add('settled-mark', s.decoded.frames > 1 ? settled / (s.decoded.frames - 1) : 0, '▲', settledText(settled, t.cyclesPerStep));
    this.$('ticks').dataset['settledFrame'] = String(settled ?? -1);
  }

  private renderFrame(): void {
    const s = this.shown;
    if (!s) return;
    const t = s.trajectory;
    const puzzle = Math.min(this.state.puzzle, t.puzzles.length - 1);
    const frame = this.frame;
    const p = t.puzzles[puzzle]!;
    const cells = cellsAt(t, s.decoded, puzzle, frame);
    const scrubber = this.$<HTMLInputElement>('scrubber');
    if (scrubber.value !== String(frame)) scrubber.value = String(frame);
    const label = frameLabel(frame, t.steps, t.cyclesPerStep);
    this.$('frame-label').textContent = `${label}  (frame ${frame + 1} / ${s.decoded.frames})`;

    const contentWidth = this.$('content').clientWidth || document.body.clientWidth;
    const sideWidth = Math.max(240, Math.min(360, contentWidth - 300));
    const maze = taskOf(t) === 'maze';
    const gridSpace = Math.min(maze ? 480 : t.side === 9 ? 440 : 300, Math.max(120, contentWidth - sideWidth - 32));
    const grid = this.$<HTMLCanvasElement>('grid');
    const mazeCells = maze ? mazeCellsAt(t, s.decoded, puzzle, frame) : undefined;
    const counts = mazeCells ? mazeCounts(mazeCells) : undefined;
    if (mazeCells && counts) {
      drawMaze(grid, mazeCells, t.side, gridSpace, this.colours);
      // For tests and assistive technology: what the maze shows (counts of the cells drawn).
      grid.dataset['task'] = 'maze';
      grid.dataset['cells'] = mazePredictionString(mazeCells);
      grid.dataset['walls'] = String(counts.walls);
      grid.dataset['open'] = String(counts.open);
      grid.dataset['path'] = String(counts.path);
      grid.dataset['pathRight'] = String(counts.right);
      grid.dataset['pathExtra'] = String(counts.extra);
      grid.dataset['pathMissing'] = String(counts.missing);
      grid.dataset['wrong'] = String(counts.wrong ?? '');
      grid.dataset['broken'] = String(counts.broken);
      delete grid.dataset['digits'];
    } else {
      drawGrid(grid, cells, t.side, gridSpace, this.colours);
      grid.dataset['digits'] = digitsString(cells);
      for (const k of ['task', 'cells', 'walls', 'open', 'path', 'pathRight', 'pathExtra', 'pathMissing', 'wrong', 'broken']) delete grid.dataset[k];
    }
    // For tests and assistive technology: what the grid shows.
    grid.dataset['question'] = p.question;
    grid.dataset['puzzle'] = String(puzzle);
    grid.dataset['frame'] = String(frame);
    grid.dataset['snapshotStep'] = String(s.snapshotStep ?? '');
    grid.dataset['side'] = String(t.side);
    grid.dataset['changed'] = String(cells.filter((c) => c.changed).length);
    grid.dataset['theme'] = this.colours.theme.kind;
    grid.setAttribute('aria-label', `${maze ? 'Maze' : 'Puzzle'} ${puzzle + 1}, ${label}: ${mazeCells ? mazeDescription(mazeCells, t.side) : gridDescription(cells, t.side)}`);

    const settled = s.settled[puzzle] ?? null;
    const q = qHaltOf(s.decoded, puzzle);
    drawQHaltChart(this.$<HTMLCanvasElement>('qhalt'), sideWidth, { values: q, steps: t.steps, cyclesPerStep: t.cyclesPerStep, frame, settled }, this.colours);

    const wrong = wrongCount(cells);
    const open = mazeCells ? cells.filter((_, i) => mazeCells[i]!.ground === 'open') : cells.filter((c) => !c.given);
    const meanConfidence = open.length ? open.reduce((a, c) => a + c.confidence, 0) / open.length : NaN;
    const pos = positionOf(frame, t.cyclesPerStep);
    const facts: [string, string][] = [
      [maze ? 'maze' : 'puzzle', `#${puzzle + 1} · ${difficultyText(p, taskOf(t))}`],
      ['frame', `${label}`],
      ...(counts ? [
        ['path cells', counts.truePath === null ? `${counts.path} predicted` : `${counts.right} of ${counts.truePath} right · ${counts.extra} extra · ${counts.missing} missing`] as [string, string],
        ['wrong cells', `${counts.wrong === null ? 'unknown (no solution)' : `${counts.wrong} of ${cells.length}`} · ${counts.broken} contradict the maze`] as [string, string],
      ] : [['wrong cells', wrong === null ? 'unknown (no solution)' : `${wrong} of ${cells.length}`] as [string, string]]),
      ['changed since the previous frame', frame === 0 ? '– (first frame)' : String(cells.filter((c) => c.changed).length)],
      [maze ? 'mean confidence over the open cells' : 'mean confidence over the blanks', Number.isFinite(meanConfidence) ? `${(100 * meanConfidence).toFixed(0)} %` : '–'],
      ['q_halt', `${q[frame]!.toFixed(2)} (${q[frame]! > 0 ? 'halts' : 'continues'} after step ${pos.step})`],
      ['right and stays right', settledText(settled, t.cyclesPerStep)],
    ];
    this.$('facts').innerHTML = facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('');
  }
}

new RefinementApp(acquireVsCodeApi());
