#!/usr/bin/env python3
"""How much arithmetic one training step is, and the fastest it could be on this machine.

Counts the floating-point operations of the convolutions and matrix products of one
torchvision training step (the same step train_benchmark.py times: 2 BCCD train
images, same checkpoint and trainable layers, forward with targets, backward), and divides by the cblas_sgemm GFLOP/s that `vision-kernel-bench` measures
at each thread count. That quotient is a floor for any FP32 implementation on
this CPU that does the same arithmetic: every convolution and matrix product of the
step at the speed of a large square sgemm and everything else free. A second floor
counts the 3x3 stride-1 convolutions' three passes at a quarter (what Winograd
F(4x4, 3x3) saves in multiplications, transforms free): the only way under the first.

    swift build -c release --product vision-kernel-bench
    ~/ref/bin/python Tests/Benchmarks/train_flops.py [--threads 1 2] \
        [--archs ...] [--cache /tmp/bench] [--torch-images-per-s ARCH:THREADS:X ...]

With --torch-images-per-s (train_benchmark.py's torch column), it also prints the
step time a 2.0x ratio would need and what fraction of sgemm's speed that takes.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import train_benchmark as tb  # noqa: E402


def count_step_flops(arch, cache, dataset):
    """(total FLOPs, Counter of FLOPs by kind) of the convolutions and matrix products
    of one training step in torch, counted by forward hooks on every Conv2d and Linear:
    forward 2 * outputs * (Cin / groups) * kH * kW (Linear: 2 * outputs * inputs), the
    same again for the input gradient when the input requires one and again for the
    weight gradient when the weight is trained. (torch.utils.flop_counter counts a
    depthwise convolution's backward as a dense one's: 14x the forward on MobileNetV3.)
    Everything else (RoIAlign, NMS, losses, batch norm, SGD) is left out: free."""
    import torch
    from torchvision.io import read_image

    images, targets = tb.read_dataset(dataset)
    model, torch_targets, _ = tb.torch_training_model(arch, cache, targets)
    batch = [read_image(p).float() / 255 for p in images]
    by_kind = Counter()

    def hook(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            kh, kw = module.kernel_size
            kind = ("depthwise conv" if module.groups > 1
                    else "3x3 s1 conv" if (kh, kw) == (3, 3) and module.stride == (1, 1) else "conv")
            forward = 2 * output.numel() * (module.in_channels // module.groups) * kh * kw
        else:
            kind = "linear"
            forward = 2 * output.numel() * module.in_features
        by_kind[kind + " forward"] += forward
        if inputs[0].requires_grad:
            by_kind[kind + " input gradient"] += forward
        if module.weight.requires_grad:
            by_kind[kind + " weight gradient"] += forward

    for module in model.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            module.register_forward_hook(hook)
    loss = sum(model(batch, torch_targets).values())
    loss.backward()
    return sum(by_kind.values()), by_kind


def sgemm_gflops(bench, threads):
    out = subprocess.run([bench, "--threads", str(threads), "--only-sgemm", "1"],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"cblas_sgemm 2048x2048x2048: ([0-9.]+) GFLOP/s", out).group(1))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--archs", nargs="+", default=tb.ARCHS)
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--dataset", default="/work/shared/datasets/bccd")
    p.add_argument("--cache", default="~/.cache/vision-bench")
    p.add_argument("--kernel-bench", default=os.path.join(ROOT, ".build/release/vision-kernel-bench"))
    p.add_argument("--torch-images-per-s", nargs="*", default=[],
                   help="ARCH:THREADS:IMAGES_PER_S from train_benchmark.py's torch column")
    args = p.parse_args()
    torch_rate = {}
    for item in args.torch_images_per_s:
        arch, threads, rate = item.split(":")
        torch_rate[(arch, int(threads))] = float(rate)
    sgemm = {t: sgemm_gflops(args.kernel_bench, t) for t in args.threads}
    with tempfile.TemporaryDirectory() as scratch:
        dataset = os.path.join(scratch, "bccd2")
        tb.make_dataset(args.dataset, dataset)
        for arch in args.archs:
            total, by_op = count_step_flops(arch, args.cache, dataset)
            parts = ", ".join(f"{op} {flops / 1e9:.1f}" for op, flops in by_op.most_common())
            print(f"{arch}: {total / 1e9:.1f} GFLOP per step of {tb.BATCH} images ({parts})")
            for t in args.threads:
                floor = total / (sgemm[t] * 1e9)
                # Winograd F(4x4, 3x3) multiplies 36 times per 16 outputs where the direct
                # 3x3 conv multiplies 144: the 3x3 stride-1 work at a quarter, transforms free.
                winograd = sum(f for k, f in by_op.items() if k.startswith("3x3 s1")) * 3 / 4
                winograd_floor = (total - winograd) / (sgemm[t] * 1e9)
                line = (f"  {t} thread(s): sgemm {sgemm[t]:.1f} GFLOP/s -> floor {floor:.2f} s per step"
                        f" ({winograd_floor:.2f} s with every 3x3 stride-1 conv pass as Winograd F(4x4,3x3))")
                if (arch, t) in torch_rate:
                    torch_step = tb.BATCH / torch_rate[(arch, t)]
                    target = torch_step / 2
                    line += (f"; torch {torch_step:.2f} s, 2.0x needs {target:.2f} s = the whole step at "
                             f"{100 * floor / target:.0f}% of sgemm")
                print(line)


if __name__ == "__main__":
    main()
