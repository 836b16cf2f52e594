// A training run from start (or resume) to the end: the loop of optimizer steps with its
// events, periodic evaluation, checkpoints, a graceful stop, the final evaluation and the
// summary. Everything it does is visible in the run directory.
import { defaultCheckpointRetention, type RunConfig } from '../protocol/config';
import type { EvalEvent, EventPayload, TrainerEvent } from '../protocol/events';
import { hasFixedPointSolve, type Depth } from './model/recursiveModel';
import type { RunSummary } from '../protocol/runDirectory';
import { difficultyLabel, type TaskData } from './data/taskData';
import { MAZE_PATH } from './data/mazeGrid';
import { createModel } from './model/modelFactory';
import { Rng } from './random';
import type { RunDirectory } from './run/runDirectory';
import { restoreTrainingCheckpoint, saveTrainingCheckpoint, type RunProgress } from './run/trainingCheckpoint';
import { depthSchedule } from './train/depthCurriculum';
import { evaluateInternalisation, evaluateUnlessStopped, type FullEvalResult } from './train/evaluate';
import { letStopRequestsIn } from './run/stopRequest';
import { encodePuzzles, ExampleStream } from './train/exampleStream';
import { learningRate } from './train/lrSchedule';
import { createTrainState, disposeTrainState, evaluationParams } from './train/trainState';
import { gradientVariance, trainStep } from './train/trainStep';
import { probePuzzles, traceRefinement } from './train/refinementTrajectory';
import type { Puzzle } from './data/puzzle';

