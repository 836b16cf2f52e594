"""TRM — Tiny Recursive Model (reference.md §1.3–1.5), written to read like the reference trm.py
and to compute exactly what trainer/model/trm.ts computes:

    x = sqrt(D) · [puzzle-embedding prefix ; embed(tokens)]
    net(h, injection) = blocks(h + injection)
    one cycle:  repeat n: z_L = net(z_L, z_H + x);   z_H = net(z_H, z_L)
    a supervision step = T cycles, all but the last under no_grad,
    then logits = lm_head(z_H)[prefix:], q = q_head(z_H[0]).

Parameters carry the TF.js engine's names; `tfjs_parameters()` / `load_tfjs_parameters()` map
them to and from its layouts (linear weights [in, out], i.e. the transpose of nn.Linear's).
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

import numpy as np
import torch
from torch import nn

from .initializers import truncated_normal_
from .layers import Attention, SwiGLU, rms_norm, rope_tables, swiglu_hidden_size


@dataclass(frozen=True)
class TaskShape:
    """What the task fixes: vocabulary and puzzle length (16 for 4x4 Sudoku, 81 for 9x9)."""
    vocab_size: int
    seq_len: int


@dataclass(frozen=True)
class Depth:
    """Recursion depth of one supervision step: T cycles of n latent updates."""
    h_cycles: int
    l_cycles: int


class Block(nn.Module):
    """Post-norm block: mixer (attention, or mlp_t across positions) then the channel SwiGLU."""

    def __init__(self, cfg: Mapping[str, Any], width: int, total_len: int):
        super().__init__()
        self.eps = cfg["rmsNormEps"]
        self.mlp_t = cfg["mixer"] == "mlp_t"
        if self.mlp_t:
            self.seq_mlp = SwiGLU(total_len, swiglu_hidden_size(total_len, cfg["expansion"], cfg["ffnMultipleOf"]))
        else:
            self.attn = Attention(width, cfg["numHeads"])
        self.mlp = SwiGLU(width, swiglu_hidden_size(width, cfg["expansion"], cfg["ffnMultipleOf"]))

    def forward(self, x: torch.Tensor, rope: Tuple[torch.Tensor, ...] | None) -> torch.Tensor:
        if self.mlp_t:  # mix across positions; this norm runs over the sequence axis (per channel)
            xt = x.transpose(1, 2)  # [B, D, S]
            x = rms_norm(xt + self.seq_mlp(xt), self.eps).transpose(1, 2)
        else:
            x = rms_norm(x + self.attn(x, rope), self.eps)
        return rms_norm(x + self.mlp(x), self.eps)  # [B, S, D]


class TRM(nn.Module):
    def __init__(self, cfg: Mapping[str, Any], task: TaskShape):
        super().__init__()
        if cfg["arch"] != "trm":
            raise ValueError(f"model.arch: the torch engine has no {cfg['arch']!r} model")
        D = cfg["hiddenSize"]
        if cfg["mixer"] == "attention" and D % cfg["numHeads"] != 0:
            raise ValueError(f"model.numHeads: hiddenSize {D} is not divisible by {cfg['numHeads']} heads")
        if cfg["mixer"] == "mlp_t" and cfg["posEncodings"] == "rope":
            raise ValueError('model.posEncodings: "rope" needs the attention mixer (mlp_t has no q/k)')
        self.cfg = dict(cfg)
        self.task = task
        self.width = D
        self.prefix_len = cfg["puzzleEmbLen"]
        self.total_len = task.seq_len + self.prefix_len
        self.depth = Depth(cfg["hCycles"], cfg["lCycles"])

        self.embed_tokens = nn.Embedding(task.vocab_size, D)  # [V, D], the same layout as TF.js
        self.puzzle_emb = nn.Parameter(torch.zeros(D)) if self.prefix_len > 0 else None
        self.pos_emb = nn.Parameter(torch.empty(self.total_len, D)) if cfg["posEncodings"] == "learned" else None
        self.layers = nn.ModuleList(Block(cfg, D, self.total_len) for _ in range(cfg["layers"]))
        self.lm_head = nn.Linear(D, task.vocab_size, bias=False)
        self.q_head = nn.Linear(D, 2, bias=True)
        # Fixed (untrained) initial states, broadcast to every position.
        self.register_buffer("h_init", torch.zeros(D))
        self.register_buffer("l_init", torch.zeros(D))
        if cfg["posEncodings"] == "rope":
            head_dim = D // cfg["numHeads"]
            cos, sin = rope_tables(self.total_len, head_dim, cfg["ropeTheta"])
            self.register_buffer("rope_cos", cos, persistent=False)
            self.register_buffer("rope_sin", sin, persistent=False)
            # q's tables carry the attention score scale 1/sqrt(head_dim) (layers.Attention).
            self.register_buffer("rope_q_cos", cos / math.sqrt(head_dim), persistent=False)
            self.register_buffer("rope_q_sin", sin / math.sqrt(head_dim), persistent=False)
        else:
            self.rope_cos = None

    # ---- the computation -------------------------------------------------------------------

    def input_embedding(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens long [B, L] -> x [B, S = prefix + L, D]."""
        emb = self.embed_tokens(tokens)  # [B, L, D]
        if self.puzzle_emb is not None:
            # Prefix token 0 carries the learned puzzle embedding; tokens 1.. are zeros.
            prefix = torch.cat([self.puzzle_emb.view(1, 1, -1), emb.new_zeros(1, self.prefix_len - 1, self.width)], 1)
            emb = torch.cat([prefix.expand(tokens.shape[0], -1, -1), emb], 1)
        if self.pos_emb is not None:
            emb = (emb + self.pos_emb) * math.sqrt(0.5)
        return emb * math.sqrt(self.width)

    def net(self, h: torch.Tensor, injection: torch.Tensor) -> torch.Tensor:
        rope = (self.rope_cos, self.rope_sin, self.rope_q_cos, self.rope_q_sin) if self.rope_cos is not None else None
        x = h + injection
        for block in self.layers:
            x = block(x, rope)
        return x

    def cycle(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, n: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """n latent updates (they see x), then one answer update (it does not)."""
        for _ in range(n):
            z_L = self.net(z_L, z_H + x)
        z_H = self.net(z_H, z_L)
        return z_H, z_L

    def heads(self, z_H: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """logits [B, L, V] over the puzzle positions; q_halt, q_continue [B] from position 0."""
        logits = self.lm_head(z_H[:, self.prefix_len:])
        q = self.q_head(z_H[:, 0])  # [B, 2]
        return logits, q[:, 0], q[:, 1]

    def supervision_step(self, z_H: torch.Tensor, z_L: torch.Tensor, tokens: torch.Tensor, depth: Depth,
                         autocast: Optional[torch.dtype] = None):
        """One supervision step: T − 1 cycles without gradient, the last with it, then the heads.
        Returns (z_H, z_L, logits, q_halt, q_continue); the caller detaches the states it carries.
        `autocast` (e.g. torch.bfloat16) runs each part under its own torch.autocast: one region
        around both would reuse the weight casts made under no_grad, which carry no gradient."""
        with torch.no_grad(), self._autocast(autocast):
            x = self.input_embedding(tokens)
            for _ in range(depth.h_cycles - 1):
                z_H, z_L = self.cycle(z_H, z_L, x, depth.l_cycles)
        with self._autocast(autocast):
            x = self.input_embedding(tokens) if torch.is_grad_enabled() else x
            z_H, z_L = self.cycle(z_H, z_L, x, depth.l_cycles)
            return (z_H, z_L, *self.heads(z_H))

    def _autocast(self, dtype: Optional[torch.dtype]):
        return torch.autocast(self.h_init.device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()

    # ---- parameters, initialisation, the TF.js layout --------------------------------------

    def _layout(self) -> Iterator[Tuple[str, nn.Parameter, bool]]:
        """(TF.js name, parameter, stored transposed) in the TF.js engine's spec order."""
        yield "embed_tokens", self.embed_tokens.weight, False
        if self.puzzle_emb is not None:
            yield "puzzle_emb", self.puzzle_emb, False
        if self.pos_emb is not None:
            yield "pos_emb", self.pos_emb, False
        for i, block in enumerate(self.layers):
            mixer = ("seq_mlp", block.seq_mlp) if block.mlp_t else ("attn", block.attn)
            names = ("gate_up", "down") if block.mlp_t else ("qkv", "o")
            for n in names:
                yield f"layers.{i}.{mixer[0]}.{n}", getattr(mixer[1], n).weight, True
            yield f"layers.{i}.mlp.gate_up", block.mlp.gate_up.weight, True
            yield f"layers.{i}.mlp.down", block.mlp.down.weight, True
        yield "lm_head", self.lm_head.weight, True
        yield "q_head.w", self.q_head.weight, True
        yield "q_head.b", self.q_head.bias, False

    def named_tfjs_parameters(self) -> List[Tuple[str, nn.Parameter]]:
        return [(n, p) for n, p, _ in self._layout()]

    def main_parameter_names(self) -> List[str]:
        """AdamATan2/AdamW and the EMA; the rest (puzzle_emb) is trained by sign-SGD, no EMA."""
        return [n for n, _, _ in self._layout() if n != "puzzle_emb"]

    def to_tfjs_layout(self, name: str, t: torch.Tensor) -> np.ndarray:
        """A parameter-shaped tensor (the parameter, its gradient, a moment) in the TF.js layout."""
        transposed = self._transposed()[name]
        return (t.t() if transposed else t).detach().float().cpu().contiguous().numpy()

    def from_tfjs_layout(self, name: str, a: np.ndarray) -> torch.Tensor:
        transposed = self._transposed()[name]
        t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
        return t.t().contiguous() if transposed else t

    def _transposed(self) -> Dict[str, bool]:
        return {n: tr for n, _, tr in self._layout()}

    def tfjs_parameters(self) -> Dict[str, np.ndarray]:
        """Every parameter under its TF.js name and layout, plus h_init / l_init."""
        out = {n: self.to_tfjs_layout(n, p) for n, p, _ in self._layout()}
        out["h_init"] = self.h_init.detach().cpu().numpy()
        out["l_init"] = self.l_init.detach().cpu().numpy()
        return out

    def tfjs_shapes(self) -> Dict[str, Tuple[int, ...]]:
        return {n: tuple(p.t().shape if tr else p.shape) for n, p, tr in self._layout()}

    @torch.no_grad()
    def load_tfjs_parameters(self, arrays: Mapping[str, np.ndarray], prefix: str = "param/", source: str = "<weights>") -> None:
        """Loads `prefix + name` for every parameter (and h_init, l_init when present), checking
        each shape first: a wrong or missing tensor changes nothing and names the tensor."""
        staged = []
        for n, p, _ in self._layout():
            key = prefix + n
            want = self.tfjs_shapes()[n]
            if key not in arrays:
                raise ValueError(f"{source}: tensor {key} is missing")
            if tuple(arrays[key].shape) != want:
                raise ValueError(f"{source}: tensor {key} has shape {list(arrays[key].shape)}, the model needs {list(want)}")
            staged.append((p, self.from_tfjs_layout(n, arrays[key])))
        for name, buf in (("h_init", self.h_init), ("l_init", self.l_init)):
            if name in arrays:
                if tuple(arrays[name].shape) != (self.width,):
                    raise ValueError(f"{source}: tensor {name} has shape {list(arrays[name].shape)}, the model needs [{self.width}]")
                staged.append((buf, torch.from_numpy(np.asarray(arrays[name], dtype=np.float32))))
        for target, value in staged:
            target.copy_(value)

    @torch.no_grad()
    def reset_parameters_(self, generator: torch.Generator) -> None:
        """The reference initialisation: truncated normal std 1/sqrt(fan_in) for linears (and
        1/sqrt(D) for the tables), q_head weight 0 and bias qHeadBiasInit, puzzle_emb 0,
        H_init / L_init truncated normal std 1."""
        D = self.width
        truncated_normal_(self.embed_tokens.weight, 1 / math.sqrt(D), generator)
        if self.puzzle_emb is not None:
            self.puzzle_emb.zero_()
        if self.pos_emb is not None:
            truncated_normal_(self.pos_emb, 1 / math.sqrt(D), generator)
        for m in self.modules():
            if isinstance(m, nn.Linear) and m is not self.q_head:
                truncated_normal_(m.weight, 1 / math.sqrt(m.in_features), generator)
        self.q_head.weight.zero_()
        self.q_head.bias.fill_(self.cfg["qHeadBiasInit"])
        truncated_normal_(self.h_init, 1.0, generator)
        truncated_normal_(self.l_init, 1.0, generator)
