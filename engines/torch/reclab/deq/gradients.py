"""Gradients through a fixed point z* = f(z*) without a graph over the solve (docs/deq-solvers.md),
as trainer/deq/deqGradients.ts:

- phantom_unroll: K damped steps from the detached z*, with grad (K = 1, tau = 1: Jacobian-free);
- solve_adjoint / implicit_gradients: u = J_f^T u + v solved with the same solvers (one VJP per
  iteration), then dL/dtheta = u^T df(z*)/dtheta by one VJP;
- attach_implicit_gradient: the torch idiom, z = f(z*) whose backward hook swaps the incoming
  gradient for the adjoint solution (TorchDEQ's 'ift' backward);
- attach_onestep_gradient: the Attractor's default backward (`backward_type="onestep"`): the adjoint
  truncated to its Neumann-1 term, u = v + J_f^T v, J_f^T v rescaled per sample where it exceeds
  clip·||v|| (`adjoint_grad_clip`);
- jacobian_penalty: Hutchinson estimate of ||J_f||_F^2 / numel (TorchDEQ's jac_reg).
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import torch

from .solvers import FixedPointMap, solve
from .stats import SolverStats

DEFAULT_ADJOINT: Dict[str, Any] = {"solver": "fixed_point_iter", "options": {"max_iter": 40, "tol": 1e-6, "stop_mode": "abs"}}


def phantom_unroll(f: FixedPointMap, z_star: torch.Tensor, steps: int = 1, tau: float = 1.0) -> torch.Tensor:
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"phantom gradient: steps must be an integer >= 1, got {steps!r}")
    if not (isinstance(tau, (int, float)) and 0 < tau <= 1):
        raise ValueError(f"phantom gradient: tau must be a number in (0, 1], got {tau!r}")
    z = z_star.detach()
    for _ in range(steps):
        fz = f(z)
        z = fz if tau == 1 else tau * fz + (1 - tau) * z
    return z


def _adjoint_settings(adjoint: Optional[Mapping[str, Any]]) -> Tuple[str, Dict[str, Any]]:
    a = dict(adjoint or {})
    return a.get("solver", DEFAULT_ADJOINT["solver"]), {**DEFAULT_ADJOINT["options"], **a.get("options", {})}


def solve_adjoint(f: FixedPointMap, z_star: torch.Tensor, v: torch.Tensor, adjoint: Optional[Mapping[str, Any]] = None) -> Tuple[torch.Tensor, SolverStats]:
    """u with u = J_f(z*)^T u + v, from u = 0 (the first estimate is v)."""
    name, options = _adjoint_settings(adjoint)
    with torch.enable_grad():
        z = z_star.detach().requires_grad_()
        fz = f(z)
    v = v.detach()

    def adjoint_map(u: torch.Tensor) -> torch.Tensor:
        # One VJP on the single f(z*) graph, kept for the solve (its size does not depend on iters).
        (vjp,) = torch.autograd.grad(fz, z, u, retain_graph=True)
        return vjp + v

    return solve(name, adjoint_map, torch.zeros_like(v), options)


def implicit_gradients(f: FixedPointMap, z_star: torch.Tensor, v: torch.Tensor, params: Sequence[torch.Tensor],
                       adjoint: Optional[Mapping[str, Any]] = None) -> Tuple[Tuple[torch.Tensor, ...], torch.Tensor, SolverStats]:
    """dL/dparams for L(z*) given v = dL/dz*: the adjoint solve, then one VJP."""
    u, stats = solve_adjoint(f, z_star, v, adjoint)
    with torch.enable_grad():
        fz = f(z_star.detach())
        grads = torch.autograd.grad(fz, list(params), u, allow_unused=True)
    return tuple(torch.zeros_like(p) if g is None else g for g, p in zip(grads, params)), u, stats


def attach_implicit_gradient(f: FixedPointMap, z_star: torch.Tensor, adjoint: Optional[Mapping[str, Any]] = None,
                             on_stats=None) -> torch.Tensor:
    """z = f(z*) (value ≈ z*) whose backward gives the IFT gradient to f's parameters and inputs:
    the hook replaces the incoming gradient v by u = (I - J^T)^{-1} v. `on_stats(stats)` receives
    the adjoint's SolverStats."""
    z0 = z_star.detach().requires_grad_()
    fz = f(z0)
    if not fz.requires_grad:
        return fz

    def hook(v: torch.Tensor) -> torch.Tensor:
        u, stats = solve_adjoint(f, z_star, v, adjoint)
        if on_stats is not None:
            on_stats(stats)
        return u

    fz.register_hook(hook)
    return fz


