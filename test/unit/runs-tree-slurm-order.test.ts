// The runs tree's rows of a Slurm sweep (extension/runs/runsTree.ts) keep their place and their id
// while the sweep's tasks start: a task with no run directory is a SlurmTaskNode, a task whose
// run directory the registry found is its RunEntry, and the list is in the sweep's task order
// (slurm.json) at every moment. (An e2e run once failed because pdc-seed0's row swapped places
// with baseline-seed0's between the pointer reaching its inline Stop Run and the click: the
// runs came first, sorted by run id, then the tasks not started yet.) The module is loaded with a
// stub `vscode` module holding the few classes the tree provider constructs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Module, { createRequire } from 'node:module';
import { join } from 'node:path';
import type { SweepStatus, SweepTaskStatus } from '../../protocol/slurmSweep';

class TreeItem {
  id?: string;
  description?: string;
  contextValue?: string;
  constructor(readonly label: string, readonly collapsibleState: number) {}
}
class MarkdownString {
  value = '';
  appendMarkdown(s: string) { this.value += s; return this; }
  appendText(s: string) { this.value += s; return this; }
}
class EventEmitter {
  private listeners: ((e: unknown) => void)[] = [];
  event = (l: (e: unknown) => void) => { this.listeners.push(l); return { dispose: () => {} }; };
  fire(e?: unknown) { for (const l of this.listeners) l(e); }
  dispose() {}
}
const vscodeStub = {
  TreeItem, MarkdownString, EventEmitter,
  ThemeIcon: class { constructor(readonly id: string) {} },
  ThemeColor: class { constructor(readonly id: string) {} },
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
  Uri: { file: (path: string) => ({ scheme: 'file', fsPath: path }) },
};
const loader = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
const realLoad = loader._load;
loader._load = function (request, parent, isMain) {
  return request === 'vscode' ? vscodeStub : realLoad.call(this, request, parent, isMain);
};
const load = createRequire(__filename);
const { RunsTreeProvider, RunGroup, SlurmTaskNode } = load('../../extension/runs/runsTree') as typeof import('../../extension/runs/runsTree');
const { RunEntry } = load('../../extension/runs/runRegistry') as typeof import('../../extension/runs/runRegistry');
loader._load = realLoad;

const sweepDir = join('/ws', 'runs', 'ablation-20261202-070034-slurm');
// The sweep's task order, as slurm.json lists it (seed-major: index 0..3).
const names = ['baseline-seed0', 'pdc-seed0', 'hsw-seed0', 'cgar-seed0'];

function sweepStatus(states: SweepTaskStatus['state'][]): SweepStatus {
  const tasks: SweepTaskStatus[] = names.map((name, index) => ({
    index, name, arm: name.replace(/-seed\d+$/, ''), seed: 0, runDir: join(sweepDir, name), slurmId: `11_${index}`,
    state: states[index]!, source: 'squeue',
  }));
  return { v: 1, sweepDir, jobId: '11', tasks, finished: 0, total: 4, accounting: false };
}

/** A tree over fake registry and Slurm sources whose content the test sets step by step. */
function tree() {
  const world = { runs: [] as InstanceType<typeof RunEntry>[], status: sweepStatus(['running', 'running', 'queued', 'queued']) };
  const registry = { get runs() { return world.runs; }, onDidChange: () => () => {} };
  const slurm = {
    get sweeps() { return [sweepDir]; },
    status: (d: string) => (d === sweepDir ? world.status : undefined),
    task: (runDir: string) => world.status.tasks.find((t) => t.runDir === runDir),
    onDidChange: () => ({ dispose: () => {} }),
  };
  const provider = new RunsTreeProvider(registry as never, slurm as never);
  /** The sweep group's rows: [name, id, kind] in order. */
  const rows = () => {
    const [group] = provider.getChildren();
    assert.ok(group instanceof RunGroup);
    return provider.getChildren(group).map((n) => {
      const item = provider.getTreeItem(n);
      return [item.label, item.id, n instanceof SlurmTaskNode ? 'task' : 'run'];
    });
  };
  /** The registry finds a task's run directory (a RunEntry; its run id from the folder name until config.json is read). */
  const appear = (name: string, runId?: string) => {
    const e = new RunEntry(join(sweepDir, name));
    e.group = sweepDir;
    if (runId) e.runId = runId;
    // The registry's own order: run id, newest (greatest) first.
    world.runs = [...world.runs, e].sort((a, b) => (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0));
  };
  return { world, rows, appear };
}

