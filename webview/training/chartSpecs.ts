// The charts of the Live Training panel and the lines each draws per run, with their axis titles
// (with units) and tick kinds.
import type { EvalColumnName } from '../../protocol/webviewMessages';
import type { RowTable, StepMetric } from './runView';
import type { TickKind } from './tickFormat';

export interface LineSpec {
  metric: StepMetric;
  label: string;
  /** Canvas dash pattern: with several runs the run is told by colour, the metric by dash (and each can be hidden). */
  dash?: number[];
  /** Scale key: 'y' (left axis) or 'y2' (right axis). */
  scale?: 'y' | 'y2';
  /** Drawn (and given a toggle) only when some run has a value in it (the IFT adjoint's statistics). */
  whenPresent?: boolean;
}

export interface ChartSpec {
  id: 'loss' | 'accuracy' | 'gradient' | 'lr' | 'throughput' | 'solver' | 'residual';
  title: string;
  /** The run table the lines read: the step rows (default) or the solver rows of DEQ runs. */
  table?: RowTable;
  lines: LineSpec[];
  /** Held-out evaluations drawn as points; `deqOnly`: only while the panel shows a DEQ run. */
  evalPoints?: { column: EvalColumnName; label: string; scale?: 'y' | 'y2'; deqOnly?: boolean }[];
  /** A fixed y range (accuracies), and the right axis' range and ticks (default: automatic, numbers). */
  yRange?: [number, number];
  y2Range?: [number, number];
  y2Ticks?: TickKind;
  /** true: follows the panel's log-y toggle; 'always': both axes always log (residuals). */
  logY?: boolean | 'always';
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
    evalPoints: [
      { column: 'exactAccuracy', label: 'eval exact' },
      { column: 'internalisedExactAccuracy', label: 'eval exact, solver capped', deqOnly: true },
    ],
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

/**
 * The charts of DEQ runs (trm-deq, attractor), from the steps' solver statistics: shown only while the panel
 * holds a run that has them, so a panel of other runs draws (and costs) exactly `chartSpecs`.
 */
export const solverChartSpecs: ChartSpec[] = [
  {
    id: 'solver', title: 'Solver (DEQ)', table: 'solver', ticks: 'number', yLabel: 'map evaluations per solve',
    y2Label: 'converged (% of solve × row)', y2Range: [0, 1], y2Ticks: 'percent',
    lines: [
      { metric: 'deqIterations', label: 'iterations (mean)' },
      { metric: 'deqIterationsMax', label: 'iterations (max)', dash: [6, 4] },
      { metric: 'deqConvergedFraction', label: 'converged', dash: [2, 3], scale: 'y2' },
      { metric: 'deqAdjointIterations', label: 'adjoint iterations (mean)', dash: [8, 3, 2, 3], whenPresent: true },
      { metric: 'deqAdjointConvergedFraction', label: 'adjoint converged', dash: [2, 6], scale: 'y2', whenPresent: true },
    ],
  },
  {
    id: 'residual', title: 'Solver residual (DEQ)', table: 'solver', ticks: 'log', logY: 'always',
    yLabel: 'abs residual ‖f(z) − z‖₂', y2Label: 'rel residual ‖f(z)−z‖/‖f(z)‖',
    lines: [
      { metric: 'deqAbsMean', label: 'abs mean' },
      { metric: 'deqAbsMax', label: 'abs max', dash: [6, 4] },
      { metric: 'deqRelMean', label: 'rel mean', dash: [2, 3], scale: 'y2' },
      { metric: 'deqRelMax', label: 'rel max', dash: [8, 3, 2, 3], scale: 'y2' },
      { metric: 'deqAdjointAbsMax', label: 'adjoint abs max', dash: [2, 6], whenPresent: true },
    ],
  },
];
