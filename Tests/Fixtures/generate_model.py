#!/usr/bin/env python3
"""Fixtures for the Faster R-CNN parity tests (Tests/VisionDetectionTests).

For each of torchvision's four Faster R-CNN architectures, and for this project's
fasterrcnn_mobilenet_v2_fpn (torchvision's mobilenet_v2 features with an FPN on
features[13] and [18]), this builds a model of the same structure with reduced
widths (torchvision's own classes: Bottleneck, InvertedResidual, mobilenet_v2,
BackboneWithFPN, RPNHead, TwoMLPHead / FastRCNNConvFCHead, MultiScaleRoIAlign,
FasterRCNN), seeded random weights, randomised batch-norm statistics and a
sharpened classifier (so that detections pass the 0.05 score threshold), and
records torchvision's outputs on a few real photos: body and FPN features
(strided samples + sums), RPN proposals and final detections.

Run with the reference venv:  ~/ref/bin/python Tests/Fixtures/generate_model.py
Writes Tests/Fixtures/model/: <arch>.safetensors, <arch>.json (model definition
for vision), <arch>.expected.json, <arch>.features.bin, and the input PNGs.
"""
import json
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
from PIL import Image
from safetensors.torch import save_file
from torchvision.models import mobilenet_v2, mobilenet_v3_large
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.faster_rcnn import FastRCNNConvFCHead, FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.rpn import RPNHead
from torchvision.models.resnet import Bottleneck
from torchvision.ops import FrozenBatchNorm2d, MultiScaleRoIAlign
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "model")
MODELS = os.path.join(ROOT, "Models")
PHOTOS = os.path.join(ROOT, "Samples", "photos")

FPN_CHANNELS = 32
REPRESENTATION = 32
RESNET_STEM = 8
RESNET_WIDTHS = [4, 8, 16, 32]
RESNET_BLOCKS = [3, 4, 6, 3]
MOBILENET_WIDTH = 0.25
BOX_HEAD_CONVS = [8, 8, 8, 8]
NUM_CLASSES = 91
TOP_SCORE = float(os.environ.get("TOP_SCORE", "0.99"))
# Largest |delta| of the random box regressors over the fixture images (RoI deltas
# before the 10,10,5,5 weights). A random linear layer on heavy-tailed features has
# outliers that shrink boxes to a fraction of a pixel, where IoU is ill-conditioned;
# bounding the largest delta keeps every image's boxes in a trained head's range.
RPN_DELTA_MAX = 1.0
DELTA_MAX = 2.5
# The fixture models run on smaller images than the published ones, to keep the
# committed feature samples small; the transform code path is the same.
FIXTURE_SIZES = {"fasterrcnn_resnet50_fpn": (320, 480), "fasterrcnn_resnet50_fpn_v2": (288, 416),
                 "fasterrcnn_mobilenet_v3_large_fpn": (480, 640), "fasterrcnn_mobilenet_v3_large_320_fpn": (320, 640),
                 "fasterrcnn_mobilenet_v2_fpn": (320, 480)}
# fasterrcnn_mobilenet_v2_fpn, added later, is kept smaller (its fixture files under
# 600 KB together): mobilenet_v2's last conv has 1280 channels at any width below 1,
# so the body is narrower, the FPN and box head thinner, fewer proposals are kept and
# fewer feature values sampled. The other four keep their original settings.
MOBILENET_V2_WIDTH = 0.1
MOBILENET_V2_FPN_CHANNELS = 8
MOBILENET_V2_REPRESENTATION = 16
MOBILENET_V2_RPN_TOP_N = 150
SAMPLE_COUNTS = {"fasterrcnn_mobilenet_v2_fpn": 512}


class MiniResNet(nn.Module):
    """torchvision's ResNet layout (same module names) with configurable widths."""

    def __init__(self, norm_layer):
        super().__init__()
        self.inplanes = RESNET_STEM
        self.conv1 = nn.Conv2d(3, RESNET_STEM, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(RESNET_STEM)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for i, (width, blocks) in enumerate(zip(RESNET_WIDTHS, RESNET_BLOCKS)):
            setattr(self, f"layer{i + 1}", self._make_layer(width, blocks, 1 if i == 0 else 2, norm_layer))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _make_layer(self, planes, blocks, stride, norm_layer):
        downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * 4, 1, stride=stride, bias=False), norm_layer(planes * 4))
        layers = [Bottleneck(self.inplanes, planes, stride, downsample, norm_layer=norm_layer)]
        self.inplanes = planes * 4
        layers += [Bottleneck(self.inplanes, planes, norm_layer=norm_layer) for _ in range(1, blocks)]
        return nn.Sequential(*layers)