const expected = (kinds: string[]) => names.map((n, i) => [n, join(sweepDir, n), kinds[i]]);

test('a Slurm sweep\'s rows stay in the sweep\'s task order, each with one id, while its run directories appear in any order', () => {
  const t = tree();
  assert.deepEqual(t.rows(), expected(['task', 'task', 'task', 'task']));
  // pdc-seed0 (index 1) writes its run directory first: it stays the second row.
  t.appear('pdc-seed0');
  assert.deepEqual(t.rows(), expected(['task', 'run', 'task', 'task']));
  // baseline-seed0 next; the registry lists pdc first ("pdc-seed0" > "baseline-seed0"): the tree does not.
  t.appear('baseline-seed0');
  assert.deepEqual(t.world.runs.map((r) => r.name), ['pdc-seed0', 'baseline-seed0']);
  assert.deepEqual(t.rows(), expected(['run', 'run', 'task', 'task']));
  // config.json read: run ids from the metadata; the same rows still.
  t.world.runs[0]!.runId = '20261202-070035-pdc-seed0';
  t.world.runs[1]!.runId = '20261202-070035-baseline-seed0';
  assert.deepEqual(t.rows(), expected(['run', 'run', 'task', 'task']));
  // pdc-seed0 cancelled, the queued ones start: cgar-seed0 (index 3) writes its folder before hsw-seed0.
  t.world.status = sweepStatus(['running', 'cancelled', 'running', 'running']);
  t.appear('cgar-seed0', '20261202-070110-cgar-seed0');
  assert.deepEqual(t.rows(), expected(['run', 'run', 'task', 'run']));
  t.appear('hsw-seed0', '20261202-070111-hsw-seed0');
  assert.deepEqual(t.rows(), expected(['run', 'run', 'run', 'run']));
});

test('the Stop Run context of a Slurm task row follows its state, as a task and as a run', () => {
  const t = tree();
  const provider = new RunsTreeProvider(
    { get runs() { return t.world.runs; }, onDidChange: () => () => {} } as never,
    { get sweeps() { return [sweepDir]; }, status: () => t.world.status, task: (d: string) => t.world.status.tasks.find((x) => x.runDir === d), onDidChange: () => ({ dispose: () => {} }) } as never,
  );
  const contexts = () => provider.getChildren(provider.getChildren()[0]).map((n) => provider.getTreeItem(n).contextValue);
  // package.json shows Stop Run for /\.supervised$|\.slurm$|^slurmTask\.live$/.
  const stoppable = (c: string | undefined) => /\.supervised$|\.slurm$|^slurmTask\.live$/.test(c ?? '');
  t.appear('baseline-seed0');
  assert.deepEqual(contexts(), ['run.running.slurm', 'slurmTask.live', 'slurmTask.live', 'slurmTask.live']);
  assert.deepEqual(contexts().map(stoppable), [true, true, true, true]);
  t.world.status = sweepStatus(['running', 'cancelled', 'queued', 'queued']);
  assert.deepEqual(contexts(), ['run.running.slurm', 'slurmTask', 'slurmTask.live', 'slurmTask.live']);
  assert.deepEqual(contexts().map(stoppable), [true, false, true, true]);
});

test('a folder of runs that is no Slurm sweep keeps the registry\'s order (newest run id first)', () => {
  const registryRuns = ['a-seed0', 'b-seed0'].map((name, i) => { const e = new RunEntry(join('/ws', 'runs', 'ablation-local', name)); e.group = join('/ws', 'runs', 'ablation-local'); e.runId = `2026120${i}-${name}`; return e; });
  const provider = new RunsTreeProvider({ runs: [registryRuns[1]!, registryRuns[0]!], onDidChange: () => () => {} } as never,
    { sweeps: [], status: () => undefined, task: () => undefined, onDidChange: () => ({ dispose: () => {} }) } as never);
  const [group] = provider.getChildren();
  assert.deepEqual(provider.getChildren(group).map((n) => provider.getTreeItem(n).label), ['b-seed0', 'a-seed0']);
});
