"""The optimizers of the reference (reference.md §1.8), with decoupled weight decay, as
trainer/train/optimizers.ts:
    AdamATan2: p ← p(1 − lr·wd); m, v as Adam; p ← p − lr/(1−β1^t) · atan2(m, sqrt(v)/sqrt(1−β2^t))
    AdamW:     torch.optim.AdamW (the same update: p ← p(1 − lr·wd) − lr/(1−β1^t) · m / (sqrt(v/(1−β2^t)) + ε))
    sign-SGD (puzzle embedding): p ← p(1 − lr·wd) − lr · sign(g)
AdamATan2 keeps torch AdamW's state keys (step, exp_avg, exp_avg_sq), so checkpoints treat both
the same. No compiled package: a few tensor ops."""
from __future__ import annotations

import math
from typing import Iterable, Tuple

import torch


class AdamATan2(torch.optim.Optimizer):
    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1e-4, betas: Tuple[float, float] = (0.9, 0.95), weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            lr, (b1, b2), wd = group["lr"], group["betas"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"] = torch.tensor(0.0)  # on the CPU, as torch's AdamW: reading it never syncs a GPU
                    st["exp_avg"] = torch.zeros_like(p)
                    st["exp_avg_sq"] = torch.zeros_like(p)
                st["step"] += 1
                t = int(st["step"].item())
                m, v = st["exp_avg"], st["exp_avg_sq"]
                m.mul_(b1).add_(p.grad, alpha=1 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                p.mul_(1 - lr * wd)
                direction = torch.atan2(m, v.sqrt() / math.sqrt(1 - b2 ** t))
                p.add_(direction, alpha=-lr / (1 - b1 ** t))


class SignSGD(torch.optim.Optimizer):
    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1e-4, weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.mul_(1 - group["lr"] * group["weight_decay"]).add_(p.grad.sign(), alpha=-group["lr"])


def main_optimizer(params, train_cfg) -> torch.optim.Optimizer:
    """AdamATan2 or AdamW for the main parameters, from the config's train section."""
    betas = (train_cfg["beta1"], train_cfg["beta2"])
    if train_cfg["optimizer"] == "adam_atan2":
        return AdamATan2(params, lr=train_cfg["lr"], betas=betas, weight_decay=train_cfg["weightDecay"])
    if train_cfg["optimizer"] == "adamw":
        return torch.optim.AdamW(params, lr=train_cfg["lr"], betas=betas, eps=train_cfg["adamEpsilon"],
                                 weight_decay=train_cfg["weightDecay"], foreach=False)
    raise ValueError(f"train.optimizer: unknown {train_cfg['optimizer']!r}")