def resnet_backbone(norm_layer, fpn_norm):
    body = MiniResNet(norm_layer)
    return_layers = {f"layer{i + 1}": str(i) for i in range(4)}
    return BackboneWithFPN(body, return_layers, [w * 4 for w in RESNET_WIDTHS], FPN_CHANNELS,
                           extra_blocks=LastLevelMaxPool(), norm_layer=fpn_norm)


def mobilenet_backbone():
    features = mobilenet_v3_large(width_mult=MOBILENET_WIDTH, norm_layer=FrozenBatchNorm2d).features
    stage_indices = [0] + [i for i, b in enumerate(features) if getattr(b, "_is_cn", False)] + [len(features) - 1]
    returned = [stage_indices[-2], stage_indices[-1]]
    in_channels = [features[i].out_channels for i in returned]
    return BackboneWithFPN(features, {str(i): str(k) for k, i in enumerate(returned)}, in_channels, FPN_CHANNELS,
                           extra_blocks=LastLevelMaxPool())


def mobilenet_v2_backbone():
    features = mobilenet_v2(width_mult=MOBILENET_V2_WIDTH, norm_layer=FrozenBatchNorm2d).features
    return BackboneWithFPN(features, {"13": "0", "18": "1"}, [features[13].out_channels, features[18].out_channels],
                           MOBILENET_V2_FPN_CHANNELS, extra_blocks=LastLevelMaxPool())


def build_mobilenet_v2(kw):
    """fasterrcnn_mobilenet_v2_fpn as Models/fasterrcnn_mobilenet_v2_fpn.json describes it."""
    with open(os.path.join(MODELS, "fasterrcnn_mobilenet_v2_fpn.json")) as f:
        config = json.load(f)
    anchors = AnchorGenerator(tuple(tuple(int(v) for v in s) for s in config["anchorSizes"]),
                              tuple(tuple(r) for r in config["aspectRatios"]))
    return FasterRCNN(mobilenet_v2_backbone(), image_mean=config["imageMean"], image_std=config["imageStd"],
                      rpn_anchor_generator=anchors,
                      rpn_head=RPNHead(MOBILENET_V2_FPN_CHANNELS, anchors.num_anchors_per_location()[0]),
                      rpn_pre_nms_top_n_test=MOBILENET_V2_RPN_TOP_N, rpn_post_nms_top_n_test=MOBILENET_V2_RPN_TOP_N,
                      rpn_nms_thresh=config["rpnNMSThresh"], rpn_score_thresh=config["rpnScoreThresh"],
                      box_roi_pool=MultiScaleRoIAlign(["0", "1"], config["roiOutputSize"], config["roiSamplingRatio"]),
                      box_head=TwoMLPHead(MOBILENET_V2_FPN_CHANNELS * config["roiOutputSize"] ** 2,
                                          MOBILENET_V2_REPRESENTATION),
                      box_predictor=FastRCNNPredictor(MOBILENET_V2_REPRESENTATION, NUM_CLASSES),
                      box_score_thresh=config["boxScoreThresh"], box_nms_thresh=config["boxNMSThresh"],
                      box_detections_per_img=config["boxDetectionsPerImage"], **kw)


