// Tag Run and Edit Run Note: a run's tags and note, in its annotations file.
import * as vscode from 'vscode';
import { checkTag, MAX_NOTE_LENGTH } from '../../protocol/runAnnotations';
import { readRunAnnotations, splitTags, writeRunAnnotations } from '../runs/runAnnotationsFile';
import type { RunEntry } from '../runs/runRegistry';
import { pickRun, type CommandContext } from './commandContext';

export async function tagRun(c: CommandContext, target?: RunEntry): Promise<void> {
  const run = target ?? (await pickRun(c, () => true, 'Tag which run?', 'No runs in this workspace.'));
  if (!run) return;
  const current = await readRunAnnotations(run.key);
  const text = await vscode.window.showInputBox({
    title: `Tags of ${run.name}`, prompt: 'Tags, separated by commas or spaces (empty = none)', value: current.tags.join(', '),
    validateInput: (v) => splitTags(v).map(checkTag).find(Boolean),
  });
  if (text === undefined) return;
  await writeRunAnnotations(run.key, { ...current, tags: splitTags(text) });
  await c.registry.poll();
}

export async function editRunNote(c: CommandContext, target?: RunEntry): Promise<void> {
  const run = target ?? (await pickRun(c, () => true, 'Note on which run?', 'No runs in this workspace.'));
  if (!run) return;
  const current = await readRunAnnotations(run.key);
  const note = await vscode.window.showInputBox({
    title: `Note on ${run.name}`, prompt: 'A note on this run (empty = none)', value: current.note,
    validateInput: (v) => (v.length > MAX_NOTE_LENGTH ? `at most ${MAX_NOTE_LENGTH} characters` : undefined),
  });
  if (note === undefined) return;
  await writeRunAnnotations(run.key, { ...current, note: note.trim() });
  await c.registry.poll();
}
