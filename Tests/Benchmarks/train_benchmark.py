#!/usr/bin/env python3
"""Training-step benchmark: `vision train` vs a torchvision training step (PyTorch
eager), same machine, same thread count, same batch (2 BCCD train images at each
model's own resize), same starting checkpoint, same trainable layers.

    swift build -c release --product vision
    ~/ref/bin/python Tests/Benchmarks/train_benchmark.py \
        [--vision .build/release/vision] [--dataset /work/shared/datasets/bccd] \
        [--archs fasterrcnn_mobilenet_v3_large_fpn fasterrcnn_mobilenet_v3_large_320_fpn] \
        [--threads 1 2] [--steps 5] [--runtimes vision torch] [--json results.json]

Both sides take one warm-up step, then `--steps` timed steps; the figure is
2 images / median step time.
- vision: `vision train` on a two-image Pascal VOC copy of BCCD (batch 2, so one
  step per epoch), `--checkpoint ~/.cache/vision-bench/<arch>.safetensors` when
  prepare_models.py made one (backbone stages trained: 3), else from scratch (all 6).
  Step time = the `images_per_s` of each metrics.jsonl line: JPEG decode, resize,
  forward, backward and the SGD update; not the per-epoch checkpoint write.
- torch: torchvision's builder internals with FrozenBatchNorm2d and
  `_mobilenet_extractor(..., trainable_layers)` (torchvision only honours
  trainable_backbone_layers with pretrained weights), the same .pth, a new
  FastRCNNPredictor for the dataset's classes, model.train(), SGD(lr 0.005,
  momentum 0.9, weight decay 1e-4). Step time: read_image of both JPEGs, forward
  with targets, sum of the four losses, backward, optimizer step.
Each (runtime, arch, threads) runs in its own process.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ARCHS = ["fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn", "fasterrcnn_resnet50_fpn"]
BATCH = 2


def make_dataset(source, folder):
    """Copies the first two ids of `source`'s train split into a Pascal VOC folder."""
    with open(os.path.join(source, "ImageSets", "Main", "train.txt")) as f:
        ids = [line.split()[0] for line in f if line.strip()][:BATCH]
    for sub in ["Annotations", "JPEGImages", "ImageSets/Main"]:
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    for i in ids:
        shutil.copy(os.path.join(source, "Annotations", i + ".xml"), os.path.join(folder, "Annotations"))
        shutil.copy(os.path.join(source, "JPEGImages", i + ".jpg"), os.path.join(folder, "JPEGImages"))
    with open(os.path.join(folder, "ImageSets", "Main", "train.txt"), "w") as f:
        f.write("\n".join(ids) + "\n")


def read_dataset(folder):
    """(image paths, per image (boxes [[x1, y1, x2, y2]], class names)) of the copy."""
    with open(os.path.join(folder, "ImageSets", "Main", "train.txt")) as f:
        ids = [line.strip() for line in f if line.strip()]
    images, targets = [], []
    for i in ids:
        images.append(os.path.join(folder, "JPEGImages", i + ".jpg"))
        boxes, names = [], []
        for obj in ET.parse(os.path.join(folder, "Annotations", i + ".xml")).getroot().iter("object"):
            bb = obj.find("bndbox")
            boxes.append([float(bb.find(k).text) for k in ["xmin", "ymin", "xmax", "ymax"]])
            names.append(obj.find("name").text.strip())
        targets.append((boxes, names))
    return images, targets


def checkpoint_for(arch, cache):
    path = os.path.join(os.path.expanduser(cache), f"{arch}.safetensors")
    return path if os.path.exists(path) else None


def median_images_per_s(step_seconds):
    return BATCH / statistics.median(step_seconds)


# ---------------------------------------------------------------- vision

