// From the run directories of a sweep to the numbers of its report: per run (read back from
// events.jsonl, the durable truth) and per arm (mean ± sd over seeds, ratios to the baseline).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEventLine, type EvalEvent, type StepEvent, type TrainerEvent } from '../../protocol/events';

export interface RunResult {
  arm: string;
  seed: number;
  runDir: string;
  status: 'completed' | 'failed';
  error?: string;
  /** Training time: the sum of step times (evaluation excluded). */
  trainSeconds: number;
  /** Σ over stages of steps × median step time: the same, robust to bursts of load on a shared machine. */
  trainSecondsMedianBased: number;
  /** Training plus evaluation, as the run recorded it. */
  wallSeconds: number;
  flopsForward: number;
  flopsBackward: number;
  finalExact: number;
  finalByBlanks: { blanks: number; exactAccuracy: number }[];
  /** Training seconds at the first periodic evaluation reaching the target (undefined: never). */
  secondsToTarget?: number;
  /** Early-exit evaluation at the end: mean steps and halting accuracy. */
  meanReasoningSteps: number;
  haltingAccuracy: number;
  /** Mean of V over the run's evaluations. */
  gradientVariance?: number;
  /** Mean step seconds per curriculum stage, with its (T, n). */
  stageStepSeconds: { stage: number; hCycles: number; lCycles: number; steps: number; meanSeconds: number }[];
  /** (training seconds, cumulative FLOPs, exact accuracy) at each evaluation, for the plots. */
  curve: { step: number; trainSeconds: number; flops: number; exact: number }[];
}

export function readEvents(runDir: string): TrainerEvent[] {
  const path = join(runDir, 'events.jsonl');
  if (!existsSync(path)) return [];
  const out: TrainerEvent[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const e = parseEventLine(line);
    if (!('error' in e)) out.push(e);
  }
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
/** Sample standard deviation (n − 1); 0 for one value. */
export const sampleSd = (xs: number[]) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};

export function runResult(arm: string, seed: number, runDir: string, target: number, exitError?: string): RunResult {
  const events = readEvents(runDir);
  // A resumed run repeats the steps after its checkpoint: the last record of a step counts.
  const steps = [...new Map(events.filter((e): e is StepEvent => e.type === 'step').map((e) => [e.step, e])).values()];
  const evals = [...new Map(events.filter((e): e is EvalEvent => e.type === 'eval').map((e) => [`${e.scope}:${e.step}`, e])).values()];
  const final = [...evals].reverse().find((e) => e.scope === 'final');
  const done = [...events].reverse().find((e) => e.type === 'done');
  const errorEvent = events.find((e) => e.type === 'error');
  const error = exitError ?? (errorEvent?.type === 'error' ? errorEvent.message : undefined);
  const stageMap = new Map<number, { hCycles: number; lCycles: number; total: number; n: number; times: number[] }>();
  for (const s of steps) {
    const m = stageMap.get(s.stage) ?? { hCycles: s.hCycles, lCycles: s.lCycles, total: 0, n: 0, times: [] };
    m.total += s.stepSeconds;
    m.n += 1;
    m.times.push(s.stepSeconds);
    stageMap.set(s.stage, m);
  }
  const reached = evals.find((e) => e.exactAccuracy >= target);
  const variances = evals.map((e) => e.gradientVariance).filter((v): v is number => typeof v === 'number');
  const ok = !!final && done?.type === 'done' && !exitError;
  return {
    arm, seed, runDir, status: ok ? 'completed' : 'failed', error: ok ? undefined : (error ?? 'the run did not finish'),
    trainSeconds: steps.reduce((a, s) => a + s.stepSeconds, 0),
    trainSecondsMedianBased: [...stageMap.values()].reduce((a, m) => a + m.n * median(m.times), 0),
    wallSeconds: done?.type === 'done' ? done.wallSeconds : NaN,
    flopsForward: steps.reduce((a, s) => a + s.flopsForward, 0),
    flopsBackward: steps.reduce((a, s) => a + s.flopsBackward, 0),
    finalExact: final?.exactAccuracy ?? NaN,
    finalByBlanks: final?.byBlanks.map((b) => ({ blanks: b.blanks, exactAccuracy: b.exactAccuracy })) ?? [],
    secondsToTarget: reached?.trainSeconds,
    meanReasoningSteps: final?.earlyExit.meanSteps ?? NaN,
    haltingAccuracy: final?.earlyExit.qHaltAccuracy ?? NaN,
    gradientVariance: variances.length ? mean(variances) : undefined,
    stageStepSeconds: [...stageMap.entries()].sort((a, b) => a[0] - b[0]).map(([stage, m]) => ({ stage, hCycles: m.hCycles, lCycles: m.lCycles, steps: m.n, meanSeconds: m.total / m.n })),
    curve: evals.map((e) => ({ step: e.step, trainSeconds: e.trainSeconds, flops: e.flopsForwardTotal + e.flopsBackwardTotal, exact: e.exactAccuracy })),
  };
}

