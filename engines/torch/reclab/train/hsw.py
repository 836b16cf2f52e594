"""CGAR's Hierarchical Supervision Weighting (reference.md §2.2), both readings, as
trainer/train/supervisionWeighting.ts:
- "code" (the released code): the whole batch loss times decay^floor(mean incoming steps), the
  incoming steps being the carry's counts before halted rows are reset.
- "paper": each row's loss times decay^(t−1) / Z, t its supervision step (1-based),
  Z = Σ_{t=1..N_sup} decay^(t−1)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Optional

import numpy as np


@dataclass
class LossWeighting:
    scale: float  # one factor on the whole batch loss (code reading)
    row_weights: Optional[np.ndarray] = None  # float32 [B] (paper reading); None = 1 for every row


def code_faithful_scale(incoming_steps: np.ndarray, decay: float) -> float:
    return decay ** math.floor(float(np.sum(incoming_steps, dtype=np.float64)) / len(incoming_steps))


def paper_faithful_weights(row_steps: np.ndarray, decay: float, max_steps: int) -> np.ndarray:
    z = sum(decay ** (t - 1) for t in range(1, max_steps + 1))
    return np.array([decay ** (int(s) - 1) / z for s in row_steps], dtype=np.float32)


def loss_weighting(cfg: Mapping[str, Any], incoming_steps: np.ndarray, row_steps: np.ndarray, max_steps: int) -> LossWeighting:
    """incoming_steps: carry counts before the reset; row_steps: each row's step now (1-based)."""
    mode = cfg["mode"]
    if mode == "off":
        return LossWeighting(1.0)
    if mode == "code":
        return LossWeighting(code_faithful_scale(incoming_steps, cfg["decay"]))
    if mode == "paper":
        return LossWeighting(1.0, paper_faithful_weights(row_steps, cfg["decay"], max_steps))
    raise ValueError(f"train.hsw.mode: unknown {mode!r}")
