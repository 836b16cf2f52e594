// The arithmetic of the fixed-point tools, pure and model-free: norms and residuals of state
// rows, the critical step of an answer trajectory, the spectral-radius estimate of a power
// iteration, single-linkage clustering of end states, and a two-component PCA.

/** ‖a‖₂ of a row (float64 accumulation). */
export function norm(a: ArrayLike<number>, start = 0, length = a.length - start): number {
  let s = 0;
  for (let i = start; i < start + length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}

/** ‖a − b‖₂ over rows [start, start + length) of both. */
export function distance(a: ArrayLike<number>, b: ArrayLike<number>, start = 0, length = a.length - start): number {
  let s = 0;
  for (let i = start; i < start + length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return Math.sqrt(s);
}

/** Per row of `size` values: ‖next − prev‖ / ‖prev‖ (Infinity when prev is 0 and next is not). */
export function relativeResiduals(prev: Float32Array, next: Float32Array, rows: number, size: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const d = distance(next, prev, r * size, size);
    const n = norm(prev, r * size, size);
    out.push(n === 0 ? (d === 0 ? 0 : Infinity) : d / n);
  }
  return out;
}

/**
 * The critical step (reference.md §3.5): the first step s (1-based) such that the answer is right
 * at s and at every later step; null when it is wrong at the last step (or there are no steps).
 */
export function criticalStep(correct: readonly boolean[]): number | null {
  if (correct.length === 0 || !correct[correct.length - 1]) return null;
  let s = correct.length;
  while (s > 1 && correct[s - 2]) s--;
  return s;
}

/** Right at some step, wrong at the last: the answer left a correct fixed point. */
export function rightThenLeft(correct: readonly boolean[]): boolean {
  return correct.length > 0 && !correct[correct.length - 1] && correct.some(Boolean);
}

/**
 * Spectral radius from the norms ‖J v_k‖ of a power iteration with unit v_k: the geometric mean
 * of the last (about) half of the ratios. For a real dominant eigenvalue the ratios converge to |λ|;
 * for a complex pair they oscillate, but their product over many steps still grows like |λ|^k.
 */
export function spectralRadiusEstimate(ratios: readonly number[]): number {
  if (ratios.length === 0) return NaN;
  // An even number of ratios (about half), so a period-2 oscillation averages out.
  const tail = ratios.slice(-Math.min(ratios.length, 2 * Math.max(1, Math.floor(ratios.length / 4))));
  let logSum = 0;
  for (const r of tail) logSum += Math.log(Math.max(r, 1e-30));
  return Math.exp(logSum / tail.length);
}

/**
 * Single-linkage clusters of vectors: i and j are linked when ‖a_i − a_j‖ / max(‖a_i‖, ‖a_j‖) < tol.
 * Returns a cluster id per vector, ids numbered by first appearance (0, 1, ...).
 */
export function clusterByDistance(vectors: readonly Float32Array[], tol: number): number[] {
  const n = vectors.length;
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const norms = vectors.map((v) => norm(v));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const scale = Math.max(norms[i]!, norms[j]!);
      const d = distance(vectors[i]!, vectors[j]!);
      if ((scale === 0 ? d : d / scale) < tol) parent[find(j)] = find(i);
    }
  }
  const ids = new Map<number, number>();
  return vectors.map((_, i) => {
    const root = find(i);
    if (!ids.has(root)) ids.set(root, ids.size);
    return ids.get(root)!;
  });
}

export interface Pca2 {
  mean: Float64Array;
  /** Two unit principal directions (zero vectors when the data has fewer dimensions of spread). */
  components: [Float64Array, Float64Array];
  /** Fraction of the total variance along each. */
  explained: [number, number];
}

/**
 * The first two principal components of a few points in a high dimension, through the Gram
 * matrix of the centred points (n×n, n = points) and its top eigenvectors by power iteration
 * with deflation.
 */
export function pca2(points: readonly Float32Array[]): Pca2 {
  const n = points.length;
  const dim = points[0]?.length ?? 0;
  const mean = new Float64Array(dim);
  for (const p of points) for (let i = 0; i < dim; i++) mean[i]! += p[i]! / n;
  const centred = points.map((p) => Float64Array.from(p, (v, i) => v - mean[i]!));
  const gram = Array.from({ length: n }, () => new Float64Array(n));
  let total = 0;
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      let s = 0;
      const x = centred[a]!, y = centred[b]!;
      for (let i = 0; i < dim; i++) s += x[i]! * y[i]!;
      gram[a]![b] = s;
      gram[b]![a] = s;
    }
    total += gram[a]![a]!;
  }
  const components: Float64Array[] = [];
  const explained: number[] = [];
  for (let c = 0; c < 2; c++) {
    let u = Float64Array.from({ length: n }, (_, i) => 1 + Math.sin(i + 1 + c));
    let lambda = 0;
    for (let it = 0; it < 500; it++) {
      const w = new Float64Array(n);
      for (let a = 0; a < n; a++) {
        let s = 0;
        for (let b = 0; b < n; b++) s += gram[a]![b]! * u[b]!;
        w[a] = s;
      }
      const wn = norm(w);
      if (wn === 0) { lambda = 0; break; }
      const next = w.map((v) => v / wn);
      const change = distance(next, u);
      u = next;
      lambda = wn;
      if (change < 1e-12) break;
    }
    // Direction in the original space: Xᵀu / ‖Xᵀu‖.
    const dir = new Float64Array(dim);
    for (let a = 0; a < n; a++) for (let i = 0; i < dim; i++) dir[i]! += u[a]! * centred[a]![i]!;
    const dn = norm(dir);
    components.push(dn > 0 && lambda > 1e-12 * Math.max(total, 1e-300) ? dir.map((v) => v / dn) : new Float64Array(dim));
    explained.push(total > 0 && dn > 0 ? lambda / total : 0);
    // Deflate: G ← G − λ u uᵀ.
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) gram[a]![b]! -= lambda * u[a]! * u[b]!;
  }
  return { mean, components: [components[0]!, components[1]!], explained: [explained[0]!, explained[1]!] };
}

/** Coordinates of a point on the two components. */
export function project(p: ArrayLike<number>, pca: Pca2, offset = 0): [number, number] {
  let x = 0, y = 0;
  const [c1, c2] = pca.components;
  for (let i = 0; i < pca.mean.length; i++) {
    const v = p[offset + i]! - pca.mean[i]!;
    x += v * c1[i]!;
    y += v * c2[i]!;
  }
  return [x, y];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
