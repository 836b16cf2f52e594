// The Slurm executor's pure parts, without a cluster (test/slurm/ runs it on a real one): Slurm's
// output as Slurm 22.05 prints it, the merge of the scheduler's word with the run directory's,
// the cluster settings file, the batch script, the status JSON the extension reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseSweepStatus } from '../../protocol/slurmSweep';
import { batchScript, shellQuote } from '../../trainer/ablation/slurmBatchScript';
import { parseTaskLines, type SchedulerTask } from '../../trainer/ablation/slurmCommands';
import { resolveSlurmSettings } from '../../trainer/ablation/slurmSettings';
import { mergeTaskState, type RunDirectoryState } from '../../trainer/ablation/slurmTaskStatus';

const dir = mkdtempSync(join(tmpdir(), 'reclab-slurm-unit-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('squeue -r and sacct lines (as Slurm 22.05 prints them) become array tasks', () => {
  // Copied from `squeue -h -t all -r -j 1 -o '%i|%T|%r'` on the one-node test cluster.
  assert.deepEqual(parseTaskLines('1_1|FAILED|NonZeroExitCode\n1_2|PENDING|JobArrayTaskLimit\n1_0|RUNNING|None\n\n', 'squeue'), [
    { jobId: '1', index: 1, state: 'FAILED', reason: 'NonZeroExitCode', source: 'squeue' },
    { jobId: '1', index: 2, state: 'PENDING', reason: 'JobArrayTaskLimit', source: 'squeue' },
    { jobId: '1', index: 0, state: 'RUNNING', reason: undefined, source: 'squeue' },
  ]);
  // A pending array not yet split ("12_[2-3]") and a plain job are not array tasks.
  assert.deepEqual(parseTaskLines('12_[2-3]|PENDING|Resources\n13|RUNNING|None', 'squeue'), []);
  assert.deepEqual(parseTaskLines('12_3|CANCELLED by 0|None\n12_4|TIMEOUT|None', 'sacct'), [
    { jobId: '12', index: 3, state: 'CANCELLED', reason: undefined, source: 'sacct' },
    { jobId: '12', index: 4, state: 'TIMEOUT', reason: undefined, source: 'sacct' },
  ]);
});

const sched = (state: string, reason?: string): SchedulerTask => ({ jobId: '7', index: 0, state, reason, source: 'squeue' });
const run = (r: Partial<RunDirectoryState> = {}): RunDirectoryState => ({ exists: true, ...r });
const exit = (exitCode: number, terminated = false) => ({ jobId: '7', index: 0, exitCode, terminated });

