// The palette commands (category "Recursion Lab") and the runs tree's context menu, registered
// in one place; each lives in the module of what it acts on: a run's process (runCommands), its
// folder (runFolderCommands), its tags and note (runAnnotationCommands), the panel
// (panelCommands), sweeps (sweepCommands, slurmSweepCommands). A failing command shows its error.
import * as vscode from 'vscode';
import type { RunGroup } from '../runs/runsTree';
import { trainerCli, type CommandContext } from './commandContext';
import { openPanel } from './panelCommands';
import { editRunNote, tagRun } from './runAnnotationCommands';
import { resumeRun, startTraining, stopRun } from './runCommands';
import { deleteRun, exportTensorBoard, openRunFolder } from './runFolderCommands';
import { cancelSlurmSweep } from './slurmSweepCommands';
import { openSweepReport, runAblation } from './sweepCommands';

export type { CommandContext } from './commandContext';

export class Commands {
  constructor(private readonly c: CommandContext) {}

  register(): vscode.Disposable[] {
    const c = this.c;
    const r = <A extends unknown[]>(id: string, fn: (c: CommandContext, ...args: A) => unknown) =>
      vscode.commands.registerCommand(id, (...args: A) => this.guard(() => fn(c, ...args)));
    return [
      r('reclab.startTraining', startTraining),
      r('reclab.stopRun', stopRun),
      r('reclab.resumeRun', resumeRun),
      r('reclab.openPanel', openPanel),
      r('reclab.runAblation', runAblation),
      r('reclab.cancelSweep', (_c, g?: RunGroup) => cancelSlurmSweep(trainerCli(c), c.slurm, g?.key)),
      r('reclab.openRunFolder', openRunFolder),
      r('reclab.deleteRun', deleteRun),
      r('reclab.refreshRuns', () => c.registry.poll()),
      r('reclab.showLog', () => c.log.show()),
      r('reclab.tagRun', tagRun),
      r('reclab.editRunNote', editRunNote),
      r('reclab.exportTensorBoard', exportTensorBoard),
    ];
  }

  /** The sweep report of `sweepDir` (or of a sweep picked from the runs folders). */
  openSweepReport(sweepDir?: string): Promise<void> {
    return openSweepReport(this.c, sweepDir);
  }

  private async guard(fn: () => unknown): Promise<unknown> {
    try {
      return await fn();
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.c.log.error(msg);
      void vscode.window.showErrorMessage(`Recursion Lab: ${msg}`, 'Show Log').then((a) => a && this.c.log.show());
      return undefined;
    }
  }
}
