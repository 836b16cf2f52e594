// Learning rate (reference.md §1.8): linear warm-up from 0, then cosine down to lrMinRatio·lr
// (lrMinRatio = 1 keeps it constant, as every 1k-example recipe does). `step` counts from 1:
// the reference increments the step before computing the rate.
export function learningRate(step: number, base: number, warmupSteps: number, totalSteps: number, minRatio: number): number {
  if (step < warmupSteps) return (base * step) / Math.max(1, warmupSteps);
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  return base * (minRatio + Math.max(0, (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress))));
}
