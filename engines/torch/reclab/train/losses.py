"""The ACT loss head (reference.md §1.7), as trainer/train/losses.ts: stablemax (or softmax)
cross-entropy per token, mean over a row's valid tokens; BCE-with-logits of q_halt against
"the whole row is right"; for HRM also of q_continue against its Q-learning target."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F

IGNORE_LABEL = 0  # label 0 is PAD / ignore


def stablemax_s(x: torch.Tensor) -> torch.Tensor:
    """s(x) = x + 1 for x >= 0, 1 / (1 − x) for x < 0. The negative branch only ever sees
    min(x, 0), so it is finite everywhere; s'(0) = 1 (the x + 1 branch), as the TF.js engine."""
    return torch.where(x >= 0, x + 1, 1 / (1 - x.clamp(max=0)))


def token_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, kind: str) -> torch.Tensor:
    """−log p[label] over the last axis; p = s(x) / Σ s(x) (stablemax) or softmax."""
    if kind == "stablemax":
        s = stablemax_s(logits)
        log_probs = s.log() - s.sum(-1, keepdim=True).log()
    elif kind == "softmax":
        log_probs = logits.log_softmax(-1)
    else:
        raise ValueError(f"train.lossType: unknown {kind!r}")
    return -log_probs.gather(-1, labels.unsqueeze(-1)).squeeze(-1)


@dataclass
class ActLoss:
    lm_loss_per_row: torch.Tensor  # [B]: Σ_valid CE / n_valid
    q_halt_loss_per_row: torch.Tensor  # [B]: BCE(q_halt, row exactly right)
    row_correct: torch.Tensor  # [B] float, no gradient
    row_tokens_right: torch.Tensor  # [B] float
    row_valid_tokens: torch.Tensor  # [B] float
    q_continue_loss_per_row: Optional[torch.Tensor] = None  # [B]: BCE(q_continue, target); HRM only


def act_loss(logits: torch.Tensor, labels: torch.Tensor, q_halt: torch.Tensor, kind: str,
             q_continue: Optional[torch.Tensor] = None, q_continue_target: Optional[torch.Tensor] = None) -> ActLoss:
    """logits [B, L, V], labels long [B, L], q_halt [B]; q_continue and its target [B] (HRM)."""
    valid = (labels != IGNORE_LABEL).to(logits.dtype)  # [B, L]
    valid_count = valid.sum(1)
    ce = token_cross_entropy(logits, labels, kind)  # [B, L]
    lm = (ce * valid).sum(1) / valid_count.clamp(min=1)
    with torch.no_grad():
        right = ((logits.argmax(-1) == labels).to(logits.dtype) * valid).sum(1)
        correct = ((right == valid_count) & (valid_count > 0)).to(logits.dtype)
    q = F.binary_cross_entropy_with_logits(q_halt, correct, reduction="none")
    qc = None
    if q_continue is not None and q_continue_target is not None:
        qc = F.binary_cross_entropy_with_logits(q_continue, q_continue_target, reduction="none")
    return ActLoss(lm, q, correct, right, valid_count, qc)
