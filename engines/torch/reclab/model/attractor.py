"""The Attractor form (reference.md §4.1, attractor.py), as trainer/model/attractor.ts:

    c  = backbone(x)                    `model.attractor.backboneLayers` pre-norm blocks
    y* = FP(y ↦ FPHead(y + c) − y)      FPHead = `model.layers` pre-norm blocks, mixer and MLP
                                        outputs gated per channel by sigmoid(raw)·gammaMax
    logits, q = heads(RMSNorm(y*))

The solve runs under no_grad in fp32 (memory does not grow with max_iter); the gradient is the
phantom one (K damped steps of the map from the detached y*, c and the head with gradient) or, with
gradient "ift", the implicit one by the adjoint solve, or with "onestep" its truncation u = v + Jᵀv;
λ_jac > 0 adds the Jacobian penalty at y*.
The carry holds z_H = RMSNorm(y*) (what the heads read) and z_L = y* − c, both reset to zero: a row's
first solve starts at y0 = c as the reference's, later ones at c + the carried offset. Each of the
T = model.hCycles cycles of a step is one solve from the last; model.lCycles is not used. Between
no_grad_part and grad_part z_L holds y* itself.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Mapping, Sequence, Tuple

import torch
from torch import nn

from .deq_solving import DeqSolving, FixedPointSolveModel
from .layers import rms_norm
from .recursive_model import Depth, NetworkCalls, PreNormBlock, RecursiveModel

# protocol/config.ts attractorDefaults: attractor-sudoku-7m's one backbone block, gates 0.5 up to 0.75.
ATTRACTOR_DEFAULTS: Dict[str, Any] = {"backboneLayers": 1, "layerScaleInit": 0.5, "gammaMax": 0.75}


def raw_gate_init(layer_scale_init: float, gamma_max: float) -> float:
    """The raw gate whose sigmoid(raw)·gamma_max is layer_scale_init."""
    q = layer_scale_init / gamma_max
    return math.log(q / (1 - q))


class Attractor(FixedPointSolveModel, RecursiveModel):
    arch = "attractor"

    def build_networks(self, cfg: Mapping[str, Any]) -> None:
        a = self.attractor = {**ATTRACTOR_DEFAULTS, **(cfg.get("attractor") or {})}
        if not a["layerScaleInit"] < a["gammaMax"]:
            raise ValueError(f"model.attractor.layerScaleInit: {a['layerScaleInit']} must be below gammaMax {a['gammaMax']} (gate = sigmoid(raw) · gammaMax)")
        self.backbone = nn.ModuleList(PreNormBlock(cfg, self.width, self.total_len) for _ in range(a["backboneLayers"]))
        self.head = nn.ModuleList(PreNormBlock(cfg, self.width, self.total_len, float(a["gammaMax"])) for _ in range(cfg["layers"]))
        self.solving = DeqSolving(cfg)
        self.deq = self.solving.deq

    def networks(self) -> Sequence[Tuple[str, nn.ModuleList]]:
        return (("backbone", self.backbone), ("head", self.head))

    def undecayed_parameter_names(self) -> List[str]:
        return [f"head.{i}.{n}" for i, block in enumerate(self.head) for n, _ in block.extra_parameters()]

    def context(self, x: torch.Tensor) -> torch.Tensor:
        """c = the backbone's pre-norm blocks on x."""
        rope = self.rope()
        for block in self.backbone:
            x = block(x, rope)
        return x

    def fp_head(self, h: torch.Tensor) -> torch.Tensor:
        rope = self.rope()
        for block in self.head:
            h = block(h, rope)
        return h

    def attractor_map(self, c: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """f(y) = FPHead(y + c) − y, whose fixed point is y*."""
        return lambda y: self.fp_head(y + c) - y

    def _solve(self, z_L: torch.Tensor, x: torch.Tensor, solves: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """`solves` solves from y0 = c + z_L, without gradient: (c, y*)."""
        with torch.no_grad():
            c = self.context(x)
            y = (c + z_L).to(torch.promote_types(c.dtype, torch.float32))
            if not self.solving.skips_solve:
                f = self.attractor_map(c)
                for _ in range(solves):
                    y = self.solving.solve(f, y)
        return c, y

    def cycle(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, n: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """One solve; the carried states (RMSNorm(y*), y* − c)."""
        c, y = self._solve(z_L, x, 1)
        return rms_norm(y, self.cfg["rmsNormEps"]), y - c

    def no_grad_part(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, depth: Depth) -> Tuple[torch.Tensor, torch.Tensor]:
        _, y = self._solve(z_L, x, depth.h_cycles)
        return rms_norm(y, self.cfg["rmsNormEps"]), y

    def grad_part(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, depth: Depth) -> Tuple[torch.Tensor, torch.Tensor]:
        c = self.context(x)
        y = self.solving.gradient(self.attractor_map(c), z_L)
        return rms_norm(y, self.cfg["rmsNormEps"]), y - c

    def network_calls(self, depth: Depth) -> List[NetworkCalls]:
        """The backbone twice (no_grad_part and grad_part each compute c), once with gradient; every
        solve counted at max_iter head calls (an upper bound) and the K phantom steps, K with gradient
        (flops.ts attractorStepFlops)."""
        d = self.deq
        return [NetworkCalls("backbone", 2, 1), NetworkCalls("head", depth.h_cycles * d["maxIter"] + d["phantomSteps"], d["phantomSteps"])]

    @torch.no_grad()
    def reset_parameters_(self, generator: torch.Generator) -> None:
        """The linears as every model's; the gates at raw_gate_init; both initial states zero."""
        super().reset_parameters_(generator)
        raw = raw_gate_init(self.attractor["layerScaleInit"], self.attractor["gammaMax"])
        for block in self.head:
            for _, p in block.extra_parameters():
                p.fill_(raw)
        self.h_init.zero_()
        self.l_init.zero_()
