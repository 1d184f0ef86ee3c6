"""Generates the training fixtures in Tests/Fixtures/training/.

Run with the reference venv: ~/ref/bin/python Tests/Fixtures/generate_training.py
Outputs:
  training/training.f32  every float array, concatenated, raw little-endian float32
  training/index.json    {"arrays": {name: {"offset": <floats>, "shape": [...]}},
                          "ints": {name: [...]}, "params": {...}}
Sections:
  rpn_*    RegionProposalNetwork.assign_targets_to_anchors + compute_loss on random
           objectness / deltas, 3 images (the last without GT boxes), with every
           torch.randperm the sampler drew recorded in order (rpn_perm_<k>), so the
           Swift sampler can replay them.
  roi_*    RoIHeads.select_training_samples + fastrcnn_loss (5 classes, sampler
           batch 16 so the permutations matter), permutations in roi_perm_<k>.
  chain_*  conv2d(3->4, 3x3, pad 1) -> relu -> roi_align(3x3, scale 1/2, sampling 2)
           -> flatten -> linear(36->6), loss = sum(out * chain_weights); gradients
           of the loss w.r.t. the input and every parameter.
  step_*   one full training step (model.train(), losses summed, backward) of the
           reduced-width mobilenet_v3_large_fpn fixture model on pets.png and
           hot_dog_gray.png with GT boxes: the four losses, the sampler's recorded
           permutations, the RPN's proposals (step_proposals_<i>), the RoIs the box
           head saw (step_sampled_proposals_<i>) and the gradients of a few parameters.
"""
import os

import torch
import torch.nn.functional as F
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.roi_heads import RoIHeads, fastrcnn_loss
from torchvision.models.detection.rpn import RegionProposalNetwork, RPNHead
from torchvision.ops import roi_align

from fixture_blob import FixtureBlob
from training_step import STEP_IMAGES, record_randperm, run_training_step

torch.manual_seed(2024)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "training")
os.makedirs(OUT, exist_ok=True)

fixture = FixtureBlob()
put, put_ints, params = fixture.put, fixture.put_ints, fixture.params


recorded = record_randperm()


def random_boxes(n, width, height, min_wh, max_wh):
    w = min_wh + torch.rand(n) * (max_wh - min_wh)
    h = min_wh + torch.rand(n) * (max_wh - min_wh)
    x1 = torch.rand(n) * (width - w)
    y1 = torch.rand(n) * (height - h)
    return torch.stack([x1, y1, x1 + w, y1 + h], dim=1)


def jitter(boxes, amount):
    wh = (boxes[:, 2:] - boxes[:, :2]).repeat(1, 2)
    return boxes + (torch.rand_like(boxes) - 0.5) * amount * wh


# ---- 1. RPN targets and loss -----------------------------------------------
H, W = 64, 80
feature_sizes = [(8, 10), (4, 5)]
anchor_gen = AnchorGenerator(sizes=((32,), (64,)), aspect_ratios=((0.5, 1.0, 2.0),) * 2)
images = ImageList(torch.zeros(3, 3, H, W), [(H, W)] * 3)
feats = [torch.zeros(3, 8, h, w) for h, w in feature_sizes]
anchors = anchor_gen(images, feats)
rpn = RegionProposalNetwork(anchor_gen, RPNHead(8, 3), fg_iou_thresh=0.7, bg_iou_thresh=0.3,
                            batch_size_per_image=256, positive_fraction=0.5,
                            pre_nms_top_n=dict(training=100, testing=100),
                            post_nms_top_n=dict(training=50, testing=50), nms_thresh=0.7)
