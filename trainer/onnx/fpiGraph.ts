// A fixed-point solve as ONNX nodes: K plain fixed-point iterations z_{k+1} = f(z_k) unrolled, no
// early stop, returning per sample the iterate f(z_k) with the lowest residual (in the model's
// stopMode; a NaN never wins), as trainer/deq/fixedPointIteration.ts and solverStats.ts do. Each
// iteration also yields its relative residual ‖f(z_k) − z_k‖ / (‖f(z_k)‖ + 1e-9) per sample, for
// the contract's deq_residuals. Used by the DEQ step graphs (TRM-DEQ's latent solve, the
// Attractor's answer solve).
import type { StopMode } from '../deq/solverOptions';
import { REL_EPS } from '../deq/solverStats';
import type { GraphBuilder } from './graphBuilder';

export interface UnrolledSolve {
  /** [B, ...] the returned estimate. */
  solution: string;
  /** K values [B]: every iteration's relative residual. */
  residuals: string[];
}

/** Unrolls solves of K iterations in graph `g`; each constant is made once, when first needed. */
export class FixedPointUnroller {
  private readonly consts = new Map<string, string>();
  /** Every solve's residuals in order: solve after solve, K each. */
  readonly residuals: string[] = [];

  constructor(private readonly g: GraphBuilder, readonly iterations: number, private readonly stopMode: StopMode) {
    if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`export: a solve needs at least one iteration, got ${iterations}`);
  }

  private constant(name: string, make: (name: string) => string): string {
    if (!this.consts.has(name)) this.consts.set(name, make(name));
    return this.consts.get(name)!;
  }

  /** FPI_K(map) from z0 (a [B, S, D] state), `map` building f(z)'s nodes from z's name. */
  solve(map: (z: string) => string, z0: string): UnrolledSolve {
    const g = this.g;
    const relEps = this.constant('deq_rel_eps', (n) => g.float(n, Float32Array.of(REL_EPS), []));
    const residuals: string[] = [];
    let z = z0;
    let best = '', lowest = '';
    for (let k = 0; k < this.iterations; k++) {
      const f = map(z);
      const abs = g.op('ReduceL2', [g.op('Sub', [f, z])], { axes: [1, 2], keepdims: 0 }); // [B]
      const rel = g.op('Div', [abs, g.op('Add', [g.op('ReduceL2', [f], { axes: [1, 2], keepdims: 0 }), relEps])]);
      residuals.push(rel);
      const m = this.stopMode === 'abs' ? abs : rel;
      if (k === 0) {
        best = f;
        if (this.iterations > 1) lowest = g.op('Where', [g.op('IsNaN', [m]), this.constant('deq_inf', (n) => g.float(n, Float32Array.of(Infinity), [])), m]);
      } else {
        // The lowest residual so far wins (a NaN never does), per sample.
        const better = g.op('Less', [m, lowest]);
        best = g.op('Where', [g.op('Reshape', [better, this.constant('shape_B11', (n) => g.int64(n, [-1, 1, 1]))]), f, best]);
        lowest = g.op('Where', [better, m, lowest]);
      }
      z = f;
    }
    this.residuals.push(...residuals);
    return { solution: best, residuals };
  }
}
