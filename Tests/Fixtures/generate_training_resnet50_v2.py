"""One full fasterrcnn_resnet50_fpn_v2 training step in torchvision, for
Tests/VisionTrainingTests/ResNet50V2StepParityTests.swift: the v2 counterpart of
generate_training_resnet50.py, in its own output files.

Run with a venv that has torch + torchvision (outside the repo; CI never needs it):
  /work/venv-tv/bin/python Tests/Fixtures/generate_training_resnet50_v2.py
Outputs (FixtureBlob layout, see fixture_blob.py):
  training/resnet50_v2_step.f32, training/resnet50_v2_step.json

The reduced-width fixture model (model/fasterrcnn_resnet50_fpn_v2.safetensors) as torchvision's
fasterrcnn_resnet50_fpn_v2 builds it: nn.BatchNorm2d (eps 1e-5, momentum 0.1) in the body, the
FPN and the FastRCNNConvFCHead, all in train() mode, so every batch norm normalises with the
batch's statistics and updates its running statistics. Every parameter trainable
(trainable_backbone_layers 5), pets.png + hot_dog_gray.png (padded batch) with GT boxes.
Stored as in the v1 fixture (perm_<k> prefixes, proposals_<i>, sampled_proposals_<i>,
loss_<name>, grad_<key>), plus each listed batch norm's running_mean / running_var /
num_batches_tracked before (before_<key>) and after (after_<key>) the step, and the same
step's losses and gradients in float64 (loss64_<name>, grad64_<key>: torch's proposals and
permutations replayed), the exact values both float32 implementations approximate.

Two changes to the fixture model, which the Swift test makes too (params.step):
- every batch norm's bias is raised by BN_SHIFT (3). With the fixture's random weights, a
  train-mode batch norm puts its outputs around 0, right at the ReLU's kink: float32
  rounding (torch's own) then flips a few units per layer, and as a weight gradient after a
  train-mode batch norm is a cancelling sum over the whole map, one flip moves it by ~1e-3;
  torch float32 against torch float64 differed by up to 8% on the unshifted model, by 2e-4
  with the shift. (backbone.body.bn1.bias is left out: with every ReLU active, its gradient
  is 0 up to rounding, as a constant shift passes the maxpool and 1x1 convs and the next
  train-mode batch norm removes it.)
- the RPN keeps RPN_TOP_N proposals per image in training (torch's default 2000), to keep
  the fixture small.
"""
import os
import sys

import torch
from safetensors.torch import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fixture_blob import FixtureBlob  # noqa: E402
from generate_model import build  # noqa: E402
from generate_model import load_rgb  # noqa: E402
from training_step import LOSS_NAMES, STEP_IMAGES, STEP_TARGETS, record_randperm, run_training_step  # noqa: E402

torch.manual_seed(2026)
OUT = os.path.join(HERE, "training")
fixture = FixtureBlob()
put, put_ints, params = fixture.put, fixture.put_ints, fixture.params
recorded = record_randperm()

ARCH = "fasterrcnn_resnet50_fpn_v2"
PERM_PREFIX = 512
RPN_TOP_N = 600
BN_SHIFT = 3.0
model = build(ARCH)
weights = load_file(os.path.join(HERE, "model", f"{ARCH}.safetensors"))
for key in [k for k in weights if k.endswith(".running_mean")]:
    bias = key[: -len("running_mean")] + "bias"
    weights[bias] = weights[bias] + BN_SHIFT
model.load_state_dict(weights)
assert all(type(m) is not torch.nn.BatchNorm2d or m.momentum == 0.1 for m in model.modules())


def configure(m):
    """The fixture's proposal counts (see the docstring), on a freshly built model."""
    m.rpn._pre_nms_top_n["training"] = RPN_TOP_N
    m.rpn._post_nms_top_n["training"] = RPN_TOP_N


configure(model)
for p in model.parameters():
    p.requires_grad_(True)
model.train()

