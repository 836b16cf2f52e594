"""The safetensors library's side of test/unit/checkpoint-format.test.ts.

  read FILE   load FILE with safetensors.numpy.load_file and safe_open; print JSON: the metadata,
              and per tensor its dtype, shape and values (as the library returns them)
  write FILE  write a reclab-weights file with safetensors.numpy.save_file, computing the reclab
              checksums and the canonical header hash here with hashlib (docs/weights-format.md),
              independently of the TypeScript writer; print JSON of what was written
"""
import hashlib
import json
import struct
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file


def listed(a):
    # NaN / infinity are not JSON: spell them as strings.
    return [v if np.isfinite(v) else str(v) for v in a.astype(np.float64).ravel().tolist()]


def read(path):
    loaded = load_file(path)
    out = {"tensors": {}}
    with safe_open(path, framework="numpy") as f:
        out["metadata"] = f.metadata()
        for name in f.keys():
            t = f.get_tensor(name)
            assert np.array_equal(t, loaded[name], equal_nan=True), name
            out["tensors"][name] = {"dtype": str(t.dtype), "shape": list(t.shape), "values": listed(t)}
    print(json.dumps(out))


def header_of(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n))


TAGS = {"float32": "F32", "int32": "I32", "uint8": "U8", "int64": "I64", "bool": "BOOL"}


def write(path):
    tensors = {
        "param/w": np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
        "param/b": np.array([-1.5, 2.25], dtype=np.float32),
        "ema/w": np.full((2, 3), 0.125, dtype=np.float32),
        "counts": np.array([[1, -2], [3, 2**31 - 1]], dtype=np.int32),
        "ids": np.array([7, -(2**40)], dtype=np.int64),
        "mask": np.array([1, 0, 1], dtype=np.uint8),
        "flags": np.array([True, False], dtype=np.bool_),
        "scalar": np.array(3.5, dtype=np.float32),
    }
    meta_text = json.dumps({"kind": "parity-fixture", "engine": "torch", "note": "written by safetensors.numpy"})
    # The library chooses the data layout; the offsets do not depend on the metadata, so write once
    # to learn them, then again with the reclab metadata computed from them.
    save_file(tensors, path, metadata={"reclab.format": "reclab-weights"})
    header = header_of(path)
    checksums = {name: hashlib.sha256(np.ascontiguousarray(t).tobytes()).hexdigest() for name, t in tensors.items()}
    checksums_text = json.dumps(checksums, sort_keys=True)
    lines = []
    for name in sorted(tensors, key=lambda s: s.encode("utf-8")):
        e = header[name]
        lines.append("\t".join([name, e["dtype"], ",".join(str(d) for d in e["shape"]), str(e["data_offsets"][0]), str(e["data_offsets"][1])]))
        assert e["dtype"] == TAGS[str(tensors[name].dtype)], (name, e["dtype"])
    canonical = "\n".join(lines + [meta_text, checksums_text])
    save_file(tensors, path, metadata={
        "reclab.format": "reclab-weights", "reclab.format_version": "2", "reclab.meta": meta_text,
        "reclab.checksums": checksums_text, "reclab.header_sha256": hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
    })
    again = header_of(path)
    for name in tensors:
        assert again[name]["data_offsets"] == header[name]["data_offsets"], name
    print(json.dumps({name: {"dtype": str(t.dtype), "shape": list(t.shape), "values": listed(t)} for name, t in tensors.items()}))


if __name__ == "__main__":
    {"read": read, "write": write}[sys.argv[1]](sys.argv[2])