gt = [random_boxes(3, W, H, 12, 50), random_boxes(2, W, H, 20, 60), torch.zeros(0, 4)]
targets = [{"boxes": b, "labels": torch.ones(len(b), dtype=torch.int64)} for b in gt]
recorded.clear()
labels, matched_gt = rpn.assign_targets_to_anchors(anchors, targets)
regression_targets = rpn.box_coder.encode(matched_gt, anchors)
total = anchors[0].shape[0]
objectness = (torch.randn(3 * total, 1) * 2).requires_grad_()
deltas = (torch.randn(3 * total, 4) * 0.5).requires_grad_()
obj_loss, box_loss = rpn.compute_loss(objectness, deltas, labels, regression_targets)
(obj_loss + 2 * box_loss).backward()
put("rpn_anchors", anchors[0])
for i, b in enumerate(gt):
    put(f"rpn_gt_{i}", b)
put("rpn_objectness", objectness)
put("rpn_deltas", deltas)
put("rpn_labels", torch.cat(labels))
put("rpn_regression_targets", torch.cat(regression_targets))
put("rpn_loss_objectness", obj_loss.reshape(1))
put("rpn_loss_box", box_loss.reshape(1))
put("rpn_grad_objectness", objectness.grad)
put("rpn_grad_deltas", deltas.grad)
for k, p in enumerate(recorded):
    put_ints(f"rpn_perm_{k}", p)
params["rpn"] = {"images": 3, "anchors_per_image": total, "perms": len(recorded),
                 "fg_iou": 0.7, "bg_iou": 0.3, "batch_size_per_image": 256, "positive_fraction": 0.5,
                 "loss": "objectness + 2 * box"}

# ---- 2. RoI heads targets and fastrcnn_loss --------------------------------
num_classes = 5
roi_heads = RoIHeads(None, None, None, fg_iou_thresh=0.5, bg_iou_thresh=0.5,
                     batch_size_per_image=16, positive_fraction=0.25, bbox_reg_weights=None,
                     score_thresh=0.05, nms_thresh=0.5, detections_per_img=100)
roi_gt = [random_boxes(3, W, H, 10, 40), random_boxes(1, W, H, 20, 40), torch.zeros(0, 4)]
roi_gt_labels = [torch.randint(1, num_classes, (len(b),)) for b in roi_gt]
proposals = [
    torch.cat([jitter(roi_gt[0].repeat(4, 1), 0.6), random_boxes(12, W, H, 5, 40)]),
    torch.cat([jitter(roi_gt[1].repeat(6, 1), 0.6), random_boxes(30, W, H, 5, 40)]),
    random_boxes(7, W, H, 5, 40),
]
roi_targets = [{"boxes": b, "labels": l} for b, l in zip(roi_gt, roi_gt_labels)]
recorded.clear()
sampled, matched_idxs, roi_labels, roi_regression = roi_heads.select_training_samples(
    [p.clone() for p in proposals], roi_targets)
K = sum(len(s) for s in sampled)
class_logits = torch.randn(K, num_classes).requires_grad_()
box_regression = (torch.randn(K, 4 * num_classes) * 0.5).requires_grad_()
cls_loss, reg_loss = fastrcnn_loss(class_logits, box_regression, roi_labels, roi_regression)
(cls_loss + 3 * reg_loss).backward()
for i in range(3):
    put(f"roi_gt_{i}", roi_gt[i])
    put_ints(f"roi_gt_labels_{i}", roi_gt_labels[i])
    put(f"roi_proposals_{i}", proposals[i])
    put(f"roi_sampled_proposals_{i}", sampled[i])
    put_ints(f"roi_sampled_labels_{i}", roi_labels[i])
    put_ints(f"roi_sampled_matched_{i}", matched_idxs[i])
    put(f"roi_regression_targets_{i}", roi_regression[i])
put("roi_class_logits", class_logits)
put("roi_box_regression", box_regression)
put("roi_loss_classifier", cls_loss.reshape(1))
put("roi_loss_box", reg_loss.reshape(1))
put("roi_grad_class_logits", class_logits.grad)
put("roi_grad_box_regression", box_regression.grad)
for k, p in enumerate(recorded):
    put_ints(f"roi_perm_{k}", p)
params["roi"] = {"images": 3, "classes": num_classes, "perms": len(recorded), "fg_iou": 0.5, "bg_iou": 0.5,
                 "batch_size_per_image": 16, "positive_fraction": 0.25, "loss": "classifier + 3 * box"}

