"""The deep-supervision carry (reference.md §1.6), as trainer/train/actCarry.ts. It persists
across optimizer steps: each step is one supervision step of every row; rows that halted are
reset to H_init / L_init and take the incoming example of the same row, the other rows keep
theirs (their incoming rows are discarded)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch


@dataclass
class ExampleBatch:
    """Encoded examples (tokenEncoding.ts): PAD 0, blank 1, digit d -> d + 1."""
    tokens: torch.Tensor  # long [B, L], on the model's device
    labels: torch.Tensor  # long [B, L]; 0 is ignored (Sudoku labels never hold it)
    blanks: torch.Tensor  # int32 [B]: blank cells of each row's question

    def rows(self, start: int, count: int) -> "ExampleBatch":
        s = slice(start, start + count)
        return ExampleBatch(self.tokens[s], self.labels[s], self.blanks[s])


@dataclass
class ActCarry:
    z_H: torch.Tensor  # [B, S, D] (= y)
    z_L: torch.Tensor  # [B, S, D] (= z)
    steps: np.ndarray  # int32 [B]: supervision steps each row has taken on its current example
    halted: np.ndarray  # bool [B]: the row halted at the previous step (all rows at the start)
    data: ExampleBatch


def initial_carry(batch_size: int, seq_len: int, total_len: int, width: int, device: torch.device) -> ActCarry:
    zeros = lambda: torch.zeros(batch_size, total_len, width, device=device)  # noqa: E731
    data = ExampleBatch(torch.zeros(batch_size, seq_len, dtype=torch.long, device=device),
                        torch.zeros(batch_size, seq_len, dtype=torch.long, device=device),
                        torch.zeros(batch_size, dtype=torch.int32, device=device))
    return ActCarry(zeros(), zeros(), np.zeros(batch_size, np.int32), np.ones(batch_size, bool), data)


def reset_halted_rows(carry: ActCarry, incoming: ExampleBatch, h_init: torch.Tensor, l_init: torch.Tensor) -> ActCarry:
    """Start of a step: halted rows get the initial states, step 0 and the incoming example of
    the same row; the rest are untouched. Returns a new carry (the old one is not changed)."""
    halted = torch.from_numpy(carry.halted).to(carry.z_H.device)  # [B]
    rows = halted.view(-1, 1)
    data = ExampleBatch(torch.where(rows, incoming.tokens, carry.data.tokens),
                        torch.where(rows, incoming.labels, carry.data.labels),
                        torch.where(halted, incoming.blanks, carry.data.blanks))
    mask = halted.view(-1, 1, 1)
    z_H = torch.where(mask, h_init.to(carry.z_H.dtype), carry.z_H)
    z_L = torch.where(mask, l_init.to(carry.z_L.dtype), carry.z_L)
    steps = np.where(carry.halted, 0, carry.steps).astype(np.int32)
    return ActCarry(z_H, z_L, steps, np.zeros_like(carry.halted), data)


def update_halting(steps: np.ndarray, q_halt: np.ndarray, max_steps: int, exploration_prob: float,
                   training: bool, rng: np.random.Generator, q_continue: Optional[np.ndarray] = None) -> np.ndarray:
    """End of a step: steps += 1 (in place); halted = steps ≥ max_steps, or (training) q_halt > 0
    (TRM) / q_halt > q_continue (HRM, when `q_continue` is given);
    with probability exploration_prob a row draws a minimum halt step in 2..max_steps and may not
    halt before it (TRM's no_ACT_continue path). Both draws happen for every row, so the random
    stream does not depend on the outcome."""
    steps += 1
    halted = steps >= max_steps
    if training and max_steps > 1:
        halted |= q_halt > (0 if q_continue is None else q_continue)
        explore = rng.random(len(steps)) < exploration_prob
        min_halt = 2 + rng.integers(0, max_steps - 1, size=len(steps))
        halted &= ~explore | (steps >= min_halt)
    return halted
