"""The torch side of test/unit/deq-parity.test.ts: reads a format-2 weights file written by the
TF.js engine (a tanh map z -> tanh(zW + x), the initial state, loss weights and, in its meta, the
solver cases in TF.js option names), runs them through reclab.deq in float32 and writes the
solutions, residual traces, iteration counts and gradients back as a format-2 file.

    python -m reclab.deq.parity IN.safetensors OUT.safetensors
"""
from __future__ import annotations

import sys
from typing import Any, Dict, Mapping

import numpy as np
import torch

from ..weights import expect_tensor, read_weights, write_weights
from .gradients import implicit_gradients, phantom_unroll
from .solvers import solve

# TF.js option names (trainer/deq/solverOptions.ts) -> reclab.deq names.
_NAMES = {"maxIter": "max_iter", "minIter": "min_iter", "tol": "tol", "stopMode": "stop_mode",
          "returnFinal": "return_final", "memory": "memory", "beta": "beta", "lambda": "lam"}


def from_tfjs_options(o: Mapping[str, Any]) -> Dict[str, Any]:
    unknown = [k for k in o if k not in _NAMES]
    if unknown:
        raise ValueError(f"unknown TF.js solver option(s) {unknown} (known: {', '.join(_NAMES)})")
    return {_NAMES[k]: v for k, v in o.items()}


def main(argv) -> int:
    src, dst = argv
    f = read_weights(src, expect_format="reclab-weights")
    meta = f.meta
    d, b = meta["d"], meta["batch"]
    W = torch.from_numpy(expect_tensor(f, src, "param/W", (d, d)).copy())
    x = torch.from_numpy(expect_tensor(f, src, "param/x", (b, d)).copy())
    z0 = torch.from_numpy(expect_tensor(f, src, "state/z0", (b, d)).copy())
    c = torch.from_numpy(expect_tensor(f, src, "loss/c", (b, d)).copy())
    Wp = W.clone().requires_grad_()
    fmap = lambda z: torch.tanh(z @ Wp + x)  # noqa: E731
    out: Dict[str, np.ndarray] = {}
    results = []
    for i, case in enumerate(meta["cases"]):
        z, s = solve(case["solver"], fmap, z0, from_tfjs_options(case["options"]))
        out[f"case{i}/solution"] = z.detach().numpy()
        out[f"case{i}/abs_trace"] = s.abs_trace.float().numpy()
        out[f"case{i}/rel_trace"] = s.rel_trace.float().numpy()
        results.append({"iterations": s.iterations, "nstep": s.nstep.tolist(), "fallbacks": s.fallbacks,
                        "converged": s.converged.tolist()})
    # Gradients of L = sum(c * z) at the first case's solution.
    z_star, _ = solve(meta["cases"][0]["solver"], fmap, z0, from_tfjs_options(meta["cases"][0]["options"]))
    ph = meta["phantom"]
    (g_phantom,) = torch.autograd.grad((phantom_unroll(fmap, z_star, ph["steps"], ph["tau"]) * c).sum(), Wp)
    adj = meta["adjoint"]
    (g_ift,), u, astats = implicit_gradients(fmap, z_star, c, [Wp], {"solver": adj["solver"], "options": from_tfjs_options(adj["options"])})
    out["grad/phantom"] = g_phantom.numpy()
    out["grad/ift"] = g_ift.numpy()
    out["adjoint/u"] = u.numpy()
    out["adjoint/abs_trace"] = astats.abs_trace.float().numpy()
    write_weights(dst, out, meta={"cases": results, "adjoint": {"iterations": astats.iterations}, "torch": torch.__version__})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