def run_vision(args, arch, threads, dataset, scratch):
    run = os.path.join(scratch, f"run-{arch}-t{threads}")
    cmd = [args.vision, "train", "--dataset", dataset, "--model", arch, "--batch-size", str(BATCH),
           "--epochs", str(1 + args.steps), "--threads", str(threads), "--val-split", "none", "--seed", "0",
           # The torch side trains at one fixed size, unaugmented: so does vision here.
           "--scales", "none", "--photometric", "0", "-o", run]
    checkpoint = checkpoint_for(arch, args.cache)
    if checkpoint:
        cmd += ["--checkpoint", checkpoint]
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    env.pop("VISION_MODELS", None)  # the full-size Models/ definitions
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"vision train failed: {done.stderr.strip()[-2000:]}")
    with open(os.path.join(run, "metrics.jsonl")) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    steps = [BATCH / m["images_per_s"] for m in lines if m.get("kind") == "iteration"]
    timed = steps[1:]  # step 1 is the warm-up
    trainable = count_momentum_tensors(os.path.join(run, "checkpoint.safetensors"))
    shutil.rmtree(run, ignore_errors=True)
    return {"images_per_s": median_images_per_s(timed), "step_s": timed, "warmup_s": steps[0],
            "wall_s": wall, "trainable_tensors": trainable, "checkpoint": checkpoint, "losses": [m["loss"] for m in lines if m.get("kind") == "iteration"]}


def count_momentum_tensors(path):
    """Trainable tensors of a vision run: the optimizer.<key>.momentum entries of its
    checkpoint (safetensors header: u64 little-endian length, then JSON)."""
    with open(path, "rb") as f:
        header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
    return sum(1 for key in header if key.startswith("optimizer."))


# ---------------------------------------------------------------- torch

def build_torch_model(arch, num_classes, trainable_layers, pth):
    import torch
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.backbone_utils import _mobilenet_extractor
    from torchvision.models.detection.faster_rcnn import FasterRCNN, FastRCNNPredictor
    from torchvision.models.mobilenetv3 import mobilenet_v3_large
    from torchvision.ops import misc as misc_nn_ops

    if arch == "fasterrcnn_resnet50_fpn":
        # torchvision's fasterrcnn_resnet50_fpn with is_trained = True (FrozenBatchNorm2d body).
        from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
        from torchvision.models.resnet import resnet50
        body = resnet50(weights=None, norm_layer=misc_nn_ops.FrozenBatchNorm2d)
        model = FasterRCNN(_resnet_fpn_extractor(body, min(trainable_layers, 5)), 91)
        if pth:
            model.load_state_dict(torch.load(pth, map_location="cpu", weights_only=True))
        model.roi_heads.box_predictor = FastRCNNPredictor(1024, num_classes)
        return model
    # torchvision's _fasterrcnn_mobilenet_v3_large_fpn with is_trained = True.
    kwargs = {"rpn_score_thresh": 0.05}
    if arch == "fasterrcnn_mobilenet_v3_large_320_fpn":
        kwargs.update(min_size=320, max_size=640, rpn_pre_nms_top_n_test=150, rpn_post_nms_top_n_test=150)
    backbone = mobilenet_v3_large(weights=None, norm_layer=misc_nn_ops.FrozenBatchNorm2d)
    backbone = _mobilenet_extractor(backbone, True, trainable_layers)
    anchor_sizes = ((32, 64, 128, 256, 512),) * 3
    model = FasterRCNN(backbone, 91, rpn_anchor_generator=AnchorGenerator(anchor_sizes, ((0.5, 1.0, 2.0),) * 3), **kwargs)
    if pth:
        state = torch.load(pth, map_location="cpu", weights_only=True)
        state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
        model.load_state_dict(state)
    model.roi_heads.box_predictor = FastRCNNPredictor(1024, num_classes)
    return model


def torch_training_model(arch, cache, targets):
    """The torch side's model in train mode (seed 0; the prepared .pth and 3 trainable
    stages when there is one, else from scratch with all 6), the targets as tensors, and
    the .pth used (None from scratch)."""
    import torch

    torch.manual_seed(0)
    classes = ["__background__"] + sorted({n for _, names in targets for n in names})
    checkpoint = checkpoint_for(arch, cache)
    pth = checkpoint[: -len(".safetensors")] + ".pth" if checkpoint else None
    if pth and not os.path.exists(pth):
        pth = None
    model = build_torch_model(arch, len(classes), 3 if pth else 6, pth)
    model.train()
    torch_targets = [{"boxes": torch.tensor(b, dtype=torch.float32),
                      "labels": torch.tensor([classes.index(n) for n in names], dtype=torch.int64)}
                     for b, names in targets]
    return model, torch_targets, pth


