"""Peak memory of one whole DEQ (TRM-DEQ or Attractor) training step in the torch engine (bench/deq-solver.bench.ts's
step-memory part): the model and train config given as JSON (a DEQ preset's, e.g. attractor-sudoku4, with
model.deq.maxIter = minIter = N and a tolerance no solve reaches, so every solve takes N map
evaluations), a fixed batch, one warm-up step (it allocates the optimizer state), then the measured
step. Run in a fresh process per N: tracemalloc does not see tensors and a CPU has no allocator
peak counter, so the figure is the process's peak RSS (ru_maxrss) over both steps minus the RSS
before the first, beside the bytes autograd saved for backward during the measured step.

    python -m reclab.deq.bench_step_memory --config '{"model": {...}, "train": {...}, "vocab": 6, "seq": 16}' [--seed 0]
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from ..model.recursive_model import TaskShape  # noqa: E402
from ..train.act_carry import ExampleBatch  # noqa: E402
from ..train.train_state import build_model, create_train_state  # noqa: E402
from ..train.train_step import train_step  # noqa: E402


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True, help="JSON: model, train, vocab, seq")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    c = json.loads(a.config)
    model_cfg, train_cfg = c["model"], c["train"]
    torch.manual_seed(a.seed)
    model = build_model(model_cfg, TaskShape(c["vocab"], c["seq"]), a.seed)
    state = create_train_state(model, train_cfg)
    B, L, V = train_cfg["batchSize"], c["seq"], c["vocab"]
    g = torch.Generator().manual_seed(a.seed + 1)
    labels = torch.randint(2, V, (B, L), generator=g)
    tokens = torch.where(torch.rand(B, L, generator=g) < 0.5, torch.ones_like(labels), labels)
    batch = ExampleBatch(tokens, labels, (tokens == 1).sum(1).int())
    rng = np.random.default_rng(a.seed)
    before = rss_bytes()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    train_step(state, batch, train_cfg, model.depth, 1e-4, rng)  # warm-up: optimizer state
    saved = [0]

    def pack(t):
        saved[0] += t.numel() * t.element_size()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        m = train_step(state, batch, train_cfg, model.depth, 1e-4, rng)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "maxIter": model_cfg["deq"]["maxIter"],
                      "iterations": m.model_stats.get("deqIterations"), "iterationsMax": m.model_stats.get("deqIterationsMax"),
                      "rssBefore": before, "peakRssBefore": peak_before, "peakRss": peak, "peakRssDelta": peak - max(before, 0),
                      "savedBytes": saved[0], "load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