def build(arch):
    min_size, max_size = FIXTURE_SIZES[arch]
    kw = dict(min_size=min_size, max_size=max_size)
    if arch == "fasterrcnn_resnet50_fpn":
        backbone = resnet_backbone(FrozenBatchNorm2d, None)
        head = TwoMLPHead(FPN_CHANNELS * 49, REPRESENTATION)
        model = FasterRCNN(backbone, box_head=head, box_predictor=FastRCNNPredictor(REPRESENTATION, NUM_CLASSES), **kw)
    elif arch == "fasterrcnn_mobilenet_v2_fpn":
        model = build_mobilenet_v2(kw)
    elif arch == "fasterrcnn_resnet50_fpn_v2":
        backbone = resnet_backbone(nn.BatchNorm2d, nn.BatchNorm2d)
        rpn_head = RPNHead(FPN_CHANNELS, 3, conv_depth=2)
        head = FastRCNNConvFCHead((FPN_CHANNELS, 7, 7), BOX_HEAD_CONVS, [REPRESENTATION], norm_layer=nn.BatchNorm2d)
        model = FasterRCNN(backbone, rpn_head=rpn_head, box_head=head,
                           box_predictor=FastRCNNPredictor(REPRESENTATION, NUM_CLASSES), **kw)
    else:
        anchors = AnchorGenerator(((32, 64, 128, 256, 512),) * 3, ((0.5, 1.0, 2.0),) * 3)
        if arch.endswith("320_fpn"):
            kw.update(rpn_pre_nms_top_n_test=150, rpn_post_nms_top_n_test=150)
        model = FasterRCNN(mobilenet_backbone(), rpn_anchor_generator=anchors, rpn_score_thresh=0.05,
                           rpn_head=RPNHead(FPN_CHANNELS, anchors.num_anchors_per_location()[0]),
                           box_head=TwoMLPHead(FPN_CHANNELS * 49, REPRESENTATION),
                           box_predictor=FastRCNNPredictor(REPRESENTATION, NUM_CLASSES), **kw)
    return model


def randomise(model, arch, generator, images):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, FrozenBatchNorm2d)):
                n = m.weight.shape[0]
                m.weight.copy_(torch.rand(n, generator=generator) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(n, generator=generator) * 0.1)
                m.running_mean.copy_(torch.randn(n, generator=generator) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=generator) * 0.5 + 0.75)
        for name, p in model.named_parameters():
            if name.endswith(".bias") and p.abs().sum() == 0:
                p.copy_(torch.randn(p.shape, generator=generator) * 0.05)
        predictor = model.roi_heads.box_predictor
        predictor.cls_score.bias.copy_(torch.randn(NUM_CLASSES, generator=generator) * 0.5)
    if arch == "fasterrcnn_resnet50_fpn":
        # As torchvision's COCO_V1 weights: FrozenBatchNorm2d eps 0.0 (Models/fasterrcnn_resnet50_fpn.json).
        for m in model.modules():
            if isinstance(m, FrozenBatchNorm2d):
                m.eps = 0.0
    if arch.startswith("fasterrcnn_mobilenet"):
        preserve_variance(model)
    if arch == "fasterrcnn_mobilenet_v2_fpn":
        balance_logits(model, images)
    sharpen(model, images)


def preserve_variance(model):
    """A randomly initialised MobileNetV3 collapses: its last feature maps are nearly
    constant over the image, so every RoI would look alike. Rescale each body conv, in
    order, so its output has unit standard deviation on the first fixture image
    (layer-sequential unit-variance init), which keeps the features image-dependent."""
    image = load_rgb("pets.png")
    convs = [m for m in model.backbone.body.modules() if isinstance(m, nn.Conv2d)]
    model.eval()
    for conv in convs:
        captured = {}
        handle = conv.register_forward_hook(lambda m, i, o: captured.__setitem__("y", o))
        with torch.no_grad():
            model.backbone(model.transform([image])[0].tensors)
            handle.remove()
            conv.weight.div_(captured["y"].std() + 1e-6)


def standardise_outputs(layer, outputs):
    """Rescales `layer` (conv or linear) so each output channel of `outputs` ([rows,
    channels], what it produced) gets zero mean and unit standard deviation."""
    mean, std = outputs.mean(0), outputs.std(0) + 1e-6
    layer.weight.div_(std.view(-1, *([1] * (layer.weight.dim() - 1))))
    layer.bias.copy_((layer.bias - mean) / std)


