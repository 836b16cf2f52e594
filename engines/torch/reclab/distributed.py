"""Data parallelism under torchrun (`reclab train --engine torch --gpus N`): gloo on the CPU, nccl on CUDA.

Every rank builds the same model from the same seed and draws the same global batch and the same
halting numbers; each takes its slice of rows (rank r: rows r*b .. (r+1)*b of the global batch B,
b = B / world) and keeps the ACT carry of those rows. A hook on every parameter averages its
gradient across ranks during backward, so the optimizers (and EMA) stay identical everywhere and the
step equals a one-process step on the global batch (per-row losses are row means, so the mean of the
ranks' means is the global mean). Checkpoints hold the global carry (gathered to rank 0) and are
read back by slicing, so a run resumes with any process count that divides the batch. Only rank 0
writes the run directory. With one process (no torchrun) every method is a no-op.
"""
from __future__ import annotations

import contextlib
import math
import os
from typing import Any, Dict, Iterator, Mapping

import numpy as np
import torch
import torch.distributed as tdist

CARRY_PREFIX = "carry/"


class RankRowsRng:
    """A numpy Generator seen by one rank: every draw is made for all ranks' rows, this rank keeps its own."""

    def __init__(self, rng: np.random.Generator, rank: int, world: int):
        self.rng, self.rank, self.world = rng, rank, world

    def _mine(self, a: np.ndarray, n: int) -> np.ndarray:
        return a[self.rank * n:(self.rank + 1) * n]

    def random(self, size: int) -> np.ndarray:
        return self._mine(self.rng.random(size * self.world), size)

    def integers(self, low: int, high: Any = None, size: Any = None) -> np.ndarray:
        return self._mine(self.rng.integers(low, high, size=size * self.world), size)


class Distributed:
    def __init__(self, rank: int, world: int, local_rank: int):
        self.rank, self.world, self.local_rank = rank, world, local_rank
        self.sync_gradients = True
        self.device = torch.device("cpu")
        self.active = False

    @staticmethod
    def from_environment() -> "Distributed":
        """torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; without them this is the only process."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        return Distributed(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))

    @property
    def is_writer(self) -> bool:
        return self.rank == 0

    def init(self, device: Any) -> None:
        if self.world == 1:
            return
        backend = "nccl" if device.torch_device.type == "cuda" else "gloo"
        tdist.init_process_group(backend=backend, init_method="env://")
        self.device = device.torch_device if backend == "nccl" else torch.device("cpu")
        self.active = True

    def close(self) -> None:
        if self.active and tdist.is_initialized():
            tdist.destroy_process_group()
        self.active = False

    # gradients ------------------------------------------------------------------------------------
    def attach(self, parameters: Any) -> None:
        """Average each parameter's gradient across ranks as backward produces it."""
        if self.world == 1:
            return

        def average(g: torch.Tensor) -> torch.Tensor:
            if not self.sync_gradients:
                return g
            g = g.contiguous().clone()
            tdist.all_reduce(g)
            return g / self.world

        for p in parameters:
            if p.requires_grad:
                p.register_hook(average)

    @contextlib.contextmanager
    def no_gradient_sync(self) -> Iterator[None]:
        """For backward passes only rank 0 makes (the gradient-variance probe)."""
        was, self.sync_gradients = self.sync_gradients, False
        try:
            yield
        finally:
            self.sync_gradients = was

    # rows -----------------------------------------------------------------------------------------
    def rank_rows_rng(self, rng: np.random.Generator) -> Any:
        return rng if self.world == 1 else RankRowsRng(rng, self.rank, self.world)

    def local_rows(self, batch: Any, rows: int) -> Any:
        return batch if self.world == 1 else batch.rows(self.rank * rows, rows)

    def local_carry_rows(self, tensors: Mapping[str, np.ndarray], rows: int) -> Dict[str, np.ndarray]:
        """A checkpoint's global carry -> this rank's rows."""
        if self.world == 1:
            return dict(tensors)
        return {k: (v[self.rank * rows:(self.rank + 1) * rows] if k.startswith(CARRY_PREFIX) else v) for k, v in tensors.items()}

    def gather_carry_rows(self, tensors: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Every rank's carry rows, concatenated in rank order (collective: every rank calls it)."""
        if self.world == 1:
            return tensors
        out = dict(tensors)
        for k in sorted(tensors):
            if not k.startswith(CARRY_PREFIX):
                continue
            a = tensors[k]
            wide = torch.from_numpy(np.ascontiguousarray(a).astype(np.float64 if a.dtype.kind == "f" else np.int64)).to(self.device)
            parts = [torch.empty_like(wide) for _ in range(self.world)]
            tdist.all_gather(parts, wide)
            out[k] = torch.cat(parts).cpu().numpy().astype(a.dtype)
        return out

    # agreement and metrics -------------------------------------------------------------------------
    def agree_any(self, flag: bool) -> bool:
        """True on every rank when it is true on any (stop requests, aborted evaluations)."""
        if self.world == 1:
            return bool(flag)
        t = torch.tensor([1 if flag else 0], dtype=torch.int64, device=self.device)
        tdist.all_reduce(t, op=tdist.ReduceOp.MAX)
        return bool(t.item())

    def reduce_metrics(self, m: Dict[str, float]) -> Dict[str, float]:
        """Step metrics of the global batch: losses averaged, halted rows summed, accuracies over
        the halted rows of all ranks; the gradient statistics are already global."""
        if self.world == 1:
            return m
        halted = float(m["haltedRows"])
        keys = ("tokenAccuracy", "exactAccuracy", "qHaltAccuracy", "meanHaltSteps")
        weighted = [halted * m[k] if halted > 0 and math.isfinite(m[k]) else 0.0 for k in keys]
        t = torch.tensor([m["lmLoss"], m["qHaltLoss"], m["lossScale"], halted, *weighted, m.get("qContinueLoss", math.nan)],
                         dtype=torch.float64, device=self.device)
        tdist.all_reduce(t)
        v = t.cpu().tolist()
        total = v[3]
        out = dict(m)
        out.update(lmLoss=v[0] / self.world, qHaltLoss=v[1] / self.world, lossScale=v[2] / self.world, haltedRows=int(round(total)),
                   qContinueLoss=v[-1] / self.world)
        for i, k in enumerate(keys):
            out[k] = v[4 + i] / total if total > 0 else float("nan")
        return out
