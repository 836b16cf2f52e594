"""The run directory writer: whole event lines, a new line after a torn tail, atomic rewrites,
checkpoint names from the protocol, and the logging API's complete config."""
import json
import os

import pytest

from protocol_files import preset
from reclab.logging_api import DEFAULT_CONFIG_FILE, Run
from reclab.run_directory import RunDirectory, checkpoint_file_name, step_of_checkpoint_file


def test_checkpoint_names_are_the_protocols():
    assert checkpoint_file_name(500) == "step-0000500.ckpt"
    assert step_of_checkpoint_file("step-0000500.ckpt") == 500
    assert step_of_checkpoint_file("step-0000500.ckpt.tmp-12") is None


def test_events_after_a_torn_tail_start_on_a_new_line(tmp_path):
    d = RunDirectory.create(str(tmp_path / "r"), {"metadata": {"runId": "r"}, "config": {}})
    d.append_event({"type": "step", "step": 1, "lmLoss": float("nan")})
    with open(d.file("events.jsonl"), "ab") as f:
        f.write(b'{"v":1,"time":1,"type":"st')  # a writer killed mid-line
    d2 = RunDirectory.open(d.path)
    d2.append_event({"type": "done", "step": 1, "status": "stopped", "wallSeconds": 0.5})
    d2.append_event({"type": "done", "step": 2, "status": "stopped", "wallSeconds": 0.5})
    lines = open(d.file("events.jsonl")).read().split("\n")
    assert lines[-1] == "" and lines[1] == '{"v":1,"time":1,"type":"st'
    first, third, fourth = json.loads(lines[0]), json.loads(lines[2]), json.loads(lines[3])
    assert first["lmLoss"] is None  # NaN is written as JSON.stringify writes it
    assert (third["v"], third["type"], third["step"], fourth["step"]) == (1, "done", 1, 2) and isinstance(third["time"], int)


def test_metadata_update_is_atomic_and_keeps_the_rest(tmp_path):
    d = RunDirectory.create(str(tmp_path / "r"), {"metadata": {"runId": "r", "backend": "torch"}, "config": {"seed": 3}})
    d.update_metadata(device={"type": "cpu"})
    f = d.read_config_file()
    assert f == {"metadata": {"runId": "r", "backend": "torch", "device": {"type": "cpu"}}, "config": {"seed": 3}}
    assert sorted(os.listdir(d.path)) == ["checkpoints", "config.json"]  # no temp file left behind
    with pytest.raises(FileExistsError):
        RunDirectory.create(d.path, {"metadata": {}, "config": {}})


def test_latest_checkpoint_ignores_temporary_files(tmp_path):
    d = RunDirectory.create(str(tmp_path / "r"), {"metadata": {}, "config": {}})
    for name in ("step-0000004.ckpt", "step-0000012.ckpt", "step-0000016.ckpt.tmp-99"):
        open(os.path.join(d.path, "checkpoints", name), "wb").close()
    assert d.latest_checkpoint() == (12, os.path.join(d.path, "checkpoints", "step-0000012.ckpt"))


def test_default_config_file_is_the_protocols_default_preset():
    assert json.load(open(DEFAULT_CONFIG_FILE)) == preset("sudoku4")


def test_logging_api_run_config_is_complete_and_yours(tmp_path):
    run = Run(runs_root=str(tmp_path), name="mine", config={"model": {"hiddenSize": 48, "hCycles": 3}, "data": {"side": 9}})
    run.log_step(1, loss=2.0)
    run.finish()
    f = json.load(open(os.path.join(run.path, "config.json")))
    assert f["config"]["model"]["hiddenSize"] == 48 and f["config"]["model"]["hCycles"] == 3 and f["config"]["data"]["side"] == 9
    assert f["config"]["model"]["lCycles"] == preset("sudoku4")["model"]["lCycles"] and f["config"]["engine"] == "torch"
    assert f["metadata"]["engine"] == "torch" and f["metadata"]["runId"].endswith("-mine")
    events = [json.loads(x) for x in open(os.path.join(run.path, "events.jsonl"))]
    assert [e["type"] for e in events] == ["run_start", "step", "done"]
    assert events[1]["hCycles"] == 3 and events[1]["tokenAccuracy"] is None
    assert json.load(open(os.path.join(run.path, "summary.json")))["status"] == "completed"
