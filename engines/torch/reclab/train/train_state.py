"""Everything a training run carries from one optimizer step to the next, as
trainer/train/trainState.ts: the model (parameters, H_init / L_init), the optimizers' slots, the
EMA shadow, the deep-supervision carry and the step count. `state_tensors` / `load_state_tensors`
give it the checkpoint names and layouts of the TF.js engine (docs/weights-format.md)."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Dict, Iterator, Mapping, Optional

import numpy as np
import torch

from ..model.recursive_model import RecursiveModel, TaskShape, create_model
from .act_carry import ActCarry, ExampleBatch, initial_carry
from .optimizers import SignSGD, main_optimizer


@dataclass
class TrainState:
    model: RecursiveModel
    optimizer: torch.optim.Optimizer  # AdamATan2 / AdamW over the main parameters
    puzzle_optimizer: Optional[SignSGD]  # sign-SGD over puzzle_emb (None without a prefix)
    ema: Optional[Dict[str, torch.Tensor]]  # TF.js name -> shadow (torch layout)
    carry: ActCarry
    step: int = 0  # optimizer steps taken
    ema_updates: int = 0

    def main_parameters(self) -> Dict[str, torch.nn.Parameter]:
        named = dict(self.model.named_tfjs_parameters())
        return {n: named[n] for n in self.model.main_parameter_names()}


def build_model(model_cfg: Mapping[str, Any], task: TaskShape, seed: int, device: torch.device | str = "cpu") -> RecursiveModel:
    """The model `model.arch` names, initialised as the reference does, drawn from a torch
    generator seeded with `seed`."""
    model = create_model(model_cfg, task)
    model.reset_parameters_(torch.Generator().manual_seed(seed))
    return model.to(device)


def create_train_state(model: RecursiveModel, train_cfg: Mapping[str, Any]) -> TrainState:
    device = model.h_init.device
    main = list(model.main_parameter_names())
    named = dict(model.named_tfjs_parameters())
    undecayed = set(model.undecayed_parameter_names())
    groups = [{"params": [named[n] for n in main if n not in undecayed]}]
    if undecayed:
        groups.append({"params": [named[n] for n in main if n in undecayed], "weight_decay": 0.0})
    optimizer = main_optimizer(groups, train_cfg)
    puzzle = SignSGD([model.puzzle_emb], lr=train_cfg["puzzleEmbLr"], weight_decay=train_cfg["puzzleEmbWeightDecay"]) \
        if model.puzzle_emb is not None else None
    ema = {n: named[n].detach().clone() for n in main} if train_cfg["ema"]["enabled"] else None
    carry = initial_carry(train_cfg["batchSize"], model.task.seq_len, model.total_len, model.width, device)
    return TrainState(model, optimizer, puzzle, ema, carry)


@contextlib.contextmanager
def evaluation_weights(state: TrainState) -> Iterator[RecursiveModel]:
    """The model with the EMA weights in place (the raw ones without EMA), restored on exit."""
    if state.ema is None:
        yield state.model
        return
    params = state.main_parameters()
    saved = {n: p.detach().clone() for n, p in params.items()}
    try:
        with torch.no_grad():
            for n, p in params.items():
                p.copy_(state.ema[n])
        yield state.model
    finally:
        with torch.no_grad():
            for n, p in params.items():
                p.copy_(saved[n])


def _moments(state: TrainState, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    st = state.optimizer.state[p]
    if not st:  # before the first step: zeros, as the TF.js engine's fresh slots
        return torch.zeros_like(p), torch.zeros_like(p)
    return st["exp_avg"], st["exp_avg_sq"]


def state_tensors(state: TrainState) -> Dict[str, np.ndarray]:
    """The checkpoint tensors, named and laid out as the TF.js engine's (trainingCheckpoint.ts)."""
    m = state.model
    out: Dict[str, np.ndarray] = {}
    for n, p in m.named_tfjs_parameters():
        out[f"param/{n}"] = m.to_tfjs_layout(n, p)
    for n, p in state.main_parameters().items():
        mom, var = _moments(state, p)
        out[f"adam_m/{n}"] = m.to_tfjs_layout(n, mom)
        out[f"adam_v/{n}"] = m.to_tfjs_layout(n, var)
    for n, s in (state.ema or {}).items():
        out[f"ema/{n}"] = m.to_tfjs_layout(n, s)
    out["h_init"] = m.h_init.cpu().numpy()
    out["l_init"] = m.l_init.cpu().numpy()
    c = state.carry
    out["carry/z_h"] = c.z_H.float().cpu().numpy()
    out["carry/z_l"] = c.z_L.float().cpu().numpy()
    out["carry/steps"] = c.steps.astype(np.int32)
    out["carry/halted"] = c.halted.astype(np.uint8)
    out["carry/tokens"] = c.data.tokens.cpu().numpy().astype(np.int32)
    out["carry/labels"] = c.data.labels.cpu().numpy().astype(np.int32)
    out["carry/blanks"] = c.data.blanks.cpu().numpy().astype(np.int32)
    return out


