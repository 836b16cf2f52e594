"""HRM — Hierarchical Reasoning Model (reference.md §1.5, hrm_act_v1.py), as trainer/model/hrm.ts.
Two networks of the same blocks as TRM's: L (`model.layers` blocks) updates the low-level state
from the high-level state and the input, H (`model.hLayers`) updates the high-level state from
the low-level one:

    L_net(z_L, z_H + x),  H_net(z_H, z_L)      with net(h, injection) = blocks(h + injection)
    no grad:  for h in 0..H-1:  for l in 0..L-1:
                  if not (h == H-1 and l == L-1): z_L = L_net(z_L, z_H + x)
              if h < H-1: z_H = H_net(z_H, z_L)
    grad ("1-step gradient"):  z_L = L_net(z_L, z_H + x);  z_H = H_net(z_H, z_L)

q_continue is trained against a Q-learning target and decides halting (train_step.py).
"""
from __future__ import annotations

from typing import Any, List, Mapping, Sequence, Tuple

import torch
from torch import nn

from .recursive_model import Depth, NetworkCalls, RecursiveModel


class HRM(RecursiveModel):
    arch = "hrm"
    uses_q_continue = True
    step_statistics = ("qContinueLoss",)

    def build_networks(self, cfg: Mapping[str, Any]) -> None:
        h_layers = cfg.get("hLayers") or cfg["layers"]  # absent: as many as L
        self.h_layers = self.blocks(cfg, h_layers)
        self.l_layers = self.blocks(cfg, cfg["layers"])

    def networks(self) -> Sequence[Tuple[str, nn.ModuleList]]:
        return (("h_layers", self.h_layers), ("l_layers", self.l_layers))

    def L_net(self, z_L: torch.Tensor, injection: torch.Tensor) -> torch.Tensor:
        return self.run_blocks(self.l_layers, z_L, injection)

    def H_net(self, z_H: torch.Tensor, injection: torch.Tensor) -> torch.Tensor:
        return self.run_blocks(self.h_layers, z_H, injection)

    def cycle(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, n: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """One H cycle: n L updates (they see x), then one H update (it does not)."""
        for _ in range(n):
            z_L = self.L_net(z_L, z_H + x)
        z_H = self.H_net(z_H, z_L)
        return z_H, z_L

    def no_grad_part(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, depth: Depth) -> Tuple[torch.Tensor, torch.Tensor]:
        H, L = depth.h_cycles, depth.l_cycles
        for h in range(H):
            for l in range(L):
                if not (h == H - 1 and l == L - 1):
                    z_L = self.L_net(z_L, z_H + x)
            if h < H - 1:
                z_H = self.H_net(z_H, z_L)
        return z_H, z_L

    def grad_part(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, depth: Depth) -> Tuple[torch.Tensor, torch.Tensor]:
        z_L = self.L_net(z_L, z_H + x)
        z_H = self.H_net(z_H, z_L)
        return z_H, z_L

    def network_calls(self, depth: Depth) -> List[NetworkCalls]:
        """H·L L-net calls and H H-net calls; one of each with gradient."""
        return [NetworkCalls("l_layers", depth.h_cycles * depth.l_cycles, 1), NetworkCalls("h_layers", depth.h_cycles, 1)]
