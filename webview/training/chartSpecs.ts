// The four charts of the Live Training panel and the lines each draws per run.
import type { EvalColumnName } from '../../protocol/webviewMessages';
import type { StepMetric } from './runView';

export interface LineSpec {
  metric: StepMetric;
  label: string;
  /** Canvas dash pattern; the run is told by colour, the metric by dash. */
  dash?: number[];
  /** Scale key: 'y' (left axis) or 'y2' (right axis). */
  scale?: 'y' | 'y2';
}

export interface ChartSpec {
  id: 'loss' | 'accuracy' | 'gradient' | 'throughput';
  title: string;
  lines: LineSpec[];
  /** Held-out evaluations drawn as points. */
  evalPoints?: { column: EvalColumnName; label: string; scale?: 'y' | 'y2' }[];
  /** A fixed y range (accuracies). */
  yRange?: [number, number];
  /** Follows the panel's log-y toggle. */
  logY?: boolean;
  y2Label?: string;
  format: (v: number) => string;
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const fix = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toPrecision(3));

export const chartSpecs: ChartSpec[] = [
  {
    id: 'loss', title: 'Loss', logY: true, format: fix,
    lines: [{ metric: 'lmLoss', label: 'lm' }, { metric: 'qHaltLoss', label: 'Q (halt)', dash: [6, 4] }],
  },
  {
    id: 'accuracy', title: 'Accuracy', yRange: [0, 1], format: pct,
    lines: [
      { metric: 'tokenAccuracy', label: 'token' },
      { metric: 'exactAccuracy', label: 'exact', dash: [6, 4] },
      { metric: 'qHaltAccuracy', label: 'halting', dash: [2, 3] },
    ],
    evalPoints: [{ column: 'exactAccuracy', label: 'eval exact' }],
  },
  {
    id: 'gradient', title: 'Gradient', format: fix, y2Label: 'variance', logY: true,
    lines: [{ metric: 'gradNorm', label: 'norm' }, { metric: 'gradVariance', label: 'variance ‖g−m‖²/‖m‖²', dash: [6, 4], scale: 'y2' }],
    evalPoints: [{ column: 'gradientVariance', label: 'V (eval)', scale: 'y2' }],
  },
  {
    id: 'throughput', title: 'Throughput (samples/s)', format: (v) => v.toFixed(0),
    lines: [{ metric: 'samplesPerSecond', label: 'samples/s' }],
  },
];
