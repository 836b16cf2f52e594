"""The torch side of bench/deq-solver.bench.ts: FPI vs Anderson vs Broyden iterations and time to tolerance
on a 9x9-sized state [B, 81, D] (z -> tanh(zW + x), W symmetric, ||W||_2 = 0.95, x ~ 0.1 N(0, 1)), and the graph memory of a
phantom (K = 2) and an IFT gradient at max 8 vs 32 solver iterations beside BPTT through the solve.
Graph memory = bytes autograd saves for backward (saved_tensors_hooks): on a CPU that is what grows
with a tape; on CUDA also torch.cuda.max_memory_allocated.

    python -m reclab.deq.bench [--json] [--batch 16] [--hidden 64] [--rounds 5] [--device cpu]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import torch

from .gradients import attach_implicit_gradient, phantom_unroll
from .solvers import solve


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    dev = torch.device(a.device)
    g = torch.Generator().manual_seed(0)
    D = a.hidden
    W = torch.randn(D, D, generator=g)
    W = W + W.T  # symmetric: spectral radius = ||W||_2, so plain iteration is slow (rate ~0.95)
    W = (W * 0.95 / torch.linalg.matrix_norm(W, 2)).to(dev).requires_grad_()
    x = (0.1 * torch.randn(a.batch, 81, D, generator=g)).to(dev)
    c = torch.randn(a.batch, 81, D, generator=g).to(dev)
    f = lambda z: torch.tanh(z @ W + x)  # noqa: E731
    z0 = torch.zeros_like(x)

    solvers = {}
    for name in ("fixed_point_iter", "anderson", "broyden"):
        times, iters = [], 0
        for _ in range(a.rounds):
            t0 = time.perf_counter()
            _, s = solve(name, f, z0, {"max_iter": 200, "tol": a.tol, "stop_mode": "rel"})
            times.append(time.perf_counter() - t0)
            iters = s.iterations
            converged = bool(s.converged.all())
        solvers[name] = {"iterations": iters, "seconds": statistics.median(times), "converged": converged}

    def graph_bytes(fn):
        total = [0]

        def pack(t):
            total[0] += t.numel() * t.element_size()
            return t
        if dev.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            fn()
        peak = torch.cuda.max_memory_allocated() if dev.type == "cuda" else None
        W.grad = None
        return {"saved_bytes": total[0], "cuda_peak_bytes": peak}

    def step(kind, max_iter):
        o = {"max_iter": max_iter, "min_iter": max_iter, "tol": 1e-30}
        if kind == "bptt":
            z = z0
            for _ in range(max_iter):
                z = f(z)
        else:
            z_star, _ = solve("fixed_point_iter", f, z0, o)
            z = phantom_unroll(f, z_star, 2) if kind == "phantom" else attach_implicit_gradient(f, z_star, {"solver": "anderson", "options": o})
        (z * c).sum().backward()

    memory = {kind: {str(n): graph_bytes(lambda: step(kind, n)) for n in (8, 32)} for kind in ("phantom", "ift", "bptt")}
    result = {"torch": torch.__version__, "device": str(dev), "threads": torch.get_num_threads(), "state": [a.batch, 81, D],
              "tol": a.tol, "solvers": solvers, "memory": memory, "load": os.getloadavg()[0]}
    if a.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