def balance_logits(model, images):
    """fasterrcnn_mobilenet_v2_fpn only (the other fixtures predate it). With random
    weights one anchor shape's objectness and two classes' logits dominate: every
    proposal is one 22x11 anchor and the detections have two labels. A trained head
    has no such a-priori favourite, so each objectness channel (one per anchor shape)
    and each class logit is standardised over the fixture images: the proposals then
    cover all anchor sizes and levels, and the detections some thirty classes."""
    captured = {"rpn": [], "x": []}
    model.eval()
    with torch.no_grad():
        handle = model.rpn.head.cls_logits.register_forward_hook(lambda m, i, o: captured["rpn"].append(o))
        for image in images:
            model([image])
        handle.remove()
        logits = torch.cat([o.permute(0, 2, 3, 1).reshape(-1, o.shape[1]) for o in captured["rpn"]])
        standardise_outputs(model.rpn.head.cls_logits, logits)
        handle = model.roi_heads.box_head.register_forward_hook(lambda m, i, o: captured["x"].append(o))
        for image in images:  # box-head features on the new proposals
            model([image])
        handle.remove()
        classifier = model.roi_heads.box_predictor.cls_score
        standardise_outputs(classifier, classifier(torch.cat(captured["x"])))


def sharpen(model, images):
    """Makes the random heads output what trained ones do, measured over `images`
    (the fixture images): RPN and box deltas bounded (no sub-pixel boxes), and a
    classifier scaled (by bisection) so the most confident RoI scores TOP_SCORE:
    some classes then clear the 0.05 score threshold while scores stay spread out
    (no ties at 1.0, which would make the order of NMS and of the top-100 cut arbitrary)."""
    captured = {"rpn": [], "x": []}
    handle = model.roi_heads.box_head.register_forward_hook(lambda m, i, o: captured["x"].append(o))
    rpn_handle = model.rpn.head.bbox_pred.register_forward_hook(lambda m, i, o: captured["rpn"].append(o))
    model.eval()
    with torch.no_grad():
        for image in images:
            model([image])
        rpn_handle.remove()
        # The RPN's deltas likewise (see RPN_DELTA_MAX).
        rpn_deltas = torch.cat([d.flatten() for d in captured["rpn"]])
        model.rpn.head.bbox_pred.weight.mul_(RPN_DELTA_MAX / rpn_deltas.abs().max())
        model.rpn.head.bbox_pred.bias.zero_()
        captured["x"] = []
        for image in images:  # box-head features again, on the new proposals
            model([image])
        handle.remove()
        predictor = model.roi_heads.box_predictor.cls_score
        x = torch.cat(captured["x"])
        lo, hi = 0.0, 1.0
        while torch.softmax(predictor(x) * hi, -1)[:, 1:].max() < TOP_SCORE:
            hi *= 2
        for _ in range(60):
            mid = (lo + hi) / 2
            if torch.softmax(predictor(x) * mid, -1)[:, 1:].max() < TOP_SCORE:
                lo = mid
            else:
                hi = mid
        predictor.weight.mul_(lo)
        predictor.bias.mul_(lo)
        # Box regression like a trained head's (see DELTA_MAX).
        regressor = model.roi_heads.box_predictor.bbox_pred
        regressor.weight.mul_(DELTA_MAX / regressor(x).abs().max())
        regressor.bias.zero_()


