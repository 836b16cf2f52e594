"""The protocol's own files for the tests, taken from the TypeScript side (the one source): the
built-in presets as Node resolves them and the config JSON Schema the build emits; and a run
directory laid out as Node lays it out for `reclab train --engine torch` (config.json + the task data)."""
import copy
import functools
import json
import os
import subprocess
import sys

from task_data_files import write_task_data

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
ENGINE = os.path.join(REPO, "engines", "torch")

@functools.lru_cache(maxsize=1)
def _protocol():
    out = subprocess.run(["node", "--import", "tsx", os.path.join(os.path.dirname(__file__), "protocol_json.ts")], cwd=REPO, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def preset(name):
    return copy.deepcopy(_protocol()["presets"][name])


def schema_file(tmp_path):
    p = tmp_path / "reclab-config.schema.json"
    if not p.exists():
        p.write_text(json.dumps(_protocol()["schema"]))
    return str(p)


def deep_merge(base, over):
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def small_config(**over):
    """sudoku4 shrunk to seconds: a 16-wide TRM-MLP, 12 steps of 16 rows."""
    cfg = preset("sudoku4")
    return deep_merge(cfg, deep_merge({
        "checkpointEverySteps": 4,
        "model": {"hiddenSize": 16},
        "train": {"steps": 12, "batchSize": 16, "microBatchSize": 16, "lrWarmupSteps": 2},
        "data": {"trainPuzzles": 64, "testPerBlank": 8},
        "eval": {"everySteps": 6, "puzzlesPerBlank": 4, "batchSize": 64, "gradientVarianceGroups": 4},
        "refinement": {"everySteps": 6, "probePuzzles": 2, "perCycle": True},
    }, over))


def make_run_dir(path, config, run_id="test-run", task_data=None):
    """A run directory as Node creates it: config.json {metadata, config} and worker/task-data.safetensors."""
    os.makedirs(os.path.join(path, "checkpoints"), exist_ok=True)
    os.makedirs(os.path.join(path, "worker"), exist_ok=True)
    meta = {"runId": run_id, "createdAt": "2026-12-01T00:00:00.000Z", "backend": "torch", "engine": "torch", "versions": {}, "command": ["test"]}
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump({"metadata": meta, "config": config}, f, indent=2)
    d = config["data"]
    td = os.path.join(path, "worker", "task-data.safetensors")
    if task_data is None:
        write_task_data(td, side=d["side"], train=d["trainPuzzles"], test_blanks=tuple(range(d["testBlanks"][0], d["testBlanks"][1] + 1, 2)),
                        test_per_blank=d["testPerBlank"], augment=d.get("augment", True), seed=config["seed"])
    else:
        with open(task_data, "rb") as src, open(td, "wb") as dst:
            dst.write(src.read())
    return str(path)


def worker_command(run_dir, *extra, schema=None):
    cmd = [sys.executable, "-u", "-m", "reclab.worker", "--run-dir", str(run_dir), "--device", "cpu", "--threads", "1"]
    if schema:
        cmd += ["--schema", schema]
    return cmd + list(extra)


def worker_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = ENGINE
    env.setdefault("OPENBLAS_CORETYPE", "SkylakeX")
    return env


def run_worker(run_dir, *extra, schema=None, timeout=300):
    return subprocess.run(worker_command(run_dir, *extra, schema=schema), env=worker_env(), capture_output=True, text=True, timeout=timeout)


def read_events(run_dir):
    with open(os.path.join(run_dir, "events.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]
