"""One optimizer step = one supervision step of every carried row (reference.md §1.6–1.8), the
same computation as trainer/train/trainStep.ts.

The run loop calls (all config sections are the resolved config.json's, camelCase keys):

    state = create_train_state(build_model(config["model"], task, seed, device), config["train"])
    stage, depth = depth_schedule(model.depth, config["train"]["curriculum"]).at(step, total)
    lr = learning_rate(step, train["lr"], train["lrWarmupSteps"], train["steps"], train["lrMinRatio"])
    metrics = train_step(state, incoming, config["train"], depth, lr, halt_rng, autocast=None)
        state:     TrainState (reclab.train.train_state), changed in place: carry, parameters,
                   optimizer slots, EMA, state.step += 1, state.ema_updates += 1
        incoming:  ExampleBatch (reclab.train.act_carry) of train.batchSize rows on the model's
                   device: tokens / labels long [B, L], blanks int32 [B]; only the rows that
                   halted at the previous step are taken
        depth:     Depth(h_cycles=T, l_cycles=n) of this step (the curriculum's)
        lr:        the main optimizer's rate; the puzzle embedding gets puzzleEmbLr · lr / train.lr
        halt_rng:  numpy.random.Generator of the exploration draws (save its bit_generator.state)
        autocast:  None (fp32) or torch.bfloat16 (CUDA): the forward under torch.autocast, the
                   losses in fp32
        returns    StepMetrics (below); one host sync per step, for these numbers
    On return each parameter's .grad holds this step's gradient (cleared at the next step).

    v = gradient_variance(state, incoming, config["train"], depth, groups)  # nothing in state changes

Reset halted rows, run T − 1 cycles without gradient, the last cycle and the heads with it, the
ACT loss / batch size (weighted by HSW when on), gradients summed over micro-batches, then
AdamATan2 / AdamW + sign-SGD, the EMA, and the halting update.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

import numpy as np
import torch

from ..model.recursive_model import Depth, RecursiveModel
from .act_carry import ActCarry, ExampleBatch, reset_halted_rows, update_halting
from .ema import ema_decay, ema_update
from .gradient_variance import relative_gradient_variance
from .hsw import LossWeighting, loss_weighting
from .losses import act_loss
from .train_state import TrainState


@dataclass
class StepMetrics:
    lm_loss: float
    q_halt_loss: float
    token_accuracy: float  # over the rows that halted at this step; NaN when none did
    exact_accuracy: float
    q_halt_accuracy: float
    mean_halt_steps: float
    halted_rows: int
    grad_norm: float
    grad_variance_running: float  # ‖g − m‖² / ‖m‖², m the optimizer's EMA of past gradients (NaN before m exists)
    loss_scale: float  # the HSW batch factor (1 unless hsw.mode = "code")
    q_continue_loss: float = math.nan  # mean BCE(q_continue, target) per row (HRM; NaN for a model without it)
    model_stats: Dict[str, float] = field(default_factory=dict)  # the model's own (TRM-DEQ: its solves')


@dataclass
class _Pass:
    z_H: torch.Tensor
    z_L: torch.Tensor
    rows: torch.Tensor  # [count, 5]: q_halt, row correct, tokens right, valid tokens, q_continue (no grad)
    loss_sums: torch.Tensor  # [3]: Σ lm, Σ q_halt, Σ q_continue (unweighted; 0 without a Q-continue target)


def q_continue_target(model: RecursiveModel, z_H: torch.Tensor, z_L: torch.Tensor, tokens: torch.Tensor, depth: Depth,
                      is_last: torch.Tensor, autocast: Optional[torch.dtype]) -> torch.Tensor:
    """HRM's Q-learning target (hrm_act_v1.py): one extra supervision step, without gradient, of
    the post-step carry on the same data; sigmoid(is_last ? next q_halt : max(next q_halt, next q_continue))."""
    with torch.no_grad():
        _, _, _, next_halt, next_continue = model.supervision_step(z_H.detach(), z_L.detach(), tokens, depth, autocast)
        next_halt, next_continue = next_halt.float(), next_continue.float()
        return torch.sigmoid(torch.where(is_last, next_halt, torch.maximum(next_halt, next_continue)))


def _gradient_pass(state: TrainState, carry: ActCarry, start: int, count: int, cfg: Mapping[str, Any], depth: Depth,
                   weighting: LossWeighting, normaliser: int, autocast: Optional[torch.dtype]) -> _Pass:
    """Accumulates into each parameter's .grad the gradient of
    (Σ_rows w_r·(lm_r + qLossWeight·(q_r + qc_r))) · scale / normaliser over rows [start, start + count)
    (qc_r, the Q-continue loss, only for a model that uses q_continue, when haltMaxSteps > 1)."""
    model = state.model
    dev = carry.z_H.device
    z_H_out: List[torch.Tensor] = []
    z_L_out: List[torch.Tensor] = []
    rows_out: List[torch.Tensor] = []
    sums = torch.zeros(3, device=dev)
    factor = weighting.scale / normaliser
    with_target = model.uses_q_continue and cfg["haltMaxSteps"] > 1
    # Steps after this one (the carry's count + 1): a row at haltMaxSteps halts whatever q says.
    is_last_all = torch.from_numpy(carry.steps + 1 >= cfg["haltMaxSteps"]).to(dev)
    for off in range(0, count, cfg["microBatchSize"]):
        first, n = start + off, min(cfg["microBatchSize"], count - off)
        data = carry.data.rows(first, n)
        z_H, z_L, logits, q_halt, q_continue = model.supervision_step(carry.z_H[first:first + n], carry.z_L[first:first + n], data.tokens, depth, autocast)
        target = q_continue_target(model, z_H, z_L, data.tokens, depth, is_last_all[first:first + n], autocast) if with_target else None
        loss = act_loss(logits.float(), data.labels, q_halt.float(), cfg["lossType"], q_continue.float(), target)
        lm, q, qc = loss.lm_loss_per_row, loss.q_halt_loss_per_row, loss.q_continue_loss_per_row
        if weighting.row_weights is not None:
            w = torch.from_numpy(weighting.row_weights[first:first + n]).to(dev)
            lm, q = lm * w, q * w
            qc = qc * w if qc is not None else None
        q_total = q.sum() if qc is None else q.sum() + qc.sum()
        total = (lm.sum() + q_total * cfg["qLossWeight"]) * factor
        regularizer = model.take_regularizer() if hasattr(model, "take_regularizer") else None
        if regularizer is not None:  # a batch mean (TRM-DEQ's λ_jac penalty): weighted by the micro-batch's share
            total = total + regularizer * (n * weighting.scale / normaliser)
        total.backward()
        z_H_out.append(z_H.detach().float())
        z_L_out.append(z_L.detach().float())
        rows_out.append(torch.stack([q_halt.detach().float(), loss.row_correct, loss.row_tokens_right, loss.row_valid_tokens,
                                     q_continue.detach().float()], 1))
        qc_sum = loss.q_continue_loss_per_row.detach().sum() if qc is not None else torch.zeros((), device=dev)
        sums += torch.stack([loss.lm_loss_per_row.detach().sum(), loss.q_halt_loss_per_row.detach().sum(), qc_sum])
    cat = lambda ts: ts[0] if len(ts) == 1 else torch.cat(ts)  # noqa: E731
    return _Pass(cat(z_H_out), cat(z_L_out), cat(rows_out), sums)


def _weighting(cfg: Mapping[str, Any], incoming_steps: np.ndarray, reset: ActCarry) -> LossWeighting:
    return loss_weighting(cfg["hsw"], incoming_steps, reset.steps + 1, cfg["haltMaxSteps"])


def _clear_grads(state: TrainState) -> None:
    for p in state.model.parameters():
        p.grad = None


def train_step(state: TrainState, incoming: ExampleBatch, cfg: Mapping[str, Any], depth: Depth, lr: float,
               halt_rng: np.random.Generator, autocast: Optional[torch.dtype] = None) -> StepMetrics:
    B = cfg["batchSize"]
    model = state.model
    incoming_steps = state.carry.steps.copy()
    carry = reset_halted_rows(state.carry, incoming, model.h_init, model.l_init)
    weighting = _weighting(cfg, incoming_steps, carry)
    _clear_grads(state)
    take_stats = getattr(model, "take_step_statistics", None)
    if take_stats is not None:
        take_stats()  # drop what evaluation or a variance probe gathered
    result = _gradient_pass(state, carry, 0, B, cfg, depth, weighting, B, autocast)
    own_stats = take_stats() if take_stats is not None else {}
    carry.z_H, carry.z_L = result.z_H, result.z_L
    state.carry = carry

    # ‖g‖², and ‖g − m‖², ‖m‖² with m the first moment before this update; read back below.
    with torch.no_grad():
        named = model.named_tfjs_parameters()
        grad_sq = sum(p.grad.square().sum() for _, p in named)
        main = state.main_parameters()
        moments = [(p.grad, state.optimizer.state[p]["exp_avg"]) for p in main.values() if state.optimizer.state[p]]
        dev_sq = sum(((g - m).square().sum() for g, m in moments), torch.zeros((), device=grad_sq.device))
        mom_sq = sum((m.square().sum() for _, m in moments), torch.zeros((), device=grad_sq.device))

    state.step += 1
    for group in state.optimizer.param_groups:
        group["lr"] = lr
    state.optimizer.step()
    if state.puzzle_optimizer is not None:
        for group in state.puzzle_optimizer.param_groups:
            group["lr"] = cfg["puzzleEmbLr"] * (lr / cfg["lr"])
        state.puzzle_optimizer.step()
    if state.ema is not None:
        decay = ema_decay(state.ema_updates, cfg["ema"]["rate"], cfg["ema"]["warmup"])
        ema_update([state.ema[n] for n in main], list(main.values()), decay)
        state.ema_updates += 1

    # The one host sync of the step: per-row numbers, loss sums and the three norms.
    host = torch.cat([result.rows.flatten(), result.loss_sums, torch.stack([grad_sq, dev_sq, mom_sq]).float()]).cpu().numpy().astype(np.float64)
    rows = host[:5 * B].reshape(B, 5)
    lm_sum, q_sum, qc_sum, g_sq, d_sq, m_sq = host[5 * B:]
    q_halt, correct, right, valid, q_continue = rows.T
    carry.halted = update_halting(carry.steps, q_halt, cfg["haltMaxSteps"], cfg["haltExplorationProb"], True, halt_rng,
                                  q_continue if model.uses_q_continue else None)

    # Metrics over the rows that halted now (reference: valid_metrics = halted).
    counted = carry.halted & (valid > 0)
    count = int(counted.sum())
    mean = lambda x: float(x[counted].mean()) if count else math.nan  # noqa: E731
    return StepMetrics(
        lm_loss=lm_sum / B, q_halt_loss=q_sum / B,
        token_accuracy=mean(right / np.maximum(valid, 1)), exact_accuracy=mean(correct),
        q_halt_accuracy=mean(((q_halt >= 0) == (correct == 1)).astype(np.float64)),
        mean_halt_steps=mean(carry.steps.astype(np.float64)), halted_rows=count,
        grad_norm=math.sqrt(g_sq), grad_variance_running=d_sq / m_sq if m_sq > 0 else math.nan,
        loss_scale=weighting.scale,
        q_continue_loss=qc_sum / B if model.uses_q_continue and cfg["haltMaxSteps"] > 1 else math.nan,
        model_stats=own_stats)


def gradient_variance(state: TrainState, incoming: ExampleBatch, cfg: Mapping[str, Any], depth: Depth, groups: int,
                      autocast: Optional[torch.dtype] = None) -> float:
    """V at fixed parameters (gradient_variance.py): the rows the next step would train on (the
    carry with its halted rows reset to `incoming`) in `groups` equal groups; g_k the gradient of
    group k's (HSW-weighted) mean loss. Nothing in `state` changes (the gradients left in .grad
    are cleared)."""
    B = cfg["batchSize"]
    if groups < 2 or B % groups != 0:
        raise ValueError(f"eval.gradientVarianceGroups: {groups} must be >= 2 and divide train.batchSize {B}")
    model = state.model
    probe = reset_halted_rows(state.carry, incoming, model.h_init, model.l_init)
    weighting = _weighting(cfg, state.carry.steps, probe)
    size = B // groups
    names = sorted(n for n, _ in model.named_tfjs_parameters())
    named: Dict[str, torch.nn.Parameter] = dict(model.named_tfjs_parameters())
    flat = []
    try:
        for k in range(groups):
            _clear_grads(state)
            _gradient_pass(state, probe, k * size, size, cfg, depth, weighting, size, autocast)
            flat.append(torch.cat([named[n].grad.flatten() for n in names]))  # V does not depend on the layout
    finally:
        _clear_grads(state)
    return relative_gradient_variance(flat)
