// Refinement trajectories: the model's answer to a few puzzles after every supervision step
// (and optionally every recursion cycle inside a step). Typed arrays travel base64-encoded, so an
// event stays compact (a 9x9 trajectory of 16 steps x 3 cycles x 4 puzzles is ~40 KB).
// Pure: no Node or DOM (atob/btoa exist in both).

export interface RefinementPuzzle {
  /** Row-major, '.' for blanks. */
  question: string;
  /** The unique solution when known. */
  solution?: string;
  blanks: number;
}

export interface RefinementTrajectory {
  side: 4 | 9;
  puzzles: RefinementPuzzle[];
  /** Supervision steps K. */
  steps: number;
  /** Frames per step: 1 (after each step) or T (after each cycle). Frame f is step ⌊f/C⌋+1, cycle f mod C + 1. */
  cyclesPerStep: number;
  /** Uint8 [puzzles, frames, cells]: the predicted digit (1..side; 0 when the argmax is not a digit). */
  digits: string;
  /** Uint8 [puzzles, frames, cells]: the predicted token's probability × 255, rounded. */
  confidence: string;
  /** Float32 [puzzles, frames]: q_halt logit. */
  qHalt: string;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function base64ToBytes(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export interface DecodedTrajectory {
  frames: number;
  cells: number;
  digits: Uint8Array;
  confidence: Uint8Array;
  qHalt: Float32Array;
}

/** Decodes and checks the sizes; throws an Error naming the field that does not fit. */
export function decodeTrajectory(t: RefinementTrajectory): DecodedTrajectory {
  const cells = t.side * t.side;
  const frames = t.steps * t.cyclesPerStep;
  const n = t.puzzles.length * frames;
  const digits = base64ToBytes(t.digits);
  const confidence = base64ToBytes(t.confidence);
  const q = base64ToBytes(t.qHalt);
  if (digits.length !== n * cells) throw new Error(`trajectory.digits: expected ${n * cells} bytes, got ${digits.length}`);
  if (confidence.length !== n * cells) throw new Error(`trajectory.confidence: expected ${n * cells} bytes, got ${confidence.length}`);
  if (q.length !== n * 4) throw new Error(`trajectory.qHalt: expected ${n * 4} bytes, got ${q.length}`);
  return { frames, cells, digits, confidence, qHalt: new Float32Array(q.buffer, q.byteOffset, n) };
}

/**
 * The first frame from which the whole answer is right and stays right to the end, or -1
 * (needs the solution).
 */
export function settledFrame(d: DecodedTrajectory, puzzle: number, solution: string): number {
  const right = (f: number) => {
    const off = (puzzle * d.frames + f) * d.cells;
    for (let i = 0; i < d.cells; i++) if (d.digits[off + i] !== Number(solution[i])) return false;
    return true;
  };
  let first = -1;
  for (let f = d.frames - 1; f >= 0 && right(f); f--) first = f;
  return first;
}
