"""Solver options (validated) and statistics of a fixed-point solve, per sample, as TorchDEQ's
SolverStat (reference.md §4.3) and trainer/deq/solverStats.ts: abs/rel trace [B x iterations],
the lowest of each, the evaluation whose estimate is returned, converged flags."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

import torch

from ..errors import BadInput

REL_EPS = 1e-9  # added to ||f(z)|| in the relative residual

_BASE = {"max_iter": 40, "min_iter": 0, "tol": 1e-3, "stop_mode": "abs", "return_final": False}
_ANDERSON = {"memory": 5, "beta": 1.0, "lam": 1e-4}


@dataclass(frozen=True)
class SolverOptions:
    max_iter: int = 40
    min_iter: int = 0
    tol: float = 1e-3
    stop_mode: str = "abs"
    return_final: bool = False
    memory: int = 5
    beta: float = 1.0
    lam: float = 1e-4  # relative to the Gram's mean diagonal (see solvers.mixing_weights)


def solver_options(given: Optional[Mapping[str, Any]] = None, anderson: bool = False, where: str = "fixed-point solver",
                   broyden: bool = False) -> SolverOptions:
    """The defaults with `given` over them, every field checked; BadInput names the field.
    anderson: memory/beta/lam allowed; broyden: memory allowed (default 30, the rank kept)."""
    given = dict(given or {})
    known = {**_BASE, **(_ANDERSON if anderson else {}), **({"memory": 30} if broyden else {})}
    for k in given:
        if k not in known:
            raise BadInput(f"{where}: unknown option {k!r} (known: {', '.join(known)})")
    o = {**_BASE, **_ANDERSON, **({"memory": 30} if broyden else {}), **given}

    def check(ok: bool, name: str, want: str) -> None:
        if not ok:
            raise BadInput(f"{where}: {name} must be {want}, got {o[name]!r}")

    is_int = lambda v: isinstance(v, int) and not isinstance(v, bool)  # noqa: E731
    is_num = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)  # noqa: E731
    check(is_int(o["max_iter"]) and o["max_iter"] >= 1, "max_iter", "an integer >= 1")
    check(is_int(o["min_iter"]) and 0 <= o["min_iter"] <= o["max_iter"], "min_iter", f"an integer in [0, max_iter = {o['max_iter']}]")
    check(is_num(o["tol"]) and o["tol"] > 0, "tol", "a finite number > 0")
    check(o["stop_mode"] in ("abs", "rel"), "stop_mode", '"abs" or "rel"')
    check(isinstance(o["return_final"], bool), "return_final", "True or False")
    check(is_int(o["memory"]) and o["memory"] >= 1, "memory", "an integer >= 1")
    check(is_num(o["beta"]) and 0 < o["beta"] <= 1, "beta", "a number in (0, 1]")
    check(is_num(o["lam"]) and o["lam"] >= 0, "lam", "a finite number >= 0")
    return SolverOptions(**o)


@dataclass
class SolverStats:
    solver: str
    stop_mode: str
    tol: float
    iterations: int
    abs_trace: torch.Tensor  # [B, iterations]
    rel_trace: torch.Tensor
    abs_lowest: torch.Tensor  # [B]
    rel_lowest: torch.Tensor
    nstep: torch.Tensor  # [B], 1-based evaluation whose estimate is returned
    abs: torch.Tensor  # [B], residual of the returned estimate
    rel: torch.Tensor
    converged: torch.Tensor  # [B] bool
    fallbacks: int = 0

    def summary(self) -> Dict[str, Any]:
        """Mean and max over the batch of the returned estimates' residuals."""
        return {"iterations": self.iterations, "abs_mean": float(self.abs.mean()), "abs_max": float(self.abs.max()),
                "rel_mean": float(self.rel.mean()), "rel_max": float(self.rel.max()),
                "converged": bool(self.converged.all()), "converged_fraction": float(self.converged.float().mean())}


def residuals(z: torch.Tensor, fz: torch.Tensor):
    """Per-sample ||f(z) - z|| and ||f(z) - z|| / (||f(z)|| + 1e-9) of batch-first tensors."""
    b = z.shape[0]
    diff = (fz - z).reshape(b, -1).norm(dim=1)
    return diff, diff / (fz.reshape(b, -1).norm(dim=1) + REL_EPS)


@dataclass
class SolveRecorder:
    """The bookkeeping both solvers share: measures each evaluation, keeps the lowest-residual
    estimate per sample (in stop_mode) and says when the stop rule holds."""
    solver: str
    options: SolverOptions
    batch: int
    abs_rows: List[torch.Tensor] = field(default_factory=list)
    rel_rows: List[torch.Tensor] = field(default_factory=list)
    fallbacks: int = 0

    def __post_init__(self):
        self.lowest = torch.full((self.batch,), math.inf, dtype=torch.float64)
        self.nstep = torch.zeros(self.batch, dtype=torch.int64)
        self.best_abs = torch.full((self.batch,), math.nan, dtype=torch.float64)
        self.best_rel = torch.full((self.batch,), math.nan, dtype=torch.float64)
        self.best: Optional[torch.Tensor] = None

    @property
    def iterations(self) -> int:
        return len(self.abs_rows)

    def record(self, z: torch.Tensor, fz: torch.Tensor) -> bool:
        a, r = (t.detach().double().cpu() for t in residuals(z, fz))
        self.abs_rows.append(a)
        self.rel_rows.append(r)
        step = self.iterations
        m = a if self.options.stop_mode == "abs" else r
        # A NaN never improves; the first evaluation is always taken so there is one estimate.
        improved = (m < self.lowest) | (self.nstep == 0)
        self.lowest = torch.where(improved, torch.nan_to_num(m, nan=math.inf), self.lowest)
        self.nstep = torch.where(improved, torch.full_like(self.nstep, step), self.nstep)
        self.best_abs = torch.where(improved, a, self.best_abs)
        self.best_rel = torch.where(improved, r, self.best_rel)
        if not self.options.return_final:
            if self.best is None:
                self.best = fz.detach().clone()
            elif bool(improved.any()):
                mask = improved.to(fz.device).reshape((self.batch,) + (1,) * (fz.dim() - 1))
                self.best = torch.where(mask, fz.detach(), self.best)
        self.last_abs, self.last_rel = a, r
        if step < self.options.min_iter:
            return False
        worst = m.max()
        return bool(worst < self.options.tol)  # a NaN never stops the solve

    def finish(self, last: torch.Tensor):
        final = self.options.return_final
        n = self.iterations
        abs_ = self.last_abs if final else self.best_abs
        rel = self.last_rel if final else self.best_rel
        abs_trace = torch.stack(self.abs_rows, dim=1)
        rel_trace = torch.stack(self.rel_rows, dim=1)
        stats = SolverStats(
            solver=self.solver, stop_mode=self.options.stop_mode, tol=self.options.tol, iterations=n,
            abs_trace=abs_trace, rel_trace=rel_trace,
            abs_lowest=torch.nan_to_num(abs_trace, nan=math.inf).min(dim=1).values,
            rel_lowest=torch.nan_to_num(rel_trace, nan=math.inf).min(dim=1).values,
            nstep=torch.full_like(self.nstep, n) if final else self.nstep.clone(),
            abs=abs_, rel=rel, converged=(abs_ if self.options.stop_mode == "abs" else rel) < self.options.tol,
            fallbacks=self.fallbacks)
        solution = last.detach().clone() if final else self.best
        return solution, stats
