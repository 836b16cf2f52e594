"""Format-2 weights files (docs/weights-format.md): written files are plain safetensors the
library reads, a file assembled by hand from the spec is accepted, and each kind of damage is
refused naming the file and tensor."""
import hashlib
import json
import struct

import numpy as np
import pytest
from safetensors import safe_open

from reclab.weights import WeightsFileError, read_weights, write_weights


def hand_made_file(tensors, meta, fmt="reclab-weights"):
    """A format-2 file assembled straight from the spec (independent of reclab.weights)."""
    names = sorted(tensors)
    entries, chunks, offset = {}, [], 0
    for n in names:
        dtype, shape, raw = tensors[n]
        entries[n] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    meta_s = json.dumps(meta)
    sums_s = json.dumps({n: hashlib.sha256(tensors[n][2]).hexdigest() for n in names})
    lines = [f"{n}\t{entries[n]['dtype']}\t{','.join(map(str, entries[n]['shape']))}\t{entries[n]['data_offsets'][0]}\t{entries[n]['data_offsets'][1]}" for n in names]
    canon = "\n".join(lines + [meta_s, sums_s])
    md = {"reclab.format": fmt, "reclab.format_version": "2", "reclab.meta": meta_s, "reclab.checksums": sums_s,
          "reclab.header_sha256": hashlib.sha256(canon.encode()).hexdigest()}
    header = json.dumps({"__metadata__": md, **entries}).encode()
    header += b" " * ((8 - len(header) % 8) % 8)
    return struct.pack("<Q", len(header)) + header + b"".join(chunks)


def test_hand_made_file_is_read_with_values(tmp_path):
    p = tmp_path / "w.safetensors"
    p.write_bytes(hand_made_file({
        "param/a": ("F32", [2, 2], struct.pack("<4f", 1.0, -2.5, 3.0, 0.5)),
        "n": ("I32", [3], struct.pack("<3i", 7, -1, 2**31 - 1)),
        "u": ("U8", [2], bytes([0, 255])),
        "s": ("F32", [], struct.pack("<f", 4.0)),
    }, {"kind": "x", "step": 3}))
    f = read_weights(str(p))
    assert f.format == "reclab-weights" and f.meta == {"kind": "x", "step": 3}
    np.testing.assert_array_equal(f.tensors["param/a"], [[1.0, -2.5], [3.0, 0.5]])
    np.testing.assert_array_equal(f.tensors["n"], [7, -1, 2**31 - 1])
    np.testing.assert_array_equal(f.tensors["u"], [0, 255])
    assert f.tensors["s"].shape == () and f.tensors["s"] == 4.0


def test_written_file_is_plain_safetensors_with_checksums(tmp_path):
    p = str(tmp_path / "w.safetensors")
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.array([True, False])
    write_weights(p, {"param/a": a, "flags": b, "step": np.array([5], dtype=np.int64)}, "reclab-checkpoint", {"step": 5})
    with safe_open(p, framework="numpy") as f:  # the ecosystem's reader
        md = f.metadata()
        np.testing.assert_array_equal(f.get_tensor("param/a"), a)
    assert md["reclab.format"] == "reclab-checkpoint" and md["reclab.format_version"] == "2"
    sums = json.loads(md["reclab.checksums"])
    assert sums["param/a"] == hashlib.sha256(a.tobytes()).hexdigest()
    assert sums["flags"] == hashlib.sha256(bytes([1, 0])).hexdigest()
    back = read_weights(p, expect_format="reclab-checkpoint")
    np.testing.assert_array_equal(back.tensors["flags"], b)
    assert back.meta == {"step": 5}


def test_torch_tensors_are_written(tmp_path):
    import torch
    p = str(tmp_path / "t.safetensors")
    write_weights(p, {"x": torch.tensor([[1.0, 2.0]]).t()})  # non-contiguous
    np.testing.assert_array_equal(read_weights(p).tensors["x"], [[1.0], [2.0]])


@pytest.fixture
def good(tmp_path):
    p = tmp_path / "g.safetensors"
    write_weights(str(p), {"param/w": np.ones((4, 4), np.float32), "param/b": np.zeros(3, np.float32)}, meta={"k": 1})
    return p


def expect_refused(p, *fragments):
    with pytest.raises(WeightsFileError) as e:
        read_weights(str(p))
    msg = str(e.value)
    assert str(p) in msg
    for frag in fragments:
        assert frag in msg, msg
    return e.value


