"""The recursive-model interface both architectures implement (TRM, HRM; trainer/model on the TS
side): what every supervision step shares, the parts that differ left to the subclass.

    x = sqrt(D) · [puzzle-embedding prefix ; embed(tokens)]           (reference.md §1.3)
    carried states z_H, z_L [B, prefix + L, D], reset to the fixed H_init / L_init
    a supervision step = no_grad_part (under no_grad), then grad_part (with gradient),
    then logits = lm_head(z_H)[prefix:], (q_halt, q_continue) = q_head(z_H[:, 0])

A subclass builds its networks (`build_networks`), names their blocks (`networks`), and defines
`cycle` (one H cycle: n latent updates and one answer update, used without gradient by
evaluation and refinement), `no_grad_part` / `grad_part`, and the network calls of a step
(`network_calls`, for the FLOPs). Parameters carry the TF.js engine's names; `tfjs_parameters()` /
`load_tfjs_parameters()` map them to and from its layouts (linear weights [in, out]).
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

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
    """Recursion depth of one supervision step: T (H) cycles of n (L) latent updates."""
    h_cycles: int
    l_cycles: int


@dataclass(frozen=True)
class NetworkCalls:
    """How often each network runs in one supervision step, in total and with gradient."""
    network: str  # the blocks' name prefix, e.g. "layers", "l_layers"
    forward: int
    with_grad: int


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

    def extra_parameters(self) -> Sequence[Tuple[str, nn.Parameter]]:
        """The block's parameters beyond its linears, (name, parameter) in the TF.js spec order."""
        return ()


class PreNormBlock(Block):
    """Pre-norm block (the Attractor's backbone and head), as latentModelBase.ts preNormBlocks:
    h += g_mixer ⊙ mixer(norm(h)); h += g_mlp ⊙ mlp(norm(h)), norm = RMSNorm over the channels
    (mlp_t mixes across positions after it). With `gamma_max`, per-channel LayerScale gates
    g = sigmoid(raw)·gamma_max (parameters gate_mixer, gate_mlp); without, no gates."""

    def __init__(self, cfg: Mapping[str, Any], width: int, total_len: int, gamma_max: Optional[float] = None):
        super().__init__(cfg, width, total_len)
        self.gamma_max = gamma_max
        if gamma_max is not None:
            self.gate_mixer = nn.Parameter(torch.zeros(width))
            self.gate_mlp = nn.Parameter(torch.zeros(width))

    def forward(self, x: torch.Tensor, rope: Tuple[torch.Tensor, ...] | None) -> torch.Tensor:
        n = rms_norm(x, self.eps)
        mixed = self.seq_mlp(n.transpose(1, 2)).transpose(1, 2) if self.mlp_t else self.attn(n, rope)
        if self.gamma_max is not None:
            mixed = mixed * (torch.sigmoid(self.gate_mixer) * self.gamma_max)
        x = x + mixed
        channel = self.mlp(rms_norm(x, self.eps))
        if self.gamma_max is not None:
            channel = channel * (torch.sigmoid(self.gate_mlp) * self.gamma_max)
        return x + channel

    def extra_parameters(self) -> Sequence[Tuple[str, nn.Parameter]]:
        return (("gate_mixer", self.gate_mixer), ("gate_mlp", self.gate_mlp)) if self.gamma_max is not None else ()


