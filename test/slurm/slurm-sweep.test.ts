// `reclab ablate --executor slurm` on a real one-node Slurm (started by run-slurm-test.sh, which
// sets SLURM_CONF): a 2-arm x 2-seed sweep runs as one job array and its report equals the same
// sweep run locally; on a second sweep one running task is cancelled, one task's trainer is
// SIGKILLed and one task is requeued (as preemption does): the first two show with Slurm's reason,
// the requeued one resumes by itself, and --rerun-failed resumes just the first two from their
// checkpoints to completion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseSweepStatus, type SweepStatus } from '../../protocol/slurmSweep';

const work = process.env['RECLAB_SLURM_WORK'];
if (!process.env['SLURM_CONF'] || !work) throw new Error('run this test through test/slurm/run-slurm-test.sh (it starts the cluster and sets SLURM_CONF)');
const cli = resolve('dist/trainer/cli.js');
const dir = join(work, 'sweeps');
mkdirSync(dir, { recursive: true });

const reclab = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 300_000 });
const status = (sweep: string): SweepStatus => {
  const r = reclab(['sweep-status', sweep, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return parseSweepStatus(r.stdout);
};
const byName = (s: SweepStatus) => Object.fromEntries(s.tasks.map((t) => [t.name, t]));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, f: () => T | undefined, timeoutMs = 240_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(300);
  }
}
const events = (runDir: string) => existsSync(join(runDir, 'events.jsonl'))
  ? readFileSync(join(runDir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { type: string; step?: number; resumed?: boolean; status?: string })
  : [];
/** The pid of the trainer process of a run (node … train|resume … <runDir> …). */
const trainerPid = (runDir: string) => {
  const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  const line = ps.split('\n').find((l) => l.includes(cli) && (l.includes(` --run-dir ${runDir} `) || l.includes(` resume ${runDir} `)));
  return line ? Number(line.trim().split(/\s+/)[0]) : undefined;
};

// A tiny preset: sudoku4 on the tfjs engine (cpu backend), a few steps.
const config = join(dir, 'tiny.reclab.json');
writeFileSync(config, JSON.stringify({
  extends: 'sudoku4', backend: 'cpu',
  model: { hiddenSize: 8, layers: 1 },
  train: { batchSize: 8, microBatchSize: 8, haltMaxSteps: 2 },
  data: { trainPuzzles: 30, trainBlanks: [4, 6], testBlanks: [4, 5], testPerBlank: 3 },
  eval: { puzzlesPerBlank: 3, batchSize: 16, gradientVarianceGroups: 2 },
}));
const sweepArgs = ['--config', config, '--arms', 'baseline,pdc', '--seeds', '2', '--steps', '12', '--depth', '2,2', '--eval-every', '4', '--quiet'];

test('a 2-arm x 2-seed sweep as one Slurm job array: every task completes and the report equals the local sweep with the same seeds', async () => {
  const onSlurm = join(dir, 'slurm-sweep');
  const local = join(dir, 'local-sweep');
  const t0 = Date.now();
  const submit = reclab(['ablate', ...sweepArgs, '--executor', 'slurm', '--out', onSlurm, '--sbatch=--comment=reclab-test', '--setup', 'export RECLAB_SETUP_RAN=yes; echo "setup: $RECLAB_SETUP_RAN"']);
  assert.equal(submit.status, 0, submit.stderr);
  const jobId = /submitted job (\d+) \(--array=0-3, 4 tasks/.exec(submit.stdout)?.[1];
  assert.ok(jobId, submit.stdout);
  // Meanwhile, the same sweep on this machine.
  const localRun = reclab(['ablate', ...sweepArgs, '--executor', 'local', '--out', local]);
  assert.equal(localRun.status, 0, localRun.stderr);
  // The folder records the job id and the batch script; Slurm runs it as asked.
  const record = JSON.parse(readFileSync(join(onSlurm, 'slurm.json'), 'utf8'));
  assert.equal(record.submissions[0].jobId, jobId);
  assert.deepEqual(record.tasks.map((t: { name: string }) => t.name), ['baseline-seed0', 'pdc-seed0', 'baseline-seed1', 'pdc-seed1']);
  const script = readFileSync(join(onSlurm, 'slurm/sweep.sbatch'), 'utf8');
  assert.match(script, /^#SBATCH --comment=reclab-test$/m);
  assert.match(execFileSync('scontrol', ['show', 'job', `${jobId}_0`], { encoding: 'utf8' }), /Comment=reclab-test/);
  const done = await until('every task finished', () => { const s = status(onSlurm); return s.finished === 4 ? s : undefined; });
  const seconds = (Date.now() - t0) / 1000;
  for (const t of done.tasks) {
    assert.equal(t.state, 'completed', `${t.name}: ${t.reason}`);
    assert.equal(t.schedulerState, 'COMPLETED');
    assert.equal(t.slurmId, `${jobId}_${t.index}`);
    assert.equal(t.step, 12);
  }
  assert.match(readFileSync(join(onSlurm, `slurm/logs/${jobId}_0.out`), 'utf8'), /setup: yes/);
  // The last task built the report; it equals the local one run for run.
  await until('the report of the last task', () => existsSync(join(onSlurm, 'ablation.json')));
  type Run = { arm: string; seed: number; status: string; finalExact: number; finalByBlanks: unknown; haltingAccuracy: number; meanReasoningSteps: number; gradientVariance: number; flopsForward: number };
  const runsOf = (d: string) => (JSON.parse(readFileSync(join(d, 'ablation.json'), 'utf8')) as { runs: Run[] }).runs;
  const pick = (r: Run) => ({ arm: r.arm, seed: r.seed, status: r.status, finalExact: r.finalExact, finalByBlanks: r.finalByBlanks, haltingAccuracy: r.haltingAccuracy, meanReasoningSteps: r.meanReasoningSteps, gradientVariance: r.gradientVariance, flopsForward: r.flopsForward });
  assert.deepEqual(runsOf(onSlurm).map(pick), runsOf(local).map(pick));
  // The same final weights: every held-out token prediction agrees, not only the exact-match rate.
  for (const name of ['baseline-seed0', 'pdc-seed0', 'baseline-seed1', 'pdc-seed1']) {
    const tokens = (d: string) => JSON.parse(readFileSync(join(d, name, 'summary.json'), 'utf8')).finalEval.tokenAccuracy as number;
    assert.equal(tokens(onSlurm), tokens(local), name);
    assert.ok(tokens(local) > 0);
  }
  // The arm table is the same too (time columns aside).
  const armRows = (d: string) => readFileSync(join(d, 'ablation.md'), 'utf8').split('\n').filter((l) => /^\| (baseline|pdc) \| \d+ \(/.test(l)).map((l) => l.split('|').slice(1, 5).join('|'));
  assert.deepEqual(armRows(onSlurm), armRows(local));
  process.stdout.write(`# 4-task array: submit -> all finished ${seconds.toFixed(1)} s (local sweep ran meanwhile)\n`);
});

test('a second sweep: one task cancelled, one trainer SIGKILLed, one requeued; the reasons show, the requeued task continues by itself, --rerun-failed resumes only the other two', async () => {
  const sweep = join(dir, 'kill-sweep');
  const settings = join(dir, 'cluster.json');
  writeFileSync(settings, JSON.stringify({ cpusPerTask: 1, time: '10:00', checkpointEvery: 5, sbatch: ['--comment=second'] }));
  const submit = reclab(['ablate', '--config', config, '--arms', 'baseline,pdc', '--seeds', '2', '--steps', '60', '--depth', '2,2', '--eval-every', '20',
    '--executor', 'slurm', '--slurm-config', settings, '--parallel', '2', '--out', sweep, '--quiet']);
  assert.equal(submit.status, 0, submit.stderr);
  assert.match(submit.stdout, /--array=0-3%2/);
  const jobId = /submitted job (\d+)/.exec(submit.stdout)![1]!;
  const runDir = (name: string) => join(sweep, name);
  // While tasks 0 and 1 train, tasks 2 and 3 wait (2 CPUs, and the %2 cap).
  const early = await until('two tasks running', () => { const s = status(sweep); return s.tasks.filter((t) => t.state === 'running').length === 2 ? s : undefined; });
  for (const name of ['baseline-seed1', 'pdc-seed1']) {
    assert.equal(byName(early)[name]!.state, 'queued');
    assert.match(byName(early)[name]!.reason ?? '', /Resources|JobArrayTaskLimit|Priority/);
  }
  const hasCheckpoint = (name: string) => events(runDir(name)).some((e) => e.type === 'checkpoint');
  await until('checkpoints of tasks 0 and 1', () => hasCheckpoint('baseline-seed0') && hasCheckpoint('pdc-seed0'));

  // Stop Run on a Slurm task = scancel <job>_<task>: the trainer checkpoints and stops.
  const cancel = reclab(['sweep-cancel', sweep, '--task', 'pdc-seed0']);
  assert.equal(cancel.status, 0, cancel.stderr);
  assert.equal(cancel.stdout.trim(), `scancel ${jobId}_1`);
  // SIGKILL the other one's trainer: it leaves no done event.
  const pid = trainerPid(runDir('baseline-seed0'));
  assert.ok(pid, 'the trainer of baseline-seed0 is running');
  process.kill(pid, 'SIGKILL');

  // Requeue (what preemption or a node failure does) of a task that has checkpointed: Slurm
  // stops it and runs it again, and it continues from its checkpoint on its own.
  await until('a checkpoint of task 2', () => hasCheckpoint('baseline-seed1'));
  execFileSync('scontrol', ['requeue', `${jobId}_2`]);
  await until('task 2 requeued', () => byName(status(sweep))['baseline-seed1']!.state === 'queued');
  // A requeued job waits 120 s before it may start again (Slurm's BeginTime): no need here, but
  // slurmd refuses a launch whose credential is not newer than the job's revocation (the kill of
  // the requeue), in whole seconds (slurm_cred_revoked: ctime <= revoked): released within the
  // same second, the task ended at once, FAILED with exit 1 ("Job credential revoked"). Let the
  // clock reach the second after the next one first.
  await sleep(2000 - (Date.now() % 1000) + 50);
  execFileSync('scontrol', ['update', `JobId=${jobId}_2`, 'StartTime=now']);

  const ended = await until('all four tasks finished', () => { const s = status(sweep); return s.finished === 4 ? s : undefined; });
  const t = byName(ended);
  assert.equal(t['baseline-seed0']!.state, 'failed');
  assert.equal(t['baseline-seed0']!.schedulerState, 'FAILED');
  assert.match(t['baseline-seed0']!.reason!, /NonZeroExitCode.*trainer exit code 137 \(SIGKILL\)/);
  assert.equal(t['pdc-seed0']!.state, 'cancelled');
  assert.equal(t['pdc-seed0']!.schedulerState, 'CANCELLED');
  assert.match(t['pdc-seed0']!.reason!, /the run stopped at its checkpoint/);
  assert.equal(events(runDir('pdc-seed0')).filter((e) => e.type === 'done').pop()?.status, 'stopped');
  assert.ok(!events(runDir('baseline-seed0')).some((e) => e.type === 'done'));
  for (const name of ['baseline-seed1', 'pdc-seed1']) assert.equal(t[name]!.state, 'completed', `${name}: ${t[name]!.reason}`);
  // The report on demand, from whatever has finished: two runs complete, two not.
  const report = reclab(['ablate', '--report', '--out', sweep, '--quiet']);
  assert.equal(report.status, 0, report.stderr);
  const partial = JSON.parse(readFileSync(join(sweep, 'ablation.json'), 'utf8')) as { runs: { status: string }[] };
  assert.deepEqual(partial.runs.map((r) => r.status), ['failed', 'failed', 'completed', 'completed']);

  const completedSummary = readFileSync(join(runDir('baseline-seed1'), 'summary.json'), 'utf8');
  const rerun = reclab(['ablate', '--rerun-failed', '--out', sweep, '--wait', '--quiet']);
  assert.equal(rerun.status, 0, rerun.stderr + rerun.stdout);
  const rerunJob = /resubmitted tasks 0,1 as job (\d+) \(--array=0-1%2\)/.exec(rerun.stdout)?.[1];
  assert.ok(rerunJob, rerun.stdout);
  const final = status(sweep);
  for (const x of final.tasks) assert.equal(x.state, 'completed', `${x.name}: ${x.reason}`);
  assert.equal(byName(final)['baseline-seed0']!.slurmId, `${rerunJob}_0`);
  assert.equal(byName(final)['baseline-seed1']!.slurmId, `${jobId}_2`);
  // Resumed, not restarted: each second start's first step follows the last checkpoint before it.
  for (const [name, log] of [['baseline-seed0', `${rerunJob}_0`], ['pdc-seed0', `${rerunJob}_1`], ['baseline-seed1', `${jobId}_2`]] as const) {
    const ev = events(runDir(name));
    const starts = ev.map((e, i) => ({ e, i })).filter((x) => x.e.type === 'run_start');
    assert.equal(starts.length, 2, name);
    const lastCheckpoint = ev.slice(0, starts[1]!.i).filter((e) => e.type === 'checkpoint').pop()!.step!;
    const firstStepAfter = ev.slice(starts[1]!.i).find((e) => e.type === 'step')!.step!;
    assert.ok(lastCheckpoint >= 5, `${name}: checkpoint at step ${lastCheckpoint}`);
    assert.equal(firstStepAfter, lastCheckpoint + 1, name);
    assert.equal(ev.filter((e) => e.type === 'done').pop()?.status, 'completed');
    assert.match(readFileSync(join(sweep, `slurm/logs/${log}.out`), 'utf8'), new RegExp(`resuming ${name} from its last checkpoint`));
  }
  assert.match(readFileSync(join(sweep, `slurm/logs/${jobId}_2.out`), 'utf8'), /restart count 1/);
  // The completed tasks were not run again, and the last task rebuilt the full report.
  assert.equal(readFileSync(join(runDir('baseline-seed1'), 'summary.json'), 'utf8'), completedSummary);
  const full = JSON.parse(readFileSync(join(sweep, 'ablation.json'), 'utf8')) as { runs: { status: string }[] };
  assert.deepEqual(full.runs.map((r) => r.status), ['completed', 'completed', 'completed', 'completed']);
  for (const name of ['baseline-seed0', 'pdc-seed0', 'baseline-seed1', 'pdc-seed1']) assert.equal(trainerPid(runDir(name)), undefined);
});

test('refusals change nothing: a bad Slurm settings file, a bad executor, status of a folder that is no Slurm sweep', () => {
  const bad = join(dir, 'bad-cluster.json');
  writeFileSync(bad, JSON.stringify({ partition: 'gpu', gpusPerTask: 'two' }));
  const out = join(dir, 'refused');
  const r = reclab(['ablate', ...sweepArgs, '--executor', 'slurm', '--slurm-config', bad, '--out', out]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad-cluster\.json: gpusPerTask: .*number/);
  assert.equal(existsSync(out), false);
  const e = reclab(['ablate', ...sweepArgs, '--executor', 'cloud', '--out', out]);
  assert.equal(e.status, 2);
  assert.match(e.stderr, /--executor: expected local or slurm, got "cloud"/);
  const s = reclab(['sweep-status', dir, '--json']);
  assert.equal(s.status, 2);
  assert.match(s.stderr, /not a Slurm sweep \(no slurm\.json\)/);
});
