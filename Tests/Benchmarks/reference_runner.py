#!/usr/bin/env python3
"""One reference measurement in its own process: PyTorch eager, ONNX Runtime or OpenVINO,
one architecture, one image, one thread count. Prints one JSON object:
  {"runtime", "arch", "image", "threads", "median_s", "times_s", "peak_rss_mb", "detections"}
Latency covers model(image) only: the image is decoded and converted to a
[3, H, W] float tensor in [0, 1] before timing (as vision-bench does).
Peak RSS is the process's VmHWM (includes the interpreter and the libraries).

OpenVINO compiles the same ONNX export ONNX Runtime runs, for the CPU device with
INFERENCE_NUM_THREADS = threads and the LATENCY performance hint.

    python reference_runner.py --runtime torch|ort|ov --arch ARCH --image 640x480 \
        --threads 2 --repeats 5 [--cache ~/.cache/vision-bench]
"""
import argparse
import json
import os
import statistics
import time

import numpy as np
from PIL import Image


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def load_image(path):
    img = Image.open(path).convert("RGB")
    data = np.asarray(img, dtype=np.uint8).astype(np.float32) / 255
    return np.ascontiguousarray(data.transpose(2, 0, 1))


def openvino_config(threads):
    """OpenVINO's CPU settings in every comparison: the thread count, latency, FP32."""
    return {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runtime", choices=["torch", "ort", "ov"], required=True)
    p.add_argument("--arch", required=True)
    p.add_argument("--image", required=True, help="640x480 or 1280x720")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--cache", default="~/.cache/vision-bench")
    a = p.parse_args()
    cache = os.path.expanduser(a.cache)
    image = load_image(os.path.join(cache, f"img_{a.image}.png"))

    if a.runtime == "torch":
        import torch
        torch.set_num_threads(a.threads)
        torch.set_num_interop_threads(1)
        from reference_models import SHIPPED_ARCH, build, checkpoint_metadata, load_weights
        path = os.path.join(cache, f"{a.arch}.safetensors")
        # The shipped model's sizes come from the prepared checkpoint the other runtimes were
        # made from, not from today's Models/default.safetensors (which may since be a new model).
        config = json.loads(checkpoint_metadata(path)["vision.config"]) if a.arch == SHIPPED_ARCH else None
        model = load_weights(build(a.arch, config), path)
        x = torch.from_numpy(image)

        def run():
            with torch.inference_mode():
                out = model([x])[0]
            return int(out["boxes"].shape[0])
    elif a.runtime == "ov":
        import openvino
        core = openvino.Core()
        compiled = core.compile_model(os.path.join(cache, f"{a.arch}_{a.image}.onnx"), "CPU",
                                      openvino_config(a.threads))
        request = compiled.create_infer_request()

        def run():
            request.infer({0: image})
            return int(request.get_output_tensor(0).data.shape[0])
    else:
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = a.threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(os.path.join(cache, f"{a.arch}_{a.image}.onnx"), opts,
                                       providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name

        def run():
            boxes = session.run(None, {name: image})[0]
            return int(boxes.shape[0])

    detections = run()  # warm-up (allocations, lazy init)
    times = []
    for _ in range(a.repeats):
        start = time.perf_counter()
        detections = run()
        times.append(time.perf_counter() - start)
    print(json.dumps({"runtime": a.runtime, "arch": a.arch, "image": a.image, "threads": a.threads,
                      "median_s": statistics.median(times), "times_s": times,
                      "peak_rss_mb": peak_rss_mb(), "detections": detections}))


if __name__ == "__main__":
    main()
