"""Fixed-point solvers as pure functions of (map, initial state, options) -> (solution, stats), the
conventions of trainer/deq/ (docs/deq-solvers.md). They run under torch.no_grad(): no graph is
built over the solve, so memory does not depend on the number of iterations.

Anderson keeps a ring buffer (slot k mod m) of iterates and map values, as the Attractor
`solvers.py` and TorchDEQ. The public TRM-DEQ copy rolls its history and mixes zero-filled slots
until the buffer is full (reference.md §4.2 caveat 1); that is not copied.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Tuple

import torch

from .stats import SolveRecorder, SolverStats, solver_options

FixedPointMap = Callable[[torch.Tensor], torch.Tensor]


def _apply(f: FixedPointMap, z: torch.Tensor) -> torch.Tensor:
    fz = f(z)
    if tuple(fz.shape) != tuple(z.shape):
        raise ValueError(f"fixed-point map: returned shape {list(fz.shape)} for a state of shape {list(z.shape)} (a fixed-point map keeps the shape)")
    return fz


def _check_state(z0: torch.Tensor, where: str) -> None:
    if z0.dim() < 1 or z0.shape[0] < 1:
        raise ValueError(f"{where}: the state must be batch-first [B >= 1, ...], got {list(z0.shape)}")


@torch.no_grad()
def fixed_point_iter(f: FixedPointMap, z0: torch.Tensor, options: Optional[Mapping[str, Any]] = None) -> Tuple[torch.Tensor, SolverStats]:
    o = solver_options(options, where="fixed-point iteration")
    _check_state(z0, "fixed-point iteration")
    rec = SolveRecorder("fixed_point_iter", o, z0.shape[0])
    z = z0
    for _ in range(o.max_iter):
        fz = _apply(f, z)
        stop = rec.record(z, fz)
        z = fz
        if stop:
            break
    return rec.finish(z)


def mixing_weights(gram: torch.Tensor, lam: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """alpha = a / sum(a) with (G G^T + lam * trace/n * I) a = 1 per sample (gram [B, n, n], solved
    in float64), and a [B] mask of the samples where that failed (singular or not finite). lam is
    relative to the mean diagonal so it does not swamp the Gram once the residuals are small."""
    g = gram.double()
    n = g.shape[-1]
    ridge = lam * torch.diagonal(g, dim1=1, dim2=2).sum(dim=1) / n
    system = g + ridge[:, None, None] * torch.eye(n, dtype=g.dtype, device=g.device)
    a, info = torch.linalg.solve_ex(system, torch.ones(g.shape[0], n, 1, dtype=g.dtype, device=g.device))
    alpha = a[..., 0] / a[..., 0].sum(dim=1, keepdim=True)
    bad = (info != 0) | ~torch.isfinite(alpha).all(dim=1)
    return torch.where(bad[:, None], torch.zeros_like(alpha), alpha), bad


@torch.no_grad()
def anderson(f: FixedPointMap, z0: torch.Tensor, options: Optional[Mapping[str, Any]] = None) -> Tuple[torch.Tensor, SolverStats]:
    """Type-II Anderson: at step k >= 1 with n = min(k, m) stored pairs (x_i, f_i), g_i = f_i - x_i,
    alpha = argmin ||sum alpha_i g_i||^2 + lam s ||alpha||^2 s.t. sum alpha_i = 1, and
    x_k = beta sum alpha_i f_i + (1 - beta) sum alpha_i x_i. k = 1 is a plain step; a sample whose
    mixing fails takes the plain step x_k = f(x_{k-1}) (stats.fallbacks)."""
    o = solver_options(options, anderson=True, where="Anderson solver")
    _check_state(z0, "Anderson solver")
    shape = z0.shape
    B = shape[0]
    rec = SolveRecorder("anderson", o, B)
    m = o.memory
    xs = [None] * m
    fs = [None] * m

    def evaluate(x: torch.Tensor, slot: int) -> bool:
        fx = _apply(f, x.reshape(shape)).reshape(B, -1)
        stop = rec.record(x, fx)
        xs[slot], fs[slot] = x, fx
        return stop

    last = 0
    stop = evaluate(z0.reshape(B, -1).clone(), 0)
    k = 1
    while k < o.max_iter and not stop:
        n = min(k, m)
        X = torch.stack(xs[:n], dim=1)  # [B, n, d]
        F = torch.stack(fs[:n], dim=1)
        G = F - X
        alpha, bad = mixing_weights(torch.bmm(G, G.transpose(1, 2)), o.lam)
        rec.fallbacks += int(bad.sum())
        A = alpha.to(F.dtype)[:, None, :]
        x = torch.bmm(A, F)[:, 0]
        if o.beta != 1:
            x = o.beta * x + (1 - o.beta) * torch.bmm(A, X)[:, 0]
        if bool(bad.any()):
            x = torch.where(bad.to(x.device)[:, None], fs[(k - 1) % m], x)
        last = k % m
        stop = evaluate(x, last)
        k += 1
    solution, stats = rec.finish(fs[last])
    return solution.reshape(shape), stats


@torch.no_grad()
def broyden(f: FixedPointMap, z0: torch.Tensor, options: Optional[Mapping[str, Any]] = None) -> Tuple[torch.Tensor, SolverStats]:
    """Broyden's ("good") method on g(z) = f(z) - z without line search (trainer/deq/broyden.ts):
    H ~ inverse Jacobian of g, kept as -I + sum u_i v_i^T (at most `memory` terms, slot k mod
    memory); x <- x - H g; v^T = dx^T H, u = (dx - H dg) / (v^T dg). A sample whose v^T dg is 0 or
    not finite skips its update (stats.fallbacks)."""
    o = solver_options(options, broyden=True, where="Broyden solver")
    _check_state(z0, "Broyden solver")
    shape = z0.shape
    B = shape[0]
    rec = SolveRecorder("broyden", o, B)
    us, vs = [], []

    def low_rank(a_list, b_list, y):
        if not a_list:
            return torch.zeros_like(y)
        coef = torch.bmm(torch.stack(b_list, 1), y[:, :, None])  # [B, r, 1]
        return torch.bmm(coef.transpose(1, 2), torch.stack(a_list, 1))[:, 0]

    H = lambda y: -y + low_rank(us, vs, y)  # noqa: E731
    Ht = lambda y: -y + low_rank(vs, us, y)  # noqa: E731
    x = z0.reshape(B, -1).clone()
    fx = _apply(f, x.reshape(shape)).reshape(B, -1)
    g = fx - x
    stop = rec.record(x, fx)
    k = 1
    while k < o.max_iter and not stop:
        x_new = x - H(g)
        f_new = _apply(f, x_new.reshape(shape)).reshape(B, -1)
        stop = rec.record(x_new, f_new)
        g_new = f_new - x_new
        if not stop:
            dx, dg = x_new - x, g_new - g
            v = Ht(dx)
            den = (v * dg).sum(dim=1)
            ok = torch.isfinite(den) & (den != 0)
            rec.fallbacks += int((~ok).sum())
            mask = ok.to(x.dtype)[:, None]
            u = (dx - H(dg)) / torch.where(ok, den, torch.ones_like(den))[:, None] * mask
            slot = (k - 1) % o.memory
            if slot < len(us):
                us[slot], vs[slot] = u, v * mask
            else:
                us.append(u)
                vs.append(v * mask)
        x, fx, g = x_new, f_new, g_new
        k += 1
    solution, stats = rec.finish(fx)
    return solution.reshape(shape), stats


def solve(name: str, f: FixedPointMap, z0: torch.Tensor, options: Optional[Mapping[str, Any]] = None) -> Tuple[torch.Tensor, SolverStats]:
    """The solver by name ('fixed_point_iter' | 'anderson' | 'broyden'); each refuses the options it
    does not know (plain iteration: memory/beta/lam; Broyden: beta/lam)."""
    if name == "anderson":
        return anderson(f, z0, options)
    if name == "broyden":
        return broyden(f, z0, options)
    if name == "fixed_point_iter":
        return fixed_point_iter(f, z0, options)
    raise ValueError(f"unknown fixed-point solver {name!r} (known: fixed_point_iter, anderson, broyden)")
