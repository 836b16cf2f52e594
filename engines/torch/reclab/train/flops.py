"""Analytic matmul FLOPs (2·m·k·n per matmul; elementwise ops not counted), as
trainer/model/flops.ts. Backward ≈ 2× the forward of the part with gradient (the model's
network calls with gradient, and the heads). HRM's training step adds the extra forward of its
Q-continue target: one more full supervision step."""
from __future__ import annotations

from dataclasses import dataclass

from ..model.layers import swiglu_hidden_size
from ..model.recursive_model import Depth, RecursiveModel


def block_flops(model: RecursiveModel) -> int:
    """FLOPs of one block for one row."""
    cfg, D, L = model.cfg, model.width, model.total_len
    channel = 6 * L * D * swiglu_hidden_size(D, cfg["expansion"], cfg["ffnMultipleOf"])
    if cfg["mixer"] == "mlp_t":
        mixer = 6 * D * L * swiglu_hidden_size(L, cfg["expansion"], cfg["ffnMultipleOf"])
    else:
        mixer = 8 * L * D * D + 4 * L * L * D
    return mixer + channel


def net_call_flops(model: RecursiveModel, network: str = "layers") -> int:
    """FLOPs of one call of the named network (all its blocks) for one row."""
    return len(dict(model.networks())[network]) * block_flops(model)


def head_flops(model: RecursiveModel) -> int:
    return 2 * model.task.seq_len * model.width * model.task.vocab_size + 2 * model.width * 2


@dataclass
class StepFlops:
    forward: int
    backward: int


def supervision_step_flops(model: RecursiveModel, depth: Depth, rows: int, training: bool) -> StepFlops:
    """FLOPs of one supervision step for `rows` rows at the given depth."""
    calls = model.network_calls(depth)
    step_forward = sum(c.forward * net_call_flops(model, c.network) for c in calls) + head_flops(model)
    forward = rows * step_forward
    if training and model.uses_q_continue:
        forward += rows * step_forward  # the Q-continue target's extra no-grad forward
    backward = rows * 2 * (sum(c.with_grad * net_call_flops(model, c.network) for c in calls) + head_flops(model)) if training else 0
    return StepFlops(forward, backward)
