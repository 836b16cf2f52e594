// The options of the refinement view's puzzle picker and training-step slider. Pure: no DOM.
// The picker is rebuilt for every new snapshot (its labels carry each puzzle's settled frame);
// the chosen option carries `selected`, because vscode-single-select takes its selection from its
// slotted options when they change and would fall back to the first one (issue 10, item 2).

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** `<vscode-option>` markup for `labels`, the option at `selected` marked selected. */
export function puzzleOptionsHtml(labels: string[], selected: number): string {
  return labels.map((l, i) => `<vscode-option value="${i}"${i === selected ? ' selected' : ''}>${esc(l)}</vscode-option>`).join('');
}

/** The puzzle to keep showing when a snapshot of `count` puzzles arrives (the same probe set keeps the choice). */
export function puzzleAfterSnapshot(chosen: number, count: number): number {
  return chosen >= 0 && chosen < count ? chosen : 0;
}

/** The slider position of the snapshot shown: its index in `steps` (the last when following the latest). */
export function snapshotIndex(steps: number[], shownStep: number | null): number {
  const i = shownStep === null ? -1 : steps.indexOf(shownStep);
  return i >= 0 ? i : Math.max(0, steps.length - 1);
}

/** The step to ask for at slider position `index`: null (follow the latest) at the last position. */
export function snapshotStepAt(steps: number[], index: number): number | null {
  if (steps.length === 0 || index >= steps.length - 1) return null;
  return steps[Math.max(0, index)]!;
}

/** "training step 250 · snapshot 2 / 5" (", latest" at the end). */
export function snapshotLabel(steps: number[], index: number): string {
  if (steps.length === 0) return '';
  const i = Math.min(Math.max(0, index), steps.length - 1);
  return `training step ${steps[i]!.toLocaleString('en-US')} · snapshot ${i + 1} / ${steps.length}${i === steps.length - 1 ? ' (latest)' : ''}`;
}
