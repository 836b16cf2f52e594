"""The reference initialiser (models/common.py, trainer/model/initializers.ts): a normal clipped
to ±2σ by rejection and rescaled so the clipped distribution has exactly the requested std."""
from __future__ import annotations

import torch

# Std of a standard normal truncated to [-2, 2]: sqrt(1 - 2·2·φ(2) / (Φ(2) − Φ(−2))).
TRUNCATED_STD = 0.8796256610342398


@torch.no_grad()
def truncated_normal_(t: torch.Tensor, std: float, generator: torch.Generator) -> torch.Tensor:
    """Fills `t` with N(0, 1) draws kept only inside [-2, 2] (redrawn otherwise), times
    std / TRUNCATED_STD."""
    if std == 0:
        return t.zero_()
    flat = torch.empty(t.numel(), dtype=torch.float64)
    filled = 0
    while filled < flat.numel():
        draw = torch.randn(2 * (flat.numel() - filled) + 16, generator=generator, dtype=torch.float64)
        keep = draw[draw.abs() <= 2][: flat.numel() - filled]
        flat[filled:filled + keep.numel()] = keep
        filled += keep.numel()
    return t.copy_((flat * (std / TRUNCATED_STD)).view_as(t))
