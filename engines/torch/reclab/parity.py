"""The torch side of the cross-engine parity test (test/unit/engine-parity.test.ts).

    python -m reclab.parity CHECKPOINT.ckpt BATCH.safetensors OUT.safetensors

CHECKPOINT: a TF.js engine training checkpoint (format 2, trainer/run/trainingCheckpoint.ts): the
state in its names (param/*, adam_m/*, adam_v/*, ema/*, h_init, l_init, carry/*), step and
emaUpdates in its meta. BATCH ("reclab-weights"): the incoming batch (batch/tokens,
batch/labels, batch/blanks); its meta holds the config sections {"model": .., "train": ..},
"lr" and "depth": [T, n].

OUT ("reclab-checkpoint"): one `train_step` from that state: grad/<name> (this step's gradient, TF.js layout), the
state after the step (param/*, adam_m/*, adam_v/*, ema/*, carry/*), and in meta the step's
metrics and the analytic FLOPs of the step (reclab.train.flops).
Exit 2 on a bad input file (the message names the file and tensor).
"""
from __future__ import annotations

import dataclasses
import math
import sys

import numpy as np
import torch

from .model.recursive_model import Depth, TaskShape, create_model
from .train.act_carry import ExampleBatch
from .train.flops import supervision_step_flops
from .train.train_state import create_train_state, load_state_tensors, state_tensors
from .train.train_step import train_step
from .weights import WeightsFileError, read_weights, write_weights


def _json_number(v):
    return None if isinstance(v, float) and math.isnan(v) else v  # NaN is not JSON


def run(checkpoint_path: str, batch_path: str, out_path: str) -> None:
    ckpt = read_weights(checkpoint_path, expect_format="reclab-checkpoint")
    if ckpt.meta.get("kind") != "reclab-training-checkpoint":
        raise ValueError(f"{checkpoint_path}: not a training checkpoint (meta kind {ckpt.meta.get('kind')!r})")
    b = read_weights(batch_path, expect_format="reclab-weights")
    meta, t = b.meta, b.tensors
    tokens = t["batch/tokens"]
    model = create_model(meta["model"], TaskShape(int(ckpt.tensors["param/embed_tokens"].shape[0]), int(tokens.shape[1])))
    state = create_train_state(model, meta["train"])
    load_state_tensors(state, ckpt.tensors, ckpt.meta["step"], ckpt.meta["emaUpdates"], checkpoint_path)
    as_long = lambda a: torch.from_numpy(a.astype(np.int64))  # noqa: E731
    incoming = ExampleBatch(as_long(tokens), as_long(t["batch/labels"]), torch.from_numpy(t["batch/blanks"].astype(np.int32)))
    depth = Depth(*meta["depth"])
    # Exploration is off in the parity configs, so the halting draws do not matter.
    metrics = train_step(state, incoming, meta["train"], depth, meta["lr"], np.random.default_rng(0))
    out = {f"grad/{n}": model.to_tfjs_layout(n, p.grad) for n, p in model.named_tfjs_parameters()}
    out.update(state_tensors(state))
    flops = supervision_step_flops(model, depth, meta["train"]["batchSize"], True)
    # A "reclab-checkpoint" file, so the TF.js side reads it as it reads any checkpoint (export, trace).
    write_weights(out_path, out, "reclab-checkpoint", {
        "kind": "reclab-parity-output", "metrics": {k: _json_number(v) for k, v in dataclasses.asdict(metrics).items()},
        "flops": {"forward": flops.forward, "backward": flops.backward}, "torch": torch.__version__})


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m reclab.parity CHECKPOINT.ckpt BATCH.safetensors OUT.safetensors", file=sys.stderr)
        return 2
    torch.set_num_threads(1)  # the numbers, not the speed, are what is compared
    try:
        run(argv[0], argv[1], argv[2])
    except (WeightsFileError, ValueError, KeyError) as e:
        print(f"reclab.parity: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
