// The charts of the Live Training panel and the lines each draws per run, with their axis titles
// (with units) and tick kinds.
import type { EvalColumnName } from '../../protocol/webviewMessages';
import type { StepMetric } from './runView';
import type { TickKind } from './tickFormat';

export interface LineSpec {
  metric: StepMetric;
  label: string;
  /** Canvas dash pattern: with several runs the run is told by colour, the metric by dash (and each can be hidden). */
  dash?: number[];
  /** Scale key: 'y' (left axis) or 'y2' (right axis). */
  scale?: 'y' | 'y2';
}

export interface ChartSpec {
  id: 'loss' | 'accuracy' | 'gradient' | 'lr' | 'throughput';
  title: string;
  lines: LineSpec[];
  /** Held-out evaluations drawn as points. */
  evalPoints?: { column: EvalColumnName; label: string; scale?: 'y' | 'y2' }[];
  /** A fixed y range (accuracies). */
  yRange?: [number, number];
  /** Follows the panel's log-y toggle. */
  logY?: boolean;
  /** Axis titles, with units. */
  yLabel: string;
  y2Label?: string;
  ticks: TickKind;
}

export const chartSpecs: ChartSpec[] = [
  {
    id: 'loss', title: 'Loss', logY: true, ticks: 'number', yLabel: 'cross-entropy (nats / token)',
    lines: [{ metric: 'lmLoss', label: 'lm' }, { metric: 'qHaltLoss', label: 'Q (halt)', dash: [6, 4] }],
  },
  {
    id: 'accuracy', title: 'Accuracy', yRange: [0, 1], ticks: 'percent', yLabel: 'accuracy (%)',
    lines: [
      { metric: 'tokenAccuracy', label: 'token' },
      { metric: 'exactAccuracy', label: 'exact', dash: [6, 4] },
      { metric: 'qHaltAccuracy', label: 'halting', dash: [2, 3] },
    ],
    evalPoints: [{ column: 'exactAccuracy', label: 'eval exact' }],
  },
  {
    id: 'gradient', title: 'Gradient', ticks: 'number', yLabel: 'norm ‖g‖₂', y2Label: 'variance ‖g−m‖²/‖m‖² (ratio)', logY: true,
    lines: [{ metric: 'gradNorm', label: 'norm' }, { metric: 'gradVariance', label: 'variance', dash: [6, 4], scale: 'y2' }],
    evalPoints: [{ column: 'gradientVariance', label: 'V (eval)', scale: 'y2' }],
  },
  {
    id: 'lr', title: 'Learning rate', ticks: 'log', logY: false, yLabel: 'learning rate (per step)',
    lines: [{ metric: 'lr', label: 'lr' }],
  },
  {
    id: 'throughput', title: 'Throughput', ticks: 'number', yLabel: 'samples / s',
    lines: [{ metric: 'samplesPerSecond', label: 'samples/s' }],
  },
];
