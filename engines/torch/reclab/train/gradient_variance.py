"""The gradient-variance statistic of reference.md §2.3 (our documented definition, as
trainer/train/gradientVarianceRatio.ts): for gradients g_1..g_K of K minibatches at fixed
parameters, with ḡ their mean, V = (1/K) Σ_k ‖g_k − ḡ‖² / ‖ḡ‖²."""
from __future__ import annotations

from typing import Sequence

import torch


def relative_gradient_variance(gradients: Sequence[torch.Tensor]) -> float:
    """gradients: K flat vectors of one length (accumulated in float64)."""
    K = len(gradients)
    if K < 2:
        raise ValueError("relative_gradient_variance: needs at least 2 gradients")
    if any(g.shape != gradients[0].shape for g in gradients):
        raise ValueError("relative_gradient_variance: gradients differ in length")
    g = torch.stack([x.double() for x in gradients])  # [K, P]
    mean = g.mean(0)
    return float(((g - mean) ** 2).sum() / K / (mean ** 2).sum())
