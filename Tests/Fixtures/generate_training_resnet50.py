"""One full fasterrcnn_resnet50_fpn (v1) training step in torchvision, for
Tests/VisionTrainingTests/ResNet50TrainingTests.swift (the ResNet-50 counterpart of
the step_* section of generate_training.py, kept in its own output files so that
training/training.f32 and training/index.json stay as they are).

Run with the reference venv: ~/ref/bin/python Tests/Fixtures/generate_training_resnet50.py
Outputs (FixtureBlob layout, see fixture_blob.py):
  training/resnet50_step.f32, training/resnet50_step.json
The reduced-width fixture model (model/fasterrcnn_resnet50_fpn.safetensors, FrozenBatchNorm2d
with eps 0.0 as torchvision's COCO_V1 weights), model.train(), every parameter trainable
(trainable_backbone_layers 5), pets.png + hot_dog_gray.png (padded batch) with GT boxes.
Every torch.randperm of the RPN and RoI samplers is recorded (perm_<k>); the RPN's
proposals (proposals_<i>), the RoIs the box head saw (sampled_proposals_<i>), the four
losses (loss_<name>) and the gradients of a few parameters (grad_<key>) are stored;
permutations only as their first 512 entries (all the samplers read) plus their lengths.
"""
import os
import sys

import torch
from safetensors.torch import load_file
from torchvision.ops.misc import FrozenBatchNorm2d

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fixture_blob import FixtureBlob  # noqa: E402
from generate_model import build  # noqa: E402
from training_step import STEP_IMAGES, record_randperm, run_training_step  # noqa: E402

torch.manual_seed(2025)
OUT = os.path.join(HERE, "training")
os.makedirs(OUT, exist_ok=True)
fixture = FixtureBlob()
put, put_ints, params = fixture.put, fixture.put_ints, fixture.params

# Record every randperm the samplers draw (the Swift side replays them).
recorded = record_randperm()

ARCH = "fasterrcnn_resnet50_fpn"
PERM_PREFIX = 512
model = build(ARCH)
model.load_state_dict(load_file(os.path.join(HERE, "model", f"{ARCH}.safetensors")))
for m in model.modules():
    if isinstance(m, FrozenBatchNorm2d):
        m.eps = 0.0
for p in model.parameters():
    p.requires_grad_(True)
model.train()

PARAMS = ["roi_heads.box_predictor.cls_score.weight", "roi_heads.box_predictor.bbox_pred.bias",
          "roi_heads.box_head.fc7.weight", "rpn.head.conv.0.0.weight", "rpn.head.cls_logits.bias",
          "backbone.fpn.layer_blocks.3.0.weight", "backbone.fpn.inner_blocks.0.0.bias",
          "backbone.body.layer4.2.conv3.weight", "backbone.body.layer3.0.downsample.0.weight",
          "backbone.body.layer2.1.conv2.weight", "backbone.body.layer1.0.conv1.weight", "backbone.body.conv1.weight"]
losses = run_training_step(model, recorded, fixture, "", PARAMS)
# The samplers only read a permutation's first batch-size entries (perm[:num_pos],
# perm[:num_neg], at most 512): store those and the length, the test completes the rest.
for k, p in enumerate(recorded):
    put_ints(f"perm_{k}", p[:PERM_PREFIX])
params["step"] = {"model": ARCH, "images": STEP_IMAGES, "perms": len(recorded),
                  "perm_lengths": [len(p) for p in recorded], "perm_prefix": PERM_PREFIX,
                  "parameters": PARAMS, "trainable_backbone_layers": 5}
print("resnet50 step losses", {k: float(v.detach()) for k, v in losses.items()})

fixture.write(os.path.join(OUT, "resnet50_step.f32"), os.path.join(OUT, "resnet50_step.json"))
print("wrote", fixture.offset * 4, "bytes of floats;", len(fixture.arrays), "arrays,", len(fixture.ints), "int lists")
