"""TRM — Tiny Recursive Model (reference.md §1.3–1.5), written to read like the reference trm.py
and to compute exactly what trainer/model/trm.ts computes. One network for both states:

    net(h, injection) = blocks(h + injection)
    one cycle:  repeat n: z_L = net(z_L, z_H + x);   z_H = net(z_H, z_L)
    a supervision step = T cycles, all but the last under no_grad,
    then logits = lm_head(z_H)[prefix:], q = q_head(z_H[0]).
"""
from __future__ import annotations

from typing import Any, List, Mapping, Sequence, Tuple

import torch
from torch import nn

from .recursive_model import Block, Depth, NetworkCalls, RecursiveModel, TaskShape

__all__ = ["TRM", "Block", "Depth", "TaskShape"]


class TRM(RecursiveModel):
    arch = "trm"

    def build_networks(self, cfg: Mapping[str, Any]) -> None:
        self.layers = self.blocks(cfg, cfg["layers"])

    def networks(self) -> Sequence[Tuple[str, nn.ModuleList]]:
        return (("layers", self.layers),)

    def net(self, h: torch.Tensor, injection: torch.Tensor) -> torch.Tensor:
        return self.run_blocks(self.layers, h, injection)

    def cycle(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, n: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """n latent updates (they see x), then one answer update (it does not)."""
        for _ in range(n):
            z_L = self.net(z_L, z_H + x)
        z_H = self.net(z_H, z_L)
        return z_H, z_L

    def no_grad_part(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, depth: Depth) -> Tuple[torch.Tensor, torch.Tensor]:
        for _ in range(depth.h_cycles - 1):
            z_H, z_L = self.cycle(z_H, z_L, x, depth.l_cycles)
        return z_H, z_L

    def grad_part(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, depth: Depth) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.cycle(z_H, z_L, x, depth.l_cycles)

    def network_calls(self, depth: Depth) -> List[NetworkCalls]:
        """T·(n + 1) calls of the one network; the last cycle's n + 1 with gradient."""
        return [NetworkCalls("layers", depth.h_cycles * (depth.l_cycles + 1), depth.l_cycles + 1)]
