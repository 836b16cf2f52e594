"""The worker (`python -m reclab.worker`) as Node runs it: the run directory it writes, exact resume
after a graceful stop and after SIGKILL, divergence, and bad input refused with exit 2 and nothing
changed. Each run is a real training run of a small TRM on 4x4 Sudoku (1 thread, so bit-exact)."""
import json
import os
import random
import signal
import subprocess
import time

import numpy as np
import pytest

from protocol_files import deep_merge, make_run_dir, preset, read_events, run_worker, schema_file, small_config, worker_command, worker_env
from reclab.devices import check_torch_version
from reclab.errors import BadInput
from reclab.weights import read_weights, write_weights


def snapshot_dir(path):
    """Every file's bytes under a run directory (to show that a refused command changed nothing)."""
    out = {}
    for root, _, files in os.walk(path):
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, path)] = fh.read()
    return out


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    """One uninterrupted 12-step run: the truth the resumed runs must reproduce bit for bit."""
    tmp = tmp_path_factory.mktemp("ref")
    d = make_run_dir(tmp / "run", small_config())
    r = run_worker(d, schema=schema_file(tmp))
    assert r.returncode == 0, r.stderr
    return d, r


def final_tensors(run_dir, step=12):
    return read_weights(os.path.join(run_dir, "checkpoints", f"step-{step:07d}.ckpt")).tensors


def test_run_writes_the_protocol_run_directory(reference_run):
    d, r = reference_run
    events = read_events(d)
    # stdout carries every event line too, in the same order (Node forwards them).
    assert [json.loads(line) for line in r.stdout.splitlines() if line.strip()] == events
    types = [e["type"] for e in events]
    assert types[0] == "run_start" and types[1] == "stage" and types[-1] == "done"
    assert events[0]["startStep"] == 0 and events[0]["totalSteps"] == 12 and not events[0]["resumed"] and events[0]["parameterCount"] > 0
    assert [e["step"] for e in events if e["type"] == "step"] == list(range(1, 13))
    assert [(e["step"], e["scope"]) for e in events if e["type"] == "eval"] == [(6, "periodic"), (12, "final")]
    assert [e["step"] for e in events if e["type"] == "refinement"] == [6, 12]
    assert [e["step"] for e in events if e["type"] == "checkpoint"] == [4, 8, 12]
    assert [e["path"] for e in events if e["type"] == "checkpoint"][0] == "checkpoints/step-0000004.ckpt"
    assert events[-1]["status"] == "completed" and events[-1]["step"] == 12
    step = next(e for e in events if e["type"] == "step")
    assert step["flopsForward"] > 0 and step["flopsBackward"] > 0 and (step["hCycles"], step["lCycles"]) == (2, 2) and step["lossScale"] == 1
    final = next(e for e in events if e["type"] == "eval" and e["scope"] == "final")
    cfg = small_config()
    # The final eval covers the whole held-out set (test_blanks 4, 6, ..., 12 x 8), periodic 4 per blank count.
    assert final["puzzles"] == 5 * cfg["data"]["testPerBlank"] and [b["blanks"] for b in final["byBlanks"]] == [4, 6, 8, 10, 12]
    periodic = next(e for e in events if e["type"] == "eval")
    assert periodic["puzzles"] == 5 * cfg["eval"]["puzzlesPerBlank"] and periodic["gradientVariance"] > 0
    assert 1 <= final["earlyExit"]["meanSteps"] <= cfg["train"]["haltMaxSteps"]
    summary = json.load(open(os.path.join(d, "summary.json")))
    assert summary["status"] == "completed" and summary["steps"] == 12 and summary["backend"] == "torch-cpu"
    assert summary["finalEval"]["exactAccuracy"] == final["exactAccuracy"]
    meta = json.load(open(os.path.join(d, "config.json")))["metadata"]
    assert meta["engine"] == "torch" and meta["device"]["type"] == "cpu" and meta["device"]["dtype"] == "float32"
    assert meta["device"]["threads"] == 1 and meta["device"]["blas"] and meta["device"]["torch"]
    # Checkpoints are verified format-2 training checkpoints with the protocol's tensor names.
    f = read_weights(os.path.join(d, "checkpoints", "step-0000008.ckpt"), expect_format="reclab-checkpoint")
    assert f.meta["step"] == 8 and f.meta["engine"] == "torch"
    assert {"param/embed_tokens", "adam_m/lm_head", "ema/lm_head", "carry/z_h", "carry/tokens", "h_init"} <= set(f.tensors)
    assert not [n for n in os.listdir(os.path.join(d, "checkpoints")) if ".tmp" in n]


