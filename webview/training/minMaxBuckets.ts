// Min/max-per-bucket downsampling of a growing series, kept up to date between redraws. The
// buckets lie on a fixed grid: bucket k = [origin + k·w, origin + (k+1)·w), w the largest power of
// 2^(1/8) at most range / pixels (so there are 1 to 1.09 buckets per pixel column). While the
// x-range keeps its start and only grows within that w, the buckets already filled stay valid:
// a live update (rows appended) refills only the last bucket and those after it, instead of every
// bucket of every series. A new origin or w, rewritten rows (a new MinMaxIndex version) or a
// narrower range refill everything. Each bucket keeps the rows of its minimum and maximum finite
// y, in their order, so spikes survive. Pure: no DOM.
import { lowerBound, seekFrom, type Downsampled } from './downsample';
import { noExtremes, resetExtremes, scanExtremes, type Extremes, type MinMaxIndex } from './minMaxIndex';

/** Grid steps per doubling of w: the buckets per pixel then lie in [1, 2^(1/8)) ≈ [1, 1.09). */
const STEPS_PER_OCTAVE = 8;

/** The bucket width for `pixels` buckets over `range` (> 0): the largest 2^(j/8) <= range / pixels. */
export function gridWidth(range: number, pixels: number): number {
  const ideal = range / Math.max(1, Math.floor(pixels));
  let j = Math.floor(STEPS_PER_OCTAVE * Math.log2(ideal));
  // log2 rounding can land one step off either way: settle on the largest width not above ideal.
  while (Math.pow(2, (j + 1) / STEPS_PER_OCTAVE) <= ideal) j++;
  while (Math.pow(2, j / STEPS_PER_OCTAVE) > ideal) j--;
  return Math.pow(2, j / STEPS_PER_OCTAVE);
}

export class MinMaxBuckets {
  /**
   * Per bucket: its first and second point (the min and max in row order; the same row twice when
   * one point is both; NaN x when it holds no finite value). The points are copied out of the
   * columns so that a redraw reads these few arrays in order, not a million-row column at random.
   */
  private x1 = new Float64Array(0);
  private y1 = new Float64Array(0);
  private x2 = new Float64Array(0);
  private y2 = new Float64Array(0);
  /** Buckets filled (the last may still grow). */
  private count = 0;
  /** First row of the last filled bucket, and its x (a check that the x column is the same). */
  private lastStart = 0;
  private lastStartX = NaN;
  /** The range's first row and the rows filled up to (exclusive). */
  private first = 0;
  private filled = 0;
  private origin = NaN;
  private width = NaN;
  private xMax = NaN;
  private index: MinMaxIndex | undefined;
  private version = NaN;
  private readonly ext: Extremes = noExtremes();

  /**
   * The points of (xs[i], ys[i]), i < length (xs ascending), in [origin, xMax] downsampled on the
   * grid of bucket width `width`: each bucket's min and max finite point in order, plus the nearest
   * finite point outside each end of the range (the lines run to the plot's edges). `index` (a
   * MinMaxIndex of ys, brought up to `length`) makes a bucket cost ~one step per 64 rows; its
   * version tells when rows already seen were rewritten.
   */
  downsample(
    xs: Float64Array, ys: Float64Array, length: number, origin: number, xMax: number, width: number,
    index: MinMaxIndex | undefined, out?: Downsampled,
  ): Downsampled {
    const version = index ? index.version : NaN;
    const reusable = origin === this.origin && width === this.width && xMax >= this.xMax && index === this.index
      && Object.is(version, this.version) && index !== undefined && length >= this.filled
      && (this.count === 0 || xs[this.lastStart] === this.lastStartX);
    if (!reusable) {
      this.origin = origin;
      this.width = width;
      this.index = index;
      this.version = version;
      this.count = 0;
      this.first = lowerBound(xs, origin, 0, length);
      this.lastStart = this.first;
    }
    this.xMax = xMax;
    let end = lowerBound(xs, xMax, this.lastStart, length);
    while (end < length && xs[end]! <= xMax) end++; // include points equal to xMax
    this.fill(xs, ys, end, index);
    this.filled = end;
    return this.emit(xs, ys, length, out);
  }

  /** Refills the last bucket and fills the ones after it, up to row `end`. */
  private fill(xs: Float64Array, ys: Float64Array, end: number, index: MinMaxIndex | undefined): void {
    let b = Math.max(0, this.count - 1);
    let start = this.count > 0 ? this.lastStart : this.first;
    const { origin, width, ext } = this;
    const rowsPerBucket = end > this.first ? (end - this.first) / Math.max(1, (xs[end - 1]! - origin) / width) : 1;
    while (start < end) {
      const edge = origin + (b + 1) * width;
      const stop = seekFrom(xs, edge, start, end, start + Math.round(rowsPerBucket));
      if (b >= this.x1.length) this.grow(b + 1);
      if (index) index.extremes(ys, start, stop, ext);
      else scanExtremes(ys, start, stop, resetExtremes(ext));
      const { iMin, iMax } = ext;
      const lo = iMin < iMax ? iMin : iMax;
      const hi = iMin < iMax ? iMax : iMin;
      this.x1[b] = lo >= 0 ? xs[lo]! : NaN;
      this.y1[b] = lo >= 0 ? ys[lo]! : NaN;
      this.x2[b] = hi !== lo ? xs[hi]! : NaN;
      this.y2[b] = hi !== lo ? ys[hi]! : NaN;
      this.lastStart = start;
      this.lastStartX = xs[start]!;
      this.count = b + 1;
      start = stop;
      b++;
    }
  }

  private grow(need: number): void {
    const cap = Math.max(need, this.x1.length * 2, 256);
    const grown = (a: Float64Array) => {
      const g = new Float64Array(cap);
      g.set(a.subarray(0, this.count));
      return g;
    };
    this.x1 = grown(this.x1);
    this.y1 = grown(this.y1);
    this.x2 = grown(this.x2);
    this.y2 = grown(this.y2);
  }

  private emit(xs: Float64Array, ys: Float64Array, length: number, out?: Downsampled): Downsampled {
    const cap = 2 * this.count + 2;
    const res = out && out.x.length >= cap ? out : { x: new Float64Array(cap), y: new Float64Array(cap), n: 0 };
    const { x: ox, y: oy } = res;
    let n = 0;
    for (let i = this.first - 1; i >= 0; i--) {
      if (Number.isFinite(ys[i]!)) {
        ox[n] = xs[i]!;
        oy[n++] = ys[i]!;
        break;
      }
    }
    const { x1, y1, x2, y2 } = this;
    for (let b = 0; b < this.count; b++) {
      // NaN x: an empty bucket, or a bucket whose one point is both its min and max.
      if (x1[b]! === x1[b]!) {
        ox[n] = x1[b]!;
        oy[n++] = y1[b]!;
      }
      if (x2[b]! === x2[b]!) {
        ox[n] = x2[b]!;
        oy[n++] = y2[b]!;
      }
    }
    for (let i = this.filled; i < length; i++) {
      if (Number.isFinite(ys[i]!)) {
        ox[n] = xs[i]!;
        oy[n++] = ys[i]!;
        break;
      }
    }
    res.n = n;
    return res;
  }
}
