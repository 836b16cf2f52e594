// Parameter initialisers of the reference (models/common.py): a truncated normal that is
// clipped to ±2σ *and* rescaled so the clipped distribution has the requested std.
import type { Rng } from '../random';

// Std of a standard normal truncated to [-2, 2]: sqrt(1 - 2·2·φ(2) / (Φ(2) − Φ(−2))).
const TRUNCATED_STD = 0.8796256610342398;

/** `count` draws of N(0, std²) truncated to ±2·(std / TRUNCATED_STD), i.e. exactly `std` after truncation. */
export function truncatedNormal(count: number, std: number, rng: Rng): Float32Array {
  const out = new Float32Array(count);
  if (std === 0) return out;
  const scale = std / TRUNCATED_STD;
  for (let i = 0; i < count; i++) {
    let x: number;
    do x = rng.normal(); while (x < -2 || x > 2);
    out[i] = x * scale;
  }
  return out;
}
