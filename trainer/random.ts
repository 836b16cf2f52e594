// A seeded random source whose whole state can be saved in a checkpoint, so that a resumed run
// draws exactly the numbers an uninterrupted run would have drawn. Backed by pure-rand's
// xoroshiro128+.
import prand from 'pure-rand';

export type RngState = readonly number[];

export class Rng {
  private gen: prand.RandomGenerator;

  constructor(seedOrState: number | RngState) {
    this.gen = typeof seedOrState === 'number'
      ? prand.xoroshiro128plus(seedOrState | 0)
      : prand.xoroshiro128plus.fromState(seedOrState as number[]);
  }

  state(): RngState {
    const s = this.gen.getState?.();
    if (!s) throw new Error('random generator cannot export its state');
    return [...s];
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`Rng.int: n must be a positive integer, got ${n}`);
    return prand.unsafeUniformIntDistribution(0, n - 1, this.gen);
  }

  /** Uniform float in [0, 1) with 32 random bits. */
  float(): number {
    return prand.unsafeUniformIntDistribution(0, 0xffffffff, this.gen) / 4294967296;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /** In-place Fisher-Yates shuffle; returns the array. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** A child generator with an independent stream, derived from this one. */
  fork(): Rng {
    return new Rng(this.int(0x7fffffff));
  }
}
