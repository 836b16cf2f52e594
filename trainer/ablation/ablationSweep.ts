// `reclab ablate`: every arm x seed is an ordinary run directory written by a child trainer
// process (so the extension can open any of them); children run in parallel, as many as there
// are cores; a child that fails is reported as failed while the others finish.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import type { BackendName } from '../../protocol/config';
import { ConfigError, resolveConfig } from '../configResolution';
import type { Depth } from '../model/trm';
import { writeFileAtomic } from '../run/atomicWrite';
import { armConfig, arms as allArms, findArm } from './ablationArms';
import { readEvents, runResult, summarizeArms, type ArmSummary, type RunResult } from './ablationResults';
import { htmlReport, markdownTable, type SweepDescription } from './ablationReport';

export interface SweepOptions {
  preset?: string;
  configFile?: string;
  arms: string[];
  seeds: number;
  steps?: number;
  depth: Depth;
  parallel?: number;
  outDir: string;
  /** Exact accuracy whose first crossing is timed. */
  target: number;
  evalEvery?: number;
  backend?: BackendName;
  /** The trainer CLI to run (this process's own script). */
  cliPath: string;
  /** Test hook: arms whose children are started with an invalid flag, so they fail. */
  failArms?: string[];
  /** Re-run only the runs of an existing sweep folder that failed or did not finish, then report again. */
  rerunFailed?: boolean;
  /** Passed on to every run's trainer command (e.g. ["--engine", "torch"]). */
  trainerArgs?: string[];
  onLine?: (text: string) => void;
}

export interface SweepResult {
  arms: ArmSummary[];
  runs: RunResult[];
  markdown: string;
  files: { json: string; markdown: string; html: string };
}

/** Everything that can be refused is refused here, before anything starts. */
export function validateSweep(o: SweepOptions): void {
  if (o.arms.length === 0) throw new Error('--arms: name at least one arm');
  for (const a of o.arms) findArm(a);
  if (new Set(o.arms).size !== o.arms.length) throw new Error('--arms: an arm is named twice');
  if (!Number.isInteger(o.seeds) || o.seeds < 1 || o.seeds > 100) throw new Error(`--seeds: expected an integer from 1 to 100, got ${o.seeds}`);
  if (o.steps !== undefined && (!Number.isInteger(o.steps) || o.steps < 1)) throw new Error(`--steps: expected a positive integer, got ${o.steps}`);
  if (!(o.target > 0 && o.target <= 1)) throw new Error(`--target: expected an accuracy in (0, 1], got ${o.target}`);
  if (!o.rerunFailed && existsSync(join(o.outDir, 'ablation.json'))) throw new Error(`${o.outDir} already holds an ablation (--rerun-failed re-runs its failed runs)`);
  if (o.rerunFailed && !existsSync(join(o.outDir, 'configs'))) throw new Error(`${o.outDir}: no sweep to re-run (no configs folder)`);
}

/** One arm x seed of a sweep. */
export interface PlannedRun { arm: string; seed: number; name: string; runDir: string; configPath: string }

/** What a sweep folder needs to build its report again (`reclab ablate --report`). */
interface SweepFile { v: 1; arms: string[]; baseSeed: number; target: number; description: SweepDescription; executor: 'local' | 'slurm' }
const sweepFileName = 'sweep.json';

export interface SweepPlan { runs: PlannedRun[]; pending: PlannedRun[]; steps: number; evalEvery: number }

/**
 * The runs of a sweep in seed-major order (so the runs that share the cores at any moment are of
 * different arms), their configs written to configs/ and the sweep's description to sweep.json;
 * with rerunFailed, `pending` holds only the runs that did not complete.
 */
