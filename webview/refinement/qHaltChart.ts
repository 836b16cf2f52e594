// The small q_halt chart beside the grid: the halting logit at every frame, the threshold (the
// model halts once q_halt > 0), the frame shown, and the frame from which the answer is right and
// stays right. Drawn on a canvas with the theme's colours; the scale is pure (unit-tested).
import { withAlpha } from '../training/theme';
import type { GridColours } from './gridCanvas';

/** The y range of the chart: the values and 0 (the halting threshold), padded by 8 % (never empty). */
export function qHaltRange(values: ArrayLike<number>): { min: number; max: number } {
  let min = 0;
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const pad = Math.max((max - min) * 0.08, 0.5);
  return { min: min - pad, max: max + pad };
}

export interface QHaltChartInput {
  values: ArrayLike<number>;
  steps: number;
  cyclesPerStep: number;
  frame: number;
  /** -1 or null: not marked. */
  settled: number | null;
}

export function drawQHaltChart(canvas: HTMLCanvasElement, width: number, input: QHaltChartInput, c: GridColours): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const height = 150;
  const dpr = window.devicePixelRatio || 1;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const t = c.theme;
  const left = 36, right = 8, top = 8, bottom = 22;
  const n = input.values.length;
  const { min, max } = qHaltRange(input.values);
  const X = (f: number) => left + (n <= 1 ? 0.5 : f / (n - 1)) * (width - left - right);
  const Y = (v: number) => top + ((max - v) / (max - min)) * (height - top - bottom);
  ctx.font = t.font;
  ctx.textBaseline = 'middle';

  // Axes: y labels at min, 0, max; x labels at the first frame of each step (thinned).
  ctx.fillStyle = t.muted;
  ctx.textAlign = 'right';
  for (const v of [max, 0, min]) {
    if (v !== 0 && Math.abs(Y(v) - Y(0)) < 12) continue; // would overlap the 0 label
    ctx.fillText(v === 0 ? '0' : v.toFixed(1), left - 4, Y(v));
  }
  ctx.textAlign = 'center';
  const every = Math.max(1, Math.ceil(input.steps / 8));
  ctx.strokeStyle = withAlpha(t.foreground, 0.12);
  ctx.lineWidth = 1;
  for (let s = 0; s < input.steps; s += every) {
    const x = X(s * input.cyclesPerStep);
    ctx.fillText(String(s + 1), x, height - bottom + 11);
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, height - bottom);
    ctx.stroke();
  }
  // The halting threshold.
  ctx.strokeStyle = t.muted;
  ctx.setLineDash([4, 3]);
  ctx.beginPath();
  ctx.moveTo(left, Y(0));
  ctx.lineTo(width - right, Y(0));
  ctx.stroke();
  // The settled frame.
  if (input.settled !== null && input.settled >= 0) {
    ctx.strokeStyle = c.right;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(X(input.settled), top);
    ctx.lineTo(X(input.settled), height - bottom);
    ctx.stroke();
  }
  ctx.setLineDash([]);
  // The frame shown.
  ctx.strokeStyle = c.changed;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(X(input.frame), top);
  ctx.lineTo(X(input.frame), height - bottom);
  ctx.stroke();
  // q_halt.
  const colour = t.palette[0]!;
  ctx.strokeStyle = colour;
  ctx.lineWidth = 2;
  ctx.beginPath();
  for (let f = 0; f < n; f++) {
    if (f) ctx.lineTo(X(f), Y(input.values[f]!));
    else ctx.moveTo(X(f), Y(input.values[f]!));
  }
  ctx.stroke();
  ctx.fillStyle = colour;
  for (let f = 0; f < n; f++) {
    ctx.beginPath();
    ctx.arc(X(f), Y(input.values[f]!), f === input.frame ? 4 : 2, 0, 2 * Math.PI);
    ctx.fill();
  }
}
