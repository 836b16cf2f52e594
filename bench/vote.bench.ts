// `reclab vote` at the size issue 14 sets: 1,000 puzzles × 9 relabellings × 4 checkpoints on the
// `sudoku9` preset's model (TRM-MLP, D=64, 2 layers, T=2, n=2, N_sup=8), through the built CLI as
// a researcher runs it, on onnxruntime-node. The checkpoints are the first four steps of a fresh
// run (speed does not depend on the weights). Prints wall time, passes and step calls per second,
// and the ratio to the 10-minute goal (wall time of the whole command, held-out puzzles and exports included); also one 1-relabelling × 1-checkpoint vote beside it, so
// the per-pass cost can be compared across sizes in the same run.
// A second row runs 1 x 1 as the command did before (one session, batch 256), for the ratio.
//   npm run bench:vote [-- --puzzles 1000 --relabellings 9 --checkpoints 4 --threads N --batch N --run DIR --no-old]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { VoteReport } from '../protocol/voteReport';

const { values } = parseArgs({ options: {
  puzzles: { type: 'string', default: '1000' },
  relabellings: { type: 'string', default: '9' },
  checkpoints: { type: 'string', default: '4' },
  threads: { type: 'string' },
  batch: { type: 'string' },
  'no-old': { type: 'boolean', default: false },
  run: { type: 'string' },
} });
const cli = resolve(__dirname, '../dist/trainer/cli.js');
const GOAL_SECONDS = 600;

function reclab(args: string[]): string {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`reclab ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'reclab-bench-vote-'));
  try {
    const K = Number(values.checkpoints);
    let runDir = values.run ? resolve(values.run) : '';
    if (!runDir) {
      runDir = join(dir, 'run');
      const config = join(dir, 'sudoku9.json');
      // 1,050 held-out puzzles (50 per blank count 25-45) and few training puzzles: generating the
      // preset's 5,000 + 2,100 unique 9x9 puzzles takes minutes, and every vote regenerates its held-out set.
      writeFileSync(config, JSON.stringify({ extends: 'sudoku9', checkpointEverySteps: 1, train: { steps: K, checkpoints: { keepLast: K } }, data: { trainPuzzles: 64, testPerBlank: 50 }, eval: { everySteps: 0 }, refinement: { everySteps: 0 } }));
      reclab(['train', '--config', config, '--run-dir', runDir, '--quiet']);
    }
    const vote = (relabellings: string, checkpoints: string, tuning: string[]): VoteReport => JSON.parse(reclab(['vote', runDir, '--held-out', values.puzzles!, '--relabellings', relabellings,
      '--checkpoints', checkpoints, ...tuning, '--json', '--quiet'])) as VoteReport;
    const tuning = [...(values.threads ? ['--threads', values.threads] : []), ...(values.batch ? ['--batch', values.batch] : [])];
    const settings = tuning.length ? tuning.join(' ') : 'defaults (sessions = cores, batch 32)';
    const runs: [string, string, string[], string][] = [['1', '1', tuning, settings]];
    if (!values['no-old']) runs.push(['1', '1', ['--threads', '1', '--batch', '256'], 'as before: 1 session, batch 256']);
    runs.push([values.relabellings!, values.checkpoints!, tuning, settings]);
    const rows: string[] = [];
    const rates: number[] = [];
    for (const [r, k, t, label] of runs) {
      const t0 = performance.now();
      const report = vote(r, k, t);
      const wall = (performance.now() - t0) / 1000;
      rates.push(report.stepCallsPerSecond);
      const passes = report.puzzles.count * report.perturbation.names.length * report.models.length;
      rows.push(`${String(report.puzzles.count).padStart(7)} × ${r.padStart(2)} relabellings × ${k} checkpoints | ${label} | passes ${String(passes).padStart(6)} | ${report.steps} steps/pass | `
        + `vote ${report.seconds.toFixed(1)} s (wall incl. start-up and export ${wall.toFixed(1)} s) | ${(passes / report.seconds).toFixed(1)} passes/s | ${Math.round(report.stepCallsPerSecond)} row-steps/s (model calls)`
        + (r === values.relabellings && k === values.checkpoints ? ` | ${(wall / GOAL_SECONDS).toFixed(3)} of the 10-min goal` : ''));
      console.error(rows.at(-1));
    }
    if (runs.length === 3) rows.push(`row-steps/s of the defaults over the old settings (1 relabelling x 1 checkpoint): ${(rates[0]! / rates[1]!).toFixed(2)}x`);
    console.log(`reclab vote, sudoku9 model (onnxruntime-node), load average ${loadavg()[0]!.toFixed(1)} at the end`);
    for (const r of rows) console.log(r);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
