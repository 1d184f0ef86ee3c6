"""Generates the detection-ops fixtures in Tests/Fixtures/detops/.

Run with the reference venv: ~/ref/bin/python Tests/Fixtures/generate_detops.py
Outputs:
  detops/detops.f32  every float array, concatenated, raw little-endian float32
  detops/index.json  {"arrays": {name: {"offset": <floats>, "shape": [...]}},
                      "ints": {name: [...]}, "params": {...}}
Scores used for NMS are distinct by construction (torch's sort is not stable).
"""
import math
import os
from collections import OrderedDict

import numpy as np
import torch
import torchvision
from torchvision.models.detection._utils import BoxCoder
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.ops import MultiScaleRoIAlign, batched_nms, clip_boxes_to_image, nms, remove_small_boxes, roi_align

from fixture_blob import FixtureBlob

torch.manual_seed(1234)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "detops")
os.makedirs(OUT, exist_ok=True)

fixture = FixtureBlob()
put, put_ints, params = fixture.put, fixture.put_ints, fixture.params


def random_boxes(n, span_x, span_y, min_wh=1.0, max_wh=60.0):
    x1 = torch.rand(n) * span_x
    y1 = torch.rand(n) * span_y
    w = min_wh + torch.rand(n) * (max_wh - min_wh)
    h = min_wh + torch.rand(n) * (max_wh - min_wh)
    return torch.stack([x1, y1, x1 + w, y1 + h], dim=1)


def distinct_scores(n):
    return (torch.randperm(n).float() + 0.5) / n


# ---- 1. AnchorGenerator ----------------------------------------------------
def resnet_generator():
    sizes = ((32,), (64,), (128,), (256,), (512,))
    return AnchorGenerator(sizes, ((0.5, 1.0, 2.0),) * len(sizes))


def mobilenet_generator():
    sizes = ((32, 64, 128, 256, 512),) * 3
    return AnchorGenerator(sizes, ((0.5, 1.0, 2.0),) * len(sizes))


def anchors_for(gen, padded_hw, feature_hws):
    images = ImageList(torch.zeros(1, 3, *padded_hw), [tuple(padded_hw)])
    feats = [torch.zeros(1, 1, h, w) for h, w in feature_hws]
    return gen(images, feats)[0]


def pyramid(padded_hw, strides):
    # FPN sizes: stride-4 map is padded/4; each next level halves with ceil
    # (conv stride 2, pad 1; max_pool k=1 s=2 for "pool").
    h, w = padded_hw[0] // strides[0], padded_hw[1] // strides[0]
    out = [(h, w)]
    for _ in strides[1:]:
        h, w = (h + 1) // 2, (w + 1) // 2
        out.append((h, w))
    return out


anchor_cases = [
    # name, generator, padded size, feature sizes, row stride of the stored subset
    ("anchors_resnet_128x160", resnet_generator(), (128, 160), pyramid((128, 160), [4, 8, 16, 32, 64]), 3),
    ("anchors_resnet_800x1088", resnet_generator(), (800, 1088), pyramid((800, 1088), [4, 8, 16, 32, 64]), 311),
    ("anchors_mobilenet_96x128", mobilenet_generator(), (96, 128), [(3, 4), (3, 4), (2, 2)], 1),
    ("anchors_mobilenet_800x1088", mobilenet_generator(), (800, 1088), [(25, 34), (25, 34), (13, 17)], 97),
]
params["anchor_cases"] = []
for name, gen, padded, feats, step in anchor_cases:
    a = anchors_for(gen, padded, feats)
    rows = list(range(0, a.shape[0], step))
    if rows[-1] != a.shape[0] - 1:
        rows.append(a.shape[0] - 1)
    put(name, a[rows])  # rows 0, step, 2*step, ... and always the last row
    params["anchor_cases"].append({
        "name": name, "config": name.split("_")[1], "padded": list(padded),
        "features": [list(f) for f in feats], "count": int(a.shape[0]), "row_step": step,
    })

