// Recursion Lab, the extension host side: it supervises trainer processes, keeps the run list
// (tree + status bar) and hosts the Live Training panels. It holds no model code (design.md).
import { join } from 'node:path';
import * as vscode from 'vscode';
import { fixedPointPanelViewType } from '../protocol/fixedPointMessages';
import { refinementPanelViewType } from '../protocol/refinementMessages';
import { runsTablePanelViewType } from '../protocol/runsTableMessages';
import { sweepReportPanelViewType } from '../protocol/sweepReportMessages';
import { trainingPanelViewType } from '../protocol/webviewMessages';
import { runsRoots } from './commands/commandContext';
import { Commands } from './commands/commands';
import { ConfigDiagnostics } from './config/configDiagnostics';
import { FixedPointPanels } from './panels/fixedPointPanel';
import { VotePanels } from './panels/votePanel';
import { votePanelViewType } from '../protocol/voteMessages';
import { PanelMemory } from './panels/panelMemory';
import { RefinementPanels } from './panels/refinementPanel';
import { RunsTablePanels } from './panels/runsTablePanel';
import { SweepReportPanels } from './panels/sweepReportPanel';
import { RunRegistry } from './runs/runRegistry';
import { RunGroup, RunsTreeProvider } from './runs/runsTree';
import type { TrainerProcess } from './trainer/trainerProcess';
import { TrainingPanels } from './panels/trainingPanel';
import { TrainingStatusBar } from './runs/trainingStatusBar';
import { SlurmSweeps } from './runs/slurmSweeps';

/** How long deactivation waits for a graceful stop before killing the trainers' process trees. */
const DEACTIVATE_STOP_MS = 3000;

let registry: RunRegistry | undefined;
const jobs = new Set<TrainerProcess>();

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Recursion Lab', { log: true });
  registry = new RunRegistry({ roots: runsRoots, log });
  const storage = context.storageUri ?? context.globalStorageUri;
  const memory = new PanelMemory(storage.scheme === 'file' ? join(storage.fsPath, 'live-panels.json') : undefined);
  const panels = new TrainingPanels(context.extensionUri, registry, log, memory);
  const slurm = new SlurmSweeps(vscode.Uri.joinPath(context.extensionUri, 'dist', 'trainer', 'cli.js').fsPath, runsRoots, log);
  const tree = new RunsTreeProvider(registry, slurm);
  const fixedPoints = new FixedPointPanels(context.extensionUri, registry, log, context.workspaceState);
  const votes = new VotePanels(context.extensionUri, registry, log);
  const refinement = new RefinementPanels(context.extensionUri, registry, log, context.workspaceState);
  const runsTables = new RunsTablePanels(context.extensionUri, registry, panels, log);
  const sweepReports = new SweepReportPanels(context.extensionUri, registry, panels, runsTables, log);
  const commands = new Commands({ extensionUri: context.extensionUri, registry, panels, log, jobs, slurm, sweepReports, runsTables });
  const r = registry;
  const showError = (e: unknown) => {
    const msg = e instanceof Error ? e.message : String(e);
    log.error(msg);
    void vscode.window.showErrorMessage(`Recursion Lab: ${msg}`);
  };
  context.subscriptions.push(
    log,
    slurm,
    tree,
    vscode.window.createTreeView('reclab.runs', { treeDataProvider: tree, showCollapseAll: false }),
    new TrainingStatusBar(registry),
    panels,
    vscode.window.registerWebviewPanelSerializer(trainingPanelViewType, panels),
    fixedPoints,
    vscode.window.registerWebviewPanelSerializer(fixedPointPanelViewType, fixedPoints),
    vscode.commands.registerCommand('reclab.inspectFixedPoints', (arg?: unknown) => fixedPoints.command(arg).catch((e: unknown) => {
      log.error((e as Error).message);
      void vscode.window.showErrorMessage(`Recursion Lab: ${(e as Error).message}`);
    })),
    votes,
    vscode.window.registerWebviewPanelSerializer(votePanelViewType, votes),
    vscode.commands.registerCommand('reclab.voteTestTime', (arg?: unknown) => votes.command(arg).catch(showError)),
    refinement,
    vscode.window.registerWebviewPanelSerializer(refinementPanelViewType, refinement),
    vscode.commands.registerCommand('reclab.openRefinementView', (arg?: unknown) => refinement.openLive(arg).catch(showError)),
    vscode.commands.registerCommand('reclab.inspectPuzzle', (arg?: unknown) => refinement.inspectPuzzle(arg).catch(showError)),
    runsTables,
    vscode.window.registerWebviewPanelSerializer(runsTablePanelViewType, runsTables),
    sweepReports,
    vscode.window.registerWebviewPanelSerializer(sweepReportPanelViewType, sweepReports),
    // From a sweep's row in the runs tree (a RunGroup), a sweep folder path (the completion notification), or the palette.
    vscode.commands.registerCommand('reclab.openRunsTable', (arg?: unknown) => runsTables.open(sweepDirOf(arg)).catch(showError)),
    vscode.commands.registerCommand('reclab.openSweepReport', (arg?: unknown) => commands.openSweepReport(sweepDirOf(arg)).catch(showError)),
    ...commands.register(),
    new ConfigDiagnostics(),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void r.poll()),
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('reclab.runsDirectory') && void r.poll()),
  );
  registry.start();
  slurm.start();
  log.info(`Recursion Lab activated; runs folders: ${runsRoots().join(', ') || '(no folder open)'}`);
}

function sweepDirOf(arg: unknown): string | undefined {
  if (arg instanceof RunGroup) return arg.key;
  return typeof arg === 'string' && arg.length > 0 ? arg : undefined;
}

/** Reload, window close, uninstall: no trainer may outlive the window. */
export async function deactivate(): Promise<void> {
  const r = registry;
  registry = undefined;
  await Promise.all([r?.stopAll(DEACTIVATE_STOP_MS), ...[...jobs].map((j) => j.stop(DEACTIVATE_STOP_MS))]);
  r?.dispose();
}
