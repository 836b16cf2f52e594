"""Held-out accuracy of a torch run's checkpoints, per blank count, against wall time:

    python -m reclab.evaluate_run RUN_DIR [--blanks 25,35,45] [--per-blank N] [--threads N]

For every checkpoint (in step order) it evaluates the evaluation weights (EMA when on) exactly as
the run's final evaluation does (N_sup steps at full depth, reference.md §1.6) on the run's held-out
puzzles with the chosen blank counts, and prints one JSON line: step, the wall minutes since the
run started when the checkpoint was written (from its checkpoint event), exact accuracy per blank
count. This is how the README's sudoku9 accuracy-vs-time table was measured.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the worker, before torch loads

import numpy as np  # noqa: E402

from .data import encode_puzzles  # noqa: E402
from .devices import choose_device  # noqa: E402
from .distributed import Distributed  # noqa: E402
from .evaluate import evaluate  # noqa: E402
from .run_directory import CHECKPOINTS_DIR, RunDirectory, step_of_checkpoint_file  # noqa: E402
from .train.train_state import evaluation_weights  # noqa: E402
from .worker import StopRequest, TrainingRun  # noqa: E402


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m reclab.evaluate_run")
    p.add_argument("run_dir")
    p.add_argument("--blanks", default="25,35,45", help="blank counts to score (default 25,35,45)")
    p.add_argument("--per-blank", type=int, default=0, help="puzzles per blank count (default: all the run holds)")
    p.add_argument("--threads", type=int)
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    run_dir = RunDirectory.open(args.run_dir)
    file = run_dir.read_config_file()
    device = choose_device("cpu", "float32", 0, args.threads)
    events = [json.loads(line) for line in open(run_dir.file("events.jsonl"), encoding="utf-8") if line.strip().endswith("}")]
    start = next(e["time"] for e in events if e.get("type") == "run_start")
    written = {e["step"]: e["time"] for e in events if e.get("type") == "checkpoint"}
    names = sorted((s, n) for n in os.listdir(run_dir.file(CHECKPOINTS_DIR)) if (s := step_of_checkpoint_file(n)) is not None)
    wanted = [int(b) for b in args.blanks.split(",")]
    for step, name in names:
        run = TrainingRun(run_dir, file, device, Distributed(0, 1, 0), StopRequest(), True, os.path.join(run_dir.path, CHECKPOINTS_DIR, name))
        d = run.data
        keep: List[int] = []
        for b in wanted:
            rows = np.nonzero(d.test_blanks == b)[0]
            keep += list(rows[: args.per_blank or len(rows)])
        test = encode_puzzles(d.test_questions[keep], d.test_solutions[keep], d.test_blanks[keep], d.token_offset)
        with evaluation_weights(run.state) as model:
            start_fn, step_fn, _, _ = run.model_functions(model)
            r = evaluate(start_fn, step_fn, test, run.train_cfg["haltMaxSteps"], file["config"]["eval"]["batchSize"])
        minutes = (written[step] - start) / 60000 if step in written else None
        print(json.dumps({"step": step, "wallMinutes": minutes, "trainSeconds": run.progress["trainSeconds"],
                          "byBlanks": {b["blanks"]: {"count": b["count"], "exactAccuracy": b["exactAccuracy"]} for b in r["byBlanks"]}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
