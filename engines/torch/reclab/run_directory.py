"""The run directory writer (protocol/runDirectory.ts has the layout; design.md "Run directory").

The worker and the logging API (`reclab.Run`) both write through this class, so both obey one
layout: `config.json` and `summary.json` rewritten atomically (temp file + fsync + rename),
`events.jsonl` appended one whole line per write (after a torn tail the next event starts on a
new line, as the TypeScript reader expects), checkpoints in format 2 under `checkpoints/` with the
protocol's names.
"""
from __future__ import annotations

import json
import math
import os
import re
import sys
import time
from typing import Any, Callable, Dict, Optional, Tuple

EVENTS_FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
EVENTS_FILE = "events.jsonl"
SUMMARY_FILE = "summary.json"
CHECKPOINTS_DIR = "checkpoints"

_CHECKPOINT_NAME = re.compile(r"^step-(\d+)\.ckpt$")


def checkpoint_file_name(step: int) -> str:
    """checkpoints/step-0000500.ckpt: zero-padded so names sort by step (protocol/runDirectory.ts)."""
    return f"step-{step:07d}.ckpt"


def step_of_checkpoint_file(name: str) -> Optional[int]:
    m = _CHECKPOINT_NAME.match(name)
    return int(m.group(1)) if m else None


def json_safe(value: Any) -> Any:
    """NaN and infinities become null, as JavaScript's JSON.stringify writes them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return json_safe(value.item())
    return value


def write_file_atomic(path: str, data: bytes) -> None:
    """Write-then-rename, so a reader (or a crash) never sees a half-written file."""
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        raise


def write_json_atomic(path: str, value: Any) -> None:
    write_file_atomic(path, (json.dumps(json_safe(value), indent=2, allow_nan=False) + "\n").encode("utf-8"))


class RunDirectory:
    """One run directory. `echo` (e.g. stdout's write) receives every event line after it is on disk."""

    def __init__(self, path: str, echo: Optional[Callable[[str], None]] = None):
        self.path = path
        self.echo = echo
        self._events_checked = False

    @staticmethod
    def create(path: str, config_file: Dict[str, Any], echo: Optional[Callable[[str], None]] = None) -> "RunDirectory":
        """Makes a new run directory; refuses one that already holds a run."""
        if os.path.exists(os.path.join(path, CONFIG_FILE)):
            raise FileExistsError(f"{path} already holds a run (use \"reclab resume {path}\")")
        os.makedirs(os.path.join(path, CHECKPOINTS_DIR), exist_ok=True)
        d = RunDirectory(path, echo)
        write_json_atomic(os.path.join(path, CONFIG_FILE), config_file)
        return d

    @staticmethod
    def open(path: str, echo: Optional[Callable[[str], None]] = None) -> "RunDirectory":
        if not os.path.isfile(os.path.join(path, CONFIG_FILE)):
            raise FileNotFoundError(f"{path}: not a run directory (no {CONFIG_FILE})")
        return RunDirectory(path, echo)

    def file(self, name: str) -> str:
        return os.path.join(self.path, name)

    # config.json ---------------------------------------------------------------------------
    def read_config_file(self) -> Dict[str, Any]:
        p = self.file(CONFIG_FILE)
        try:
            with open(p, "r", encoding="utf-8") as f:
                value = json.load(f)
        except (OSError, ValueError) as e:
            raise ValueError(f"{p}: cannot read run config: {e}") from e
        if not isinstance(value, dict) or not isinstance(value.get("config"), dict) or not isinstance(value.get("metadata"), dict):
            raise ValueError(f"{p}: expected an object with \"metadata\" and \"config\"")
        return value

    def update_metadata(self, **fields: Any) -> None:
        """Sets fields of config.json's `metadata` (one atomic rewrite; the rest is kept as is)."""
        value = self.read_config_file()
        value["metadata"].update(fields)
        write_json_atomic(self.file(CONFIG_FILE), value)

    # events.jsonl ----------------------------------------------------------------------------
    def _torn_tail(self, path: str) -> bool:
        """True when the file's last byte is not a newline (a writer died mid-line)."""
        try:
            with open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                if f.tell() == 0:
                    return False
                f.seek(-1, os.SEEK_END)
                return f.read(1) != b"\n"
        except FileNotFoundError:
            return False

    def append_event(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        """Appends one event ({v, time, ...payload}) as one line written by one append call."""
        event = {"v": EVENTS_FORMAT_VERSION, "time": int(time.time() * 1000), **payload}
        line = json.dumps(json_safe(event), allow_nan=False, separators=(",", ":"))
        path = self.file(EVENTS_FILE)
        prefix = b""
        if not self._events_checked:
            # A line torn by a killed writer stays a bad line the reader skips; ours starts afresh.
            prefix = b"\n" if self._torn_tail(path) else b""
            self._events_checked = True
        data = prefix + line.encode("utf-8") + b"\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
        finally:
            os.close(fd)
        if self.echo is not None:
            self.echo(line)
        return event

    # summary.json ------------------------------------------------------------------------------
    def write_summary(self, summary: Dict[str, Any]) -> None:
        write_json_atomic(self.file(SUMMARY_FILE), summary)

    # checkpoints --------------------------------------------------------------------------------
    def checkpoint_path(self, step: int) -> str:
        return os.path.join(self.path, CHECKPOINTS_DIR, checkpoint_file_name(step))

    def relative_checkpoint_path(self, step: int) -> str:
        return f"{CHECKPOINTS_DIR}/{checkpoint_file_name(step)}"

    def latest_checkpoint(self) -> Optional[Tuple[int, str]]:
        """The highest-step complete checkpoint (temporary files never match the name pattern)."""
        d = os.path.join(self.path, CHECKPOINTS_DIR)
        if not os.path.isdir(d):
            return None
        best: Optional[Tuple[int, str]] = None
        for name in os.listdir(d):
            step = step_of_checkpoint_file(name)
            if step is not None and (best is None or step > best[0]):
                best = (step, os.path.join(d, name))
        return best


def stdout_echo(line: str) -> None:
    """Every event also goes to stdout, one JSON line, for the Node supervisor to forward."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
