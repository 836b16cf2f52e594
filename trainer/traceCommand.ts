// reclab trace <run-dir> (--puzzle TEXT | --test-row N | --file FILE) [--steps K] [--per-cycle]
//              [--checkpoint FILE] [--out FILE] [--backend NAME] [--json]
// One puzzle through a checkpoint's evaluation weights for K supervision steps at full depth;
// the trajectory in the refinement format (protocol/refinement.ts), written to a file. A maze run
// takes a maze (--puzzle "#S..#/..." as trainer/data/mazeCheck.ts reads it) or a held-out row.
import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { backendNames, type BackendName } from '../protocol/config';
import { decodeTrajectory, mazeCharOf, settledFrame, taskOf, type RefinementTrajectory } from '../protocol/refinement';
import { selectBackend } from './backend';
import type { Puzzle } from './data/puzzle';
import { checkMazeText } from './data/mazeCheck';
import { checkPuzzleText } from './data/puzzleCheck';
import { solve } from './data/sudokuSolver';
import { loadTaskData, taskDescriptionOf, type TaskDescription } from './data/taskData';
import { createModel } from './model/modelFactory';
import { readEvaluationWeights, taskShapeOf } from './run/evaluationWeights';
import { writeFileAtomic } from './run/atomicWrite';
import { RunDirectory } from './run/runDirectory';
import { traceRefinement } from './train/refinementTrajectory';

export const traceUsage = 'reclab trace   <run-dir> (--puzzle TEXT | --test-row N | --file FILE) [--steps K (16)] [--per-cycle] [--checkpoint FILE] [--out FILE] [--backend NAME] [--json]';

export interface TraceFile {
  runDir: string;
  checkpoint: string;
  trajectory: RefinementTrajectory;
}

class TraceInputError extends Error {}

export async function traceCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: {
        puzzle: { type: 'string' }, 'test-row': { type: 'string' }, file: { type: 'string' }, steps: { type: 'string' },
        'per-cycle': { type: 'boolean' }, checkpoint: { type: 'string' }, out: { type: 'string' }, backend: { type: 'string' },
        json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    process.stderr.write(`reclab trace: ${(e as Error).message}\nusage: ${traceUsage}\n`);
    return 2;
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(`usage: ${traceUsage}\n`);
    return 0;
  }
  try {
    const [runPath, ...extra] = parsed.positionals;
    if (!runPath || extra.length > 0) throw new TraceInputError('give exactly one run directory');
    const sources = [v.puzzle, v['test-row'], v.file].filter((x) => x !== undefined).length;
    if (sources !== 1) throw new TraceInputError('give exactly one of --puzzle, --test-row, --file');
    const steps = v.steps === undefined ? 16 : Number(v.steps);
    if (!Number.isInteger(steps) || steps < 1 || steps > 256) throw new TraceInputError(`--steps: expected an integer from 1 to 256, got "${v.steps}"`);
    if (v.backend !== undefined && !(backendNames as readonly string[]).includes(v.backend)) throw new TraceInputError(`--backend: unknown backend "${v.backend}"`);

    const runDir = RunDirectory.open(resolve(runPath));
    const { config } = runDir.readConfigFile();
    const task = taskShapeOf(config);
    const description = taskDescriptionOf(config.data);
    const puzzle = v['test-row'] !== undefined ? testRow(config, Number(v['test-row'])) : typedPuzzle(v.file ? readFileSync(v.file, 'utf8') : v.puzzle!, description, v.file);
    const ckpt = v.checkpoint ? { path: resolve(v.checkpoint) } : runDir.latestCheckpoint();
    if (!ckpt) throw new Error(`${runPath}: no checkpoint to trace (train first)`);

    await selectBackend((v.backend as BackendName | undefined) ?? 'auto');
    const model = createModel(config.model, task);
    const weights = readEvaluationWeights(ckpt.path, model);
    const params = Object.fromEntries([...weights.params].map(([n, a]) => [n, tf.tensor(a, model.parameterSpecs().find((s) => s.name === n)!.shape)]));
    const hInit = tf.tensor1d(weights.hInit);
    const lInit = tf.tensor1d(weights.lInit);
    const trajectory = traceRefinement(model, params, hInit, lInit, [puzzle], description, { steps, perCycle: !!v['per-cycle'], lossType: config.train.lossType });
    tf.dispose([...Object.values(params), hInit, lInit]);

    const out = v.out ? resolve(v.out) : join(runDir.path, 'traces', `trace-${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}.json`);
    const file: TraceFile = { runDir: runDir.path, checkpoint: ckpt.path, trajectory };
    mkdirSync(resolve(out, '..'), { recursive: true });
    writeFileAtomic(out, JSON.stringify(file) + '\n');
    process.stdout.write(v.json ? JSON.stringify({ out, trajectory }) + '\n' : summary(trajectory, out) + '\n');
    return 0;
  } catch (e) {
    process.stderr.write(`reclab trace: ${(e as Error).message}\n`);
    if (e instanceof TraceInputError) process.stderr.write(`usage: ${traceUsage}\n`);
    return e instanceof TraceInputError ? 2 : 1;
  }
}