def run_torch(args, arch, threads, images, targets):
    import torch
    from torchvision.io import read_image

    torch.set_num_threads(threads)
    model, torch_targets, pth = torch_training_model(arch, args.cache, targets)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.0025 * BATCH, momentum=0.9, weight_decay=1e-4)
    steps, losses = [], []
    for _ in range(1 + args.steps):
        start = time.perf_counter()
        batch = [read_image(p).float() / 255 for p in images]
        loss = sum(model(batch, torch_targets).values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        steps.append(time.perf_counter() - start)
        losses.append(loss.detach().item())
    timed = steps[1:]
    return {"images_per_s": median_images_per_s(timed), "step_s": timed, "warmup_s": steps[0],
            "trainable_tensors": len(params), "checkpoint": pth, "losses": losses}


# ---------------------------------------------------------------- driver

def measure(args, runtime, arch, threads, dataset):
    """One measurement in its own process; returns its JSON result or None."""
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", runtime, "--archs", arch,
           "--threads", str(threads), "--steps", str(args.steps), "--vision", args.vision,
           "--cache", args.cache, "--dataset", dataset]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        print(f"FAILED {runtime} {arch} t={threads}: {done.stderr.strip()[-2000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker(args):
    """Runs inside the per-measurement process; `args.dataset` is the two-image copy."""
    arch, threads = args.archs[0], args.threads[0]
    if args.worker == "vision":
        result = run_vision(args, arch, threads, args.dataset, os.path.dirname(args.dataset))
    else:
        images, targets = read_dataset(args.dataset)
        result = run_torch(args, arch, threads, images, targets)
    print(json.dumps(result))


def fmt(x, digits=3):
    return "-" if x is None else f"{x:.{digits}f}"


def steps(result):
    """Step seconds as "median, best" (best: the least disturbed by other load)."""
    return "-" if not result else f"{statistics.median(result['step_s']):.3f}, {min(result['step_s']):.3f}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vision", default=os.path.join(ROOT, ".build", "release", "vision"))
    p.add_argument("--dataset", default="/work/shared/datasets/bccd")
    p.add_argument("--cache", default="~/.cache/vision-bench")
    p.add_argument("--archs", nargs="+", default=ARCHS)
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--runtimes", nargs="+", default=["vision", "torch"])
    p.add_argument("--steps", type=int, default=5, help="timed steps after one warm-up step")
    p.add_argument("--json")
    p.add_argument("--worker", choices=["vision", "torch"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args)

    scratch = tempfile.mkdtemp(prefix="vision-train-bench-")
    try:
        dataset = os.path.join(scratch, "bccd2")
        make_dataset(args.dataset, dataset)
        images, _ = read_dataset(dataset)
        print(f"batch: {', '.join(os.path.basename(i) for i in images)}; uptime: {os.popen('uptime').read().strip()}")
        results = []
        for arch in args.archs:
            for threads in args.threads:
                row = {"arch": arch, "threads": threads}
                for runtime in args.runtimes:
                    row[runtime] = measure(args, runtime, arch, threads, dataset)
                results.append(row)
                v, t = row.get("vision"), row.get("torch")
                print(f"{arch} t={threads}: vision {fmt(v and v['images_per_s'])} img/s, "
                      f"torch {fmt(t and t['images_per_s'])} img/s", file=sys.stderr)
        print(f"uptime after: {os.popen('uptime').read().strip()}\n")
        print("| model | threads | vision img/s | torch img/s | vision / torch | vision step s (median, best) "
              "| torch step s (median, best) | trainable tensors vision / torch |")
        print("|---|---|---|---|---|---|---|---|")
        for row in results:
            v, t = row.get("vision"), row.get("torch")
            ratio = v["images_per_s"] / t["images_per_s"] if v and t else None
            print(f"| {row['arch']} | {row['threads']} | {fmt(v and v['images_per_s'])} | {fmt(t and t['images_per_s'])} "
                  f"| {fmt(ratio, 2)} | {steps(v)} | {steps(t)} "
                  f"| {v and v['trainable_tensors']} / {t and t['trainable_tensors']} |")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