# ---- 3. conv -> relu -> roi_align -> linear chain ----------------------------
x = torch.randn(2, 3, 9, 11).requires_grad_()
conv_w = (torch.randn(4, 3, 3, 3) * 0.4).requires_grad_()
conv_b = (torch.randn(4) * 0.1).requires_grad_()
lin_w = (torch.randn(6, 36) * 0.3).requires_grad_()
lin_b = (torch.randn(6) * 0.1).requires_grad_()
rois = torch.tensor([[0, 1.0, 2.0, 15.0, 12.0], [1, 0.0, 0.0, 21.0, 17.0], [0, 5.5, 3.2, 9.1, 7.7],
                     [1, -3.0, 4.0, 30.0, 25.0], [0, 10.0, 10.0, 10.5, 10.2]])
chain_weights = torch.randn(5, 6)
y = F.relu(F.conv2d(x, conv_w, conv_b, padding=1))
pooled = roi_align(y, rois, output_size=(3, 3), spatial_scale=0.5, sampling_ratio=2, aligned=False)
out = F.linear(pooled.flatten(1), lin_w, lin_b)
loss = (out * chain_weights).sum()
loss.backward()
for name, t in [("chain_x", x), ("chain_conv_w", conv_w), ("chain_conv_b", conv_b), ("chain_lin_w", lin_w),
                ("chain_lin_b", lin_b), ("chain_rois", rois), ("chain_weights", chain_weights),
                ("chain_out", out)]:
    put(name, t)
put("chain_loss", loss.reshape(1))
for name, t in [("x", x), ("conv_w", conv_w), ("conv_b", conv_b), ("lin_w", lin_w), ("lin_b", lin_b)]:
    put(f"chain_grad_{name}", t.grad)
params["chain"] = {"spatial_scale": 0.5, "sampling_ratio": 2, "output_size": 3, "padding": 1}

# ---- 4. One full Faster R-CNN training step on the fixture model -------------
# The reduced-width mobilenet_v3_large_fpn of Tests/Fixtures/model (FrozenBatchNorm2d
# everywhere), model.train(), two images (different sizes, so the batch is padded)
# with GT boxes; every randperm of the RPN and RoI samplers is recorded (step_perm_<k>).
# Losses summed, backward; gradients of a few parameters in step_grad_<key>.
import sys  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate_model import build  # noqa: E402

step_model = build("fasterrcnn_mobilenet_v3_large_fpn")
step_model.load_state_dict(load_file(os.path.join(os.path.dirname(OUT), "model",
                                                  "fasterrcnn_mobilenet_v3_large_fpn.safetensors")))
step_model.train()
STEP_PARAMS = ["roi_heads.box_predictor.cls_score.weight", "roi_heads.box_predictor.bbox_pred.bias",
               "roi_heads.box_head.fc7.weight", "rpn.head.conv.0.0.weight", "rpn.head.cls_logits.bias",
               "rpn.head.bbox_pred.weight", "backbone.fpn.layer_blocks.0.0.weight", "backbone.fpn.inner_blocks.1.0.bias",
               "backbone.body.0.0.weight", "backbone.body.13.block.1.0.weight", "backbone.body.4.block.2.fc1.weight"]
step_losses = run_training_step(step_model, recorded, fixture, "step_", STEP_PARAMS)
for k, p in enumerate(recorded):
    put_ints(f"step_perm_{k}", p)
params["step"] = {"model": "fasterrcnn_mobilenet_v3_large_fpn", "images": STEP_IMAGES,
                  "perms": len(recorded), "parameters": STEP_PARAMS}
print("step losses", {k: float(v) for k, v in step_losses.items()})

fixture.write(os.path.join(OUT, "training.f32"), os.path.join(OUT, "index.json"), indent=1)
print("wrote", fixture.offset * 4, "bytes of floats;", len(fixture.arrays), "arrays,", len(fixture.ints), "int lists")
