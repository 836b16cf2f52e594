// The Sweep Report panel (webview): the content of a sweep's ablation.html (the arms' table, the
// accuracy-vs-time and accuracy-vs-FLOPs plots, the stage table), rendered by the host with the
// report's own code and themed here; buttons open the sweep's Runs table and overlay its runs.
// Every message is checked (protocol/sweepReportMessages.ts); the sweep survives a reload.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import './sweep-report.css';
import { parseToSweepReportMessage, sweepReportStateOf, type FromSweepReportMessage, type SweepReportState } from '../../protocol/sweepReportMessages';

interface VsCodeApi {
  postMessage(message: FromSweepReportMessage): void;
  getState(): unknown;
  setState(state: SweepReportState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const state = sweepReportStateOf(vscode.getState());
document.body.innerHTML = `
  <div class="toolbar" role="toolbar">
    <vscode-button id="runs-table">Open Runs Table</vscode-button>
    <vscode-button id="overlay" secondary title="Overlay every run of the sweep in the Live Training panel">Overlay runs in Live panel</vscode-button>
    <span id="note" role="status"></span>
  </div>
  <p id="empty" class="empty">Reading the sweep's ablation.json…</p>
  <div id="report"></div>`;
const $ = (id: string) => document.getElementById(id)!;
$('runs-table').addEventListener('click', () => vscode.postMessage({ type: 'openRunsTable' }));
$('overlay').addEventListener('click', () => vscode.postMessage({ type: 'overlaySweep' }));

window.addEventListener('message', (e: MessageEvent<unknown>) => {
  const parsed = parseToSweepReportMessage(e.data);
  const note = $('note');
  if (!parsed.ok) {
    note.textContent = `message rejected: ${parsed.error}`;
    note.classList.add('error');
    return;
  }
  const m = parsed.message;
  state.sweepKey = m.sweepKey;
  vscode.setState(state);
  const empty = $('empty');
  const report = $('report');
  if (m.type === 'missing') {
    empty.hidden = false;
    empty.textContent = m.message;
    empty.className = 'missing';
    report.replaceChildren();
    return;
  }
  empty.hidden = true;
  // The host's HTML is ablationReport.ts's output: every text escaped, no scripts (and the CSP runs none).
  report.innerHTML = m.html;
  report.dataset['runs'] = String(m.runKeys.length);
  document.title = m.title;
});
vscode.postMessage({ type: 'ready' });
