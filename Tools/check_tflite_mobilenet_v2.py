"""--check part of convert_tflite_mobilenet_v2.py: compares the converted torch
model with the TFLite interpreter on real images.

(a) TFLite interpreter on the uint8 image [1, 224, 224, 3]; logits are the
    dequantized pre-softmax output of the classifier conv, class 0 dropped.
(b) torchvision mobilenet_v2 (eval) + converted weights, input x/255 normalised
    with the published mean/std (0.5), symmetric padding as torchvision does it.
(c) same model, stride-2 3x3 convs padded TF-style: F.pad(x, (0, 1, 0, 1)), padding 0.
    "(c, exact input)" feeds (q - zero_point) * scale, exactly what the interpreter sees.
"""
import copy
import warnings

import numpy as np


def _tf_same_padding(model):
    """Make every stride-2 3x3 conv pad (0 before, 1 after) like TF 'SAME' on even inputs."""
    import torch.nn as nn
    import torch.nn.functional as F

    count = 0
    for module in model.modules():
        if isinstance(module, nn.Conv2d) and module.stride == (2, 2) and module.kernel_size == (3, 3):
            module.padding = (0, 0)
            module.register_forward_pre_hook(lambda _m, inputs: (F.pad(inputs[0], (0, 1, 0, 1)),))
            count += 1
    return count


def _topk(logits, k):
    return [int(i) for i in np.argsort(-logits)[:k]]


def run_check(tflite_path, weights_path, images, report, mean, std, scale, zero_point):
    import torch
    import torchvision
    from PIL import Image
    from ai_edge_litert.interpreter import Interpreter
    from safetensors.torch import load_file

    categories = torchvision.models.MobileNet_V2_Weights.IMAGENET1K_V1.meta["categories"]

    with warnings.catch_warnings():  # "debugging only" warning: we do want the intermediates
        warnings.simplefilter("ignore", UserWarning)
        interpreter = Interpreter(model_path=tflite_path, experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]
    logits_detail = next(d for d in interpreter.get_tensor_details()
                         if d["index"] == report["classifier_output"])
    logit_scale, logit_zero = logits_detail["quantization"]
    stem_scale, stem_zero = next(d for d in interpreter.get_tensor_details()
                                 if d["index"] == report["stem_output"])["quantization"]

    symmetric = torchvision.models.mobilenet_v2()
    symmetric.load_state_dict(load_file(weights_path), strict=True)
    symmetric.eval()
    tf_padded = copy.deepcopy(symmetric)
    n_padded = _tf_same_padding(tf_padded)
    print(f"\ncheck: {len(images)} images; (c) re-pads {n_padded} stride-2 3x3 convs TF-style; "
          f"TFLite logit quantization scale={logit_scale!r} zero_point={logit_zero}")

    agree_b = agree_c = 0
    top5_overlap_b = top5_overlap_c = 0
    max_diff_b = max_diff_c = max_diff_c_exact = 0.0
    logit_span = max_stem_quanta = 0.0
    for path in images:
        image = Image.open(path).convert("RGB").resize((224, 224), Image.BILINEAR)
        pixels = np.array(image, dtype=np.uint8)                         # [224, 224, 3]

        interpreter.set_tensor(input_index, pixels[None])
        interpreter.invoke()
        q = interpreter.get_tensor(report["classifier_output"]).reshape(-1)   # [1001] uint8
        stem_q = interpreter.get_tensor(report["stem_output"])[0]            # [112, 112, 32] uint8
        tfl = (logit_scale * (q.astype(np.float64) - logit_zero))[1:].astype(np.float32)

        x01 = torch.from_numpy(pixels).permute(2, 0, 1).float()[None] / 255.0
        x = (x01 - mean) / std
        # exactly the interpreter's dequantized input, to separate input rounding from the rest
        x_exact = (torch.from_numpy(pixels).permute(2, 0, 1).float()[None] - zero_point) * scale
        with torch.no_grad():
            out_b = symmetric(x)[0].numpy()
            out_c = tf_padded(x)[0].numpy()
            out_c_exact = tf_padded(x_exact)[0].numpy()
            stem_torch = tf_padded.features[0](x_exact)[0].permute(1, 2, 0).numpy()  # [112, 112, 32]
        # stem layer alone, in output quanta: checks layouts/dequantization without accumulated noise
        stem_tfl = stem_scale * (stem_q.astype(np.float64) - stem_zero)
        stem_quanta = float(np.max(np.abs(stem_torch - stem_tfl)) / stem_scale)
        max_stem_quanta = max(max_stem_quanta, stem_quanta)

        t5, b5, c5 = _topk(tfl, 5), _topk(out_b, 5), _topk(out_c, 5)
        agree_b += t5[0] == b5[0]
        agree_c += t5[0] == c5[0]
        top5_overlap_b += len(set(t5) & set(b5))
        top5_overlap_c += len(set(t5) & set(c5))
        diff_b = float(np.max(np.abs(out_b - tfl)))
        diff_c = float(np.max(np.abs(out_c - tfl)))
        diff_c_exact = float(np.max(np.abs(out_c_exact - tfl)))
        max_diff_b, max_diff_c = max(max_diff_b, diff_b), max(max_diff_c, diff_c)
        max_diff_c_exact = max(max_diff_c_exact, diff_c_exact)
        logit_span = max(logit_span, float(tfl.max() - tfl.min()))

        name = path.rsplit("/", 1)[-1]
        print(f"\n{name}")
        for label, top in (("(a) tflite", t5), ("(b) torch symmetric pad", b5), ("(c) torch TF pad", c5)):
            print(f"  {label:24s} top1={categories[top[0]]!r:28s} top5={top}")
        print(f"  max|logit - tflite|: (b) {diff_b:.4f}  (c) {diff_c:.4f}  (c, exact input) {diff_c_exact:.4f}"
              f"   stem output (c, exact input) {stem_quanta:.2f} quanta")

    n = len(images)
    print(f"\nsummary over {n} images (torch class ids; TFLite class i+1):")
    print(f"  top-1 agreement with TFLite: (b) {agree_b}/{n}   (c) {agree_c}/{n}")
    print(f"  top-5 overlap with TFLite:   (b) {top5_overlap_b}/{5 * n}   (c) {top5_overlap_c}/{5 * n}")
    print(f"  max |logit diff| vs TFLite:  (b) {max_diff_b:.4f}   (c) {max_diff_c:.4f}   "
          f"(c, exact input) {max_diff_c_exact:.4f}   (largest TFLite logit span {logit_span:.2f}, "
          f"logit quantum {logit_scale:.4f})")
    print(f"  stem conv output alone, (c) exact input vs TFLite: max {max_stem_quanta:.2f} output quanta "
          f"(quantum {stem_scale:.4f})")
