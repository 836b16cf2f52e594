// The commands on a run's folder: reveal it, delete it, export its scalars to TensorBoard.
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { RunEntry } from '../runs/runRegistry';
import { TrainerProcess } from '../trainer/trainerProcess';
import { pickRun, trainerCli, type CommandContext } from './commandContext';

export async function openRunFolder(c: CommandContext, target?: RunEntry): Promise<void> {
  const run = target ?? (await pickRun(c, () => true, 'Open which run folder?', 'No runs in this workspace.'));
  if (!run) return;
  const uri = vscode.Uri.file(run.key);
  if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
  else await vscode.commands.executeCommand('revealFileInOS', uri);
}

export async function deleteRun(c: CommandContext, target?: RunEntry): Promise<void> {
  const run = target ?? (await pickRun(c, (r) => !r.process?.running, 'Delete which run?', 'No run to delete.'));
  if (!run) return;
  const ok = await vscode.window.showWarningMessage(`Delete run "${run.name}" and its folder?`, { modal: true, detail: `${run.key}\nCheckpoints and events are deleted. This cannot be undone.` }, 'Delete');
  if (ok !== 'Delete') return;
  await c.registry.delete(run.key);
}

/** `reclab export-tb` in a trainer child process: the run's scalars as TensorBoard event files. */
export async function exportTensorBoard(c: CommandContext, target?: RunEntry): Promise<void> {
  const run = target ?? (await pickRun(c, (r) => !r.live, 'Export which run to TensorBoard?', 'No finished run to export.'));
  if (!run) return;
  const outDir = join(run.key, 'tensorboard');
  const proc = new TrainerProcess({ node: process.execPath, cli: trainerCli(c), args: ['export-tb', run.key, '--out', outDir], cwd: dirname(run.key), rpc: false });
  proc.onStderrLine((l) => c.log.info(`[export-tb] ${l}`));
  const exit = await proc.exited;
  if (exit.code !== 0) throw new Error(`export to TensorBoard failed: ${proc.lastStderr[proc.lastStderr.length - 1] ?? `exit code ${exit.code}`}`);
  const command = `tensorboard --logdir "${outDir}"`;
  const a = await vscode.window.showInformationMessage(`Exported ${run.name} to ${outDir}. Open it with: ${command}  (W&B: wandb sync --sync-tensorboard "${outDir}")`, 'Copy Command', 'Reveal Folder');
  if (a === 'Copy Command') await vscode.env.clipboard.writeText(command);
  if (a === 'Reveal Folder') await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(outDir));
}