function typedPuzzle(text: string, task: TaskDescription, file?: string): Puzzle {
  if (task.kind === 'maze') {
    // A file holds the maze's rows, one a line (a blank line or '#…' beyond the grid ends it); the flag the row-major string.
    const lines = file ? text.replace(/^\uFEFF/, '').split(/\r?\n/).slice(0, task.height).join('/') : text;
    const maze = checkMazeText(lines, task.height);
    if ('refused' in maze) throw new TraceInputError(`${file ? `${file}: ` : ''}maze refused: ${maze.refused}`);
    return maze;
  }
  const side = task.side;
  const check = checkPuzzleText(file ? text.trim().split('\n')[0]! : text, side);
  if ('refused' in check) throw new TraceInputError(`${file ? `${file}:1: ` : ''}puzzle refused: ${check.refused}`);
  const { question } = check;
  // Several solutions: the solver's first stands in for the ✓ / ✗ marks.
  const answer = check.solution ?? solve(question, side)!;
  return { question, answer, blanks: question.filter((c) => c === 0).length };
}

function testRow(config: ReturnType<RunDirectory['readConfigFile']>['config'], row: number): Puzzle {
  const test = loadTaskData(config.data, config.seed).test;
  if (!Number.isInteger(row) || row < 0 || row >= test.length) throw new TraceInputError(`--test-row: expected 0..${test.length - 1}, got ${row}`);
  return test[row]!;
}

function summary(t: RefinementTrajectory, out: string): string {
  const d = decodeTrajectory(t);
  const p = t.puzzles[0]!;
  const maze = taskOf(t) === 'maze';
  const lines = [maze
    ? `${t.side}x${t.side} maze (path length ${p.blanks}), ${t.steps} steps x ${t.cyclesPerStep} frame(s) per step -> ${out}`
    : `${p.question} (${p.blanks} blanks), ${t.steps} steps x ${t.cyclesPerStep} frame(s) per step -> ${out}`];
  for (let f = 0; f < d.frames; f++) {
    const cells = Array.from(d.digits.subarray(f * d.cells, (f + 1) * d.cells));
    const answer = maze ? cells.map(mazeCharOf).join('') : cells.join('');
    const wrong = p.solution ? [...answer].filter((ch, i) => ch !== p.solution![i]).length : undefined;
    const shown = maze ? `${[...answer].filter((ch) => ch === 'o').length} path cells` : answer;
    lines.push(`  step ${Math.floor(f / t.cyclesPerStep) + 1}${t.cyclesPerStep > 1 ? ` cycle ${(f % t.cyclesPerStep) + 1}` : ''}: ${shown}  q_halt ${d.qHalt[f]!.toFixed(2)}${wrong !== undefined ? `  wrong cells ${wrong}` : ''}`);
  }
  if (p.solution) {
    const settled = settledFrame(d, 0, p.solution, taskOf(t));
    lines.push(settled < 0 ? '  never right at the end' : `  right and stays right from frame ${settled + 1}`);
  }
  return lines.join('\n');
}
