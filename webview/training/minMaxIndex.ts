// Where the minimum and maximum of a growing column lie, per block of 64 rows, so that the
// min/max of any row range costs a scan of at most two partial blocks plus one step per block
// (a pixel column of a million-point series: ~1,600 rows -> ~25 blocks and <128 rows).
// Appended rows update only the last block. Pure: no DOM.

export const BLOCK = 64;

export interface Extremes {
  /** Row of the minimum / maximum finite value in the range, -1 if it has none. */
  iMin: number;
  iMax: number;
}

export class MinMaxIndex {
  private mins = new Int32Array(0);
  private maxs = new Int32Array(0);
  /** The values at mins / maxs (NaN for a block without finite values): no trip into the column. */
  private minV = new Float64Array(0);
  private maxV = new Float64Array(0);
  private done = 0;
  private version = NaN;

  /** Brings the index of `values[0..length)` up to date; a new `version` means rows may have changed. */
  update(values: Float64Array, length: number, version: number): void {
    if (version !== this.version || length < this.done) {
      this.version = version;
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
    for (let b = (this.done / BLOCK) | 0; b < blocks; b++) {
      let iMin = -1;
      let iMax = -1;
      let vMin = Infinity;
      let vMax = -Infinity;
      const end = Math.min(length, (b + 1) * BLOCK);
      for (let i = b * BLOCK; i < end; i++) {
        const v = values[i]!;
        if (v < vMin) {
          vMin = v;
          iMin = i;
        }
        if (v > vMax) {
          vMax = v;
          iMax = i;
        }
      }
      this.mins[b] = iMin;
      this.maxs[b] = iMax;
      this.minV[b] = iMin >= 0 ? vMin : NaN;
      this.maxV[b] = iMax >= 0 ? vMax : NaN;
    }
    this.done = length;
  }

  /** The extremes of values[s..e) (e <= the length last given to update). First occurrence wins ties. */
  extremes(values: Float64Array, s: number, e: number, out: Extremes): Extremes {
    let iMin = -1;
    let iMax = -1;
    let vMin = Infinity;
    let vMax = -Infinity;
    const headEnd = Math.min(e, Math.ceil(s / BLOCK) * BLOCK);
    let i = s;
    for (; i < headEnd; i++) {
      const v = values[i]!;
      if (v < vMin) {
        vMin = v;
        iMin = i;
      }
      if (v > vMax) {
        vMax = v;
        iMax = i;
      }
    }
    const { mins, maxs, minV, maxV } = this;
    for (let b = (i / BLOCK) | 0; i + BLOCK <= e; i += BLOCK, b++) {
      // NaN (a block without finite values) never compares true.
      if (minV[b]! < vMin) {
        vMin = minV[b]!;
        iMin = mins[b]!;
      }
      if (maxV[b]! > vMax) {
        vMax = maxV[b]!;
        iMax = maxs[b]!;
      }
    }
    for (; i < e; i++) {
      const v = values[i]!;
      if (v < vMin) {
        vMin = v;
        iMin = i;
      }
      if (v > vMax) {
        vMax = v;
        iMax = i;
      }
    }
    out.iMin = iMin;
    out.iMax = iMax;
    return out;
  }
}
