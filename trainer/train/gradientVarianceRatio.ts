// The gradient-variance statistic of reference.md §2.3 (CGAR's "gradient variance" is not
// defined in its sources; this is our documented definition): for gradients g_1..g_K of K
// minibatches at fixed parameters, with ḡ their mean,
//   V = (1/K) Σ_k ‖g_k − ḡ‖² / ‖ḡ‖²
// (the spread of minibatch gradients relative to the size of their mean; scale-invariant).
export function relativeGradientVariance(gradients: readonly ArrayLike<number>[]): number {
  const K = gradients.length;
  if (K < 2) throw new RangeError('relativeGradientVariance: needs at least 2 gradients');
  const P = gradients[0]!.length;
  const mean = new Float64Array(P);
  for (const g of gradients) {
    if (g.length !== P) throw new RangeError('relativeGradientVariance: gradients differ in length');
    for (let i = 0; i < P; i++) mean[i]! += g[i]! / K;
  }
  let spread = 0;
  for (const g of gradients) for (let i = 0; i < P; i++) spread += (g[i]! - mean[i]!) ** 2;
  let norm = 0;
  for (let i = 0; i < P; i++) norm += mean[i]! ** 2;
  return spread / K / norm;
}
