"""Format-2 weights and checkpoint files (docs/weights-format.md): the safetensors layout, written
and read through the real `safetensors` library, plus reclab metadata that makes every read
verifiable (a SHA-256 per tensor and one over the canonical header text).

    write_weights(path, {"param/lm_head": array, ...}, kind="reclab-weights", meta={...})
    f = read_weights(path)            # verified; f.tensors (numpy), f.meta (dict), f.format

Every refusal is a `WeightsFileError` naming the file and, where one is at fault, the tensor.
The torch model <-> TF.js name/layout mapping is `reclab.model.recursive_model.RecursiveModel.tfjs_parameters` /
`load_tfjs_parameters`; this module only moves named arrays.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Union

import numpy as np
import safetensors.numpy

FORMAT_VERSION = "2"
FORMATS = ("reclab-checkpoint", "reclab-weights")

# The dtypes the format allows (safetensors names) and their numpy types.
DTYPES: Dict[str, np.dtype] = {
    "F32": np.dtype("<f4"),
    "I32": np.dtype("<i4"),
    "U8": np.dtype("u1"),
    "I64": np.dtype("<i8"),
    "BOOL": np.dtype("bool"),
}
_NUMPY_TO_DTYPE = {v: k for k, v in DTYPES.items()}


class WeightsFileError(ValueError):
    """A weights file that cannot be written or is refused on reading."""

    def __init__(self, path: str, why: str, tensor: Optional[str] = None):
        self.path = path
        self.tensor = tensor
        where = f" (tensor {tensor})" if tensor is not None else ""
        super().__init__(f"{path}: not a valid reclab weights file{where}: {why}")


@dataclass
class WeightsFile:
    format: str
    meta: Dict[str, Any]
    tensors: Dict[str, np.ndarray]


ArrayLike = Union[np.ndarray, "torch.Tensor"]  # noqa: F821 (torch is optional here)


def _as_numpy(name: str, value: Any, path: str) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().contiguous().numpy()
    a = np.ascontiguousarray(value)
    dtype = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
    if dtype not in _NUMPY_TO_DTYPE:
        raise WeightsFileError(path, f"dtype {a.dtype} is not one of F32, I32, U8, I64, BOOL", name)
    return a.astype(dtype, copy=False)


def tensor_sha256(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def canonical_header_text(entries: Mapping[str, Mapping[str, Any]], meta: str, checksums: str) -> str:
    """The text `reclab.header_sha256` is taken over: one line per tensor sorted by name, then
    the meta and checksums strings exactly (docs/weights-format.md)."""
    lines = []
    for name in sorted(entries, key=lambda n: n.encode("utf-8")):
        e = entries[name]
        shape = ",".join(str(d) for d in e["shape"])
        begin, end = e["data_offsets"]
        lines.append(f"{name}\t{e['dtype']}\t{shape}\t{begin}\t{end}")
    lines.append(meta)
    lines.append(checksums)
    return "\n".join(lines)


def _header_of(blob: bytes) -> Dict[str, Any]:
    (n,) = struct.unpack_from("<Q", blob, 0)
    return json.loads(blob[8:8 + n].decode("utf-8"))


def encode_weights(tensors: Mapping[str, ArrayLike], kind: str, meta: Mapping[str, Any], path: str = "<memory>") -> bytes:
    """The bytes of a format-2 file holding `tensors` (name -> array) and `meta`."""
    if kind not in FORMATS:
        raise WeightsFileError(path, f"format must be one of {FORMATS}, got {kind!r}")
    arrays = {name: _as_numpy(name, t, path) for name, t in tensors.items()}
    meta_text = json.dumps(meta, separators=(",", ":"), sort_keys=True)
    checksums_text = json.dumps({n: tensor_sha256(a) for n, a in sorted(arrays.items())}, separators=(",", ":"))
    base = {"reclab.format": kind, "reclab.format_version": FORMAT_VERSION,
            "reclab.meta": meta_text, "reclab.checksums": checksums_text}
    # The library chooses the data layout; it does not depend on the metadata, so a first
    # serialisation tells the offsets the header hash covers.
    layout = _header_of(safetensors.numpy.save(arrays, metadata=base))
    entries = {n: e for n, e in layout.items() if n != "__metadata__"}
    header_sha = hashlib.sha256(canonical_header_text(entries, meta_text, checksums_text).encode("utf-8")).hexdigest()
    blob = safetensors.numpy.save(arrays, metadata={**base, "reclab.header_sha256": header_sha})
    assert {n: e for n, e in _header_of(blob).items() if n != "__metadata__"} == entries
    return blob


def write_weights(path: str, tensors: Mapping[str, ArrayLike], kind: str = "reclab-weights", meta: Optional[Mapping[str, Any]] = None) -> None:
    """Writes a format-2 file atomically (temp file in the same folder, fsync, rename), so a
    crash never leaves a torn file under `path`."""
    blob = encode_weights(tensors, kind, meta or {}, path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def must_be_finite(name: str) -> bool:
    """The tensors the engines compute with (as trainer/run/checkpointFile.ts): parameters, EMA,
    optimizer moments and the initial states."""
    return name.startswith(("param/", "ema/", "adam_m/", "adam_v/")) or name in ("h_init", "l_init")


def read_weights(path: str, expect_format: Optional[str] = None, check_finite: bool = True) -> WeightsFile:
    """Reads and verifies a format-2 file (every check docs/weights-format.md lists), then loads
    the tensors through the safetensors library. `check_finite` refuses a NaN/inf in the tensors
    `must_be_finite` names."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError as e:
        raise WeightsFileError(path, f"cannot read: {e.strerror or e}") from None
    return decode_weights(blob, path, expect_format, check_finite)