export interface TrainingRunOptions {
  runId: string;
  runDir: RunDirectory;
  config: RunConfig;
  data: TaskData;
  backend: string;
  resume: boolean;
  /** With resume: the checkpoint to continue from (default: the latest); later ones are moved aside. */
  resumeFrom?: string;
  /**
   * Polled at every safe point (after each step, between evaluation batches); true = checkpoint,
   * then end as "stopped". An evaluation it interrupts leaves no eval event.
   */
  shouldStop: () => boolean;
  /** Every event also goes here (progress bar, live channel) after it is on disk. */
  onEvent?: (e: TrainerEvent) => void;
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** The eval event of an evaluation result. */
export function evalEventOf(
  r: FullEvalResult, step: number, scope: EvalEvent['scope'], seconds: number, depth: Depth,
  extra: Pick<EvalEvent, 'gradientVariance' | 'trainSeconds' | 'flopsForwardTotal' | 'flopsBackwardTotal' | 'difficulty' | 'internalisation'>,
): EventPayload<EvalEvent> {
  return {
    type: 'eval', step, scope, puzzles: r.puzzles, exactAccuracy: r.exactAccuracy, tokenAccuracy: r.tokenAccuracy,
    qHaltAccuracy: r.qHaltAccuracy, byBlanks: r.byBlanks, seconds, hCycles: depth.hCycles, lCycles: depth.lCycles,
    earlyExit: r.earlyExit, ...(r.path ? { path: r.path } : {}), ...extra,
  };
}

/** The first `perBlank` puzzles of each blank count (the test set is grouped by blanks). */
function periodicSubset(test: readonly Puzzle[], perBlank: number): Puzzle[] {
  const seen = new Map<number, number>();
  return test.filter((p) => {
    const n = seen.get(p.blanks) ?? 0;
    seen.set(p.blanks, n + 1);
    return n < perBlank;
  });
}

export async function runTraining(opts: TrainingRunOptions): Promise<RunSummary> {
  const { config, data, runDir } = opts;
  const train = config.train;
  const emit = (e: EventPayload): void => {
    const event = runDir.appendEvent(e);
    opts.onEvent?.(event);
  };

  const model = createModel(config.model, { vocabSize: data.vocabSize, seqLen: data.seqLen });
  if (hasFixedPointSolve(model)) model.checkTrainableOnTfjs();
  const master = new Rng(config.seed);
  const state = createTrainState(model, train, master.fork());
  let haltRng = master.fork();
  let stream = new ExampleStream(data.trainGroups, data.task, data.augmentOnTheFly, master.int(0x7fffffff));
  let progress: RunProgress = { wallSeconds: 0, trainSeconds: 0, flopsForwardTotal: 0, flopsBackwardTotal: 0, bestExactAccuracy: undefined };
  // Gradient-variance probes draw from their own stream so they never shift the training data.
  const probeStream = new ExampleStream(data.trainGroups, data.task, data.augmentOnTheFly, master.int(0x7fffffff));
  let resumed = false;
  const retention = { ...defaultCheckpointRetention, ...train.checkpoints };

  // A checkpoint that cannot be restored is refused before anything is written.
  if (opts.resume) {
    try {
      const path = opts.resumeFrom ?? runDir.latestCheckpoint()?.path;
      if (path) {
        const meta = restoreTrainingCheckpoint(path, state);
        haltRng = new Rng(meta.haltRng);
        stream = new ExampleStream(data.trainGroups, data.task, data.augmentOnTheFly, meta.stream);
        progress = meta.progress;
        resumed = true;
      }
    } catch (e) {
      disposeTrainState(state);
      throw e;
    }
  }
  let checkpointedStep: number | undefined;

  try {
    if (resumed) {
      runDir.removeStaleTemporaryFiles();
      const aside = runDir.setAsideCheckpointsAfter(state.step);
      if (aside) process.stderr.write(`resume from step ${state.step}: moved the ${aside.moved.length} later checkpoint(s) to ${aside.folder}\n`);
      checkpointedStep = state.step;
    }
    const parameterCount = [...state.params.values()].reduce((n, v) => n + v.size, 0);
    emit({ type: 'run_start', runId: opts.runId, config, backend: opts.backend, startStep: state.step, totalSteps: train.steps, resumed, parameterCount });

    const fullTest = encodePuzzles(data.test, data.seqLen, data.task);
    const periodicTest = encodePuzzles(periodicSubset(data.test, config.eval.puzzlesPerBlank), data.seqLen, data.task);
    const schedule = depthSchedule(model.depth, train.curriculum);
    /** An evaluation, or undefined when a stop request ended it. */
    const runEval = async (scope: EvalEvent['scope']): Promise<EvalEvent | undefined> => {
      const t0 = performance.now();
      // Always the full depth (model.depth), never the curriculum's current stage.
      const evalOpts = { steps: train.haltMaxSteps, batchSize: config.eval.batchSize, depth: model.depth, pathToken: data.task.kind === 'maze' ? MAZE_PATH : undefined };
      const test = scope === 'final' ? fullTest : periodicTest;
      const r = await evaluateUnlessStopped(model, evaluationParams(state), state.hInit, state.lInit, test, evalOpts, opts.shouldStop);
      // Equilibrium internalisation: the same puzzles with the solver capped (trm-deq and attractor, checked with the config).
      const capped = r && config.eval.internalisation && hasFixedPointSolve(model)
        ? await evaluateInternalisation(model, evaluationParams(state), state.hInit, state.lInit, test, evalOpts, config.eval.internalisation.iterations, r, opts.shouldStop)
        : undefined;
      if (!r || (config.eval.internalisation && hasFixedPointSolve(model) && !capped)) {
        progress.wallSeconds += (performance.now() - t0) / 1000;
        return undefined;
      }
      const groups = config.eval.gradientVarianceGroups;
      const variance = groups > 0 ? gradientVariance(state, probeStream.next(train.batchSize), train, schedule.at(Math.max(1, state.step), train.steps).depth, groups) : null;
      const seconds = (performance.now() - t0) / 1000;
      progress.wallSeconds += seconds;
      if (progress.bestExactAccuracy === undefined || r.exactAccuracy > progress.bestExactAccuracy) progress.bestStep = state.step;
      progress.bestExactAccuracy = Math.max(progress.bestExactAccuracy ?? 0, r.exactAccuracy);
      const e = evalEventOf(r, state.step, scope, seconds, model.depth, {
        gradientVariance: variance === null ? null : finiteOrNull(variance), trainSeconds: progress.trainSeconds,
        flopsForwardTotal: progress.flopsForwardTotal, flopsBackwardTotal: progress.flopsBackwardTotal,
        ...(data.task.kind === 'sudoku' ? {} : { difficulty: difficultyLabel(data.task) }),
        ...(capped ? { internalisation: capped } : {}),
      });
      emit(e);
      return { v: 1, time: Date.now(), ...e };
    };
    // Probes spread over the difficulty (Sudoku blanks, maze path length).
    const probes = probePuzzles(data.test, config.refinement.probePuzzles);
    const snapshot = (): void => {
      if (config.refinement.everySteps === 0 || probes.length === 0) return;
      const t0 = performance.now();
      const trajectory = traceRefinement(model, evaluationParams(state), state.hInit, state.lInit, probes, data.task,
        { steps: train.haltMaxSteps, perCycle: config.refinement.perCycle, lossType: train.lossType });
      progress.wallSeconds += (performance.now() - t0) / 1000;
      emit({ type: 'refinement', step: state.step, trajectory });
    };
    // Written to a temporary name, then renamed; only then are older ones pruned (retention).
    const checkpoint = (): void => {
      if (checkpointedStep === state.step) return;
      const path = runDir.checkpointPath(state.step);
      try {
        saveTrainingCheckpoint(path, state, { haltRng: haltRng.state(), stream: stream.state(), progress });
      } catch (e) {
        throw new Error(`step ${state.step}: ${(e as Error).message}${lastGood()}`);
      }
      checkpointedStep = state.step;
      emit({ type: 'checkpoint', step: state.step, path: `checkpoints/${path.split(/[\\/]/).pop()}` });
      runDir.pruneCheckpoints(retention.keepLast, retention.keepBest ? progress.bestStep : undefined);
    };
    const lastGood = (): string => (checkpointedStep === undefined ? '; no checkpoint was written' : `; the last checkpoint, step ${checkpointedStep}, is kept`);
    const bestIsNew = (): boolean => retention.keepBest && progress.bestStep === state.step;
    const stopHere = (): RunSummary => {
      checkpoint(); // no-op when this step is saved already
      return finish('stopped', undefined);
    };

    let stageShown = -1;
    while (state.step < train.steps) {
      const step = state.step + 1;
      const { stage, depth } = schedule.at(step, train.steps);
      if (stage !== stageShown) {
        emit({ type: 'stage', step, stage, stages: schedule.stages.length, hCycles: depth.hCycles, lCycles: depth.lCycles, progress: (step - 1) / train.steps });
        stageShown = stage;
      }
      const stepFlops = model.stepFlops(depth, train.batchSize, true);
      const lr = learningRate(step, train.lr, train.lrWarmupSteps, train.steps, train.lrMinRatio);
      const t0 = performance.now();
      const batch = stream.next(train.batchSize);
      const m = trainStep(state, batch, train, depth, lr, haltRng);
      if (!Number.isFinite(m.lmLoss) || !Number.isFinite(m.qHaltLoss)) {
        throw new Error(`step ${step}: the loss is not finite (lm ${m.lmLoss}, q-halt ${m.qHaltLoss}): the training diverged and the run stopped as failed${lastGood()}`);
      }
      const seconds = (performance.now() - t0) / 1000;
      progress.wallSeconds += seconds;
      progress.trainSeconds += seconds;
      progress.flopsForwardTotal += stepFlops.forward;
      progress.flopsBackwardTotal += stepFlops.backward;
      emit({
        type: 'step', step, lmLoss: m.lmLoss, qHaltLoss: m.qHaltLoss,
        tokenAccuracy: finiteOrNull(m.tokenAccuracy), exactAccuracy: finiteOrNull(m.exactAccuracy), qHaltAccuracy: finiteOrNull(m.qHaltAccuracy),
        meanHaltSteps: finiteOrNull(m.meanHaltSteps), haltedRows: m.haltedRows, lr, gradNorm: m.gradNorm,
        samplesPerSecond: train.batchSize / seconds, flopsForward: stepFlops.forward, flopsBackward: stepFlops.backward,
        hCycles: depth.hCycles, lCycles: depth.lCycles, stage, stepSeconds: seconds,
        gradVarianceRunning: finiteOrNull(m.gradVarianceRunning), lossScale: m.lossScale,
        ...(m.modelStats ? { modelStats: m.modelStats } : {}),
      });
      if (state.step === train.steps) break;
      if (config.eval.everySteps > 0 && state.step % config.eval.everySteps === 0) await runEval('periodic');
      if (config.refinement.everySteps > 0 && state.step % config.refinement.everySteps === 0) snapshot();
      if ((config.checkpointEverySteps > 0 && state.step % config.checkpointEverySteps === 0) || bestIsNew()) checkpoint();
      // The safe point between steps: signals and RPC requests that came during the step land here.
      await letStopRequestsIn();
      if (opts.shouldStop()) return stopHere();
    }
    const final = await runEval('final');
    if (!final) return stopHere();
    snapshot();
    checkpoint();
    return finish('completed', final);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    try { emit({ type: 'error', message, step: state.step }); } catch { /* the run directory itself may be the problem */ }
    try { runDir.writeSummary(summary('failed', undefined)); } catch { /* idem */ }
    throw e;
  } finally {
    disposeTrainState(state);
  }

  function summary(status: RunSummary['status'], final: EvalEvent | undefined): RunSummary {
    return {
      runId: opts.runId, status, steps: state.step, wallSeconds: progress.wallSeconds, backend: opts.backend,
      finalEval: final && { exactAccuracy: final.exactAccuracy, tokenAccuracy: final.tokenAccuracy, byBlanks: final.byBlanks.map(({ blanks, count, exactAccuracy }) => ({ blanks, count, exactAccuracy })) },
      bestExactAccuracy: progress.bestExactAccuracy,
      flopsForwardTotal: progress.flopsForwardTotal, flopsBackwardTotal: progress.flopsBackwardTotal,
    };
  }

  function finish(status: 'completed' | 'stopped', final: EvalEvent | undefined): RunSummary {
    const s = summary(status, final);
    emit({ type: 'done', step: state.step, status, wallSeconds: progress.wallSeconds });
    runDir.writeSummary(s);
    return s;
  }
}
