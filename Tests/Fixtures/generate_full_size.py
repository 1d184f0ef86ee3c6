#!/usr/bin/env python3
"""Full-size parity check (not run in CI): seeded random-weight checkpoints of the
four torchvision Faster R-CNN builders, in .safetensors, zip .pth and legacy .pth,
and torchvision's detections on real photos (plus a grayscale and an RGBA PNG).

    ~/ref/bin/python Tests/Fixtures/generate_full_size.py ~/.cache/vision-parity
    VISION_FULL_SIZE_DIR=~/.cache/vision-parity swift test -c release --filter FullSizeParityTests

Weights are made detection-like the same way as the reduced-width fixtures
(generate_model.py): randomised batch-norm statistics, variance-preserving
rescaling of the MobileNet body, regressors bounded and a classifier scaled so
that the most confident RoI over the photos scores 0.99. resnet50_fpn runs its batch norms
with eps 0.0, as torchvision's COCO_V1 weights do.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision
from PIL import Image
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate_model as fixtures  # noqa: E402

ARCHS = ["fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn_v2",
         "fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn"]
PHOTOS = ["pets.jpg", "cat_720p.jpg", "kite_and_cold.jpg", "parrot.jpg", "owl.jpg"]


def make_images(out):
    names = list(PHOTOS)
    gray = Image.open(os.path.join(fixtures.PHOTOS, "hot_dog.jpg")).convert("L")
    gray.save(os.path.join(out, "hot_dog_gray.png"))
    rgba = Image.open(os.path.join(fixtures.PHOTOS, "face.jpg")).convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(rgba.size))
    rgba.save(os.path.join(out, "face_rgba.png"))
    return names + ["hot_dog_gray.png", "face_rgba.png"]


def load(out, name):
    path = os.path.join(fixtures.PHOTOS, name) if name.endswith(".jpg") else os.path.join(out, name)
    arr = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


def main(out):
    os.makedirs(out, exist_ok=True)
    images = make_images(out)
    calibration = load(out, images[0])
    for seed, arch in enumerate(ARCHS):
        torch.manual_seed(seed)
        model = getattr(torchvision.models.detection, arch)(weights=None, weights_backbone=None)
        generator = torch.Generator().manual_seed(100 + seed)
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.BatchNorm2d):
                    n = m.weight.shape[0]
                    m.weight.copy_(torch.rand(n, generator=generator) * 0.5 + 0.75)
                    m.bias.copy_(torch.randn(n, generator=generator) * 0.1)
                    m.running_mean.copy_(torch.randn(n, generator=generator) * 0.1)
                    m.running_var.copy_(torch.rand(n, generator=generator) * 0.5 + 0.75)
                    if arch == "fasterrcnn_resnet50_fpn":
                        m.eps = 0.0
        fixtures.load_rgb = lambda name: calibration  # preserve_variance: the first photo
        if "mobilenet" in arch:
            fixtures.preserve_variance(model)
        fixtures.sharpen(model, [load(out, name) for name in images])
        model.eval()
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        save_file({k: v.float() for k, v in state.items()}, os.path.join(out, f"{arch}.safetensors"))
        torch.save(state, os.path.join(out, f"{arch}.pth"))
        torch.save(state, os.path.join(out, f"{arch}_legacy.pth"), _use_new_zipfile_serialization=False)
        expected = {"arch": arch, "images": []}
        for name in images:
            with torch.no_grad():
                det = model([load(out, name)])[0]
            expected["images"].append({"file": name, "detections": [
                {"box": b, "label": int(l), "score": float(s)}
                for b, l, s in zip(det["boxes"].tolist(), det["labels"].tolist(), det["scores"].tolist())]})
            print(arch, name, len(det["scores"]), "detections", file=sys.stderr)
        with open(os.path.join(out, f"{arch}.expected.json"), "w") as f:
            json.dump(expected, f)


if __name__ == "__main__":
    main(os.path.expanduser(sys.argv[1] if len(sys.argv) > 1 else "~/.cache/vision-parity"))
