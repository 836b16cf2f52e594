// Where the minimum and maximum of a growing column lie, per block of 64 rows, so that the
// min/max of any row range costs a scan of at most two partial blocks plus one step per block
// (a pixel column of a million-point series: ~1,600 rows -> ~25 blocks and <128 rows).
// Appended rows update only the last block. Pure: no DOM.

export const BLOCK = 64;

export interface Extremes {
  /** Row of the minimum / maximum finite value in the range, -1 if it has none. */
  iMin: number;
  iMax: number;
  /** Their values (±Infinity while there is none). */
  vMin: number;
  vMax: number;
}

export const noExtremes = (): Extremes => ({ iMin: -1, iMax: -1, vMin: Infinity, vMax: -Infinity });

/** Empties `acc` for a new range, without allocating (the redraw's hot loop reuses one). */
export function resetExtremes(acc: Extremes): Extremes {
  acc.iMin = -1;
  acc.iMax = -1;
  acc.vMin = Infinity;
  acc.vMax = -Infinity;
  return acc;
}

/**
 * Folds values[s..e) into `acc`, in place: the first occurrence wins ties, and NaN never
 * compares true, so rows without a finite value are skipped.
 */
export function scanExtremes(values: ArrayLike<number>, s: number, e: number, acc: Extremes): Extremes {
  for (let i = s; i < e; i++) {
    const v = values[i]!;
    if (v < acc.vMin) {
      acc.vMin = v;
      acc.iMin = i;
    }
    if (v > acc.vMax) {
      acc.vMax = v;
      acc.iMax = i;
    }
  }
  return acc;
}

export class MinMaxIndex {
  private mins = new Int32Array(0);
  private maxs = new Int32Array(0);
  /** The values at mins / maxs (NaN for a block without finite values): no trip into the column. */
  private minV = new Float64Array(0);
  private maxV = new Float64Array(0);
  private done = 0;
  private builtFor = NaN;

  /** The version given to the last update: caches built on these rows compare it. */
  get version(): number {
    return this.builtFor;
  }

  /** Brings the index of `values[0..length)` up to date; a new `version` means rows may have changed. */
  update(values: Float64Array, length: number, version: number): void {
    if (version !== this.builtFor || length < this.done) {
      this.builtFor = version;
      this.done = 0;
    }
    const blocks = Math.ceil(length / BLOCK);
    if (this.mins.length < blocks) {
      const cap = Math.max(blocks, this.mins.length * 2, 16);
      const mins = new Int32Array(cap);
      const maxs = new Int32Array(cap);
      const minV = new Float64Array(cap);
      const maxV = new Float64Array(cap);
      mins.set(this.mins);
      maxs.set(this.maxs);
      minV.set(this.minV);
      maxV.set(this.maxV);
      this.mins = mins;
      this.maxs = maxs;
      this.minV = minV;
      this.maxV = maxV;
    }
    const scan = noExtremes();
    for (let b = (this.done / BLOCK) | 0; b < blocks; b++) {
      scanExtremes(values, b * BLOCK, Math.min(length, (b + 1) * BLOCK), resetExtremes(scan));
      this.mins[b] = scan.iMin;
      this.maxs[b] = scan.iMax;
      this.minV[b] = scan.iMin >= 0 ? scan.vMin : NaN;
      this.maxV[b] = scan.iMax >= 0 ? scan.vMax : NaN;
    }
    this.done = length;
  }

  /** The extremes of values[s..e) (e <= the length last given to update). First occurrence wins ties. */
  extremes(values: Float64Array, s: number, e: number, out: Extremes): Extremes {
    const acc = resetExtremes(out);
    const headEnd = Math.min(e, Math.ceil(s / BLOCK) * BLOCK);
    scanExtremes(values, s, headEnd, acc);
    let i = headEnd;
    const { mins, maxs, minV, maxV } = this;
    for (let b = (i / BLOCK) | 0; i + BLOCK <= e; i += BLOCK, b++) {
      // NaN (a block without finite values) never compares true.
      if (minV[b]! < acc.vMin) {
        acc.vMin = minV[b]!;
        acc.iMin = mins[b]!;
      }
      if (maxV[b]! > acc.vMax) {
        acc.vMax = maxV[b]!;
        acc.iMax = maxs[b]!;
      }
    }
    return scanExtremes(values, i, e, acc);
  }
}
