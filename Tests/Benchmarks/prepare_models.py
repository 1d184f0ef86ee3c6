#!/usr/bin/env python3
"""Inputs of the end-to-end benchmark, written to a cache directory outside the repo.

For each of torchvision's four Faster R-CNN builders: full-size seeded random
weights (`builder(weights=None, weights_backbone=None)` after
`torch.manual_seed(SEED)`), saved as .safetensors (read by vision) and .pth;
for the shipped default, fasterrcnn_mobilenet_v2_fpn, its trained weights
(Models/default.safetensors, F16 widened to F32, metadata kept);
and each model exported to ONNX once per benchmark image (the exporter
traces one input size); reference_models.py builds the torchvision models. The images are decoded once here and written as PNG,
so vision, PyTorch and ONNX Runtime all read identical pixels:
  img_640x480.png   Samples/photos/pets.jpg resized (bilinear) to 640x480
  img_1280x720.png  Samples/photos/cat_720p.jpg decoded as is

resnet50_fpn: vision's model definition runs its batch norms with eps 0.0, as
torchvision's COCO_V1 weights do; the random-weight torchvision model is set
to eps 0.0 too, so all three runtimes compute the same function.

    ~/.venvs/vision-bench/bin/python Tests/Benchmarks/prepare_models.py [CACHE_DIR]

CACHE_DIR defaults to ~/.cache/vision-bench. Existing files are kept.
"""
import os
import sys
import warnings

import torch
from PIL import Image
from safetensors.torch import save_file

from reference_models import ARCHS, ROOT, SHIPPED, SHIPPED_ARCH, build, checkpoint_metadata, load_weights

PHOTOS = os.path.join(ROOT, "Samples", "photos")
IMAGES = {"640x480": ("pets.jpg", (640, 480)), "1280x720": ("cat_720p.jpg", (1280, 720))}



def image_tensor(path):
    """[3, H, W] float32 in [0, 1], as torchvision's to_tensor."""
    img = Image.open(path).convert("RGB")
    data = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8)
    return data.view(img.height, img.width, 3).permute(2, 0, 1).float().div(255)


def main():
    cache = os.path.expanduser(sys.argv[1] if len(sys.argv) > 1 else "~/.cache/vision-bench")
    os.makedirs(cache, exist_ok=True)
    for name, (photo, size) in IMAGES.items():
        out = os.path.join(cache, f"img_{name}.png")
        if not os.path.exists(out):
            img = Image.open(os.path.join(PHOTOS, photo)).convert("RGB")
            if img.size != size:
                img = img.resize(size, Image.BILINEAR)
            img.save(out)
            print("wrote", out)

    for arch in ARCHS:
        st = os.path.join(cache, f"{arch}.safetensors")
        pth = os.path.join(cache, f"{arch}.pth")
        onnx_paths = {n: os.path.join(cache, f"{arch}_{n}.onnx") for n in IMAGES}
        if all(os.path.exists(p) for p in [st, pth, *onnx_paths.values()]):
            continue
        model = build(arch)
        metadata = None
        if arch == SHIPPED_ARCH:
            load_weights(model, SHIPPED)
            metadata = checkpoint_metadata(SHIPPED)
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        if not os.path.exists(st):
            save_file(state, st, metadata=metadata)
            print("wrote", st)
        if not os.path.exists(pth):
            torch.save(state, pth)
            print("wrote", pth)
        for name, path in onnx_paths.items():
            if os.path.exists(path):
                continue
            img = image_tensor(os.path.join(cache, f"img_{name}.png"))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(model, ([img],), path, opset_version=17, dynamo=False,
                                  input_names=["image"], output_names=["boxes", "labels", "scores"])
            print("wrote", path)


if __name__ == "__main__":
    main()
