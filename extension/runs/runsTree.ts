// The "Runs" tree of the Recursion Lab activity-bar container: one item per run, with status,
// preset, step and best exact accuracy, and a context menu keyed on `contextValue`.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { RunStatus } from '../../protocol/webviewMessages';
import type { RunEntry, RunRegistry } from './runRegistry';

const icons: Record<RunStatus, vscode.ThemeIcon> = {
  starting: new vscode.ThemeIcon('loading~spin'),
  running: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue')),
  completed: new vscode.ThemeIcon('pass', new vscode.ThemeColor('charts.green')),
  stopped: new vscode.ThemeIcon('debug-stop', new vscode.ThemeColor('charts.yellow')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('charts.red')),
};

export const percent = (x: number | undefined): string => (x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);

/** "stopped · sudoku4 · step 650 · best 42.5%" */
export function runDescription(r: RunEntry): string {
  const parts: string[] = [r.status === 'failed' && r.failure?.startsWith('interrupted') ? 'failed (interrupted)' : r.status];
  if (r.preset) parts.push(r.preset);
  if (r.step !== undefined) parts.push(`step ${r.step}`);
  if (r.bestExactAccuracy !== undefined) parts.push(`best ${percent(r.bestExactAccuracy)}`);
  return parts.join(' · ');
}

/** A folder of runs (an ablation sweep's output folder). */
export class RunGroup {
  constructor(readonly key: string) {}
}
type Node = RunEntry | RunGroup;

export class RunsTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly unsubscribe: () => void;
  private groups = new Map<string, RunGroup>();

  constructor(private readonly registry: RunRegistry) {
    // A run inside a group is refreshed with its group's children: fire for the whole tree then.
    this.unsubscribe = registry.onDidChange((e) => this.emitter.fire(e && !e.group ? e : undefined));
  }

  getChildren(element?: Node): Node[] {
    const runs = this.registry.runs;
    if (element instanceof RunGroup) return runs.filter((r) => r.group === element.key);
    if (element) return [];
    const groups = new Map<string, RunGroup>();
    for (const r of runs) if (r.group && !groups.has(r.group)) groups.set(r.group, this.groups.get(r.group) ?? new RunGroup(r.group));
    this.groups = groups;
    return [...[...groups.values()].sort((a, b) => (a.key < b.key ? 1 : -1)), ...runs.filter((r) => !r.group)];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node instanceof RunGroup) {
      const runs = this.registry.runs.filter((r) => r.group === node.key);
      const item = new vscode.TreeItem(basename(node.key), vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `group:${node.key}`;
      const live = runs.filter((r) => r.live).length;
      item.description = `${runs.length} runs${live ? ` · ${live} training` : ''}`;
      item.iconPath = new vscode.ThemeIcon(live ? 'beaker~spin' : 'beaker');
      item.tooltip = node.key;
      item.contextValue = 'runGroup';
      return item;
    }
    const r = node;
    const item = new vscode.TreeItem(r.name, vscode.TreeItemCollapsibleState.None);
    item.id = r.key;
    item.description = runDescription(r);
    item.iconPath = icons[r.status];
    item.resourceUri = vscode.Uri.file(r.key);
    const ours = r.process?.running ? '.supervised' : '';
    item.contextValue = `run.${r.status}${ours}`;
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${r.name}** — ${r.status}${r.failure ? ` (${r.failure})` : ''}\n\n`);
    md.appendMarkdown(`- run id: \`${r.runId}\`\n`);
    if (r.preset) md.appendMarkdown(`- preset: ${r.preset}\n`);
    if (r.step !== undefined) md.appendMarkdown(`- step: ${r.step}${r.series?.figures.totalSteps ? ` / ${r.series.figures.totalSteps}` : ''}\n`);
    md.appendMarkdown(`- best exact accuracy: ${percent(r.bestExactAccuracy)}\n`);
    if (r.summary?.backend ?? r.metadata?.backend) md.appendMarkdown(`- backend: ${r.summary?.backend ?? r.metadata?.backend}\n`);
    md.appendMarkdown(`- folder: \`${r.key}\``);
    item.tooltip = md;
    item.command = { command: 'reclab.openPanel', title: 'Open Live Panel', arguments: [r] };
    return item;
  }

  dispose(): void {
    this.unsubscribe();
    this.emitter.dispose();
  }
}
