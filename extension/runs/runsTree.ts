// The "Runs" tree of the Recursion Lab activity-bar container: one item per run, with status,
// preset, step and best exact accuracy, and a context menu keyed on `contextValue`.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { SweepTaskStatus, TaskState } from '../../protocol/slurmSweep';
import type { RunStatus } from '../../protocol/webviewMessages';
import type { RunEntry, RunRegistry } from './runRegistry';
import { liveTaskStates, type SlurmSweeps } from './slurmSweeps';

const icons: Record<RunStatus, vscode.ThemeIcon> = {
  starting: new vscode.ThemeIcon('loading~spin'),
  running: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue')),
  completed: new vscode.ThemeIcon('pass', new vscode.ThemeColor('charts.green')),
  stopped: new vscode.ThemeIcon('debug-stop', new vscode.ThemeColor('charts.yellow')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('charts.red')),
};

export const percent = (x: number | undefined): string => (x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);

/** "stopped · sudoku4 · torch · step 650 · best 42.5%" */
export function runDescription(r: RunEntry): string {
  const parts: string[] = [r.status === 'failed' && r.failure?.startsWith('interrupted') ? 'failed (interrupted)' : r.status];
  if (r.preset) parts.push(r.preset);
  parts.push(runEngine(r));
  if (r.step !== undefined) parts.push(`step ${r.step}`);
  if (r.bestExactAccuracy !== undefined) parts.push(`best ${percent(r.bestExactAccuracy)}`);
  if (r.annotations?.tags.length) parts.push(r.annotations.tags.map((t) => `#${t}`).join(' '));
  return parts.join(' · ');
}

/** "slurm running", "slurm queued (Resources)", "slurm failed (NODE_FAIL: node failure)" */
export const slurmStateText = (t: SweepTaskStatus): string => `slurm ${t.state}${t.reason ? ` (${t.reason})` : ''}`;

const slurmIcons: Record<TaskState, vscode.ThemeIcon> = {
  queued: new vscode.ThemeIcon('clock'),
  running: icons.running,
  completed: icons.completed,
  failed: icons.failed,
  cancelled: new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('charts.yellow')),
  'timed-out': new vscode.ThemeIcon('watch', new vscode.ThemeColor('charts.red')),
  unknown: new vscode.ThemeIcon('question'),
};

/** The engine that trains the run; runs from before the PyTorch engine are TF.js ones. */
export const runEngine = (r: RunEntry): string => r.metadata?.engine ?? 'tfjs';

/** A folder of runs (an ablation sweep's output folder). */
export class RunGroup {
  constructor(readonly key: string) {}
}
/** A Slurm task whose run directory does not exist yet (queued, or cancelled before it started). */
export class SlurmTaskNode {
  constructor(readonly sweepDir: string, readonly task: SweepTaskStatus) {}
}
type Node = RunEntry | RunGroup | SlurmTaskNode;

