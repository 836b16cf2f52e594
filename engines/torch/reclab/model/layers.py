"""The building blocks of the TRM block (reference.md §1.4), as trainer/model/layers.ts:
RMSNorm without gain, SwiGLU with a fused gate_up weight, rotate-half RoPE and non-causal
multi-head attention written plainly (torch 1.13 has no scaled_dot_product_attention)."""
from __future__ import annotations

import math

import torch
from torch import nn


def rms_norm(h: torch.Tensor, eps: float) -> torch.Tensor:
    """h · rsqrt(mean(h², last axis) + eps); no learnable gain (post-norm TRM/HRM)."""
    return h * torch.rsqrt(h.square().mean(-1, keepdim=True) + eps)


def swiglu_hidden_size(width: int, expansion: float, multiple_of: int) -> int:
    """round(expansion · width · 2/3) rounded up to a multiple (JS Math.round: halves round up)."""
    raw = math.floor(expansion * width * 2 / 3 + 0.5)
    return -(-raw // multiple_of) * multiple_of


class SwiGLU(nn.Module):
    """down(silu(gate) · up); gate_up is one linear whose outputs are gate, then up."""

    def __init__(self, width: int, hidden: int):
        super().__init__()
        self.gate_up = nn.Linear(width, 2 * hidden, bias=False)
        self.down = nn.Linear(hidden, width, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(nn.functional.silu(gate) * up)


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

    def forward(self, h: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None) -> torch.Tensor:
        B, L, D = h.shape
        qkv = self.qkv(h).view(B, L, 3, self.num_heads, self.head_dim)
        q, k, v = (qkv[:, :, i].transpose(1, 2) for i in range(3))  # [B, H, L, hd] each
        if rope is not None:
            q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        scores = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))  # [B, H, L, L]
        attended = torch.matmul(scores.softmax(-1), v)  # [B, H, L, hd]
        return self.o(attended.transpose(1, 2).reshape(B, L, D))
