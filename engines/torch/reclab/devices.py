"""Where the worker computes: CUDA (bf16 autocast as the reference, fp32 on request), Apple MPS, or
the CPU with one thread per core. On the CPU the BLAS matters most (perf-notes.md: the reference
netlib BLAS Debian's torch may bring is 40-80x slower than OpenBLAS), so the worker says when torch
runs on it. What was chosen goes to config.json `metadata.device`.
"""
from __future__ import annotations

import contextlib
import glob
import os
import re
import sys
from dataclasses import dataclass
from typing import Any, ContextManager, Dict, Optional

import torch

from .errors import BadInput

MIN_TORCH = (1, 13)


def torch_version_tuple(version: str = torch.__version__) -> tuple:
    m = re.match(r"(\d+)\.(\d+)", version)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def check_torch_version(version: str = torch.__version__) -> None:
    if torch_version_tuple(version) < MIN_TORCH:
        raise BadInput(f"torch {version} is too old: the torch engine needs torch >= {MIN_TORCH[0]}.{MIN_TORCH[1]} "
                       "(Debian: apt-get install python3-torch libopenblas0-openmp; elsewhere: pip install --upgrade torch)")


def _classify(path: str) -> str:
    for key in ("openblas", "blis", "mkl", "atlas"):
        if key in path:
            return f"{key} ({path})"
    return f"reference ({path})" if re.search(r"/blas/libblas|libblas\.so", path) else f"unknown ({path})"


def blas_in_use() -> str:
    """The BLAS torch calls. A build with its own BLAS says so in its config; Debian's links the generic
    libblas.so.3, so we look at the library actually mapped into this process (after one matmul),
    then at the alternatives link that picks it."""
    m = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    name = m.group(1) if m else "unknown"
    if name not in ("generic", "blas", "unknown"):
        return name
    torch.ones(64, 64) @ torch.ones(64, 64)
    try:
        with open("/proc/self/maps", "r", encoding="utf-8") as f:
            libs = sorted({line.split()[-1] for line in f if "blas" in line.split()[-1] and line.split()[-1].startswith("/")})
        if libs:
            return _classify(os.path.realpath(libs[0]))
    except OSError:
        pass
    for link in sorted(glob.glob("/etc/alternatives/libblas.so.3*")):
        return _classify(os.path.realpath(link))
    return name


def is_reference_blas(blas: str) -> bool:
    return blas.startswith("reference")


@dataclass
class Device:
    torch_device: torch.device
    dtype: str  # "bfloat16" (autocast) or "float32"
    description: Dict[str, Any]

    @property
    def autocast_dtype(self) -> Optional[torch.dtype]:
        return torch.bfloat16 if self.dtype == "bfloat16" else None

    def autocast(self) -> ContextManager[Any]:
        if self.dtype == "bfloat16" and self.torch_device.type == "cuda":
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def choose_device(request: str = "auto", dtype: str = "auto", local_rank: int = 0, threads: Optional[int] = None) -> Device:
    """`request`: auto | cpu | cuda | mps. `dtype`: auto (bf16 on CUDA, fp32 elsewhere) | bfloat16 | float32."""
    check_torch_version()
    if request not in ("auto", "cpu", "cuda", "mps"):
        raise BadInput(f"device must be auto, cpu, cuda or mps, got {request!r}")
    if request == "cuda" and not torch.cuda.is_available():
        raise BadInput("device cuda was requested but torch sees no CUDA GPU "
                       f"(torch {torch.__version__}, built with CUDA {torch.version.cuda}); use --device cpu or install a CUDA build of torch")
    if request == "mps" and not _mps_available():
        raise BadInput("device mps was requested but torch reports MPS unavailable")
    kind = request if request != "auto" else ("cuda" if torch.cuda.is_available() else "mps" if _mps_available() else "cpu")
    if dtype not in ("auto", "bfloat16", "float32"):
        raise BadInput(f"dtype must be auto, bfloat16 or float32, got {dtype!r}")
    chosen = dtype if dtype != "auto" else ("bfloat16" if kind == "cuda" else "float32")
    if chosen == "bfloat16" and kind != "cuda":
        raise BadInput(f"dtype bfloat16 (autocast) is for CUDA; device {kind} trains in float32")
    info: Dict[str, Any] = {"type": kind, "dtype": chosen, "torch": torch.__version__}
    if kind == "cuda":
        dev = torch.device("cuda", local_rank % torch.cuda.device_count())
        torch.cuda.set_device(dev)
        info["gpu"] = torch.cuda.get_device_name(dev)
        info["cuda"] = torch.version.cuda
    elif kind == "mps":
        dev = torch.device("mps")
    else:
        dev = torch.device("cpu")
    n = threads if threads is not None else (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
    torch.set_num_threads(max(1, n))
    info["threads"] = torch.get_num_threads()
    blas = blas_in_use()
    info["blas"] = blas
    if kind == "cpu" and is_reference_blas(blas):
        sys.stderr.write(f"reclab: warning: torch uses the reference BLAS ({blas}), 40-80x slower than OpenBLAS. "
                         "On Debian: apt-get install libopenblas0-openmp (and set OPENBLAS_CORETYPE for your CPU).\n")
    return Device(dev, chosen, info)