test('the scheduler\'s word merged with the run directory\'s: each state with its reason', () => {
  const cases: [ReturnType<typeof mergeTaskState>, string, RegExp | undefined][] = [
    [mergeTaskState(sched('PENDING', 'Resources'), undefined, run({ exists: false }), false), 'queued', /^Resources$/],
    [mergeTaskState(sched('RUNNING'), undefined, run({ step: 5 }), false), 'running', undefined],
    [mergeTaskState(sched('COMPLETED'), exit(0), run({ done: 'completed' }), false), 'completed', undefined],
    // Slurm says done, the run does not: it did not finish.
    [mergeTaskState(sched('COMPLETED'), exit(0), run(), false), 'failed', /without the run's done event/],
    // Cancelled as it finished: the run's own done decides.
    [mergeTaskState(sched('CANCELLED'), undefined, run({ done: 'completed' }), false), 'completed', undefined],
    [mergeTaskState(sched('CANCELLED'), exit(0, true), run({ done: 'stopped' }), true), 'cancelled', /stopped at its checkpoint/],
    [mergeTaskState(sched('TIMEOUT'), exit(0, true), run({ done: 'stopped' }), false), 'timed-out', /^time limit; the run stopped at its checkpoint$/],
    [mergeTaskState(sched('NODE_FAIL'), undefined, run(), false), 'failed', /^NODE_FAIL: node failure$/],
    [mergeTaskState(sched('PREEMPTED'), undefined, run(), false), 'failed', /^PREEMPTED: preempted$/],
    [mergeTaskState(sched('FAILED', 'NonZeroExitCode'), exit(137), run({ error: 'x' }), false), 'failed', /^FAILED: the task exited non-zero; NonZeroExitCode; trainer exit code 137 \(SIGKILL\); run error: x$/],
    // No scheduler record (no accounting database, MinJobAge passed): the exit file.
    [mergeTaskState(undefined, exit(137), run(), false), 'failed', /^trainer exit code 137 \(SIGKILL\)$/],
    [mergeTaskState(undefined, exit(0, true), run({ done: 'stopped' }), false), 'cancelled', /SIGTERM from Slurm/],
    [mergeTaskState(undefined, exit(0), run({ done: 'completed' }), false), 'completed', undefined],
    // Nothing but the run directory, or our own record of a cancel.
    [mergeTaskState(undefined, undefined, run({ done: 'completed' }), false), 'completed', undefined],
    [mergeTaskState(undefined, undefined, run({ exists: false }), true), 'cancelled', /reclab sweep-cancel/],
    [mergeTaskState(undefined, undefined, run(), false), 'failed', /died without done/],
    [mergeTaskState(undefined, undefined, run({ exists: false }), false), 'unknown', /not known to the scheduler/],
  ];
  for (const [got, state, reason] of cases) {
    assert.equal(got.state, state, JSON.stringify(got));
    if (reason) assert.match(got.reason ?? '', reason);
    else assert.equal(got.reason, undefined, JSON.stringify(got));
  }
});

test('cluster settings: the file, flags on top (extra lines appended), and a bad field named with its file', () => {
  const file = join(dir, 'cluster.json');
  writeFileSync(file, JSON.stringify({ partition: 'gpu', gpusPerTask: 1, time: '2:00:00', sbatch: ['--account=lab'], setup: ['module load cuda/12.1'] }));
  assert.deepEqual(resolveSlurmSettings(file, { partition: 'gpu-long', sbatch: ['--qos=short'], setup: [], mem: undefined }), {
    partition: 'gpu-long', gpusPerTask: 1, time: '2:00:00', sbatch: ['--account=lab', '--qos=short'], setup: ['module load cuda/12.1'],
  });
  writeFileSync(file, JSON.stringify({ partition: 'gpu', gpus: 2 }));
  assert.throws(() => resolveSlurmSettings(file, {}), /cluster\.json: \(top level\): Unrecognized key.*gpus/);
  writeFileSync(file, JSON.stringify({ time: 'two hours' }));
  assert.throws(() => resolveSlurmSettings(file, {}), /cluster\.json: time: a Slurm time/);
  assert.throws(() => resolveSlurmSettings(undefined, { setup: ['echo a\nrm -rf /'] }), /Slurm flags: setup\.0: one line/);
  writeFileSync(file, '{ "partition": ');
  assert.throws(() => resolveSlurmSettings(file, {}), /cluster\.json: not valid JSON/);
});

test('the batch script: #SBATCH lines from the settings, paths quoted for bash, valid bash', () => {
  const sweepDir = join(dir, "it's a sweep");
  const script = batchScript({
    sweepDir, node: '/usr/bin/node', cli: '/opt/reclab/cli.js', jobName: 'reclab-x', trainerArgs: ['--engine', 'torch'],
    tasks: [{ index: 0, name: 'baseline-seed0', arm: 'baseline', seed: 0 }, { index: 1, name: 'pdc-seed0', arm: 'pdc', seed: 0 }],
    settings: { partition: 'gpu', gpusPerTask: 1, cpusPerTask: 8, mem: '32G', time: '4:00:00', sbatch: ['#SBATCH --account=lab', '--qos=short'], setup: ['module load cuda/12.1', 'source ~/venv/bin/activate'] },
  });
  const sbatch = script.split('\n').filter((l) => l.startsWith('#SBATCH ')).map((l) => l.slice(8));
  assert.deepEqual(sbatch, [
    '--job-name=reclab-x', `--output=${sweepDir}/slurm/logs/%A_%a.out`, '--open-mode=append', '--ntasks=1', '--cpus-per-task=8',
    '--partition=gpu', '--gpus-per-task=1', '--mem=32G', '--time=4:00:00', '--requeue', '--account=lab', '--qos=short',
  ]);
  assert.match(script, /^module load cuda\/12\.1\nsource ~\/venv\/bin\/activate$/m);
  assert.match(script, /^NAMES=\('baseline-seed0' 'pdc-seed0'\)$/m);
  assert.match(script, /resume "\$RUN" --quiet '--engine' 'torch' &/);
  // bash reads the quoted path back as it was.
  const echo = spawnSync('bash', ['-c', `SWEEP=${shellQuote(sweepDir)}; printf %s "$SWEEP"`], { encoding: 'utf8' });
  assert.equal(echo.stdout, sweepDir);
  const path = join(dir, 'sweep.sbatch');
  writeFileSync(path, script);
  assert.equal(spawnSync('bash', ['-n', path]).status, 0);
});

test('the status JSON the extension reads: accepted as written, refused with the field at fault', () => {
  const good = { v: 1, sweepDir: '/s', jobId: '7', finished: 1, total: 1, accounting: false, tasks: [{ index: 0, name: 'baseline-seed0', arm: 'baseline', seed: 0, runDir: '/s/baseline-seed0', slurmId: '7_0', state: 'failed', reason: 'NODE_FAIL: node failure', source: 'squeue', step: 40 }] };
  assert.deepEqual(parseSweepStatus(JSON.stringify(good)), good);
  assert.throws(() => parseSweepStatus(JSON.stringify({ ...good, tasks: [{ ...good.tasks[0], state: 'exploded' }] })), /tasks\[0\]\.state: not a task state/);
  assert.throws(() => parseSweepStatus(JSON.stringify({ ...good, v: 2 })), /v: expected 1/);
  assert.throws(() => parseSweepStatus('{"v":'), /not valid JSON/);
});

test('without Slurm (no sbatch on PATH) the submission is refused and leaves no sweep folder', () => {
  const out = join(dir, 'no-slurm');
  const config = join(dir, 'tiny.reclab.json');
  writeFileSync(config, JSON.stringify({ extends: 'sudoku4', backend: 'cpu', model: { hiddenSize: 8, layers: 1 } }));
  const r = spawnSync(process.execPath, [resolve('dist/trainer/cli.js'), 'ablate', '--config', config, '--arms', 'baseline', '--seeds', '1', '--steps', '2', '--executor', 'slurm', '--out', out],
    { encoding: 'utf8', env: { ...process.env, PATH: mkdtempSync(join(dir, 'empty-path-')) }, timeout: 60_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /sbatch refused the sweep: sbatch: not found: run this on a Slurm login node/);
  assert.equal(existsSync(out), false);
});
