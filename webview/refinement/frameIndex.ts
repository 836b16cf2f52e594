// The scrubber's positions: frame f of a trajectory is supervision step ⌊f/C⌋ + 1, recursion
// cycle (f mod C) + 1, C = cyclesPerStep (protocol/refinement.ts), and the keys that move between
// them. Pure: no DOM (unit-tested).

export interface FramePosition {
  /** 1-based supervision step. */
  step: number;
  /** 1-based recursion cycle inside the step (1 when the trajectory has one frame per step). */
  cycle: number;
}

export function positionOf(frame: number, cyclesPerStep: number): FramePosition {
  return { step: Math.floor(frame / cyclesPerStep) + 1, cycle: (frame % cyclesPerStep) + 1 };
}

/** The frame of 1-based `step` and `cycle`. */
export function frameOf(step: number, cycle: number, cyclesPerStep: number): number {
  return (step - 1) * cyclesPerStep + (cycle - 1);
}

/** A stored frame (-1 = the last) as a frame index in [0, frames). */
export function resolveFrame(frame: number, frames: number): number {
  if (frame < 0 || frame >= frames) return frames - 1;
  return frame;
}

/** "step 3 / 8 · cycle 2 / 3" (no cycle part with one frame per step). */
export function frameLabel(frame: number, steps: number, cyclesPerStep: number): string {
  const p = positionOf(frame, cyclesPerStep);
  return cyclesPerStep > 1 ? `step ${p.step} / ${steps} · cycle ${p.cycle} / ${cyclesPerStep}` : `step ${p.step} / ${steps}`;
}

export interface NavigationKey {
  key: string;
  shiftKey?: boolean;
}

/**
 * Where a key moves the scrubber, or undefined when the key is not ours: ← → one frame (a
 * cycle), Shift+← →, PageUp/PageDown one supervision step (to the same cycle), Home/End the first
 * and last frame. Clamped to [0, frames).
 */
export function navigate(frame: number, k: NavigationKey, frames: number, cyclesPerStep: number): number | undefined {
  const clamp = (f: number) => Math.max(0, Math.min(frames - 1, f));
  switch (k.key) {
    case 'ArrowLeft':
      return clamp(frame - (k.shiftKey ? cyclesPerStep : 1));
    case 'ArrowRight':
      return clamp(frame + (k.shiftKey ? cyclesPerStep : 1));
    case 'PageUp':
      return clamp(frame - cyclesPerStep);
    case 'PageDown':
      return clamp(frame + cyclesPerStep);
    case 'Home':
      return 0;
    case 'End':
      return frames - 1;
    default:
      return undefined;
  }
}

/** The next frame of playback: one frame on, or undefined at the end (playback stops there). */
export function playbackNext(frame: number, frames: number): number | undefined {
  return frame + 1 < frames ? frame + 1 : undefined;
}

/** Left edges of the scrubber's step ticks, as fractions of its length (one per step after the first). */
export function stepTickFractions(steps: number, cyclesPerStep: number): number[] {
  const frames = steps * cyclesPerStep;
  if (frames <= 1) return [];
  const out: number[] = [];
  for (let s = 1; s < steps; s++) out.push((s * cyclesPerStep) / (frames - 1));
  return out;
}
