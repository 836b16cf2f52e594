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

from typing import Any, List, Mapping, Sequence, Tuple

import torch
from torch import nn

from .deq_solving import DEQ_DEFAULTS, DEQ_STEP_STATISTICS, DeqSolving, DeqStepStatistics, FixedPointSolveModel  # noqa: F401 (re-exported)
from .recursive_model import Depth, NetworkCalls, RecursiveModel


class TRMDEQ(FixedPointSolveModel, RecursiveModel):
    arch = "trm-deq"

    def build_networks(self, cfg: Mapping[str, Any]) -> None:
        self.layers = self.blocks(cfg, cfg["layers"])
        self.solving = DeqSolving(cfg)
        self.deq = self.solving.deq

    def networks(self) -> Sequence[Tuple[str, nn.ModuleList]]:
        return (("layers", self.layers),)

    def net(self, h: torch.Tensor, injection: torch.Tensor) -> torch.Tensor:
        return self.run_blocks(self.layers, h, injection)

    def solve_latent(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """z_L* = FP(z ↦ net(z, z_H + x)) from z_L, without gradient, in fp32."""
        if self.solving.skips_solve:
            return z_L.detach().float()
        injection = (z_H + x).detach()
        return self.solving.solve(lambda z: self.net(z, injection), z_L)

    def cycle(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, n: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """One cycle: the latent solve, then the answer update (n unused)."""
        z_L = self.solve_latent(z_H, z_L, x)
        return self.net(z_H, z_L), z_L

    def no_grad_part(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, depth: Depth) -> Tuple[torch.Tensor, torch.Tensor]:
        for _ in range(depth.h_cycles - 1):
            z_H, z_L = self.cycle(z_H, z_L, x, depth.l_cycles)
        return z_H, self.solve_latent(z_H, z_L, x)

    def grad_part(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, depth: Depth) -> Tuple[torch.Tensor, torch.Tensor]:
        injection = z_H + x
        z_L = self.solving.gradient(lambda z: self.net(z, injection), z_L)
        return self.net(z_H, z_L), z_L

    def network_calls(self, depth: Depth) -> List[NetworkCalls]:
        """Every solve counted at max_iter evaluations (an upper bound), T answer updates and the
        K phantom steps; K + 1 calls with gradient (flops.ts deqSupervisionStepFlops)."""
        d = self.deq
        return [NetworkCalls("layers", depth.h_cycles * (d["maxIter"] + 1) + d["phantomSteps"], d["phantomSteps"] + 1)]
