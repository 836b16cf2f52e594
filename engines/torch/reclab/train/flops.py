"""Analytic matmul FLOPs (2·m·k·n per matmul; elementwise ops not counted), as
trainer/model/flops.ts. Backward ≈ 2× the forward of the part with gradient: the last cycle's
n + 1 network calls and the heads."""
from __future__ import annotations

from dataclasses import dataclass

from ..model.layers import swiglu_hidden_size
from ..model.trm import TRM, Depth


def net_call_flops(model: TRM) -> int:
    """FLOPs of one network call (all blocks) for one row."""
    cfg, D, L = model.cfg, model.width, model.total_len
    channel = 6 * L * D * swiglu_hidden_size(D, cfg["expansion"], cfg["ffnMultipleOf"])
    if cfg["mixer"] == "mlp_t":
        mixer = 6 * D * L * swiglu_hidden_size(L, cfg["expansion"], cfg["ffnMultipleOf"])
    else:
        mixer = 8 * L * D * D + 4 * L * L * D
    return cfg["layers"] * (mixer + channel)


def head_flops(model: TRM) -> int:
    return 2 * model.task.seq_len * model.width * model.task.vocab_size + 2 * model.width * 2


@dataclass
class StepFlops:
    forward: int
    backward: int


def supervision_step_flops(model: TRM, depth: Depth, rows: int, training: bool) -> StepFlops:
    """FLOPs of one supervision step for `rows` rows at the given depth."""
    call = net_call_flops(model)
    forward = rows * (depth.h_cycles * (depth.l_cycles + 1) * call + head_flops(model))
    backward = rows * 2 * ((depth.l_cycles + 1) * call + head_flops(model)) if training else 0
    return StepFlops(forward, backward)
