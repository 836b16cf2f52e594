"""The torch side of the cross-engine parity test (test/unit/engine-parity.test.ts).

    python -m reclab.parity IN.safetensors OUT.safetensors

IN (format 2, "reclab-weights", written by the TF.js engine): a full training state in the
checkpoint names (param/*, adam_m/*, adam_v/*, ema/*, h_init, l_init, carry/*) plus the incoming
batch (batch/tokens, batch/labels, batch/blanks); its meta holds {"model": .., "train": ..}
(config sections), "step", "emaUpdates", "lr" and "depth": [T, n].

OUT: one `train_step` from that state: grad/<name> (this step's gradient, TF.js layout), the
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

from .model.trm import TRM, Depth, TaskShape
from .train.act_carry import ExampleBatch
from .train.flops import supervision_step_flops
from .train.train_state import create_train_state, load_state_tensors, state_tensors
from .train.train_step import train_step
from .weights import WeightsFileError, read_weights, write_weights


def _json_number(v):
    return None if isinstance(v, float) and math.isnan(v) else v  # NaN is not JSON


def run(in_path: str, out_path: str) -> None:
    f = read_weights(in_path, expect_format="reclab-weights")
    meta, t = f.meta, f.tensors
    tokens = t["batch/tokens"]
    model = TRM(meta["model"], TaskShape(int(t["param/embed_tokens"].shape[0]), int(tokens.shape[1])))
    state = create_train_state(model, meta["train"])
    load_state_tensors(state, t, meta["step"], meta["emaUpdates"], in_path)
    as_long = lambda a: torch.from_numpy(a.astype(np.int64))  # noqa: E731
    incoming = ExampleBatch(as_long(tokens), as_long(t["batch/labels"]), torch.from_numpy(t["batch/blanks"].astype(np.int32)))
    depth = Depth(*meta["depth"])
    # Exploration is off in the parity configs, so the halting draws do not matter.
    metrics = train_step(state, incoming, meta["train"], depth, meta["lr"], np.random.default_rng(0))
    out = {f"grad/{n}": model.to_tfjs_layout(n, p.grad) for n, p in model.named_tfjs_parameters()}
    out.update(state_tensors(state))
    flops = supervision_step_flops(model, depth, meta["train"]["batchSize"], True)
    write_weights(out_path, out, "reclab-weights", {
        "kind": "reclab-parity-output", "metrics": {k: _json_number(v) for k, v in dataclasses.asdict(metrics).items()},
        "flops": {"forward": flops.forward, "backward": flops.backward}, "torch": torch.__version__})


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m reclab.parity IN.safetensors OUT.safetensors", file=sys.stderr)
        return 2
    torch.set_num_threads(1)  # the numbers, not the speed, are what is compared
    try:
        run(argv[0], argv[1])
    except (WeightsFileError, ValueError, KeyError) as e:
        print(f"reclab.parity: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
