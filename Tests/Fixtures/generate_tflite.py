#!/usr/bin/env python3
"""Expected output of the TFLite MobileNetV2 conversion, for VisionCheckpointTests.

Runs the reference converter (Tools/convert_tflite_mobilenet_v2.py, its own main:
operator walk, dequantisation, metadata, safetensors save) on the shared
mobilenet_v2_1.0_224_quant.tflite, reads the written .safetensors back, and writes
Tests/Fixtures/tflite/mobilenet_v2_expected.json:
    keys      - the state dict's keys in the converter's insertion order
    tensors   - key -> {shape, dtype, sha256 of the values as float32 little-endian bytes}
    metadata  - the safetensors __metadata__
    source_sha256 - of the .tflite the expectation was made from
Neither the .tflite nor the converted weights are committed.

Environment (outside the repo):
    python3 -m venv /work/venv-tflite
    /work/venv-tflite/bin/pip install tflite numpy safetensors
    # the converter's save step imports torch: let the venv see /work/venv-torch's packages
    echo /work/venv-torch/lib/python3.11/site-packages > /work/venv-tflite/lib/python3.11/site-packages/zz-venv-torch.pth
Run from the repo root:
    /work/venv-tflite/bin/python Tests/Fixtures/generate_tflite.py [--tflite PATH]
"""
import argparse
import hashlib
import json
import os
import sys
import tempfile

import numpy as np
from safetensors import safe_open

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_TFLITE = os.path.join(os.path.dirname(ROOT), "shared", "weights", "mobilenet_v2_1.0_224_quant.tflite")
OUTPUT = os.path.join(ROOT, "Tests", "Fixtures", "tflite", "mobilenet_v2_expected.json")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tflite", default=DEFAULT_TFLITE if os.path.exists(DEFAULT_TFLITE)
                        else "/work/shared/weights/mobilenet_v2_1.0_224_quant.tflite")
    args = parser.parse_args()

    sys.path.insert(0, os.path.join(ROOT, "Tools"))
    import convert_tflite_mobilenet_v2 as converter

    with open(args.tflite, "rb") as f:
        tflite_bytes = f.read()
    # The key order the converter builds (safetensors files store keys sorted).
    state, _ = converter.convert(converter.TFLiteGraph(tflite_bytes))

    with tempfile.TemporaryDirectory() as scratch:
        converted = os.path.join(scratch, "mobilenet_v2.safetensors")
        converter.main([args.tflite, converted])
        tensors = {}
        with safe_open(converted, framework="numpy") as f:
            metadata = f.metadata()
            if sorted(f.keys()) != sorted(state):
                sys.exit("generate_tflite.py: the written file's keys differ from convert()'s")
            for key in f.keys():
                value = f.get_tensor(key)
                data = np.ascontiguousarray(value, dtype="<f4").tobytes()
                tensors[key] = dict(shape=list(value.shape), dtype=str(value.dtype),
                                    sha256=hashlib.sha256(data).hexdigest())

    expected = dict(source=os.path.basename(args.tflite),
                    source_sha256=hashlib.sha256(tflite_bytes).hexdigest(),
                    keys=list(state), tensors=tensors, metadata=metadata)
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    with open(OUTPUT, "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {OUTPUT}: {len(tensors)} tensors")


if __name__ == "__main__":
    main()