class RecursiveModel(nn.Module):
    arch = ""
    # Whether q_continue is trained (HRM's Q-learning target) and decides halting against q_halt.
    uses_q_continue = False
    # The per-step statistics the model adds to the step event's `modelStats` (name -> number).
    step_statistics: Tuple[str, ...] = ()

    def __init__(self, cfg: Mapping[str, Any], task: TaskShape):
        super().__init__()
        if cfg.get("arch", "trm") != self.arch:  # a config without model.arch means trm
            raise ValueError(f"model.arch: {cfg.get('arch')!r} is not {self.arch!r}")
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
        # Before the heads: reset_parameters_ draws the linears in module order.
        self.build_networks(cfg)
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

    def blocks(self, cfg: Mapping[str, Any], count: int) -> nn.ModuleList:
        return nn.ModuleList(Block(cfg, self.width, self.total_len) for _ in range(count))

    # ---- what a subclass defines -----------------------------------------------------------

    def build_networks(self, cfg: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def networks(self) -> Sequence[Tuple[str, nn.ModuleList]]:
        """(name prefix, blocks) of each network, in the TF.js spec order."""
        raise NotImplementedError

    def cycle(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, n: int) -> Tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def no_grad_part(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, depth: Depth) -> Tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def grad_part(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, depth: Depth) -> Tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def network_calls(self, depth: Depth) -> List[NetworkCalls]:
        raise NotImplementedError

    # ---- the shared computation ------------------------------------------------------------

    def carried_states(self) -> Dict[str, Tuple[int, int]]:
        """Name -> per-row shape of the states the deep-supervision carry holds."""
        return {"z_H": (self.total_len, self.width), "z_L": (self.total_len, self.width)}

    def initial_states(self, rows: int) -> Tuple[torch.Tensor, torch.Tensor]:
        S, D = self.total_len, self.width
        return self.h_init.expand(rows, S, D), self.l_init.expand(rows, S, D)

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

    def rope(self) -> Optional[Tuple[torch.Tensor, ...]]:
        """The blocks' RoPE tables (layers.Attention), or None."""
        return (self.rope_cos, self.rope_sin, self.rope_q_cos, self.rope_q_sin) if self.rope_cos is not None else None

    def run_blocks(self, blocks: nn.ModuleList, h: torch.Tensor, injection: torch.Tensor) -> torch.Tensor:
        """net(h, injection) = blocks(h + injection) (reference ReasoningModule)."""
        rope = self.rope()
        x = h + injection
        for block in blocks:
            x = block(x, rope)
        return x

    def heads(self, z_H: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """logits [B, L, V] over the puzzle positions; q_halt, q_continue [B] from position 0."""
        logits = self.lm_head(z_H[:, self.prefix_len:])
        q = self.q_head(z_H[:, 0])  # [B, 2]
        return logits, q[:, 0], q[:, 1]

    def supervision_step(self, z_H: torch.Tensor, z_L: torch.Tensor, tokens: torch.Tensor, depth: Depth,
                         autocast: Optional[torch.dtype] = None):
        """One supervision step: the no-grad part, then the grad part, then the heads.
        Returns (z_H, z_L, logits, q_halt, q_continue); the caller detaches the states it carries.
        `autocast` (e.g. torch.bfloat16) runs each part under its own torch.autocast: one region
        around both would reuse the weight casts made under no_grad, which carry no gradient."""
        with torch.no_grad(), self._autocast(autocast):
            x = self.input_embedding(tokens)
            z_H, z_L = self.no_grad_part(z_H, z_L, x, depth)
        with self._autocast(autocast):
            x = self.input_embedding(tokens) if torch.is_grad_enabled() else x
            z_H, z_L = self.grad_part(z_H, z_L, x, depth)
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
        for prefix, blocks in self.networks():
            for i, block in enumerate(blocks):
                mixer = ("seq_mlp", block.seq_mlp) if block.mlp_t else ("attn", block.attn)
                names = ("gate_up", "down") if block.mlp_t else ("qkv", "o")
                for n in names:
                    yield f"{prefix}.{i}.{mixer[0]}.{n}", getattr(mixer[1], n).weight, True
                yield f"{prefix}.{i}.mlp.gate_up", block.mlp.gate_up.weight, True
                yield f"{prefix}.{i}.mlp.down", block.mlp.down.weight, True
                for n, p in block.extra_parameters():
                    yield f"{prefix}.{i}.{n}", p, False
        yield "lm_head", self.lm_head.weight, True
        yield "q_head.w", self.q_head.weight, True
        yield "q_head.b", self.q_head.bias, False

    def named_tfjs_parameters(self) -> List[Tuple[str, nn.Parameter]]:
        return [(n, p) for n, p, _ in self._layout()]

    def main_parameter_names(self) -> List[str]:
        """AdamATan2/AdamW and the EMA; the rest (puzzle_emb) is trained by sign-SGD, no EMA."""
        return [n for n, _, _ in self._layout() if n != "puzzle_emb"]

    def undecayed_parameter_names(self) -> List[str]:
        """Main parameters the weight decay skips (the Attractor's LayerScale gates; ParameterSpec.weightDecay)."""
        return []

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


def create_model(cfg: Mapping[str, Any], task: TaskShape) -> RecursiveModel:
    """The model `model.arch` names (absent: trm, as configs written before HRM)."""
    from .hrm import HRM
    from .trm import TRM
    from .trm_deq import TRMDEQ
    from .attractor import Attractor

    archs = {"trm": TRM, "hrm": HRM, "trm-deq": TRMDEQ, "attractor": Attractor}
    arch = cfg.get("arch", "trm")
    if arch not in archs:
        raise ValueError(f"model.arch: the torch engine has no {arch!r} model (it has {', '.join(archs)})")
    return archs[arch](cfg, task)
