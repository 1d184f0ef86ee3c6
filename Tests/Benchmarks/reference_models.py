"""torchvision models of the benchmark's five architectures, built the same way by
prepare_models.py (which writes their weights and ONNX exports) and reference_runner.py
(which loads those weights into PyTorch).

torchvision's four Faster R-CNN builders are used as they are. The fifth,
fasterrcnn_mobilenet_v2_fpn, is this project's shipped default (Models/default.safetensors,
trained on BCCD): torchvision has no builder for it, so it is assembled from torchvision's
own classes (mobilenet_v2 features with FrozenBatchNorm2d, BackboneWithFPN on features[13]
and [18] + LastLevelMaxPool, RPNHead, MultiScaleRoIAlign, TwoMLPHead, FastRCNNPredictor)
with the settings the checkpoint's `vision.config` metadata records, so all runtimes run
the shipped weights and give real detections.
"""
import json
import os

import torch
import torchvision
from safetensors import safe_open
from torchvision.models import mobilenet_v2
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.rpn import RPNHead
from torchvision.ops import FrozenBatchNorm2d, MultiScaleRoIAlign
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

SEED = 0
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED = os.path.join(ROOT, "Models", "default.safetensors")
TORCHVISION_ARCHS = ["fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn_v2",
                     "fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn"]
SHIPPED_ARCH = "fasterrcnn_mobilenet_v2_fpn"
ARCHS = [SHIPPED_ARCH] + TORCHVISION_ARCHS


def checkpoint_metadata(path):
    with safe_open(path, framework="pt") as f:
        return f.metadata() or {}


def build_mobilenet_v2_fpn(config):
    """fasterrcnn_mobilenet_v2_fpn from the `vision.config` dictionary (eval mode)."""
    eps = config["batchNormEps"]
    features = mobilenet_v2(norm_layer=lambda c: FrozenBatchNorm2d(c, eps=eps)).features
    fpn = config["fpnChannels"]
    backbone = BackboneWithFPN(features, {"13": "0", "18": "1"},
                               [features[13].out_channels, features[18].out_channels], fpn,
                               extra_blocks=LastLevelMaxPool())
    anchors = AnchorGenerator(tuple(tuple(int(v) for v in s) for s in config["anchorSizes"]),
                              tuple(tuple(float(r) for r in a) for a in config["aspectRatios"]))
    size = config["roiOutputSize"]
    model = FasterRCNN(
        backbone, min_size=config["minSize"], max_size=config["maxSize"],
        image_mean=config["imageMean"], image_std=config["imageStd"],
        rpn_anchor_generator=anchors, rpn_head=RPNHead(fpn, anchors.num_anchors_per_location()[0]),
        rpn_pre_nms_top_n_test=config["rpnPreNMSTopNTest"], rpn_post_nms_top_n_test=config["rpnPostNMSTopNTest"],
        rpn_nms_thresh=config["rpnNMSThresh"], rpn_score_thresh=config["rpnScoreThresh"],
        box_roi_pool=MultiScaleRoIAlign(["0", "1"], size, config["roiSamplingRatio"]),
        box_head=TwoMLPHead(fpn * size * size, config["representationSize"]),
        box_predictor=FastRCNNPredictor(config["representationSize"], config["numClasses"]),
        box_score_thresh=config["boxScoreThresh"], box_nms_thresh=config["boxNMSThresh"],
        box_detections_per_img=config["boxDetectionsPerImage"])
    return model.eval()


def build(arch, config=None):
    """The torchvision model of `arch` in eval mode. For the torchvision builders: seeded
    random weights (`builder(weights=None, weights_backbone=None)` after manual_seed);
    resnet50_fpn with batch-norm eps 0.0, as vision's definition of its COCO_V1 weights."""
    if arch == SHIPPED_ARCH:
        if config is None:
            config = json.loads(checkpoint_metadata(SHIPPED)["vision.config"])
        return build_mobilenet_v2_fpn(config)
    torch.manual_seed(SEED)
    model = getattr(torchvision.models.detection, arch)(weights=None, weights_backbone=None)
    if arch == "fasterrcnn_resnet50_fpn":
        for m in model.modules():
            if isinstance(m, (torch.nn.BatchNorm2d, FrozenBatchNorm2d)):
                m.eps = 0.0
    return model.eval()


def load_weights(model, path):
    """Loads a .safetensors state dict (F16 or F32) into `model` as float32, strictly."""
    from safetensors.torch import load_file
    state = {k: v.float() for k, v in load_file(path).items()}
    model.load_state_dict(state)
    return model