def clip_per_sample(jv: torch.Tensor, v: torch.Tensor, clip: Optional[float]) -> torch.Tensor:
    """jv rescaled, per sample (first axis), to norm clip·||v|| where it is longer; unchanged without a clip."""
    if clip is None:
        return jv
    B = jv.shape[0]
    bound = clip * v.reshape(B, -1).norm(dim=1)
    norm = jv.reshape(B, -1).norm(dim=1)
    scale = torch.where(norm > bound, bound / norm.clamp_min(1e-30), torch.ones_like(norm))
    return jv * scale.view(B, *([1] * (jv.dim() - 1)))


def attach_onestep_gradient(f: FixedPointMap, z_star: torch.Tensor, clip: Optional[float] = 1.0) -> torch.Tensor:
    """z = f(z*) (value ≈ z*) whose backward replaces the incoming gradient v by u = v + J_f(z*)^T v
    (J_f^T v clipped per sample to clip·||v||): the one-step Neumann truncation of the IFT adjoint."""
    if clip is not None and not (isinstance(clip, (int, float)) and clip > 0):
        raise ValueError(f"one-step gradient: clip must be a number > 0 or None, got {clip!r}")
    z0 = z_star.detach().requires_grad_()
    fz = f(z0)
    if not fz.requires_grad:
        return fz

    def hook(v: torch.Tensor) -> torch.Tensor:
        # J_f^T v on a fresh f(z*): a VJP through fz itself would re-enter this hook (fz's own gradient).
        with torch.enable_grad():
            z = z_star.detach().requires_grad_()
            (jv,) = torch.autograd.grad(f(z), z, v.detach())
        return v + clip_per_sample(jv, v, clip)

    fz.register_hook(hook)
    return fz


def jacobian_penalty(f: FixedPointMap, z: torch.Tensor, samples: int = 1, generator: Optional[torch.Generator] = None,
                     vectors: Optional[Sequence[torch.Tensor]] = None, create_graph: bool = True) -> torch.Tensor:
    """Hutchinson estimate of ||J_f(z)||_F^2 / numel(z) over `samples` draws v ~ N(0, I) (or the given
    `vectors`); differentiable w.r.t. f's parameters when create_graph (double backward)."""
    if vectors is None:
        if not isinstance(samples, int) or samples < 1:
            raise ValueError(f"Jacobian regulariser: samples must be an integer >= 1, got {samples!r}")
        vectors = [torch.randn(z.shape, generator=generator, dtype=z.dtype, device=z.device) for _ in range(samples)]
    with torch.enable_grad():
        x = z.detach().requires_grad_()
        fx = f(x)
        total = torch.zeros((), dtype=z.dtype, device=z.device)
        for v in vectors:
            (vj,) = torch.autograd.grad(fx, x, v, retain_graph=True, create_graph=create_graph)
            total = total + vj.pow(2).sum()
    return total / (len(vectors) * z.numel())


def spectral_radius(f: FixedPointMap, z: torch.Tensor, iterations: int = 30, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Per-sample spectral radius of J_f(z) (TorchDEQ's sradius): power iteration on J^T with one
    VJP per step, the radius the geometric mean of the last half of the step ratios (as
    trainer/inspect/fixedPointMath.ts spectralRadiusEstimate and trainer/deq/spectralRadius.ts)."""
    if not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"spectral radius: iterations must be an integer >= 1, got {iterations!r}")
    b = z.shape[0]
    with torch.enable_grad():
        x = z.detach().requires_grad_()
        fx = f(x)
        v = torch.randn(z.shape, generator=generator, dtype=z.dtype, device=z.device)
        unit = lambda t: t / (t.reshape(b, -1).norm(dim=1).reshape((b,) + (1,) * (t.dim() - 1)) + 1e-30)  # noqa: E731
        v = unit(v)
        ratios = []
        for _ in range(iterations):
            (w,) = torch.autograd.grad(fx, x, v, retain_graph=True)
            ratios.append(w.reshape(b, -1).norm(dim=1))
            v = unit(w)
    r = torch.stack(ratios, dim=1).double()
    tail = min(iterations, 2 * max(1, iterations // 4))  # an even count, so a period-2 oscillation averages out
    return torch.exp(torch.log(r[:, -tail:].clamp_min(1e-30)).mean(dim=1))
