// Open Live Panel: the Live Training panel for a run, or for the runs picked (overlaid).
import * as vscode from 'vscode';
import type { RunEntry } from '../runs/runRegistry';
import type { CommandContext } from './commandContext';

export async function openPanel(c: CommandContext, target?: RunEntry): Promise<void> {
  let runs: RunEntry[];
  if (target) runs = [target];
  else {
    const all = c.registry.runs;
    if (!all.length) {
      await c.panels.open([]);
      return;
    }
    const live = all.filter((r) => r.live);
    const picked = await vscode.window.showQuickPick(
      all.map((r) => ({ label: r.name, description: `${r.status}${r.preset ? ` · ${r.preset}` : ''}`, detail: r.key, picked: live.includes(r), run: r })),
      { canPickMany: true, title: 'Recursion Lab: Open Live Panel', placeHolder: 'Runs to show (overlaid)' },
    );
    if (!picked) return;
    runs = picked.map((p) => p.run);
  }
  await c.panels.open(runs);
}