def _start(run_dir, *extra):
    return subprocess.Popen(worker_command(run_dir, *extra), env=worker_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_step(proc, step):
    """Reads the worker's stdout until a step event >= `step` (returns the lines read)."""
    lines = []
    for line in proc.stdout:
        lines.append(line)
        e = json.loads(line)
        if e["type"] == "step" and e["step"] >= step:
            return lines
    raise AssertionError(f"worker ended before step {step}: {proc.stderr.read()[-2000:]}")


def _assert_same_end(run_dir, reference_dir):
    want, got = final_tensors(reference_dir), final_tensors(run_dir)
    assert set(want) == set(got)
    for name in want:
        assert np.array_equal(want[name], got[name]), f"{name} differs from the uninterrupted run"
    final = lambda d: [e for e in read_events(d) if e["type"] == "eval" and e["scope"] == "final"][-1]  # noqa: E731
    assert final(run_dir)["byBlanks"] == final(reference_dir)["byBlanks"]


def test_sigterm_stops_gracefully_and_resume_is_bit_identical(reference_run, tmp_path):
    ref, _ = reference_run
    d = make_run_dir(tmp_path / "run", small_config())
    p = _start(d)
    _wait_for_step(p, 5)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    events = read_events(d)
    done = events[-1]
    assert done["type"] == "done" and done["status"] == "stopped" and 5 <= done["step"] < 12
    assert events[-2] == {**events[-2], "type": "checkpoint", "step": done["step"]}
    assert json.load(open(os.path.join(d, "summary.json")))["status"] == "stopped"

    r = run_worker(d, "--resume")
    assert r.returncode == 0, r.stderr
    resumed = read_events(d)[len(events):]
    assert resumed[0]["type"] == "run_start" and resumed[0]["resumed"] and resumed[0]["startStep"] == done["step"]
    assert [e["step"] for e in resumed if e["type"] == "step"] == list(range(done["step"] + 1, 13))
    _assert_same_end(d, ref)


def test_sigkill_at_a_random_moment_then_resume_is_bit_identical(reference_run, tmp_path):
    ref, _ = reference_run
    d = make_run_dir(tmp_path / "run", small_config())
    p = _start(d)
    # Kill anywhere within the step after step k (its eval or checkpoint write included), timed by
    # the step before: a fixed sleep outlasted the last steps of this 12-step run on a quiet machine.
    rng = random.Random()
    k = rng.randint(4, 9)
    _wait_for_step(p, k - 1)
    t = time.monotonic()
    _wait_for_step(p, k)
    time.sleep(rng.random() * (time.monotonic() - t))
    assert p.poll() is None, "the worker ended before the kill"
    p.kill()
    p.communicate(timeout=60)
    assert p.returncode == -signal.SIGKILL
    before = os.path.getsize(os.path.join(d, "events.jsonl"))
    r = run_worker(d, "--resume")
    assert r.returncode == 0, r.stderr
    # The resumed writer starts on a new line even if the killed one left a torn line: at most that one
    # line fails to parse, everything after it is whole.
    with open(os.path.join(d, "events.jsonl")) as f:
        lines = f.read().split("\n")
    bad = []
    for i, line in enumerate(lines):
        if line:
            try:
                json.loads(line)
            except ValueError:
                bad.append(i)
    assert len(bad) <= 1 and all(sum(len(x) + 1 for x in lines[:i]) < before for i in bad)
    _assert_same_end(d, ref)


def test_diverging_run_fails_at_the_first_non_finite_loss(tmp_path):
    cfg = small_config()
    d = make_run_dir(tmp_path / "run", cfg)
    # Initial weights whose output head overflows float32 (every value finite, so the reader accepts them):
    # each logit sums 16 products of 3e38 with the normalised state, beyond float32's 3.4e38.
    src = make_run_dir(tmp_path / "src", small_config(train={"steps": 1}, checkpointEverySteps=0, eval={"everySteps": 0}, refinement={"everySteps": 0}))
    assert run_worker(src).returncode == 0
    t = read_weights(os.path.join(src, "checkpoints", "step-0000001.ckpt")).tensors
    params = {k: v for k, v in t.items() if k.startswith("param/")}
    params["param/lm_head"] = np.full_like(params["param/lm_head"], 3e38)
    write_weights(str(tmp_path / "huge.safetensors"), params)
    r = run_worker(d, "--checkpoint", str(tmp_path / "huge.safetensors"))
    assert r.returncode == 1, r.stderr
    events = read_events(d)
    assert events[-1]["type"] == "error" and "non-finite loss at step 1" in events[-1]["message"]
    assert not [e for e in events if e["type"] == "step"]
    assert json.load(open(os.path.join(d, "summary.json")))["status"] == "failed"


def test_bad_input_is_refused_with_exit_2_and_nothing_changed(reference_run, tmp_path):
    ref, _ = reference_run
    schema = schema_file(tmp_path)
    cases = []
    # A config that breaks the schema: named field.
    d = make_run_dir(tmp_path / "bad-config", small_config(train={"steps": -3}))
    cases.append((d, [], "config.train.steps"))
    # A corrupted task-data file: the checksum names the file.
    d = make_run_dir(tmp_path / "bad-data", small_config())
    td = os.path.join(d, "worker", "task-data.safetensors")
    raw = bytearray(open(td, "rb").read())
    raw[-5] ^= 0xFF
    open(td, "wb").write(bytes(raw))
    cases.append((d, [], "task-data.safetensors"))
    # CUDA requested on a machine without a GPU.
    d = make_run_dir(tmp_path / "no-gpu", small_config())
    cases.append((d, ["--device", "cuda"], "cuda"))
    # Initial weights of another model size: the tensor and both shapes named.
    d = make_run_dir(tmp_path / "bad-shape", small_config())
    other = make_run_dir(tmp_path / "other", small_config(model={"hiddenSize": 8}, train={"steps": 1}, checkpointEverySteps=0,
                                                          eval={"everySteps": 0}, refinement={"everySteps": 0}))
    assert run_worker(other).returncode == 0
    cases.append((d, ["--checkpoint", os.path.join(other, "checkpoints", "step-0000001.ckpt")], "param/"))
    # Resume from a checkpoint with a flipped byte (a copy of the reference run).
    d = str(tmp_path / "bad-ckpt")
    os.makedirs(d)
    for rel, data in snapshot_dir(ref).items():
        os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
        open(os.path.join(d, rel), "wb").write(data)
    ck = os.path.join(d, "checkpoints", "step-0000012.ckpt")
    raw = bytearray(open(ck, "rb").read())
    raw[-9] ^= 0x01
    open(ck, "wb").write(bytes(raw))
    cases.append((d, ["--resume"], "step-0000012.ckpt"))
    for run_dir, extra, named in cases:
        before = snapshot_dir(run_dir)
        r = run_worker(run_dir, *extra, schema=schema)
        assert r.returncode == 2, (run_dir, r.stderr)
        assert named in r.stderr, (named, r.stderr)
        assert snapshot_dir(run_dir) == before, f"{run_dir}: a refused start changed the run directory"
        assert r.stdout == ""


def test_torch_too_old_is_bad_input():
    with pytest.raises(BadInput, match=r"torch 1\.12\.1 is too old.*>= 1\.13"):
        check_torch_version("1.12.1")
    check_torch_version("1.13.0a0")
    check_torch_version("2.5.1+cu124")


def test_sigterm_during_an_evaluation_aborts_it_between_batches(tmp_path):
    # 300 held-out puzzles scored one per batch: the evaluation after step 3 takes seconds, and the
    # stop lands inside it.
    cfg = small_config(data={"testPerBlank": 60}, eval={"everySteps": 3, "puzzlesPerBlank": 60, "batchSize": 1}, refinement={"everySteps": 0})
    d = make_run_dir(tmp_path / "run", cfg)
    p = _start(d)
    _wait_for_step(p, 3)
    time.sleep(0.3)
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=300)
    assert p.returncode == 0
    events = read_events(d)
    assert not [e for e in events if e["type"] == "eval"], "the evaluation was aborted, not finished"
    assert [e["type"] for e in events[-2:]] == ["checkpoint", "done"]
    assert events[-1]["status"] == "stopped" and events[-1]["step"] == 3 and events[-2]["step"] == 3


