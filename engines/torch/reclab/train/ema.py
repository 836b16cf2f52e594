"""Exponential moving average of the main parameters (reference.md §1.8); evaluation and
checkpoints use it. Both forms: a plain rate (the reference), or with warm-up the decay
min(rate, (1+t)/(10+t)) so the average follows the raw weights early on."""
from __future__ import annotations

from typing import Sequence

import torch


def ema_decay(updates: int, rate: float, warmup: bool) -> float:
    return min(rate, (1 + updates) / (10 + updates)) if warmup else rate


@torch.no_grad()
def ema_update(shadows: Sequence[torch.Tensor], params: Sequence[torch.Tensor], decay: float) -> None:
    """shadow ← decay·shadow + (1 − decay)·param, in place."""
    for s, p in zip(shadows, params):
        s.mul_(decay).add_(p, alpha=1 - decay)