export function planSweep(o: SweepOptions, executor: 'local' | 'slurm', checkpointEvery?: (evalEvery: number) => number): SweepPlan {
  const { config: base, presetName } = resolveConfig({ preset: o.preset, configFile: o.configFile, backend: o.backend });
  const steps = o.steps ?? base.train.steps;
  const evalEvery = o.evalEvery ?? Math.max(1, Math.round(steps / 10));
  mkdirSync(join(o.outDir, 'configs'), { recursive: true });
  const runs: PlannedRun[] = [];
  const pending: PlannedRun[] = [];
  for (let k = 0; k < o.seeds; k++) {
    for (const armName of o.arms) {
      const seed = base.seed + k;
      const c = armConfig(base, findArm(armName), seed, steps, o.depth, evalEvery);
      if (checkpointEvery) c.checkpointEverySteps = checkpointEvery(evalEvery);
      const name = `${armName}-seed${seed}`;
      const run = { arm: armName, seed, name, runDir: join(o.outDir, name), configPath: join(o.outDir, 'configs', `${name}.reclab.json`) };
      runs.push(run);
      if (o.rerunFailed) {
        if (!existsSync(run.configPath)) throw new Error(`${run.configPath}: missing; re-run with the sweep's original arms, seeds and steps`);
        if (runResult(armName, seed, run.runDir, o.target).status !== 'completed') pending.push(run);
      } else {
        // `extends` names the sweep's preset, so each run's metadata (and the runs tree) says which preset it is.
        writeFileAtomic(run.configPath, JSON.stringify({ extends: presetName, ...c }, null, 2) + '\n');
        pending.push(run);
      }
    }
  }
  const description: SweepDescription = { preset: o.configFile ?? presetName, steps, seeds: o.seeds, depth: o.depth, target: o.target, setting: describeSetting(base) };
  const file: SweepFile = { v: 1, arms: o.arms, baseSeed: base.seed, target: o.target, description, executor };
  writeFileAtomic(join(o.outDir, sweepFileName), JSON.stringify(file, null, 2) + '\n');
  return { runs, pending, steps, evalEvery };
}

export async function runSweep(o: SweepOptions): Promise<SweepResult> {
  validateSweep(o);
  const plan = planSweep(o, 'local');
  const { steps } = plan;
  mkdirSync(join(o.outDir, 'logs'), { recursive: true });
  // A failed or unfinished run starts again from nothing; what finished is kept.
  if (o.rerunFailed) for (const j of plan.pending) rmSync(j.runDir, { recursive: true, force: true });
  const jobs = plan.pending;

  const display = progressDisplay(jobs.map((j) => j.name), steps, o.onLine);
  const poll = setInterval(() => {
    for (const j of jobs) {
      const events = readEvents(j.runDir);
      const last = [...events].reverse().find((e) => e.type === 'step' || e.type === 'eval');
      if (last && (last.type === 'step' || last.type === 'eval')) display.update(j.name, last.step, last.type === 'eval' ? last.exactAccuracy : undefined);
    }
  }, 1000);

  const exitErrors = new Map<string, string>();
  const parallel = Math.max(1, o.parallel ?? availableParallelism());
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const j = jobs[next++]!;
      const args = [o.cliPath, 'train', '--config', j.configPath, '--run-dir', j.runDir, '--quiet', ...(o.trainerArgs ?? [])];
      if (o.failArms?.includes(j.arm)) args.push('--backend', 'fault-injected');
      const code = await runChild(args, join(o.outDir, 'logs', `${j.name}.log`));
      if (code !== 0) {
        const log = readFileSync(join(o.outDir, 'logs', `${j.name}.log`), 'utf8').trim().split('\n');
        exitErrors.set(j.name, `exit code ${code}: ${log[log.length - 1] ?? ''}`);
      }
      display.finish(j.name, code === 0);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
  } finally {
    clearInterval(poll);
    display.stop();
  }
  return writeSweepReport(o.outDir, exitErrors);
}

