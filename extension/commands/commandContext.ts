// What every command module works with: the extension's services, the settings the commands
// read, where runs are written, the trainer CLI and the "which run?" picker.
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { RunEntry, RunRegistry } from '../runs/runRegistry';
import type { SlurmSweeps } from '../runs/slurmSweeps';
import type { RunsTablePanels } from '../panels/runsTablePanel';
import type { SweepReportPanels } from '../panels/sweepReportPanel';
import type { TrainingPanels } from '../panels/trainingPanel';
import type { TrainerProcess } from '../trainer/trainerProcess';

export interface CommandContext {
  extensionUri: vscode.Uri;
  registry: RunRegistry;
  panels: TrainingPanels;
  log: vscode.LogOutputChannel;
  /** Ablation processes this window started (stopped on deactivation). */
  jobs: Set<TrainerProcess>;
  /** The Slurm sweeps in the runs folders and their tasks' scheduler states. */
  slurm: SlurmSweeps;
  sweepReports: SweepReportPanels;
  runsTables: RunsTablePanels;
}

/** "20261129-153012-name": the trainer's own run-id form, so runs sort by start time. */
export function newRunDirName(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${name.replace(/[^A-Za-z0-9_.-]+/g, '-')}`;
}

export function settings() {
  const c = vscode.workspace.getConfiguration('reclab');
  return {
    runsDirectory: c.get<string>('runsDirectory', 'runs'),
    stopTimeoutMs: 1000 * c.get<number>('stopTimeoutSeconds', 15),
    openPanelOnStart: c.get<boolean>('openPanelOnStart', true),
    pythonPath: c.get<string>('pythonPath', ''),
  };
}

/** The runs folders of the open workspace folders. */
export function runsRoots(): string[] {
  const dir = settings().runsDirectory;
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => join(f.uri.fsPath, dir));
}

/** The trainer CLI the extension ships (dist/trainer/cli.js). */
export function trainerCli(c: CommandContext): string {
  return vscode.Uri.joinPath(c.extensionUri, 'dist', 'trainer', 'cli.js').fsPath;
}

/** A run passing `filter`: the only one, or the one picked; `none` is said when there is none. */
export async function pickRun(c: CommandContext, filter: (r: RunEntry) => boolean, title: string, none: string): Promise<RunEntry | undefined> {
  await c.registry.poll();
  const runs = c.registry.runs.filter(filter);
  if (!runs.length) {
    void vscode.window.showInformationMessage(none);
    return undefined;
  }
  if (runs.length === 1) return runs[0];
  const p = await vscode.window.showQuickPick(runs.map((r) => ({ label: r.name, description: `${r.status}${r.preset ? ` · ${r.preset}` : ''}`, detail: r.key, run: r })), { title });
  return p?.run;
}