def test_flipped_data_byte_is_refused_naming_the_tensor(good):
    blob = bytearray(good.read_bytes())
    (n,) = struct.unpack_from("<Q", blob)
    header = json.loads(blob[8:8 + n])
    begin = header["param/w"]["data_offsets"][0]
    blob[8 + n + begin + 5] ^= 0x01
    good.write_bytes(bytes(blob))
    assert expect_refused(good, "SHA-256", "param/w").tensor == "param/w"


def test_edited_shape_is_refused(good):
    blob = good.read_bytes()
    (n,) = struct.unpack_from("<Q", blob)
    header = json.loads(blob[8:8 + n])
    header["param/w"]["shape"] = [2, 8]  # same byte count: only the header hash catches it
    text = json.dumps(header).encode()
    text += b" " * (n - len(text)) if len(text) <= n else b""
    good.write_bytes(struct.pack("<Q", len(text)) + text + blob[8 + n:])
    expect_refused(good, "header_sha256")


def test_wrong_shape_byte_count_is_refused(good):
    blob = good.read_bytes()
    (n,) = struct.unpack_from("<Q", blob)
    header = json.loads(blob[8:8 + n])
    header["param/w"]["shape"] = [4, 5]
    text = json.dumps(header).encode()
    good.write_bytes(struct.pack("<Q", len(text)) + text + blob[8 + n:])
    expect_refused(good, "param/w", "does not match")


def test_truncated_and_garbage_files_are_refused(good, tmp_path):
    blob = good.read_bytes()
    t = tmp_path / "t.safetensors"
    t.write_bytes(blob[:-10])
    expect_refused(t, "param/w", "data buffer")
    t.write_bytes(blob + b"\0\0\0\0")
    expect_refused(t, "cover")
    t.write_bytes(blob[:20])
    expect_refused(t, "runs past the end")
    t.write_bytes(b"\x05\x00")
    expect_refused(t, "too short")
    t.write_bytes(struct.pack("<Q", 4) + b"{no}")
    expect_refused(t, "not valid JSON")
    expect_refused(tmp_path / "missing.safetensors", "cannot read")


def test_inherited_dtype_name_is_refused(tmp_path):
    p = tmp_path / "d.safetensors"
    p.write_bytes(hand_made_file({"x": ("valueOf", [1], b"\0\0\0\0")}, {}))
    expect_refused(p, "x", "dtype")


def test_nan_is_refused_naming_the_tensor(tmp_path):
    p = tmp_path / "n.safetensors"
    write_weights(str(p), {"ema/w": np.array([1.0, np.nan], np.float32)})
    expect_refused(p, "ema/w", "NaN")


def test_missing_checksum_is_refused(tmp_path):
    p = tmp_path / "c.safetensors"
    blob = hand_made_file({"a": ("F32", [1], b"\0\0\0\0")}, {})
    (n,) = struct.unpack_from("<Q", blob)
    header = json.loads(blob[8:8 + n])
    md = header["__metadata__"]
    md["reclab.checksums"] = "{}"
    canon = "\n".join(["a\tF32\t1\t0\t4", md["reclab.meta"], "{}"])
    md["reclab.header_sha256"] = hashlib.sha256(canon.encode()).hexdigest()
    text = json.dumps(header).encode()
    p.write_bytes(struct.pack("<Q", len(text)) + text + blob[8 + n:])
    expect_refused(p, "a", "no checksum")


def test_failed_write_leaves_the_old_file(good):
    before = good.read_bytes()
    with pytest.raises(WeightsFileError):
        write_weights(str(good), {"bad": np.array(["text"])})
    assert good.read_bytes() == before
    assert [q.name for q in good.parent.iterdir()] == [good.name]


def test_parity_tool_refuses_bad_files_with_exit_2(good, tmp_path, capsys):
    from reclab.parity import main
    out = tmp_path / "out.safetensors"
    assert main([str(good), str(good), str(out)]) == 2  # a weights file where a checkpoint belongs
    err = capsys.readouterr().err
    assert str(good) in err and "expected 'reclab-checkpoint'" in err
    ckpt = tmp_path / "step-0000001.ckpt"
    write_weights(str(ckpt), {"param/w": np.ones(4, np.float32)}, "reclab-checkpoint", {"kind": "reclab-training-checkpoint"})
    blob = bytearray(ckpt.read_bytes())
    blob[-1] ^= 0xFF
    ckpt.write_bytes(bytes(blob))
    assert main([str(ckpt), str(good), str(out)]) == 2
    err = capsys.readouterr().err
    assert str(ckpt) in err and "param/w" in err and "SHA-256" in err
    assert not out.exists()
