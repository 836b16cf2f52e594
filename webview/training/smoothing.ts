// TensorBoard's scalar smoothing: a debiased exponential moving average (the slider's "smoothing"
// is the weight w of the previous average). For the i-th finite value v_i:
//   last_i = w * last_{i-1} + (1 - w) * v_i,  last_0 = 0
//   smoothed_i = last_i / (1 - w^k)   (k = finite values so far; no division when w = 1)
// Non-finite values are passed through and do not advance the average; a constant series is
// returned unchanged. (tensorboard/components/vz_line_chart2/line-chart.ts, resmoothDataset.)
// Pure: no DOM.

/** Smooths `values[0..length)` into `out` (allocated when not given). */
export function smoothDebiasedEma(values: ArrayLike<number>, weight: number, length = values.length, out = new Float64Array(length)): Float64Array {
  const s = new SmoothedColumn();
  s.update(values, length, weight);
  out.set(s.values.subarray(0, length));
  return out;
}

/**
 * The smoothing of a growing column, kept up to date incrementally: appended rows cost O(1)
 * each; a new weight, rewritten rows or a series that stops being constant recompute it all
 * (exactly what TensorBoard would show for the whole series).
 */
export class SmoothedColumn {
  private out = new Float64Array(0);
  private done = 0;
  private weight = NaN;
  private last = 0;
  private numAccum = 0;
  private constant = true;
  private first = NaN;
  private version = -1;
  private resets = 0;

  /** Changes whenever rows already computed may have changed (for caches built on `values`). */
  get generation(): number {
    return this.resets;
  }

  get values(): Float64Array {
    return this.out;
  }

  /** Rows computed. */
  get length(): number {
    return this.done;
  }

  /**
   * Brings the smoothing of `values[0..length)` up to date. `version` changes whenever rows
   * already seen may have changed (the caller's table was rewritten from some row on).
   */
  update(values: ArrayLike<number>, length: number, weight: number, version = 0): Float64Array {
    if (weight !== this.weight || version !== this.version || length < this.done) this.reset(weight, version);
    if (this.out.length < length) {
      const grown = new Float64Array(Math.max(length, this.out.length * 2, 64));
      grown.set(this.out.subarray(0, this.done));
      this.out = grown;
    }
    const w = this.weight;
    for (let i = this.done; i < length; i++) {
      const v = values[i]!;
      if (i === 0) this.first = v;
      if (this.constant && v !== this.first) {
        // No longer constant: TensorBoard smooths every point of such a series.
        this.constant = false;
        this.reset(w, version);
        this.constant = false;
        return this.update(values, length, weight, version);
      }
      if (!Number.isFinite(v)) {
        this.out[i] = v;
        continue;
      }
      this.last = this.last * w + (1 - w) * v;
      this.numAccum++;
      const debias = w === 1 ? 1 : 1 - Math.pow(w, this.numAccum);
      this.out[i] = this.constant ? v : this.last / debias;
    }
    this.done = length;
    return this.out;
  }

  private reset(weight: number, version: number): void {
    this.resets++;
    this.weight = weight;
    this.version = version;
    this.done = 0;
    this.last = 0;
    this.numAccum = 0;
    this.constant = true;
    this.first = NaN;
  }
}
