"""Bring your own training loop: a run directory the extension opens live, from any PyTorch code.

    from reclab import Run
    run = Run(runs_root="runs", name="my-trm", config={...})   # config.json, run_start
    run.log_step(step, loss=..., lr=..., q_halt_loss=..., grad_norm=...)
    run.log_eval(step, exact_accuracy=..., by_blanks=[...])
    run.snapshot(step, questions, digits, confidence, q_halt, ...)  # refinement view
    run.checkpoint(step, {"param/...": tensor})                      # format-2 weights file
    run.finish()                                                     # done + summary.json

Everything goes through reclab.run_directory, the worker's own writer, so the events are the
protocol's (protocol/events.ts) field for field; fields a plain loop does not have are null or 0.
The run's config is a complete RunConfig: yours laid over the default preset (default_config.json,
generated from protocol/presets.ts; a test keeps it current), so the views find every field.
"""
from __future__ import annotations

import copy
import datetime
import json
import os
import platform
import re
import sys
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from .refinement import encode_trajectory
from .run_directory import RunDirectory


def new_run_id(label: str, now: Optional[datetime.datetime] = None) -> str:
    """A short sortable id as trainer/run/runDirectory.ts newRunId: 20261129-153012-label."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y%m%d-%H%M%S") + "-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", label)


DEFAULT_CONFIG_FILE = os.path.join(os.path.dirname(__file__), "default_config.json")


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> Dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) else copy.deepcopy(v)
    return out


def complete_config(config: Mapping[str, Any]) -> Dict[str, Any]:
    """Your config over the default preset: a complete RunConfig, engine "torch"."""
    with open(DEFAULT_CONFIG_FILE, "r", encoding="utf-8") as f:
        base = json.load(f)
    return deep_merge(base, {**dict(config), "engine": "torch"})


def _numpy(a: Any) -> np.ndarray:
    return a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)


class Run:
    """A run directory written by your own loop. `config`: the RunConfig fields that describe your run
    (e.g. model.hiddenSize / hCycles / lCycles, train.haltMaxSteps, data.side); the rest are the default preset's."""

    def __init__(self, runs_root: str = "runs", name: str = "run", config: Optional[Mapping[str, Any]] = None,
                 total_steps: int = 0, backend: str = "torch", run_id: Optional[str] = None):
        cfg = complete_config({"name": name, **dict(config or {})})
        self.config = cfg
        self.run_id = run_id or new_run_id(name)
        self.path = os.path.join(runs_root, self.run_id)
        import torch  # only for the versions it records

        metadata = {"runId": self.run_id, "createdAt": datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z"),
                    "backend": backend, "engine": "torch", "versions": {"python": platform.python_version(), "torch": torch.__version__},
                    "command": list(sys.argv)}
        self.dir = RunDirectory.create(self.path, {"metadata": metadata, "config": cfg})
        self._t0 = time.monotonic()
        self._last_step_time = self._t0
        self._steps = 0
        self._best: Optional[float] = None
        self._final: Optional[Dict[str, Any]] = None
        self._finished = False
        self.dir.append_event({"type": "run_start", "runId": self.run_id, "config": cfg, "backend": backend, "startStep": 0,
                               "totalSteps": int(total_steps), "resumed": False, "parameterCount": 0})

    def log_step(self, step: int, loss: float, q_halt_loss: float = 0.0, lr: float = 0.0, grad_norm: float = 0.0,
                 token_accuracy: Optional[float] = None, exact_accuracy: Optional[float] = None, q_halt_accuracy: Optional[float] = None,
                 mean_halt_steps: Optional[float] = None, halted_rows: int = 0, batch_size: int = 0,
                 flops_forward: float = 0.0, flops_backward: float = 0.0, step_seconds: Optional[float] = None,
                 h_cycles: Optional[int] = None, l_cycles: Optional[int] = None) -> None:
        """One optimizer step. `loss` is the LM loss the Live Training view plots; the rest as you have them."""
        now = time.monotonic()
        seconds = step_seconds if step_seconds is not None else now - self._last_step_time
        self._last_step_time = now
        self._steps = max(self._steps, int(step))
        m = self.config["model"]
        self.dir.append_event({
            "type": "step", "step": int(step), "lmLoss": float(loss), "qHaltLoss": float(q_halt_loss),
            "tokenAccuracy": token_accuracy, "exactAccuracy": exact_accuracy, "qHaltAccuracy": q_halt_accuracy,
            "meanHaltSteps": mean_halt_steps, "haltedRows": int(halted_rows), "lr": float(lr), "gradNorm": float(grad_norm),
            "samplesPerSecond": batch_size / seconds if seconds > 0 else 0.0, "flopsForward": float(flops_forward),
            "flopsBackward": float(flops_backward), "hCycles": int(h_cycles or m["hCycles"]), "lCycles": int(l_cycles or m["lCycles"]),
            "stage": 0, "stepSeconds": float(seconds), "gradVarianceRunning": None, "lossScale": 1.0,
        })

    def log_eval(self, step: int, exact_accuracy: float, token_accuracy: float = 0.0, q_halt_accuracy: float = 0.0,
                 by_blanks: Sequence[Mapping[str, Any]] = (), puzzles: int = 0, final: bool = False, seconds: float = 0.0,
                 early_exit: Optional[Mapping[str, float]] = None) -> None:
        """An evaluation. by_blanks: [{"blanks", "count", "exactAccuracy", "tokenAccuracy"}, ...]."""
        rows: List[Dict[str, Any]] = [{"blanks": int(b["blanks"]), "count": int(b["count"]), "exactAccuracy": float(b["exactAccuracy"]),
                                       "tokenAccuracy": float(b.get("tokenAccuracy", 0.0))} for b in by_blanks]
        m = self.config["model"]
        e = {"type": "eval", "step": int(step), "scope": "final" if final else "periodic",
             "puzzles": int(puzzles or sum(r["count"] for r in rows)), "exactAccuracy": float(exact_accuracy),
             "tokenAccuracy": float(token_accuracy), "qHaltAccuracy": float(q_halt_accuracy), "byBlanks": rows,
             "seconds": float(seconds), "hCycles": int(m["hCycles"]), "lCycles": int(m["lCycles"]),
             "earlyExit": dict(early_exit) if early_exit else {"meanSteps": 0.0, "exactAccuracy": 0.0, "qHaltAccuracy": 0.0},
             "gradientVariance": None, "trainSeconds": time.monotonic() - self._t0, "flopsForwardTotal": 0.0, "flopsBackwardTotal": 0.0}
        self.dir.append_event(e)
        self._best = max(self._best or 0.0, float(exact_accuracy))
        if final:
            self._final = {"exactAccuracy": e["exactAccuracy"], "tokenAccuracy": e["tokenAccuracy"],
                           "byBlanks": [{"blanks": r["blanks"], "count": r["count"], "exactAccuracy": r["exactAccuracy"]} for r in rows]}

    def snapshot(self, step: int, questions: Any, digits: Any, confidence: Any, q_halt: Any, solutions: Any = None,
                 cycles_per_step: int = 1) -> None:
        """A refinement snapshot from arrays: questions [P, L] (0 = blank); digits [P, F, L] (0..side);
        confidence [P, F, L] as probabilities in [0, 1] (or uint8 x 255); q_halt [P, F]. F = steps x cycles_per_step."""
        side = int(self.config["data"]["side"])
        q = _numpy(questions).astype(np.uint8)
        d = _numpy(digits)
        c = _numpy(confidence)
        if c.dtype != np.uint8:
            c = np.floor(np.clip(c.astype(np.float64), 0, 1) * 255 + 0.5).astype(np.uint8)
        frames = d.shape[1]
        if frames % cycles_per_step:
            raise ValueError(f"snapshot: {frames} frames is not a multiple of cycles_per_step {cycles_per_step}")
        traj = encode_trajectory(side, q, None if solutions is None else _numpy(solutions).astype(np.uint8), frames // cycles_per_step,
                                 cycles_per_step, d.astype(np.uint8), c, _numpy(q_halt).astype(np.float32))
        self.dir.append_event({"type": "refinement", "step": int(step), "trajectory": traj})

    def checkpoint(self, step: int, tensors: Mapping[str, Any], meta: Optional[Mapping[str, Any]] = None) -> str:
        """Writes checkpoints/step-NNNNNNN.ckpt (format 2, reclab-weights) and its event; returns the path."""
        from .weights import write_weights

        path = self.dir.checkpoint_path(int(step))
        write_weights(path, {k: _numpy(v) for k, v in tensors.items()}, kind="reclab-weights",
                      meta={"kind": "reclab-logging-api-weights", "engine": "torch", "step": int(step), **dict(meta or {})})
        self.dir.append_event({"type": "checkpoint", "step": int(step), "path": self.dir.relative_checkpoint_path(int(step))})
        return path

    def finish(self, status: str = "completed") -> None:
        """The done event and summary.json (status "completed" or "stopped"; "failed" writes an error event)."""
        if self._finished:
            return
        self._finished = True
        wall = time.monotonic() - self._t0
        if status == "failed":
            self.dir.append_event({"type": "error", "message": "the training loop failed", "step": self._steps})
        else:
            self.dir.append_event({"type": "done", "step": self._steps, "status": status, "wallSeconds": wall})
        summary: Dict[str, Any] = {"runId": self.run_id, "status": status, "steps": self._steps, "wallSeconds": wall,
                                   "backend": "torch", "flopsForwardTotal": 0, "flopsBackwardTotal": 0}
        if self._final is not None:
            summary["finalEval"] = self._final
        if self._best is not None:
            summary["bestExactAccuracy"] = self._best
        self.dir.write_summary(summary)

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.finish("failed" if exc_type is not None else "completed")
