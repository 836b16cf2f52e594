// A run's scalars, as TensorBoard tags, from its events.jsonl. The tag table is documented in the
// README ("TensorBoard export"); a step logged twice (the steps after the last checkpoint of a
// killed run, trained again by resume) keeps its later value, the one the resumed run continued from.
import type { EvalEvent, StepEvent, TrainerEvent } from '../../protocol/events';

export interface ScalarPoint {
  step: number;
  /** Seconds since the epoch. */
  wallTime: number;
  value: number;
}

const stepFields: [tag: string, field: keyof StepEvent][] = [
  ['train/lm_loss', 'lmLoss'], ['train/q_halt_loss', 'qHaltLoss'], ['train/token_accuracy', 'tokenAccuracy'],
  ['train/exact_accuracy', 'exactAccuracy'], ['train/q_halt_accuracy', 'qHaltAccuracy'], ['train/mean_halt_steps', 'meanHaltSteps'],
  ['train/lr', 'lr'], ['train/grad_norm', 'gradNorm'], ['train/grad_variance_running', 'gradVarianceRunning'],
  ['train/loss_scale', 'lossScale'], ['train/samples_per_second', 'samplesPerSecond'], ['train/step_seconds', 'stepSeconds'],
  ['train/flops_forward', 'flopsForward'], ['train/flops_backward', 'flopsBackward'],
  ['curriculum/h_cycles', 'hCycles'], ['curriculum/l_cycles', 'lCycles'], ['curriculum/stage', 'stage'],
];

function evalScalars(e: EvalEvent): [string, number | null][] {
  const p = e.scope === 'final' ? 'eval_final' : 'eval';
  return [
    [`${p}/exact_accuracy`, e.exactAccuracy], [`${p}/token_accuracy`, e.tokenAccuracy], [`${p}/q_halt_accuracy`, e.qHaltAccuracy],
    [`${p}/early_exit/exact_accuracy`, e.earlyExit.exactAccuracy], [`${p}/early_exit/mean_steps`, e.earlyExit.meanSteps],
    [`${p}/early_exit/q_halt_accuracy`, e.earlyExit.qHaltAccuracy], [`${p}/gradient_variance`, e.gradientVariance],
    [`${p}/train_seconds`, e.trainSeconds], [`${p}/flops_total`, e.flopsForwardTotal + e.flopsBackwardTotal],
    ...e.byBlanks.map((b): [string, number] => [`${p}/exact_accuracy_by_blanks/${b.blanks}`, b.exactAccuracy]),
  ];
}

/** tag → points in step order. Null and non-finite values are left out (TensorBoard has no "missing"). */
export function runScalars(events: readonly TrainerEvent[]): Map<string, ScalarPoint[]> {
  const byTag = new Map<string, Map<number, ScalarPoint>>();
  const put = (tag: string, step: number, time: number, value: number | null) => {
    if (value === null || !Number.isFinite(value)) return;
    let series = byTag.get(tag);
    if (!series) byTag.set(tag, (series = new Map()));
    series.set(step, { step, wallTime: time / 1000, value });
  };
  for (const e of events) {
    if (e.type === 'step') for (const [tag, field] of stepFields) put(tag, e.step, e.time, e[field] as number | null);
    else if (e.type === 'eval') for (const [tag, value] of evalScalars(e)) put(tag, e.step, e.time, value);
  }
  return new Map([...byTag].map(([tag, series]) => [tag, [...series.values()].sort((a, b) => a.step - b.step)]));
}
