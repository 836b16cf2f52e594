// Run Ablation → Slurm in VS Code (issue 15, item 4): the cluster settings (reclab.slurm.*) become
// `reclab ablate --executor slurm` flags (extension/commands/slurmSweepCommands.ts), and those flags,
// given to the built CLI as the extension gives them, reach the batch script and the sbatch call.
// sbatch is a stand-in on PATH that records its arguments and the script it was given (the real
// cluster runs in test/slurm/). The extension module is loaded with a stub `vscode` module; the
// settings object is passed in, as the command's default argument would read it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'reclab-slurm-settings-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

// `import * as vscode from 'vscode'` inside the extension module gets this stub (nothing of it is used here).
const loader = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
const realLoad = loader._load;
loader._load = function (request, parent, isMain) {
  return request === 'vscode' ? { workspace: {}, window: {}, ProgressLocation: {} } : realLoad.call(this, request, parent, isMain);
};
const load = createRequire(__filename);
const { slurmAblationArgs } = load('../../extension/commands/slurmSweepCommands') as typeof import('../../extension/commands/slurmSweepCommands');
loader._load = realLoad;

/** A WorkspaceConfiguration's get(): the value set, else the default the caller passes. */
const settings = (values: Record<string, unknown>) => ({ get: (key: string, fallback?: unknown) => (key in values ? values[key] : fallback) }) as never;

test('no cluster settings: just --executor slurm (the cluster\'s defaults)', () => {
  assert.deepEqual(slurmAblationArgs(settings({})), ['--executor', 'slurm']);
  // The package.json defaults (empty strings, 0, 1, []) add nothing but --cpus-per-task=1, Slurm's own default.
  assert.deepEqual(slurmAblationArgs(settings({ partition: '', gpusPerTask: 0, cpusPerTask: 1, mem: '', time: '', concurrency: 0, sbatch: [], setup: [], engine: '', settingsFile: '' })),
    ['--executor', 'slurm', '--cpus-per-task=1']);
});

test('every reclab.slurm.* setting reaches the batch script and the sbatch call of the built CLI', () => {
  const clusterFile = join(dir, 'gpu-cluster.json');
  writeFileSync(clusterFile, JSON.stringify({ mem: '16G', sbatch: ['--account=lab'], setup: ['echo from-the-file'] }));
  const args = slurmAblationArgs(settings({
    settingsFile: clusterFile, partition: 'gpu', gpusPerTask: 1, cpusPerTask: 8, mem: '32G', time: '2:00:00', concurrency: 3,
    sbatch: ['--qos=short', '--constraint=a100'], setup: ['module load cuda/12.1 nodejs/20', 'source ~/venvs/reclab/bin/activate'], engine: 'torch',
  }));
  assert.deepEqual(args, [
    '--executor', 'slurm', `--slurm-config=${clusterFile}`, '--partition=gpu', '--gpus-per-task=1', '--cpus-per-task=8', '--mem=32G', '--time=2:00:00',
    '--parallel=3', '--sbatch=--qos=short', '--sbatch=--constraint=a100', '--setup=module load cuda/12.1 nodejs/20', '--setup=source ~/venvs/reclab/bin/activate', '--engine=torch',
  ]);

  // A stand-in sbatch: records its arguments and a copy of the script, answers as `sbatch --parsable` does.
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const record = join(dir, 'sbatch-call');
  writeFileSync(join(bin, 'sbatch'), `#!/bin/bash\nprintf '%s\\n' "$@" > ${JSON.stringify(record + '.args')}\ncp "\${@: -1}" ${JSON.stringify(record + '.script')}\necho 4242\n`);
  chmodSync(join(bin, 'sbatch'), 0o755);
  const config = join(dir, 'tiny.reclab.json');
  writeFileSync(config, JSON.stringify({ extends: 'sudoku4', model: { hiddenSize: 8, layers: 1 } }));
  const out = join(dir, 'sweep');
  // The extension's command line: ablate --preset/--config ... then the settings' flags, then --out.
  const r = spawnSync(process.execPath, [resolve(__dirname, '../../dist/trainer/cli.js'), 'ablate', '--config', config, '--arms', 'baseline,pdc', '--seeds', '2', '--steps', '5', ...args, '--out', out],
    { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env['PATH']}` }, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /submitted job 4242 \(--array=0-3%3, 4 tasks/);

  const sbatchArgs = readFileSync(record + '.args', 'utf8').trim().split('\n');
  assert.deepEqual(sbatchArgs.slice(0, 2), ['--parsable', '--array=0-3%3']);
  const script = readFileSync(record + '.script', 'utf8');
  assert.equal(script, readFileSync(join(out, 'slurm/sweep.sbatch'), 'utf8'), 'the script submitted is the one the sweep folder records');
  const lines = script.split('\n').filter((l) => l.startsWith('#SBATCH ')).map((l) => l.slice(8));
  for (const l of ['--cpus-per-task=8', '--partition=gpu', '--gpus-per-task=1', '--mem=32G', '--time=2:00:00', '--account=lab', '--qos=short', '--constraint=a100']) {
    assert.ok(lines.includes(l), `#SBATCH ${l} in ${JSON.stringify(lines)}`);
  }
  assert.ok(!lines.includes('--mem=16G'), 'the setting wins over the settings file');
  // Set-up lines of the file, then of the settings, each on its own line before the trainer starts.
  assert.match(script, /^echo from-the-file\nmodule load cuda\/12\.1 nodejs\/20\nsource ~\/venvs\/reclab\/bin\/activate$/m);
  // The engine setting is passed on to every task's trainer, train and resume alike.
  assert.match(script, /train --config "\$SWEEP\/configs\/\$NAME\.reclab\.json" --run-dir "\$RUN" --quiet '--engine' 'torch' &/);
  assert.match(script, /resume "\$RUN" --quiet '--engine' 'torch' &/);
  const slurmJson = JSON.parse(readFileSync(join(out, 'slurm.json'), 'utf8')) as { submissions: { jobId: string }[] };
  assert.equal(slurmJson.submissions[0]!.jobId, '4242');
});