def test_hrm_run_logs_q_continue_loss_and_resumes_bit_identical(tmp_path):
    # The hrm-sudoku4 preset shrunk as small_config: schema-valid (arch, hLayers), modelStats in
    # every step event, and a resume from step 4 ends on the same step-12 state.
    cfg = deep_merge(preset("hrm-sudoku4"), {k: v for k, v in small_config().items() if k not in ("model", "engine")})
    cfg["model"]["hiddenSize"] = 16
    # Two blocks per network (the preset has one each), so the checkpoint names below exist.
    cfg["model"]["layers"] = cfg["model"]["hLayers"] = 2
    schema = schema_file(tmp_path)
    ref = make_run_dir(tmp_path / "ref", cfg)
    r = run_worker(ref, schema=schema)
    assert r.returncode == 0, r.stderr
    events = read_events(ref)
    assert events[0]["config"]["model"]["arch"] == "hrm"
    steps = [e for e in events if e["type"] == "step"]
    assert len(steps) == 12 and all(e["modelStats"]["qContinueLoss"] > 0 for e in steps)
    f = read_weights(os.path.join(ref, "checkpoints", "step-0000004.ckpt"), expect_format="reclab-checkpoint")
    assert {"param/h_layers.1.mlp.down", "param/l_layers.1.mlp.down", "adam_m/h_layers.0.seq_mlp.gate_up"} <= set(f.tensors)
    want = final_tensors(ref)
    d = str(tmp_path / "resumed")
    for rel, data in snapshot_dir(ref).items():
        os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
        open(os.path.join(d, rel), "wb").write(data)
    r = run_worker(d, "--resume", "--checkpoint", os.path.join(d, "checkpoints", "step-0000004.ckpt"), schema=schema)
    assert r.returncode == 0, r.stderr
    resumed = read_events(d)[len(events):]
    assert resumed[0]["type"] == "run_start" and resumed[0]["startStep"] == 4
    assert [e["step"] for e in resumed if e["type"] == "step"] == list(range(5, 13))
    got = final_tensors(d)
    for name in want:
        assert np.array_equal(want[name], got[name]), f"{name} differs from the uninterrupted run"