# ---- 2. BoxCoder -----------------------------------------------------------
def coder_case(name, weights, n, classes, big_fraction):
    boxes = random_boxes(n, 600.0, 400.0, 0.5, 300.0)
    deltas = torch.randn(n, 4 * classes) * 1.5
    big = torch.rand(n, 4 * classes) < big_fraction
    wh_col = (torch.arange(4 * classes) % 4 >= 2).expand(n, -1)
    # dw, dh far beyond log(1000/16) * weight to hit the clamp.
    deltas = torch.where(big & wh_col, 8.0 + torch.rand(n, 4 * classes) * 40.0, deltas)
    coder = BoxCoder(weights)
    decoded = coder.decode(deltas, [boxes]).reshape(n, classes * 4)
    put(name + "_boxes", boxes)
    put(name + "_deltas", deltas)
    put(name + "_decoded", decoded)
    params[name] = {"weights": list(weights), "classes": classes}


coder_case("decode_rpn", (1.0, 1.0, 1.0, 1.0), 400, 1, 0.15)
coder_case("decode_roi", (10.0, 10.0, 5.0, 5.0), 80, 5, 0.1)

for name, weights in [("encode_rpn", (1.0, 1.0, 1.0, 1.0)), ("encode_roi", (10.0, 10.0, 5.0, 5.0))]:
    ref = random_boxes(300, 600.0, 400.0, 1.0, 200.0)
    prop = random_boxes(300, 600.0, 400.0, 1.0, 200.0)
    enc = BoxCoder(weights).encode_single(ref, prop)
    put(name + "_reference", ref)
    put(name + "_proposals", prop)
    put(name + "_encoded", enc)
    params[name] = {"weights": list(weights)}

clip_in = random_boxes(200, 260.0, 200.0, 0.0, 80.0) - 30.0
put("clip_input", clip_in)
put("clip_output", clip_boxes_to_image(clip_in, (150, 190)))
params["clip"] = {"height": 150, "width": 190}
small = random_boxes(300, 100.0, 100.0, 0.0, 0.05)
put("small_boxes", small)
put_ints("small_keep", remove_small_boxes(small, 1e-2))
params["small"] = {"min_size": 1e-2}

# ---- 3. NMS ----------------------------------------------------------------
def clustered_boxes(n, clusters, span=500.0):
    centers = torch.rand(clusters, 2) * span
    which = torch.randint(0, clusters, (n,))
    c = centers[which] + torch.randn(n, 2) * 8.0
    wh = 20.0 + torch.rand(n, 2) * 40.0
    return torch.cat([c - wh / 2, c + wh / 2], dim=1)


nms_boxes = clustered_boxes(1000, 60)
nms_scores = distinct_scores(1000)
put("nms_boxes", nms_boxes)
put("nms_scores", nms_scores)
for thr in (0.7, 0.5, 0.3):
    put_ints("nms_keep_%g" % thr, nms(nms_boxes, nms_scores, thr))
params["nms_thresholds"] = [0.7, 0.5, 0.3]

for name, n, classes, thr in [("batched_trick", 900, 5, 0.5), ("batched_vanilla", 1500, 10, 0.5)]:
    b = clustered_boxes(n, 50)
    s = distinct_scores(n)
    idx = torch.randint(0, classes, (n,))
    put(name + "_boxes", b)
    put(name + "_scores", s)
    put_ints(name + "_classes", idx)
    put_ints(name + "_keep", batched_nms(b, s, idx, thr))
    params[name] = {"threshold": thr, "numel": b.numel()}