export interface ArmSummary {
  arm: string;
  description: string;
  seeds: number;
  failed: number;
  finalExactMean: number;
  finalExactSd: number;
  trainSecondsMean: number;
  wallSecondsMean: number;
  flopsMean: number;
  /** Baseline training seconds / this arm's, at equal optimizer steps. */
  speedupVsBaseline: number;
  /** The same from median step times per stage (robust to load bursts). */
  speedupMedianBased: number;
  /** Baseline FLOPs / this arm's. */
  flopsRatioVsBaseline: number;
  /** This arm's final exact minus the baseline's, in accuracy points (×100). */
  accuracyDeltaPoints: number;
  secondsToTargetMean?: number;
  reachedTarget: number;
  gradientVarianceRatio?: number;
  haltingAccuracyMean: number;
  meanReasoningSteps: number;
  stageStepSeconds: RunResult['stageStepSeconds'];
}

export function summarizeArms(results: RunResult[], armNames: string[], descriptions: Record<string, string>): ArmSummary[] {
  const by = (arm: string) => results.filter((r) => r.arm === arm && r.status === 'completed');
  const base = by('baseline');
  const baseTrain = mean(base.map((r) => r.trainSeconds));
  const baseTrainMedian = mean(base.map((r) => r.trainSecondsMedianBased));
  const baseFlops = mean(base.map((r) => r.flopsForward + r.flopsBackward));
  const baseExact = mean(base.map((r) => r.finalExact));
  const baseVar = mean(base.map((r) => r.gradientVariance).filter((v): v is number => v !== undefined));
  return armNames.map((arm) => {
    const rs = by(arm);
    const reached = rs.filter((r) => r.secondsToTarget !== undefined);
    const vars = rs.map((r) => r.gradientVariance).filter((v): v is number => v !== undefined);
    const exact = rs.map((r) => r.finalExact);
    const train = mean(rs.map((r) => r.trainSeconds));
    const flops = mean(rs.map((r) => r.flopsForward + r.flopsBackward));
    // Per-stage step times, averaged over seeds.
    const stages = new Map<number, { hCycles: number; lCycles: number; steps: number; seconds: number[] }>();
    for (const r of rs) for (const s of r.stageStepSeconds) {
      const m = stages.get(s.stage) ?? { hCycles: s.hCycles, lCycles: s.lCycles, steps: s.steps, seconds: [] };
      m.seconds.push(s.meanSeconds);
      stages.set(s.stage, m);
    }
    return {
      arm, description: descriptions[arm] ?? '', seeds: results.filter((r) => r.arm === arm).length, failed: results.filter((r) => r.arm === arm && r.status === 'failed').length,
      finalExactMean: mean(exact), finalExactSd: sampleSd(exact),
      trainSecondsMean: train, wallSecondsMean: mean(rs.map((r) => r.wallSeconds)), flopsMean: flops,
      speedupVsBaseline: baseTrain / train, speedupMedianBased: baseTrainMedian / mean(rs.map((r) => r.trainSecondsMedianBased)),
      flopsRatioVsBaseline: baseFlops / flops,
      accuracyDeltaPoints: 100 * (mean(exact) - baseExact),
      secondsToTargetMean: reached.length ? mean(reached.map((r) => r.secondsToTarget!)) : undefined,
      reachedTarget: reached.length,
      gradientVarianceRatio: vars.length && Number.isFinite(baseVar) ? mean(vars) / baseVar : undefined,
      haltingAccuracyMean: mean(rs.map((r) => r.haltingAccuracy)), meanReasoningSteps: mean(rs.map((r) => r.meanReasoningSteps)),
      stageStepSeconds: [...stages.entries()].sort((a, b) => a[0] - b[0]).map(([stage, m]) => ({ stage, hCycles: m.hCycles, lCycles: m.lCycles, steps: m.steps, meanSeconds: mean(m.seconds) })),
    };
  });
}
