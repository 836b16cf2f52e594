"""The building blocks of the TRM block (reference.md §1.4), as trainer/model/layers.ts:
RMSNorm without gain, SwiGLU with a fused gate_up weight, rotate-half RoPE and non-causal
multi-head attention written plainly (torch 1.13 has no scaled_dot_product_attention)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class _RMSNorm(torch.autograd.Function):
    """y = h·r, r = rsqrt(mean(h²) + eps), with the closed-form backward
    dh = r·(dy − y·mean(dy·y)): it keeps only y and r and makes 4 passes instead of autograd's ~8
    (the norm runs 4 times a network call, on every [B, S, D] state)."""

    @staticmethod
    def forward(ctx, h: torch.Tensor, eps: float) -> torch.Tensor:
        r = torch.rsqrt(h.square().mean(-1, keepdim=True) + eps)
        y = h * r
        ctx.save_for_backward(y, r)
        return y

    @staticmethod
    def backward(ctx, dy: torch.Tensor):
        y, r = ctx.saved_tensors
        return r * (dy - y * (dy * y).mean(-1, keepdim=True)), None


def rms_norm(h: torch.Tensor, eps: float) -> torch.Tensor:
    """h · rsqrt(mean(h², last axis) + eps); no learnable gain (post-norm TRM/HRM)."""
    if not torch.is_grad_enabled():
        return h * torch.rsqrt(h.square().mean(-1, keepdim=True) + eps)
    return _RMSNorm.apply(h, eps)


def swiglu_hidden_size(width: int, expansion: float, multiple_of: int) -> int:
    """round(expansion · width · 2/3) rounded up to a multiple (JS Math.round: halves round up)."""
    raw = math.floor(expansion * width * 2 / 3 + 0.5)
    return -(-raw // multiple_of) * multiple_of


class SwiGLU(nn.Module):
    """down(silu(gate) · up); gate_up is one linear whose outputs are gate, then up. The weight is
    split, not the activation: the backward then sums into weight slices instead of
    concatenating two activation-sized gradients (8 % of a CPU step)."""

    def __init__(self, width: int, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.gate_up = nn.Linear(width, 2 * hidden, bias=False)
        self.down = nn.Linear(hidden, width, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.gate_up.weight  # [2·hidden, width]
        gate, up = F.linear(x, w[:self.hidden]), F.linear(x, w[self.hidden:])
        return self.down(F.silu(gate) * up)


def rope_tables(seq_len: int, head_dim: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin [seq_len, head_dim] of the rotate-half layout (emb = cat(freqs, freqs)), in
    float64 then rounded to float32 as the TF.js engine's tables."""
    inv_freq = 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    freqs = torch.outer(torch.arange(seq_len, dtype=torch.float64), inv_freq)  # [L, hd/2]
    emb = torch.cat([freqs, freqs], dim=-1)  # [L, hd]
    return emb.cos().float(), emb.sin().float()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x [..., L, hd] · cos + rotate_half(x) · sin."""
    return x * cos + rotate_half(x) * sin


class Attention(nn.Module):
    """Non-causal self-attention, fused qkv (columns q, k, v), RoPE on q and k."""

    def __init__(self, width: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = width // num_heads
        self.qkv = nn.Linear(width, 3 * width, bias=False)
        self.o = nn.Linear(width, width, bias=False)

    def forward(self, h: torch.Tensor, rope: tuple[torch.Tensor, ...] | None) -> torch.Tensor:
        """rope: (cos, sin) tables [L, hd] for k, and the same times 1/sqrt(hd) for q (the score
        scale rides on q's rotation: no pass over the [B, H, L, L] scores)."""
        B, L, D = h.shape
        w = self.qkv.weight  # [3D, D]: rows q, k, v; split by weight rows, not activation (as SwiGLU)
        q, k, v = (F.linear(h, w[i * D:(i + 1) * D]).view(B, L, self.num_heads, self.head_dim).transpose(1, 2)
                   for i in range(3))  # [B, H, L, hd] each
        if rope is not None:
            cos, sin, q_cos, q_sin = rope
            q, k = apply_rope(q, q_cos, q_sin), apply_rope(k, cos, sin)
        else:
            q = q * (1.0 / math.sqrt(self.head_dim))
        attended = torch.matmul(torch.matmul(q, k.transpose(-2, -1)).softmax(-1), v)  # scores [B, H, L, L] -> [B, H, L, hd]
        return self.o(attended.transpose(1, 2).reshape(B, L, D))
