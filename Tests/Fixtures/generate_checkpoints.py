"""Generates the checkpoint fixtures used by Tests/VisionCheckpointTests.

Run with the reference venv:  ~/ref/bin/python Tests/Fixtures/generate_checkpoints.py
Writes Tests/Fixtures/checkpoints/:
  tiny.pth                 torch.save zip format (non-contiguous views, f16, bf16, f64, int)
  tiny_legacy.pth          the same, _use_new_zipfile_serialization=False
  tiny.safetensors         the same tensors (made contiguous), with __metadata__
  expected.json            shapes, source dtypes and float32 values of every tensor
  malicious.pth            zip .pth whose pickle calls os.system (would create MARKER)
  truncated.pth            tiny.pth cut short
  truncated_legacy.pth     tiny_legacy.pth cut short
  truncated.safetensors    tiny.safetensors with its data cut short
  truncated_header.safetensors   header cut short
  overlapping.safetensors  two tensors whose data ranges overlap
  unsupported_dtype.safetensors  a C64 tensor
  compressed.pth           tiny.pth re-zipped with deflate (torch never writes that)
"""
import collections
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "checkpoints")
# The malicious pickle would create this file if it were ever executed.
MARKER = "/tmp/vision_checkpoint_malicious_marker"


def tiny_state_dict():
    g = torch.Generator().manual_seed(0)
    sd = collections.OrderedDict()
    sd["conv.weight"] = torch.randn(2, 3, 2, 2, generator=g)
    sd["conv.bias"] = torch.randn(2, generator=g)
    # Saved as-is: a transposed (non-contiguous) view of a [4, 3] tensor.
    sd["fc.weight_t"] = torch.randn(4, 3, generator=g).t()
    base = torch.arange(10, dtype=torch.float32) * 0.5
    sd["shared.base"] = base
    sd["shared.strided"] = base[2:9:3]  # storage offset 2, stride 3, shares storage with shared.base
    sd["half"] = torch.tensor([1.5, -2.25, 65504.0, 6.1035e-05, 0.0999, 5.96e-08], dtype=torch.float16)
    sd["bf16"] = torch.tensor([1.0, -3.140625, 1e30, 1.1e-3], dtype=torch.bfloat16)
    sd["double"] = torch.tensor([[1.0 / 3.0, -2.5e-8], [1e10, 7.0]], dtype=torch.float64)
    sd["bn.running_mean"] = torch.randn(3, generator=g)
    # A Parameter (not .data) is pickled through torch._utils._rebuild_parameter.
    sd["fc.param"] = torch.nn.Parameter(torch.randn(2, generator=g))
    sd["bn.num_batches_tracked"] = torch.tensor(123, dtype=torch.int64)
    sd["int32"] = torch.tensor([-7, 0, 100000], dtype=torch.int32)
    sd["scalar"] = torch.tensor(2.75)
    sd["empty"] = torch.zeros(0, 3)
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("bn", {"version": 2})])
    return sd


def dtype_name(t):
    return {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
            torch.int64: "I64", torch.int32: "I32"}[t.dtype]


def write_malicious(path):
    """A zip .pth like torch's whose pickle holds an os.system call after a real tensor entry."""
    good = io.BytesIO()
    torch.save(collections.OrderedDict([("w", torch.ones(2))]), good)
    good.seek(0)
    source = zipfile.ZipFile(good)
    command = ("touch " + MARKER).encode()
    evil = (b"\x80\x02cos\nsystem\n"  # GLOBAL os.system
            + b"X" + struct.pack("<I", len(command)) + command  # BINUNICODE command
            + b"\x85R.")  # TUPLE1, REDUCE, STOP
    # Prove the payload is live: executed by Python's pickle, it creates the marker.
    subprocess.run([sys.executable, "-c", "import pickle,sys; pickle.loads(sys.stdin.buffer.read())"],
                   input=evil, check=True)
    assert os.path.exists(MARKER), "the malicious payload should work when executed"
    os.remove(MARKER)
    # Splice it in: the state dict's second item is the os.system(...) call.
    name = [n for n in source.namelist() if n.endswith("/data.pkl")][0]
    pkl = source.read(name)
    assert pkl.endswith(b"."), "expected the state dict pickle to end with STOP"
    # The dict is alone on the stack before STOP: push key and value, then SETITEM.
    pkl = pkl[:-1] + b"X\x04\x00\x00\x00evil" + evil[2:-1] + b"s."
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for info in source.infolist():
            z.writestr(info.filename, pkl if info.filename == name else source.read(info.filename))


def safetensors_bytes(header, data):
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    return struct.pack("<Q", len(blob)) + blob + data


def main():
    os.makedirs(OUT, exist_ok=True)
    sd = tiny_state_dict()
    torch.save(sd, os.path.join(OUT, "tiny.pth"))
    torch.save(sd, os.path.join(OUT, "tiny_legacy.pth"), _use_new_zipfile_serialization=False)
    save_file({k: v.detach().contiguous() for k, v in sd.items()}, os.path.join(OUT, "tiny.safetensors"),
              metadata={"format": "pt", "note": "vision fixture"})

    expected = {
        "keys": list(sd.keys()),
        "module_versions": {k: v["version"] for k, v in sd._metadata.items()},
        "safetensors_metadata": {"format": "pt", "note": "vision fixture"},
        "tensors": {k: {"shape": list(v.shape), "dtype": dtype_name(v),
                        "values": v.detach().to(torch.float32).flatten().tolist()} for k, v in sd.items()},
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)

    write_malicious(os.path.join(OUT, "malicious.pth"))

    for src, dst, frac in [("tiny.pth", "truncated.pth", 0.6), ("tiny_legacy.pth", "truncated_legacy.pth", 0.8),
                           ("tiny.safetensors", "truncated.safetensors", 0.9)]:
        data = open(os.path.join(OUT, src), "rb").read()
        open(os.path.join(OUT, dst), "wb").write(data[: int(len(data) * frac)])
    with zipfile.ZipFile(os.path.join(OUT, "tiny.pth")) as source, \
            zipfile.ZipFile(os.path.join(OUT, "compressed.pth"), "w", compression=zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            z.writestr(info.filename, source.read(info.filename))
    data = open(os.path.join(OUT, "tiny.safetensors"), "rb").read()
    open(os.path.join(OUT, "truncated_header.safetensors"), "wb").write(data[:40])

    floats = struct.pack("<6f", *range(6))
    overlapping = {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                   "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}
    open(os.path.join(OUT, "overlapping.safetensors"), "wb").write(safetensors_bytes(overlapping, floats))
    complex_header = {"z": {"dtype": "C64", "shape": [3], "data_offsets": [0, 24]}}
    open(os.path.join(OUT, "unsupported_dtype.safetensors"), "wb").write(safetensors_bytes(complex_header, floats))

    for name in os.listdir(OUT):
        os.chmod(os.path.join(OUT, name), 0o644)
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {OUT}")


if __name__ == "__main__":
    main()
