"""TRM-DEQ — the Attractor puzzle model (reference.md §4.2, trm_deq.py), as trainer/model/trmDeq.ts:
TRM whose inner n-loop is a fixed-point solve of the latent update, the rest as TRM.

    one cycle:  z_L = FP(z ↦ net(z, z_H + x)) from the carried z_L;   z_H = net(z_H, z_L)
    no grad:    T − 1 cycles, then the last cycle's solve (z_L*)
    grad:       phantom: K damped steps z ← τ net(z, z_H + x) + (1 − τ) z from the detached z_L*
                (or, gradient "ift", z_L = f(z_L*) whose backward solves the adjoint), then
                z_H = net(z_H, z_L)

Memory does not grow with max_iter (the solves run under no_grad). λ_jac > 0 adds the Hutchinson
penalty ‖J_f(z_L*)‖_F² / numel (double backward) through `take_regularizer`. The solves'
statistics of a training step (names as deqStepStatistics.ts) come from `take_step_statistics`.
Parameters are TRM's (`layers.{i}.…`); model.lCycles is not used.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import nn

from ..deq import attach_implicit_gradient, jacobian_penalty, phantom_unroll, solve
from ..deq.stats import SolverStats
from .recursive_model import Depth, NetworkCalls, RecursiveModel

# The reference README command; λ_jac 0 (protocol/config.ts deqDefaults).
DEQ_DEFAULTS: Dict[str, Any] = {
    "solver": "anderson", "maxIter": 8, "minIter": 4, "tol": 1e-3, "stopMode": "rel", "memory": 5, "beta": 1.0, "lambda": 1e-4,
    "gradient": "phantom", "phantomSteps": 2, "phantomDamping": 1.0, "jacobianReg": 0.0,
}
DEQ_STEP_STATISTICS = ("deqIterations", "deqIterationsMax", "deqAbsMean", "deqAbsMax", "deqRelMean", "deqRelMax", "deqConvergedFraction")
_SOLVERS = {"anderson": "anderson", "fpi": "fixed_point_iter", "broyden": "broyden"}


class DeqStepStatistics:
    """Over every solve since the last take: mean and max map evaluations per solve; mean and max over
    (solve, row) of the returned residuals; the converged fraction of (solve, row) pairs."""

    def __init__(self) -> None:
        self.solves: List[SolverStats] = []

    def add(self, s: SolverStats) -> None:
        self.solves.append(s)

    def take(self) -> Dict[str, float]:
        if not self.solves:
            return {}
        s, self.solves = self.solves, []
        abs_, rel = torch.cat([x.abs for x in s]).double(), torch.cat([x.rel for x in s]).double()
        conv = torch.cat([x.converged for x in s]).double()
        return {"deqIterations": sum(x.iterations for x in s) / len(s), "deqIterationsMax": float(max(x.iterations for x in s)), "deqAbsMean": float(abs_.mean()), "deqAbsMax": float(abs_.max()),
                "deqRelMean": float(rel.mean()), "deqRelMax": float(rel.max()), "deqConvergedFraction": float(conv.mean())}


class TRMDEQ(RecursiveModel):
    arch = "trm-deq"

    def build_networks(self, cfg: Mapping[str, Any]) -> None:
        self.layers = self.blocks(cfg, cfg["layers"])
        self.deq = {**DEQ_DEFAULTS, **(cfg.get("deq") or {})}
        d = self.deq
        if d["solver"] not in _SOLVERS:
            raise ValueError(f"model.deq.solver: {d['solver']!r} is not one of {', '.join(_SOLVERS)}")
        if d["gradient"] not in ("phantom", "ift"):
            raise ValueError(f"model.deq.gradient: {d['gradient']!r} is not 'phantom' or 'ift'")
        opts = {"max_iter": d["maxIter"], "min_iter": d["minIter"], "tol": d["tol"], "stop_mode": d["stopMode"]}
        if d["solver"] == "anderson":
            opts.update(memory=d["memory"], beta=float(d["beta"]), lam=float(d["lambda"]))
        elif d["solver"] == "broyden":
            opts.update(memory=d["memory"])
        self.solver_options = opts
        self.solve_stats = DeqStepStatistics()
        self.adjoint_stats: List[SolverStats] = []  # IFT: the backward's adjoint solves
        self._regularizer: Optional[torch.Tensor] = None
        self.solve_cap: Optional[int] = None  # equilibrium internalisation (evaluation only)

    @contextmanager
    def capped_solver(self, iterations: int) -> Iterator["TRMDEQ"]:
        """Every solve inside capped at `iterations` map evaluations (max_iter min(iterations, maxIter),
        min_iter at most that); 0: no solve, z_L stays the solve's initial state (eval.internalisation)."""
        if not isinstance(iterations, int) or isinstance(iterations, bool) or iterations < 0:
            raise ValueError(f"eval.internalisation.iterations: {iterations!r} is not an integer >= 0")
        before, self.solve_cap = self.solve_cap, iterations
        try:
            yield self
        finally:
            self.solve_cap = before

    def networks(self) -> Sequence[Tuple[str, nn.ModuleList]]:
        return (("layers", self.layers),)

    def net(self, h: torch.Tensor, injection: torch.Tensor) -> torch.Tensor:
        return self.run_blocks(self.layers, h, injection)

    @property
    def step_statistics(self) -> Tuple[str, ...]:  # type: ignore[override]
        adjoint = ("deqAdjointIterations", "deqAdjointAbsMax", "deqAdjointConvergedFraction") if self.deq["gradient"] == "ift" else ()
        return DEQ_STEP_STATISTICS + adjoint

    def solve_latent(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """z_L* = FP(z ↦ net(z, z_H + x)) from z_L, without gradient, in fp32."""
        if self.solve_cap == 0:
            return z_L.detach().float()
        opts = self.solver_options
        if self.solve_cap is not None:
            cap = max(1, min(self.solve_cap, opts["max_iter"]))
            opts = {**opts, "max_iter": cap, "min_iter": min(opts["min_iter"], cap)}
        injection = (z_H + x).detach()
        with torch.no_grad():
            z_star, stats = solve(_SOLVERS[self.deq["solver"]], lambda z: self.net(z, injection).float(), z_L.detach().float(), opts)
        self.solve_stats.add(stats)
        return z_star

    def cycle(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, n: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """One cycle: the latent solve, then the answer update (n unused)."""
        z_L = self.solve_latent(z_H, z_L, x)
        return self.net(z_H, z_L), z_L

    def no_grad_part(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, depth: Depth) -> Tuple[torch.Tensor, torch.Tensor]:
        for _ in range(depth.h_cycles - 1):
            z_H, z_L = self.cycle(z_H, z_L, x, depth.l_cycles)
        return z_H, self.solve_latent(z_H, z_L, x)

    def grad_part(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, depth: Depth) -> Tuple[torch.Tensor, torch.Tensor]:
        d = self.deq
        injection = z_H + x
        f = lambda z: self.net(z, injection)  # noqa: E731
        if torch.is_grad_enabled() and d["jacobianReg"] > 0:
            self._regularizer = d["jacobianReg"] * jacobian_penalty(f, z_L)
        if d["gradient"] == "ift" and torch.is_grad_enabled():
            z_L = attach_implicit_gradient(f, z_L, on_stats=self.adjoint_stats.append)
        else:
            z_L = phantom_unroll(f, z_L, d["phantomSteps"], float(d["phantomDamping"]))
        return self.net(z_H, z_L), z_L

    def take_regularizer(self) -> Optional[torch.Tensor]:
        """λ_jac · the Jacobian penalty of the last grad_part (None when off), once."""
        r, self._regularizer = self._regularizer, None
        return r

    def take_step_statistics(self) -> Dict[str, float]:
        """The forward solves' statistics; with IFT also the adjoint solves' (mean iterations, max
        abs residual, converged fraction: deqAdjointIterations / deqAdjointAbsMax / deqAdjointConvergedFraction)."""
        out = self.solve_stats.take()
        if self.adjoint_stats:
            a, self.adjoint_stats = self.adjoint_stats, []
            out.update(deqAdjointIterations=sum(s.iterations for s in a) / len(a),
                       deqAdjointAbsMax=float(torch.cat([s.abs for s in a]).max()),
                       deqAdjointConvergedFraction=float(torch.cat([s.converged for s in a]).double().mean()))
        return out

    def network_calls(self, depth: Depth) -> List[NetworkCalls]:
        """Every solve counted at max_iter evaluations (an upper bound), T answer updates and the
        K phantom steps; K + 1 calls with gradient (flops.ts deqSupervisionStepFlops)."""
        d = self.deq
        return [NetworkCalls("layers", depth.h_cycles * (d["maxIter"] + 1) + d["phantomSteps"], d["phantomSteps"] + 1)]