def decode_weights(blob: bytes, path: str = "<memory>", expect_format: Optional[str] = None, check_finite: bool = True) -> WeightsFile:
    def fail(why: str, tensor: Optional[str] = None) -> WeightsFileError:
        return WeightsFileError(path, why, tensor)

    if len(blob) < 8:
        raise fail(f"{len(blob)} bytes is too short for the 8-byte header length")
    (n,) = struct.unpack_from("<Q", blob, 0)
    if 8 + n > len(blob):
        raise fail(f"header length {n} runs past the end of the file ({len(blob)} bytes; truncated?)")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise fail(f"header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise fail("header is not a JSON object")
    md = header.get("__metadata__")
    if not isinstance(md, dict) or not all(isinstance(v, str) for v in md.values()):
        raise fail("no __metadata__ object of strings")
    fmt = md.get("reclab.format")
    if fmt not in FORMATS:
        raise fail(f"reclab.format is {fmt!r}, expected one of {FORMATS}")
    if expect_format is not None and fmt != expect_format:
        raise fail(f"reclab.format is {fmt!r}, expected {expect_format!r}")
    if md.get("reclab.format_version") != FORMAT_VERSION:
        raise fail(f"reclab.format_version is {md.get('reclab.format_version')!r}, this engine reads {FORMAT_VERSION!r}")

    data_len = len(blob) - 8 - n
    entries: Dict[str, Dict[str, Any]] = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(e, dict):
            raise fail("entry is not an object", name)
        dtype = e.get("dtype")
        if not isinstance(dtype, str) or dtype not in DTYPES:
            raise fail(f"dtype {dtype!r} is not one of {', '.join(DTYPES)}", name)
        shape = e.get("shape")
        if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
            raise fail(f"shape {shape!r} is not a list of non-negative integers", name)
        offs = e.get("data_offsets")
        if not (isinstance(offs, list) and len(offs) == 2 and all(isinstance(o, int) and not isinstance(o, bool) for o in offs)
                and 0 <= offs[0] <= offs[1] <= data_len):
            raise fail(f"data_offsets {offs!r} are not a range inside the {data_len}-byte data buffer", name)
        if int(np.prod(shape, dtype=np.int64)) * DTYPES[dtype].itemsize != offs[1] - offs[0]:
            raise fail(f"shape {shape} of {dtype} does not match its {offs[1] - offs[0]} bytes", name)
        entries[name] = e
    cursor = 0
    for name, e in sorted(entries.items(), key=lambda kv: tuple(kv[1]["data_offsets"])):
        begin, end = e["data_offsets"]
        if begin != cursor:
            raise fail(f"data starts at {begin}, expected {cursor} (hole or overlap in the data buffer)", name)
        cursor = end
    if cursor != data_len:
        raise fail(f"tensors cover {cursor} of the {data_len} data bytes")

    meta_text = md.get("reclab.meta")
    checksums_text = md.get("reclab.checksums")
    if meta_text is None or checksums_text is None or "reclab.header_sha256" not in md:
        raise fail("missing reclab.meta, reclab.checksums or reclab.header_sha256")
    want = hashlib.sha256(canonical_header_text(entries, meta_text, checksums_text).encode("utf-8")).hexdigest()
    if md["reclab.header_sha256"] != want:
        raise fail("reclab.header_sha256 does not match the header (edited or damaged header)")
    try:
        meta = json.loads(meta_text)
        checksums = json.loads(checksums_text)
    except json.JSONDecodeError as e:
        raise fail(f"reclab.meta or reclab.checksums is not valid JSON ({e})") from None
    if not isinstance(checksums, dict):
        raise fail("reclab.checksums is not a JSON object")
    for name in checksums:
        if name not in entries:
            raise fail("has a checksum but no tensor", name)

    try:
        tensors = safetensors.numpy.load(bytes(blob))
    except Exception as e:  # the library's own refusal (it checks the layout too)
        raise fail(f"safetensors refuses it: {e}") from None
    for name in entries:
        a = tensors[name]
        if name not in checksums:
            raise fail("has no checksum in reclab.checksums", name)
        if tensor_sha256(a) != checksums[name]:
            raise fail("SHA-256 of its data does not match reclab.checksums (damaged data)", name)
        if check_finite and must_be_finite(name) and a.dtype.kind == "f" and not np.isfinite(a).all():
            raise fail("holds a NaN or infinity", name)
    return WeightsFile(format=fmt, meta=meta, tensors=dict(tensors))


def expect_tensor(f: WeightsFile, path: str, name: str, shape: tuple, dtype: str = "F32") -> np.ndarray:
    """The tensor `name`, refused (naming file and tensor) unless it exists with this shape/dtype."""
    a = f.tensors.get(name)
    if a is None:
        raise WeightsFileError(path, "is missing", name)
    if a.dtype != DTYPES[dtype]:
        raise WeightsFileError(path, f"dtype {_NUMPY_TO_DTYPE.get(a.dtype, a.dtype)}, expected {dtype}", name)
    if tuple(a.shape) != tuple(shape):
        raise WeightsFileError(path, f"shape {list(a.shape)}, expected {list(shape)}", name)
    return a
