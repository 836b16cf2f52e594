"""Reads a run's TensorBoard export with TensorBoard's own EventAccumulator and checks every scalar
against the run's events.jsonl, mapped by this script's own reading of the README's tag table
(a second implementation of the mapping). Prints one JSON line: tags and scalars checked, or the
first mismatch. Usage: read_tensorboard.py <run-dir> <tensorboard-dir>"""
import json
import math
import struct
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

STEP_TAGS = {
    "lmLoss": "train/lm_loss", "qHaltLoss": "train/q_halt_loss", "tokenAccuracy": "train/token_accuracy",
    "exactAccuracy": "train/exact_accuracy", "qHaltAccuracy": "train/q_halt_accuracy",
    "meanHaltSteps": "train/mean_halt_steps", "lr": "train/lr", "gradNorm": "train/grad_norm",
    "gradVarianceRunning": "train/grad_variance_running", "lossScale": "train/loss_scale",
    "samplesPerSecond": "train/samples_per_second", "stepSeconds": "train/step_seconds",
    "flopsForward": "train/flops_forward", "flopsBackward": "train/flops_backward",
    "hCycles": "curriculum/h_cycles", "lCycles": "curriculum/l_cycles", "stage": "curriculum/stage",
}


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def expected(run_dir):
    want = {}  # tag -> {step: value}; a later line for the same step wins

    def put(tag, step, value):
        if value is None or not math.isfinite(value):
            return
        want.setdefault(tag, {})[step] = value

    with open(f"{run_dir}/events.jsonl", encoding="utf-8") as f:
        for line in f:
            try:
                e = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn line
            if e.get("type") == "step":
                for field, tag in STEP_TAGS.items():
                    put(tag, e["step"], e[field])
            elif e.get("type") == "eval":
                p = "eval_final" if e["scope"] == "final" else "eval"
                for field in ("exactAccuracy", "tokenAccuracy", "qHaltAccuracy"):
                    snake = {"exactAccuracy": "exact_accuracy", "tokenAccuracy": "token_accuracy", "qHaltAccuracy": "q_halt_accuracy"}[field]
                    put(f"{p}/{snake}", e["step"], e[field])
                ee = e["earlyExit"]
                put(f"{p}/early_exit/exact_accuracy", e["step"], ee["exactAccuracy"])
                put(f"{p}/early_exit/mean_steps", e["step"], ee["meanSteps"])
                put(f"{p}/early_exit/q_halt_accuracy", e["step"], ee["qHaltAccuracy"])
                put(f"{p}/gradient_variance", e["step"], e["gradientVariance"])
                put(f"{p}/train_seconds", e["step"], e["trainSeconds"])
                put(f"{p}/flops_total", e["step"], e["flopsForwardTotal"] + e["flopsBackwardTotal"])
                for b in e["byBlanks"]:
                    put(f"{p}/exact_accuracy_by_blanks/{b['blanks']}", e["step"], b["exactAccuracy"])
    return want


def main():
    run_dir, tb_dir = sys.argv[1], sys.argv[2]
    acc = EventAccumulator(tb_dir, size_guidance={"scalars": 0})
    acc.Reload()
    got_tags = set(acc.Tags()["scalars"])
    want = expected(run_dir)
    if got_tags != set(want):
        print(json.dumps({"ok": False, "why": "tags differ", "missing": sorted(set(want) - got_tags), "extra": sorted(got_tags - set(want))}))
        return
    checked = 0
    for tag, by_step in want.items():
        got = {s.step: s.value for s in acc.Scalars(tag)}
        if sorted(got) != sorted(by_step):
            print(json.dumps({"ok": False, "why": f"{tag}: steps differ", "got": sorted(got)[:20], "want": sorted(by_step)[:20]}))
            return
        for step, value in by_step.items():
            if got[step] != f32(value):
                print(json.dumps({"ok": False, "why": f"{tag} step {step}: {got[step]} != {f32(value)}"}))
                return
            checked += 1
    print(json.dumps({"ok": True, "tags": len(want), "scalars": checked}))


if __name__ == "__main__":
    main()