def fixture_images():
    """Three real photos, shrunk and stored losslessly: RGB, grayscale and RGBA PNGs."""
    specs = [("pets.jpg", "RGB", "pets.png"), ("hot_dog.jpg", "L", "hot_dog_gray.png"), ("owl.jpg", "RGBA", "owl_rgba.png")]
    names = []
    for source, mode, name in specs:
        img = Image.open(os.path.join(PHOTOS, source)).convert("RGB")
        img = img.resize((img.width * 240 // img.height, 240), Image.BILINEAR)
        if mode == "L":
            img = img.convert("L")
        elif mode == "RGBA":
            img = img.convert("RGBA")
            alpha = Image.linear_gradient("L").resize(img.size)
            img.putalpha(alpha)
        img.save(os.path.join(OUT, name))
        names.append(name)
    return names


def load_rgb(name):
    # What vision's decoder does too: gray replicated to RGB, alpha dropped.
    arr = np.asarray(Image.open(os.path.join(OUT, name)).convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


def sample(t, count=2048):
    flat = t.reshape(-1)
    step = max(1, flat.numel() // count)
    return flat[::step][:count]


def main():
    os.makedirs(OUT, exist_ok=True)
    images = fixture_images()
    for seed, arch in enumerate(["fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn_v2",
                                 "fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn",
                                 "fasterrcnn_mobilenet_v2_fpn"]):
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(100 + seed)
        model = build(arch)
        randomise(model, arch, generator, [load_rgb(name) for name in images])
        weights = f"{arch}.safetensors"
        if arch == "fasterrcnn_mobilenet_v3_large_320_fpn":
            # Same keys and shapes as the 800 variant: share its weights file.
            weights = "fasterrcnn_mobilenet_v3_large_fpn.safetensors"
            model.load_state_dict(mobilenet_state)
        model.eval()
        state = OrderedDict((k, v.contiguous()) for k, v in model.state_dict().items())
        if arch == "fasterrcnn_mobilenet_v3_large_fpn":
            mobilenet_state = state
        save_file({k: v.float() if v.is_floating_point() else v for k, v in state.items()}, os.path.join(OUT, weights))

        with open(os.path.join(MODELS, f"{arch}.json")) as f:
            config = json.load(f)
        min_size, max_size = FIXTURE_SIZES[arch]
        config.update(minSize=min_size, maxSize=max_size, fpnChannels=FPN_CHANNELS, representationSize=REPRESENTATION,
                      resnetStemChannels=RESNET_STEM, resnetWidths=RESNET_WIDTHS, resnetBlocks=RESNET_BLOCKS,
                      mobilenetWidthMultiplier=MOBILENET_WIDTH, boxHeadConvChannels=BOX_HEAD_CONVS,
                      batchNormEps=0.0 if arch == "fasterrcnn_resnet50_fpn" else 1e-5)
        if arch == "fasterrcnn_mobilenet_v2_fpn":
            config.update(mobilenetWidthMultiplier=MOBILENET_V2_WIDTH, fpnChannels=MOBILENET_V2_FPN_CHANNELS,
                          representationSize=MOBILENET_V2_REPRESENTATION, rpnPreNMSTopNTest=MOBILENET_V2_RPN_TOP_N,
                          rpnPostNMSTopNTest=MOBILENET_V2_RPN_TOP_N)
        config.pop("url", None); config.pop("sha256Prefix", None)
        with open(os.path.join(OUT, f"{arch}.json"), "w") as f:
            json.dump(config, f, indent=1)

        captured = {}
        model.backbone.body.register_forward_hook(lambda m, i, o: captured.__setitem__("body", o))
        model.backbone.register_forward_hook(lambda m, i, o: captured.__setitem__("fpn", o))
        model.rpn.register_forward_hook(lambda m, i, o: captured.__setitem__("proposals", o[0]))
        expected = {"arch": arch, "weights": weights, "images": []}
        count = SAMPLE_COUNTS.get(arch, 2048)
        blobs = []
        for name in images:
            x = load_rgb(name)
            with torch.no_grad():
                det = model([x])[0]
            entry = {"file": name, "height": x.shape[1], "width": x.shape[2], "features": []}
            for group in ("body", "fpn"):
                for level, t in captured[group].items():
                    s = sample(t[0], count)
                    entry["features"].append({"group": group, "level": level, "shape": list(t.shape),
                                              "sum": float(t.double().sum()), "absSum": float(t.double().abs().sum()),
                                              "sampleOffset": sum(b.numel() for b in blobs), "sampleCount": s.numel(),
                                              "sampleStep": max(1, t[0].numel() // count)})
                    blobs.append(s.float())
            entry["proposals"] = [[round(v, 4) for v in b] for b in captured["proposals"][0].tolist()]
            entry["detections"] = [{"box": b, "label": int(l), "score": float(s)}
                                   for b, l, s in zip(det["boxes"].tolist(), det["labels"].tolist(), det["scores"].tolist())]
            expected["images"].append(entry)
            print(f"{arch} {name}: {len(entry['proposals'])} proposals, {len(entry['detections'])} detections", file=sys.stderr)
        torch.cat(blobs).numpy().astype("<f4").tofile(os.path.join(OUT, f"{arch}.features.bin"))
        with open(os.path.join(OUT, f"{arch}.expected.json"), "w") as f:
            json.dump(expected, f)


if __name__ == "__main__":
    main()