PARAMS = ["roi_heads.box_predictor.cls_score.weight", "roi_heads.box_predictor.bbox_pred.bias",
          "roi_heads.box_head.5.bias", "roi_heads.box_head.3.1.weight", "roi_heads.box_head.0.1.bias",
          "roi_heads.box_head.0.0.weight", "rpn.head.conv.1.0.bias", "rpn.head.bbox_pred.weight", "rpn.head.cls_logits.bias",
          "backbone.fpn.layer_blocks.3.1.bias", "backbone.fpn.layer_blocks.0.1.weight",
          "backbone.fpn.inner_blocks.0.1.bias", "backbone.fpn.inner_blocks.0.0.weight",
          "backbone.body.layer4.0.bn3.weight", "backbone.body.layer4.0.conv3.weight",
          "backbone.body.layer3.0.downsample.1.bias", "backbone.body.layer2.0.conv2.weight",
          "backbone.body.layer1.0.bn1.weight", "backbone.body.layer1.0.conv1.weight",
          "backbone.body.layer1.0.bn1.bias", "backbone.body.bn1.weight", "backbone.body.conv1.weight"]
NORMS = ["backbone.body.bn1", "backbone.body.layer1.0.bn1", "backbone.body.layer3.0.downsample.1",
         "backbone.body.layer4.0.bn3", "backbone.fpn.inner_blocks.0.1", "backbone.fpn.layer_blocks.3.1",
         "roi_heads.box_head.0.1", "roi_heads.box_head.3.1"]
BUFFERS = [f"{n}.{b}" for n in NORMS for b in ["running_mean", "running_var", "num_batches_tracked"]]

before = {k: v.detach().clone() for k, v in model.state_dict().items() if k in BUFFERS}
captured_proposals = []
model.rpn.register_forward_hook(lambda m, i, o: captured_proposals.extend(b.detach().clone() for b in o[0]))
losses = run_training_step(model, recorded, fixture, "", PARAMS)
after = model.state_dict()
for key in BUFFERS:
    put(f"before_{key}", before[key].reshape(-1))
    put(f"after_{key}", after[key].reshape(-1))

# The same step in float64 (torch's proposals and permutations replayed): the gradients'
# exact values, to tell float32 rounding (torch's and vision's) from a wrong gradient.
permutations = list(recorded)
proposals = [fixture_proposals.clone() for fixture_proposals in captured_proposals]
exact = build(ARCH)
exact.load_state_dict(weights)
configure(exact)
exact = exact.double()
exact.train()
exact.rpn.register_forward_hook(lambda m, i, o: ([b.double() for b in proposals], o[1]))
replay = iter(permutations)
torch.randperm = lambda n, *args, **kwargs: next(replay)
images = [load_rgb(name).double() for name in STEP_IMAGES]
targets = [{"boxes": torch.tensor(t["boxes"], dtype=torch.float64), "labels": torch.tensor(t["labels"])}
           for t in STEP_TARGETS]
exact_losses = exact(images, targets)
sum(exact_losses.values()).backward()
named = dict(exact.named_parameters())
for key in PARAMS:
    put(f"grad64_{key}", named[key].grad)
for name in LOSS_NAMES:
    put(f"loss64_{name}", exact_losses[name].detach().reshape(1))
for k, p in enumerate(recorded):
    put_ints(f"perm_{k}", p[:PERM_PREFIX])
params["step"] = {"model": ARCH, "images": STEP_IMAGES, "perms": len(recorded),
                  "perm_lengths": [len(p) for p in recorded], "perm_prefix": PERM_PREFIX,
                  "parameters": PARAMS, "buffers": BUFFERS, "trainable_backbone_layers": 5,
                  "rpn_pre_nms_top_n_train": RPN_TOP_N, "rpn_post_nms_top_n_train": RPN_TOP_N,
                  "batch_norm_bias_shift": BN_SHIFT}
print("resnet50 v2 step losses", {k: float(v.detach()) for k, v in losses.items()})

worst = max(float((fixture_grad - named[key].grad.float()).abs().max() / named[key].grad.abs().max())
            for key, fixture_grad in ((k, dict(model.named_parameters())[k].grad) for k in PARAMS))
print(f"torch float32 vs float64: largest gradient difference {worst:.2e} of the largest magnitude")
fixture.write(os.path.join(OUT, "resnet50_v2_step.f32"), os.path.join(OUT, "resnet50_v2_step.json"))
print("wrote", fixture.offset * 4, "bytes of floats;", len(fixture.arrays), "arrays,", len(fixture.ints), "int lists")