/** The report of a sweep folder from its run directories as they are now (finished or not). */
export function writeSweepReport(outDir: string, exitErrors: Map<string, string> = new Map()): SweepResult {
  const path = join(outDir, sweepFileName);
  if (!existsSync(path)) throw new ConfigError(`${outDir}: not a sweep folder (no ${sweepFileName})`);
  const file = JSON.parse(readFileSync(path, 'utf8')) as SweepFile;
  const sweep = file.description;
  const runs: RunResult[] = [];
  for (let k = 0; k < sweep.seeds; k++) {
    for (const arm of file.arms) {
      const name = `${arm}-seed${file.baseSeed + k}`;
      runs.push(runResult(arm, file.baseSeed + k, join(outDir, name), file.target, exitErrors.get(name)));
    }
  }
  const descriptions = Object.fromEntries(allArms.map((a) => [a.name, a.description]));
  const armSummaries = summarizeArms(runs, file.arms, descriptions);
  const markdown = markdownTable(armSummaries, sweep);
  const files = { json: join(outDir, 'ablation.json'), markdown: join(outDir, 'ablation.md'), html: join(outDir, 'ablation.html') };
  writeFileAtomic(files.markdown, markdown);
  writeFileAtomic(files.html, htmlReport(armSummaries, runs, sweep));
  writeFileAtomic(files.json, JSON.stringify({ sweep, arms: armSummaries, runs }, null, 2) + '\n');
  return { arms: armSummaries, runs, markdown, files };
}

function describeSetting(c: ReturnType<typeof resolveConfig>['config']): string {
  const d = c.data;
  return d.kind === 'generated-sudoku'
    ? `${d.side}x${d.side} Sudoku, train blanks ${d.trainBlanks[0]}–${d.trainBlanks[1]}, test blanks ${d.testBlanks[0]}–${d.testBlanks[1]}, D=${c.model.hiddenSize}, ${c.model.mixer}`
    : d.kind === 'generated-maze'
      ? `${d.size}x${d.size} mazes, shortest path >= ${d.minPathLength}, D=${c.model.hiddenSize}, ${c.model.mixer}`
      : `${d.kind === 'maze-csv' ? 'Maze' : 'Sudoku'} CSV ${d.trainFile}, D=${c.model.hiddenSize}, ${c.model.mixer}`;
}

function runChild(args: string[], logPath: string): Promise<number> {
  return new Promise((done) => {
    const log = createWriteStream(logPath);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('error', (e) => { log.end(`spawn failed: ${e.message}\n`); done(127); });
    child.on('close', (code, signal) => { log.end(signal ? `killed by ${signal}\n` : ''); done(code ?? 1); });
  });
}

/** Progress across arms: a bar per run on a TTY, a status line every 15 s otherwise. */
function progressDisplay(names: string[], total: number, onLine?: (t: string) => void) {
  const state = new Map(names.map((n) => [n, { step: 0, exact: undefined as number | undefined, done: '' }]));
  const tty = process.stderr.isTTY && !onLine;
  const multi = tty ? new cliProgress.MultiBar({ format: '{name} [{bar}] {value}/{total} | eval exact {exact} {done}', hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic) : undefined;
  const bars = new Map(names.map((n) => [n, multi?.create(total, 0, { name: n.padEnd(20), exact: '-', done: '' })]));
  const write = onLine ?? ((t: string) => process.stderr.write(t + '\n'));
  let lastLine = 0;
  const line = () => {
    if (tty || Date.now() - lastLine < 15000) return;
    lastLine = Date.now();
    write([...state.entries()].map(([n, s]) => `${n} ${s.done || `${s.step}/${total}`}`).join(' | '));
  };
  return {
    update(name: string, step: number, exact?: number) {
      const s = state.get(name)!;
      s.step = step;
      if (exact !== undefined) s.exact = exact;
      bars.get(name)?.update(step, { exact: s.exact === undefined ? '-' : `${(100 * s.exact).toFixed(1)} %` });
      line();
    },
    finish(name: string, ok: boolean) {
      const s = state.get(name)!;
      s.done = ok ? 'done' : 'FAILED';
      bars.get(name)?.update({ done: s.done });
      if (!tty) write(`${name}: ${s.done}`);
    },
    stop() { multi?.stop(); },
  };
}