# ---- 4. roi_align and MultiScaleRoIAlign ------------------------------------
def random_rois(n, img_h, img_w):
    """Boxes in image coordinates: ordinary, partly outside, tiny, huge."""
    b = random_boxes(n, img_w, img_h, 2.0, 0.7 * min(img_h, img_w))
    k = n // 6
    b[:k] -= 25.0                                      # partly outside top/left
    b[k:2 * k, 2:] = b[k:2 * k, :2] + torch.rand(k, 2) * 0.8   # tiny (< 1 px)
    b[2 * k:3 * k, 2:] += torch.rand(k, 2) * 300.0    # huge, beyond the image
    b[3 * k:3 * k + 2] = torch.tensor([[-40.0, -40.0, -10.0, -5.0], [img_w + 5.0, 3.0, img_w + 50.0, 9.0]])
    return b


feat = torch.randn(2, 3, 20, 24)
rb = random_rois(60, 80.0, 96.0)
bidx = torch.randint(0, 2, (60, 1)).float()
rois = torch.cat([bidx, rb], dim=1)
put("roialign_features", feat)
put("roialign_rois", rois)
put("roialign_out", roi_align(feat, rois, (7, 7), spatial_scale=0.25, sampling_ratio=2, aligned=False))
put("roialign_out_aligned_adaptive", roi_align(feat, rois[:30], (5, 4), spatial_scale=0.25, sampling_ratio=0, aligned=True))
params["roialign"] = {"spatial_scale": 0.25}


def pyramid_rois(n, img_h, img_w):
    """Sizes log-uniform over 4..900 px so every FPN level gets RoIs; centres
    inside the image (large boxes stick out); a few tiny and fully-outside ones."""
    side = torch.exp(torch.empty(n).uniform_(math.log(4.0), math.log(900.0)))
    ratio = torch.exp(torch.empty(n).uniform_(math.log(0.5), math.log(2.0)))
    w, h = side * ratio.sqrt(), side / ratio.sqrt()
    cx, cy = torch.rand(n) * img_w, torch.rand(n) * img_h
    b = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=1)
    b[:3, 2:] = b[:3, :2] + torch.rand(3, 2) * 0.8     # tiny (< 1 px)
    b[3] = torch.tensor([-40.0, -40.0, -10.0, -5.0])   # fully outside
    return b


def multiscale_case(name, names, feats, image_sizes, per_image_rois):
    x = OrderedDict((k, v) for k, v in zip(names, feats))
    x["pool"] = torch.randn(feats[-1].shape[0], feats[-1].shape[1], 1, 1)
    pooler = MultiScaleRoIAlign([n for n in names if n != "pool"], 7, 2)
    boxes = [pyramid_rois(k, h, w) for k, (h, w) in zip(per_image_rois, image_sizes)]
    out = pooler(x, boxes, image_sizes)
    levels = pooler.map_levels(boxes)
    print(name, "RoIs per level:", torch.bincount(levels, minlength=len(feats)).tolist())
    for i, f in enumerate(feats):
        put("%s_feature%d" % (name, i), f)
    for i, b in enumerate(boxes):
        put("%s_boxes%d" % (name, i), b)
    put(name + "_out", out)
    params[name] = {"levels": len(feats), "image_sizes": [list(s) for s in image_sizes],
                    "scales": pooler.scales, "k_min": pooler.map_levels.k_min, "k_max": pooler.map_levels.k_max}
    return out


# ResNet-FPN: padded 128x160, strides 4..32, 3 channels, two images.
multiscale_case("msroi_resnet", ["0", "1", "2", "3"],
                [torch.randn(2, 3, 128 // s, 160 // s) for s in (4, 8, 16, 32)],
                [(120, 150), (128, 100)], [48, 36])
# MobileNet-FPN: two stride-32 maps.
multiscale_case("msroi_mobilenet", ["0", "1"],
                [torch.randn(1, 3, 4, 5), torch.randn(1, 3, 4, 5)],
                [(128, 160)], [40])

fixture.write(os.path.join(OUT, "detops.f32"), os.path.join(OUT, "index.json"),
              header={"torch": torch.__version__, "torchvision": torchvision.__version__}, separators=(",", ":"))
print("floats:", fixture.offset, "bytes:", fixture.offset * 4, "index bytes:", os.path.getsize(os.path.join(OUT, "index.json")))
