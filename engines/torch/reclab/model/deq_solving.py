"""The fixed-point solving both DEQ models share (TRM-DEQ's latent solve, the Attractor's answer
solve), as trainer/model/deqSolving.ts: model.deq's solver and options checked once, solves under
no_grad in fp32, the statistics of a training step, the adjoint statistics of the IFT gradient, the
Jacobian penalty, and the equilibrium-internalisation cap (eval.internalisation)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple

import torch

from ..deq import attach_implicit_gradient, attach_onestep_gradient, jacobian_penalty, phantom_unroll, solve
from ..deq.stats import SolverStats

# The reference README command; λ_jac 0 (protocol/config.ts deqDefaults).
DEQ_DEFAULTS: Dict[str, Any] = {
    "solver": "anderson", "maxIter": 8, "minIter": 4, "tol": 1e-3, "stopMode": "rel", "memory": 5, "beta": 1.0, "lambda": 1e-4,
    "gradient": "phantom", "phantomSteps": 2, "phantomDamping": 1.0, "adjointClip": 1.0, "jacobianReg": 0.0,
}
DEQ_STEP_STATISTICS = ("deqIterations", "deqIterationsMax", "deqAbsMean", "deqAbsMax", "deqRelMean", "deqRelMax", "deqConvergedFraction")
DEQ_ADJOINT_STATISTICS = ("deqAdjointIterations", "deqAdjointAbsMax", "deqAdjointConvergedFraction")
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


class DeqSolving:
    """model.deq resolved and checked; `solve` runs it, `gradient` attaches the configured gradient."""

    def __init__(self, cfg: Mapping[str, Any]) -> None:
        self.deq = d = {**DEQ_DEFAULTS, **(cfg.get("deq") or {})}
        if d["solver"] not in _SOLVERS:
            raise ValueError(f"model.deq.solver: {d['solver']!r} is not one of {', '.join(_SOLVERS)}")
        if d["gradient"] not in ("phantom", "ift", "onestep"):
            raise ValueError(f"model.deq.gradient: {d['gradient']!r} is not 'phantom', 'ift' or 'onestep'")
        opts = {"max_iter": d["maxIter"], "min_iter": d["minIter"], "tol": d["tol"], "stop_mode": d["stopMode"]}
        if d["solver"] == "anderson":
            opts.update(memory=d["memory"], beta=float(d["beta"]), lam=float(d["lambda"]))
        elif d["solver"] == "broyden":
            opts.update(memory=d["memory"])
        self.options = opts
        self.stats = DeqStepStatistics()
        self.adjoint_stats: List[SolverStats] = []  # IFT: the backward's adjoint solves
        self.regularizer: Optional[torch.Tensor] = None
        self.cap: Optional[int] = None  # equilibrium internalisation (evaluation only)

    @property
    def step_statistics(self) -> Tuple[str, ...]:
        return DEQ_STEP_STATISTICS + (DEQ_ADJOINT_STATISTICS if self.deq["gradient"] == "ift" else ())

    @contextmanager
    def capped(self, iterations: int) -> Iterator[None]:
        """Every solve inside capped at `iterations` map evaluations (max_iter min(iterations, maxIter),
        min_iter at most that); 0: no solve (`skips_solve`)."""
        if not isinstance(iterations, int) or isinstance(iterations, bool) or iterations < 0:
            raise ValueError(f"eval.internalisation.iterations: {iterations!r} is not an integer >= 0")
        before, self.cap = self.cap, iterations
        try:
            yield
        finally:
            self.cap = before

    @property
    def skips_solve(self) -> bool:
        return self.cap == 0

    def solve(self, f: Callable[[torch.Tensor], torch.Tensor], z0: torch.Tensor) -> torch.Tensor:
        """FP(f) from z0 without gradient, in fp32 (or the state's dtype when wider: float64 tests); the stats
        go to the step's statistics."""
        opts = self.options
        if self.cap is not None:
            cap = max(1, min(self.cap, opts["max_iter"]))
            opts = {**opts, "max_iter": cap, "min_iter": min(opts["min_iter"], cap)}
        dtype = torch.promote_types(z0.dtype, torch.float32)
        with torch.no_grad():
            z_star, stats = solve(_SOLVERS[self.deq["solver"]], lambda z: f(z).to(dtype), z0.detach().to(dtype), opts)
        self.stats.add(stats)
        return z_star

    def gradient(self, f: Callable[[torch.Tensor], torch.Tensor], z_star: torch.Tensor) -> torch.Tensor:
        """z* with the configured gradient attached: phantom (K damped steps of f from the detached z*) or,
        training, the IFT's adjoint solve or its one-step truncation u = v + clip(J_fᵀv); λ_jac > 0 also
        sets the Jacobian penalty at z*."""
        d = self.deq
        if torch.is_grad_enabled() and d["jacobianReg"] > 0:
            self.regularizer = d["jacobianReg"] * jacobian_penalty(f, z_star)
        if d["gradient"] == "ift" and torch.is_grad_enabled():
            return attach_implicit_gradient(f, z_star, on_stats=self.adjoint_stats.append)
        if d["gradient"] == "onestep" and torch.is_grad_enabled():
            return attach_onestep_gradient(f, z_star, float(d["adjointClip"]) if d["adjointClip"] else None)
        return phantom_unroll(f, z_star, d["phantomSteps"], float(d["phantomDamping"]))

    def take_regularizer(self) -> Optional[torch.Tensor]:
        r, self.regularizer = self.regularizer, None
        return r

    def take_step_statistics(self) -> Dict[str, float]:
        """The forward solves' statistics; with IFT also the adjoint solves' (mean iterations, max
        abs residual, converged fraction)."""
        out = self.stats.take()
        if self.adjoint_stats:
            a, self.adjoint_stats = self.adjoint_stats, []
            out.update(deqAdjointIterations=sum(s.iterations for s in a) / len(a),
                       deqAdjointAbsMax=float(torch.cat([s.abs for s in a]).max()),
                       deqAdjointConvergedFraction=float(torch.cat([s.converged for s in a]).double().mean()))
        return out


class FixedPointSolveModel:
    """What a DEQ model (TRM-DEQ, the Attractor) offers the trainer through its `solving` (a DeqSolving
    the model sets in build_networks): the step statistics' names, the internalisation cap, the
    Jacobian penalty and the statistics of a step."""

    solving: DeqSolving

    @property
    def step_statistics(self) -> Tuple[str, ...]:
        return self.solving.step_statistics

    @contextmanager
    def capped_solver(self, iterations: int) -> Iterator["FixedPointSolveModel"]:
        """Every solve inside capped at `iterations` map evaluations; 0: no solve, the solve's initial
        state stays (eval.internalisation)."""
        with self.solving.capped(iterations):
            yield self

    def take_regularizer(self) -> Optional[torch.Tensor]:
        """λ_jac · the Jacobian penalty of the last grad_part (None when off), once."""
        return self.solving.take_regularizer()

    def take_step_statistics(self) -> Dict[str, float]:
        """The forward solves' statistics; with IFT also the adjoint solves'."""
        return self.solving.take_step_statistics()
