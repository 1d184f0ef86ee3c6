"""Checks that a .pth written by `vision checkpoint convert` is what torch expects.

Not run by CI (CI has no torch); run by hand from a venv outside the repo:
  python3 -m venv /work/venv-torch && /work/venv-torch/bin/pip install torch numpy
  vision checkpoint convert Models/default.safetensors /tmp/default.pth
  /work/venv-torch/bin/python Tests/Fixtures/check_pth_with_torch.py \
      Models/default.safetensors /tmp/default.pth /tmp/torch_resaved.pth

Checks, failing with a message on the first difference:
  - torch.load(weights_only=True), weights_only=False and mmap=True all read the
    .pth, with no warning, and give the safetensors' keys, dtypes, shapes and
    bit-identical elements;
  - the archive's vision_metadata.json equals the safetensors __metadata__;
  - torch.save of what torch loaded is written to the third path (a .pth torch
    made, without vision's record) so vision can be checked to read it too.
"""
import json
import struct
import sys
import warnings
import zipfile

import numpy as np
import torch

# vision writes F32 or F16 only; other element types are converted to F32 on
# the way to a .pth, so there is no bit-for-bit comparison to make for them.
SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16}
TORCH_DTYPES = {"F32": torch.float32, "F16": torch.float16}


def read_safetensors(path):
    """(metadata, {key: (dtype name, numpy array)}) without the safetensors package."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    buffer = data[8 + length:]
    tensors = {}
    for key, entry in header.items():
        if entry["dtype"] not in SAFETENSORS_DTYPES:
            sys.exit(f"{path}: {key} is {entry['dtype']}; this check covers F32 and F16 files (what vision writes)")
        begin, end = entry["data_offsets"]
        array = np.frombuffer(buffer[begin:end], dtype=SAFETENSORS_DTYPES[entry["dtype"]]).reshape(entry["shape"])
        tensors[key] = (entry["dtype"], array)
    return metadata, tensors


def compare(label, loaded, expected):
    if set(loaded) != set(expected):
        sys.exit(f"{label}: keys differ: {sorted(set(loaded) ^ set(expected))[:5]}")
    for key, (dtype, array) in expected.items():
        tensor = loaded[key]
        if tensor.dtype != TORCH_DTYPES[dtype]:
            sys.exit(f"{label}: {key}: dtype {tensor.dtype}, safetensors has {dtype}")
        if list(tensor.shape) != list(array.shape):
            sys.exit(f"{label}: {key}: shape {list(tensor.shape)}, safetensors has {list(array.shape)}")
        if tensor.contiguous().numpy().tobytes() != np.ascontiguousarray(array).tobytes():
            sys.exit(f"{label}: {key}: elements differ")
    print(f"{label}: {len(expected)} tensors, same keys, dtypes, shapes and bits")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    safetensors_path, pth_path, resaved_path = sys.argv[1:]
    metadata, expected = read_safetensors(safetensors_path)
    print(f"torch {torch.__version__}; {safetensors_path}: {len(expected)} tensors, metadata keys {sorted(metadata)}")

    for label, options in [("weights_only=True", dict(weights_only=True)),
                           ("weights_only=False", dict(weights_only=False)),
                           ("weights_only=True, mmap=True", dict(weights_only=True, mmap=True))]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loaded = torch.load(pth_path, map_location="cpu", **options)
        if caught:
            sys.exit(f"torch.load({label}) warned: {[str(w.message) for w in caught]}")
        print(f"torch.load({label}): {type(loaded).__name__}, "
              f"_metadata {'present' if hasattr(loaded, '_metadata') else 'absent'}")
        compare(f"torch.load({label})", loaded, expected)

    with zipfile.ZipFile(pth_path) as archive:
        names = archive.namelist()
        records = [n for n in names if n.endswith("/vision_metadata.json")]
        if metadata:
            if len(records) != 1:
                sys.exit(f"{pth_path}: expected one vision_metadata.json record, found {records}")
            carried = json.loads(archive.read(records[0]))
            if carried != metadata:
                sys.exit(f"{records[0]} differs from the safetensors __metadata__")
            print(f"{records[0]}: equals the safetensors __metadata__ ({len(carried)} keys)")
        elif records:
            sys.exit(f"{pth_path}: a vision_metadata.json record though the safetensors has no metadata")

    torch.save(torch.load(pth_path, weights_only=True), resaved_path)
    with zipfile.ZipFile(resaved_path) as archive:
        kept = [n for n in archive.namelist() if n.endswith("vision_metadata.json")]
    print(f"torch.save -> {resaved_path}: vision_metadata.json {'kept' if kept else 'not kept (torch drops it)'}")


if __name__ == "__main__":
    main()
