#!/usr/bin/env python3
"""End-to-end benchmark: vision vs PyTorch eager vs ONNX Runtime vs OpenVINO on five
Faster R-CNN architectures (the shipped default and torchvision's four), same
checkpoint, same decoded image, same thread count; every measurement in its own
process (so peak RSS is its own).

    Tests/Benchmarks/setup_reference_env.sh
    ~/.venvs/vision-bench/bin/python Tests/Benchmarks/prepare_models.py
    swift build -c release --product vision-bench
    ~/.venvs/vision-bench/bin/python Tests/Benchmarks/run_benchmarks.py \
        [--vision-bench .build/release/vision-bench] [--threads 1 2] [--images 640x480 1280x720] \
        [--archs ...] [--runtimes vision torch ort ov] [--repeats 5] [--json results.json]

Prints a Markdown table (median latency, vision / best peer, peak RSS, detection
counts) and vision's per-stage medians and backbone conv GFLOP/s against
cblas_sgemm's GFLOP/s measured in the same vision-bench process.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# The same list as reference_models.ARCHS (not imported: that module needs torch).
ARCHS = ["fasterrcnn_mobilenet_v2_fpn", "fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn_v2",
         "fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn"]
STAGES = ["transform", "backbone", "fpn", "rpn", "roiAlign", "boxHead", "postprocess"]


def measure(runtime, arch, image, threads, args):
    cache = os.path.expanduser(args.cache)
    if runtime == "vision":
        cmd = [args.vision_bench, "--checkpoint", os.path.join(cache, f"{arch}.safetensors"), "--model", arch,
               "--image", os.path.join(cache, f"img_{image}.png"), "--threads", str(threads),
               "--repeats", str(args.repeats)]
    else:
        cmd = [sys.executable, os.path.join(HERE, "reference_runner.py"), "--runtime", runtime, "--arch", arch,
               "--image", image, "--threads", str(threads), "--repeats", str(args.repeats), "--cache", cache]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        print(f"FAILED {runtime} {arch} {image} t={threads}: {done.stderr.strip()[-2000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def fmt(x, digits=3):
    return "-" if x is None else f"{x:.{digits}f}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vision-bench", default=os.path.join(ROOT, ".build", "release", "vision-bench"))
    p.add_argument("--cache", default="~/.cache/vision-bench")
    p.add_argument("--archs", nargs="+", default=ARCHS)
    p.add_argument("--images", nargs="+", default=["640x480", "1280x720"])
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--runtimes", nargs="+", default=["vision", "torch", "ort", "ov"])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--json", help="also write every raw result to this file")
    args = p.parse_args()

    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    results = []
    for arch in args.archs:
        for image in args.images:
            for threads in args.threads:
                row = {"arch": arch, "image": image, "threads": threads}
                for runtime in args.runtimes:
                    r = measure(runtime, arch, image, threads, args)
                    row[runtime] = r
                    if r:
                        print(f"  {runtime:6s} {arch} {image} t={threads}: {r['median_s']:.3f} s, "
                              f"{r['peak_rss_mb']:.0f} MiB, {r['detections']} detections", flush=True)
                results.append(row)
    load = os.getloadavg()
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")

    def get(row, runtime, key):
        r = row.get(runtime)
        return r.get(key) if r else None

    peers = [rt for rt in ("torch", "ort", "ov") if rt in args.runtimes]
    names = {"vision": "vision", "torch": "torch", "ort": "ORT", "ov": "OpenVINO"}
    shown = ["vision"] + peers
    print("| arch | image | threads | " + " | ".join(f"{names[rt]} s" for rt in shown)
          + " | best peer | vision / best peer | RSS MiB " + "/".join(names[rt] for rt in shown)
          + " | detections " + "/".join(names[rt] for rt in shown) + " |")
    print("|---|---|---|" + "---|" * (len(shown) + 4))
    for row in results:
        times = {rt: get(row, rt, "median_s") for rt in shown}
        measured = [rt for rt in peers if times[rt]]
        best = min(measured, key=lambda rt: times[rt]) if measured else None
        v = times["vision"]
        ratio = v / times[best] if v and best else None
        rss = "/".join(fmt(get(row, rt, "peak_rss_mb"), 0) for rt in shown)
        dets = "/".join(str(get(row, rt, "detections")) if get(row, rt, "detections") is not None else "-"
                        for rt in shown)
        print(f"| {row['arch'].replace('fasterrcnn_', '')} | {row['image']} | {row['threads']} | "
              + " | ".join(fmt(times[rt]) for rt in shown)
              + f" | {names[best] if best else '-'} | {fmt(ratio, 2)} | {rss} | {dets} |")

    if "vision" in args.runtimes:
        print("\nvision per stage (median s) and backbone conv GFLOP/s vs cblas_sgemm 2048^3 (same process):\n")
        print("| arch | image | threads | " + " | ".join(STAGES)
              + " | backbone dense GFLOP/s | depthwise GFLOP/s | sgemm GFLOP/s | dense/sgemm |")
        print("|---|---|---|" + "---|" * (len(STAGES) + 4))
        for row in results:
            v = row.get("vision")
            if not v:
                continue
            stages = " | ".join(fmt(v["stages_s"].get(s), 4) for s in STAGES)
            bc = v.get("backbone_conv", {})
            dense, dw, sg = bc.get("dense_gflops"), bc.get("depthwise_gflops"), v.get("sgemm_gflops")
            print(f"| {row['arch'].replace('fasterrcnn_', '')} | {row['image']} | {row['threads']} | {stages} "
                  f"| {fmt(dense, 1)} | {fmt(dw, 1) if dw else '-'} | {fmt(sg, 1)} "
                  f"| {fmt(dense / sg if dense and sg else None, 2)} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
