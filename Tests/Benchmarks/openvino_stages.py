#!/usr/bin/env python3
"""Where the time goes, vision against OpenVINO, stage by stage, for the rows of the
benchmark where OpenVINO is ahead.

OpenVINO side: the ONNX export run_benchmarks.py uses, compiled as reference_runner.py
compiles it (CPU, INFERENCE_NUM_THREADS = threads, LATENCY hint, f32) plus PERF_COUNT;
each layer's real time is added to the stage its ONNX node name belongs to
(/transform/..., /backbone/body/..., /backbone/fpn/..., /rpn/..., /roi_heads/box_roi_pool/...,
/roi_heads/box_head/... and box_predictor/...; everything else, including the nodes
OpenVINO makes up without a module path, is "other"). Median per stage over --repeats
inferences after a warm-up. vision side: vision-bench's per-stage medians.

    ~/.venvs/vision-bench/bin/python Tests/Benchmarks/openvino_stages.py \
        [--rows fasterrcnn_mobilenet_v3_large_fpn:640x480:2 ...] [--repeats 5] [--cache /tmp/bench]

Each runtime runs in its own process (this script for OpenVINO, vision-bench for vision).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import run_benchmarks  # noqa: E402  (vision-bench's measurement, as the main benchmark takes it)
STAGES = ["transform", "backbone", "fpn", "rpn", "roiAlign", "boxHead", "postprocess", "other"]
# ONNX node-name prefixes (torch module paths) of each stage; first match wins.
PREFIXES = [("/transform/", "transform"), ("/backbone/body/", "backbone"), ("/backbone/fpn/", "fpn"),
            ("/rpn/", "rpn"), ("/roi_heads/box_roi_pool/", "roiAlign"), ("/roi_heads/box_head/", "boxHead"),
            ("/roi_heads/box_predictor/", "boxHead"), ("/roi_heads/", "postprocess")]


def stage_of(node_name):
    for prefix, stage in PREFIXES:
        if node_name.startswith(prefix):
            return stage
    return "other"


def openvino_stages(arch, image_size, threads, repeats, cache):
    """{"stages_s": {stage: median s}, "median_s": median wall s, "layers": top layers}."""
    import time

    import openvino
    from reference_runner import load_image, openvino_config

    core = openvino.Core()
    compiled = core.compile_model(os.path.join(cache, f"{arch}_{image_size}.onnx"), "CPU",
                                  {**openvino_config(threads), "PERF_COUNT": True})
    request = compiled.create_infer_request()
    image = load_image(os.path.join(cache, f"img_{image_size}.png"))
    request.infer({0: image})  # warm-up
    per_stage, walls, per_layer = defaultdict(list), [], defaultdict(list)
    for _ in range(repeats):
        start = time.perf_counter()
        request.infer({0: image})
        walls.append(time.perf_counter() - start)
        sums = defaultdict(float)
        for layer in request.get_profiling_info():
            seconds = layer.real_time.total_seconds()
            sums[stage_of(layer.node_name)] += seconds
            per_layer[(layer.node_name, layer.exec_type)].append(seconds)
        for stage in STAGES:
            per_stage[stage].append(sums[stage])
    top = sorted(((statistics.median(v), name, kind) for (name, kind), v in per_layer.items()), reverse=True)[:8]
    return {"stages_s": {s: statistics.median(v) for s, v in per_stage.items()},
            "median_s": statistics.median(walls), "layers": top}


def worker(args):
    arch, image_size, threads = args.worker.split(":")
    print(json.dumps(openvino_stages(arch, image_size, int(threads), args.repeats, os.path.expanduser(args.cache))))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", nargs="+", default=[
        "fasterrcnn_mobilenet_v2_fpn:1280x720:2",
        "fasterrcnn_mobilenet_v3_large_fpn:640x480:2", "fasterrcnn_mobilenet_v3_large_fpn:1280x720:2",
        "fasterrcnn_mobilenet_v3_large_320_fpn:640x480:1", "fasterrcnn_mobilenet_v3_large_320_fpn:640x480:2"],
        help="ARCH:IMAGE:THREADS")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--cache", default="~/.cache/vision-bench")
    p.add_argument("--vision-bench", default=os.path.join(ROOT, ".build", "release", "vision-bench"))
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args)
    for row in args.rows:
        arch, image_size, threads = row.split(":")
        env = dict(os.environ, OMP_NUM_THREADS=threads)
        done = subprocess.run([sys.executable, __file__, "--worker", row, "--repeats", str(args.repeats),
                               "--cache", args.cache], capture_output=True, text=True, env=env, check=True)
        ov = json.loads(done.stdout.strip().splitlines()[-1])
        vision = run_benchmarks.measure("vision", arch, image_size, int(threads), args)
        if vision is None:
            continue  # measure() said why on stderr
        print(f"\n{arch.replace('fasterrcnn_', '')} {image_size}, {threads} thread(s): vision {vision['median_s']:.4f} s, "
              f"OpenVINO {ov['median_s']:.4f} s (wall medians)")
        print("| stage | vision s | OpenVINO s | vision - OpenVINO s |")
        print("|---|---|---|---|")
        for stage in STAGES:
            v, o = vision["stages_s"].get(stage), ov["stages_s"].get(stage, 0.0)
            vs = "-" if v is None else f"{v:.4f}"
            diff = "-" if v is None else f"{v - o:+.4f}"
            print(f"| {stage} | {vs} | {o:.4f} | {diff} |")
        print("OpenVINO's slowest layers (median s, kernel): " + "; ".join(
            f"{name} {s:.4f} ({kind})" for s, name, kind in ov["layers"]))


if __name__ == "__main__":
    main()
