"""Pieces shared by the training-fixture generators (generate_training.py's step_*
section and generate_training_resnet50.py): the torch.randperm recorder and one full
torchvision training step whose inputs, intermediate proposals, losses and gradients
are written into a FixtureBlob.
"""
import torch

from generate_model import load_rgb

STEP_IMAGES = ["pets.png", "hot_dog_gray.png"]
STEP_TARGETS = [
    {"boxes": [[20.0, 30.0, 150.0, 220.0], [140.0, 40.0, 270.0, 230.0], [100.0, 100.0, 160.0, 160.0]],
     "labels": [18, 17, 1]},
    {"boxes": [[50.0, 60.0, 250.0, 200.0], [10.0, 10.0, 80.0, 90.0]], "labels": [58, 3]},
]
LOSS_NAMES = ["loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg"]


def record_randperm():
    """Replaces torch.randperm with a wrapper that appends every permutation it draws to
    the returned list (the Swift samplers replay them); clear the list between sections."""
    recorded = []
    original = torch.randperm

    def recording_randperm(n, *args, **kwargs):
        p = original(n, *args, **kwargs)
        recorded.append(p.clone())
        return p

    torch.randperm = recording_randperm
    return recorded


def run_training_step(model, recorded, fixture, prefix, parameters):
    """model.train() forward on STEP_IMAGES with STEP_TARGETS, losses summed, backward.
    Writes, in this order, <prefix>proposals_<i> (the RPN's), <prefix>sampled_proposals_<i>
    (the RoIs the box head saw), <prefix>grad_<key> for `parameters`, <prefix>gt_<i> /
    <prefix>gt_labels_<i> and <prefix><loss name>; returns the losses. `recorded` holds
    exactly this step's permutations afterwards (the caller stores them)."""
    put, put_ints = fixture.put, fixture.put_ints
    images = [load_rgb(name) for name in STEP_IMAGES]
    targets = [{"boxes": torch.tensor(t["boxes"]), "labels": torch.tensor(t["labels"])} for t in STEP_TARGETS]
    captured = {}
    model.roi_heads.box_roi_pool.register_forward_hook(
        lambda m, i, o: captured.__setitem__("sampled", [b.detach().clone() for b in i[1]]))
    model.rpn.register_forward_hook(
        lambda m, i, o: captured.__setitem__("proposals", [b.detach().clone() for b in o[0]]))
    recorded.clear()
    losses = model(images, targets)
    for i, b in enumerate(captured["proposals"]):
        put(f"{prefix}proposals_{i}", b)
    for i, b in enumerate(captured["sampled"]):
        put(f"{prefix}sampled_proposals_{i}", b)
    sum(losses.values()).backward()
    named = dict(model.named_parameters())
    for key in parameters:
        put(f"{prefix}grad_{key}", named[key].grad)
    for i, t in enumerate(targets):
        put(f"{prefix}gt_{i}", t["boxes"])
        put_ints(f"{prefix}gt_labels_{i}", t["labels"])
    for name in LOSS_NAMES:
        put(f"{prefix}{name}", losses[name].detach().reshape(1))
    return losses