@torch.no_grad()
def load_state_tensors(state: TrainState, arrays: Mapping[str, np.ndarray], step: int, ema_updates: int, source: str) -> None:
    """Overwrites `state` from checkpoint tensors (either engine's). Every name and shape is
    checked before anything changes: a mismatch raises ValueError naming `source` and the tensor."""
    m = state.model
    shapes = m.tfjs_shapes()
    B, S, D, L = state.carry.z_H.shape[0], m.total_len, m.width, m.task.seq_len

    def take(name: str, shape: tuple) -> np.ndarray:
        if name not in arrays:
            raise ValueError(f"{source}: tensor {name} is missing")
        a = arrays[name]
        if tuple(a.shape) != tuple(shape):
            raise ValueError(f"{source}: tensor {name} has shape {list(a.shape)}, the run's model needs {list(shape)}")
        return a

    main = state.main_parameters()
    staged = {f"adam_{k}/{n}": take(f"adam_{k}/{n}", shapes[n]) for n in main for k in ("m", "v")}
    if state.ema is not None:
        staged.update({f"ema/{n}": take(f"ema/{n}", shapes[n]) for n in main})
    carry = {k: take(f"carry/{k}", s) for k, s in
             (("z_h", (B, S, D)), ("z_l", (B, S, D)), ("steps", (B,)), ("halted", (B,)),
              ("tokens", (B, L)), ("labels", (B, L)), ("blanks", (B,)))}
    take("h_init", (D,))
    take("l_init", (D,))
    m.load_tfjs_parameters(arrays, source=source)  # checks its own tensors before copying

    dev = m.h_init.device
    for n, p in main.items():
        st = state.optimizer.state[p]
        st["step"] = torch.tensor(float(step))
        st["exp_avg"] = m.from_tfjs_layout(n, staged[f"adam_m/{n}"]).to(dev)
        st["exp_avg_sq"] = m.from_tfjs_layout(n, staged[f"adam_v/{n}"]).to(dev)
    if state.ema is not None:
        for n in main:
            state.ema[n] = m.from_tfjs_layout(n, staged[f"ema/{n}"]).to(dev)
    as_long = lambda a: torch.from_numpy(np.asarray(a, dtype=np.int64)).to(dev)  # noqa: E731
    state.carry = ActCarry(
        torch.from_numpy(np.asarray(carry["z_h"], np.float32)).to(dev), torch.from_numpy(np.asarray(carry["z_l"], np.float32)).to(dev),
        np.asarray(carry["steps"], np.int32).copy(), np.asarray(carry["halted"]).astype(bool),
        ExampleBatch(as_long(carry["tokens"]), as_long(carry["labels"]), torch.from_numpy(np.asarray(carry["blanks"], np.int32)).to(dev)))
    state.step = step
    state.ema_updates = ema_updates
