// Options of the fixed-point solvers (docs/deq-solvers.md), validated once before a solve so a bad
// value is refused with the field's name instead of a solver that silently never stops.
import { InputError } from '../inputError';

export type StopMode = 'abs' | 'rel';
export type SolverName = 'fixed_point_iter' | 'anderson' | 'broyden';

export interface SolverOptions {
  /** Map evaluations at most (each iteration applies the map once). */
  maxIter: number;
  /** Map evaluations before the tolerance may stop the solve (0: it may stop at once). */
  minIter: number;
  /** Stop when the max over the batch of the residual (per stopMode) is below this. */
  tol: number;
  /** 'abs': ‖f(z) − z‖; 'rel': ‖f(z) − z‖ / ‖f(z)‖ (per sample). */
  stopMode: StopMode;
  /** true: return the last estimate; false (default): the lowest-residual one, per sample. */
  returnFinal: boolean;
}

export interface AndersonOptions extends SolverOptions {
  /** History length m (ring buffer slots). */
  memory: number;
  /** Mixing β in (0, 1]: z ← β·Σα f(z_i) + (1 − β)·Σα z_i. */
  beta: number;
  /** Tikhonov regularisation λ ≥ 0 added to the Gram matrix of the residuals, relative to its mean diagonal. */
  lambda: number;
}

export interface BroydenOptions extends SolverOptions {
  /** Rank-one updates kept of the inverse-Jacobian estimate (the oldest is replaced, slot k mod memory). */
  memory: number;
}

export const defaultSolverOptions: SolverOptions = { maxIter: 40, minIter: 0, tol: 1e-3, stopMode: 'abs', returnFinal: false };
// TorchDEQ's Anderson defaults (reference.md §4.3) but m = 5 as the Attractor/TRM-DEQ code.
export const defaultAndersonOptions: AndersonOptions = { ...defaultSolverOptions, memory: 5, beta: 1, lambda: 1e-4 };

export const defaultBroydenOptions: BroydenOptions = { ...defaultSolverOptions, memory: 30 };

const BASE = ['maxIter', 'minIter', 'tol', 'stopMode', 'returnFinal'];
const KNOWN = new Set([...BASE, 'memory', 'beta', 'lambda']);

function check(where: string, ok: boolean, field: string, want: string, value: unknown): void {
  if (!ok) throw new InputError(`${where}: ${field} must be ${want}, got ${JSON.stringify(value)}`);
}

/** The defaults with `given` over them, every field checked; `where` names the caller in errors. */
export function solverOptions(given: Partial<SolverOptions> = {}, where = 'fixed-point solver'): SolverOptions {
  for (const k of Object.keys(given)) if (!BASE.includes(k)) throw new InputError(`${where}: unknown option "${k}" (known: ${BASE.join(', ')})`);
  return checkBase({ ...defaultSolverOptions, ...given }, where);
}

export function broydenOptions(given: Partial<BroydenOptions> = {}, where = 'Broyden solver'): BroydenOptions {
  for (const k of Object.keys(given)) if (!BASE.includes(k) && k !== 'memory') throw new InputError(`${where}: unknown option "${k}" (known: ${BASE.join(', ')}, memory)`);
  const o = checkBase({ ...defaultBroydenOptions, ...given }, where);
  check(where, Number.isInteger(o.memory) && o.memory >= 1, 'memory', 'an integer ≥ 1', o.memory);
  return o;
}

export function andersonOptions(given: Partial<AndersonOptions> = {}, where = 'Anderson solver'): AndersonOptions {
  for (const k of Object.keys(given)) if (!KNOWN.has(k)) throw new InputError(`${where}: unknown option "${k}" (known: ${[...KNOWN].join(', ')})`);
  const o = checkBase({ ...defaultAndersonOptions, ...given }, where) as AndersonOptions;
  check(where, Number.isInteger(o.memory) && o.memory >= 1, 'memory', 'an integer ≥ 1', o.memory);
  check(where, Number.isFinite(o.beta) && o.beta > 0 && o.beta <= 1, 'beta', 'a number in (0, 1]', o.beta);
  check(where, Number.isFinite(o.lambda) && o.lambda >= 0, 'lambda', 'a finite number ≥ 0', o.lambda);
  return o;
}

function checkBase<T extends SolverOptions>(o: T, where: string): T {
  check(where, Number.isInteger(o.maxIter) && o.maxIter >= 1, 'maxIter', 'an integer ≥ 1', o.maxIter);
  check(where, Number.isInteger(o.minIter) && o.minIter >= 0 && o.minIter <= o.maxIter, 'minIter', `an integer in [0, maxIter = ${o.maxIter}]`, o.minIter);
  check(where, Number.isFinite(o.tol) && o.tol > 0, 'tol', 'a finite number > 0', o.tol);
  check(where, o.stopMode === 'abs' || o.stopMode === 'rel', 'stopMode', '"abs" or "rel"', o.stopMode);
  check(where, typeof o.returnFinal === 'boolean', 'returnFinal', 'true or false', o.returnFinal);
  return o;
}