export class RunsTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly unsubscribe: () => void;
  private groups = new Map<string, RunGroup>();

  constructor(private readonly registry: RunRegistry, private readonly slurm?: SlurmSweeps) {
    // A run inside a group is refreshed with its group's children: fire for the whole tree then.
    const off = registry.onDidChange((e) => this.emitter.fire(e && !e.group ? e : undefined));
    const offSlurm = slurm?.onDidChange(() => this.emitter.fire(undefined));
    this.unsubscribe = () => { off(); offSlurm?.dispose(); };
  }

  getChildren(element?: Node): Node[] {
    const runs = this.registry.runs;
    if (element instanceof RunGroup) {
      const inGroup = runs.filter((r) => r.group === element.key);
      const tasks = this.slurm?.status(element.key)?.tasks;
      if (!tasks) return inGroup;
      // A Slurm sweep lists its tasks in the sweep's order whatever has started: a row keeps its
      // place (and its id) when its run directory appears, so a pointer on one task's Stop Run
      // never finds another task's row under it. A task with no run directory yet is listed by its
      // scheduler state; runs of the folder that are no task of the sweep come after.
      const byKey = new Map(inGroup.map((r) => [r.key, r]));
      const ordered: Node[] = tasks.map((t) => byKey.get(t.runDir) ?? new SlurmTaskNode(element.key, t));
      const taskDirs = new Set(tasks.map((t) => t.runDir));
      return [...ordered, ...inGroup.filter((r) => !taskDirs.has(r.key))];
    }
    if (element) return [];
    const groups = new Map<string, RunGroup>();
    for (const key of [...runs.map((r) => r.group), ...(this.slurm?.sweeps ?? [])]) if (key && !groups.has(key)) groups.set(key, this.groups.get(key) ?? new RunGroup(key));
    this.groups = groups;
    return [...[...groups.values()].sort((a, b) => (a.key < b.key ? 1 : -1)), ...runs.filter((r) => !r.group)];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node instanceof RunGroup) {
      const runs = this.registry.runs.filter((r) => r.group === node.key);
      const item = new vscode.TreeItem(basename(node.key), vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `group:${node.key}`;
      const live = runs.filter((r) => r.live).length;
      const sweep = this.slurm?.status(node.key);
      item.description = sweep ? `Slurm job ${sweep.jobId} · ${sweep.finished}/${sweep.total} finished` : `${runs.length} runs${live ? ` · ${live} training` : ''}`;
      item.iconPath = new vscode.ThemeIcon(live || (sweep && sweep.finished < sweep.total) ? 'beaker~spin' : 'beaker');
      item.tooltip = node.key;
      item.contextValue = sweep ? (sweep.finished < sweep.total ? 'runGroup.slurm.live' : 'runGroup.slurm') : 'runGroup';
      return item;
    }
    if (node instanceof SlurmTaskNode) {
      const item = new vscode.TreeItem(node.task.name, vscode.TreeItemCollapsibleState.None);
      // The id of the run row it becomes once the task writes its run directory (RunEntry.key).
      item.id = node.task.runDir;
      item.description = slurmStateText(node.task);
      item.iconPath = slurmIcons[node.task.state];
      item.tooltip = `${node.task.name} — Slurm task ${node.task.slurmId}: ${slurmStateText(node.task)}`;
      item.contextValue = liveTaskStates.includes(node.task.state) ? 'slurmTask.live' : 'slurmTask';
      return item;
    }
    const r = node;
    const task = this.slurm?.task(r.key);
    const item = new vscode.TreeItem(r.name, vscode.TreeItemCollapsibleState.None);
    item.id = r.key;
    item.description = task ? `${slurmStateText(task)} · ${runDescription(r)}` : runDescription(r);
    item.iconPath = task && task.state !== 'running' ? slurmIcons[task.state] : icons[r.status];
    item.resourceUri = vscode.Uri.file(r.key);
    const ours = r.process?.running ? '.supervised' : task && liveTaskStates.includes(task.state) ? '.slurm' : '';
    item.contextValue = `run.${r.status}${ours}`;
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${r.name}** — ${r.status}${r.failure ? ` (${r.failure})` : ''}\n\n`);
    if (task) md.appendMarkdown(`- Slurm task \`${task.slurmId}\`: ${slurmStateText(task)}\n`);
    md.appendMarkdown(`- run id: \`${r.runId}\`\n`);
    if (r.preset) md.appendMarkdown(`- preset: ${r.preset}\n`);
    if (r.step !== undefined) md.appendMarkdown(`- step: ${r.step}${r.series?.figures.totalSteps ? ` / ${r.series.figures.totalSteps}` : ''}\n`);
    md.appendMarkdown(`- best exact accuracy: ${percent(r.bestExactAccuracy)}\n`);
    md.appendMarkdown(`- engine: ${runEngine(r)}\n`);
    if (r.summary?.backend ?? r.metadata?.backend) md.appendMarkdown(`- backend: ${r.summary?.backend ?? r.metadata?.backend}\n`);
    md.appendMarkdown(`- folder: \`${r.key}\``);
    if (r.annotations?.tags.length) md.appendMarkdown(`\n- tags: ${r.annotations.tags.map((t) => `\`${t}\``).join(' ')}`);
    if (r.annotations?.note) md.appendMarkdown('\n\n---\n\n').appendText(r.annotations.note);
    if (r.annotationsError) md.appendMarkdown('\n\n').appendText(`annotations: ${r.annotationsError}`);
    item.tooltip = md;
    item.command = { command: 'reclab.openPanel', title: 'Open Live Panel', arguments: [r] };
    return item;
  }

  dispose(): void {
    this.unsubscribe();
    this.emitter.dispose();
  }
}
