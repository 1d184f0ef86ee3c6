#!/usr/bin/env python3
"""Convert TensorFlow's quantized ImageNet MobileNetV2 (.tflite) into a float32
torchvision `mobilenet_v2` state dict (.safetensors).

Usage:
    ~/ref/bin/python Tools/convert_tflite_mobilenet_v2.py IN.tflite OUT.safetensors [--check IMAGES...]

What it does
- Walks subgraph 0's operators in order and matches them one by one against
  torchvision's MobileNetV2 layout (52 convs in `features` + the 1x1 conv that
  TFLite uses as the classifier, 10 residual ADDs, global AVERAGE_POOL_2D,
  RESHAPE/SQUEEZE, optional SOFTMAX). Any other structure is an error.
- Dequantizes weights (real = scale * (q - zero_point), per-tensor or per-axis)
  and int32 biases (real = scale * q) to float32 and transposes layouts:
    CONV_2D           [out, kh, kw, in]  -> torch [out, in, kh, kw]
    DEPTHWISE_CONV_2D [1, kh, kw, out]   -> torch [out, 1, kh, kw]
- BatchNorm is already folded into each TFLite conv's bias, so every torchvision
  BatchNorm2d is written as "add the bias" in eval mode: weight=1, bias=folded
  bias, running_mean=0, running_var=1-1e-5 (sqrt(var + eps) == 1 with eps=1e-5).
- Classes: TFLite has 1001 outputs, index 0 = 'background'. We DROP index 0 so
  the result loads into `mobilenet_v2()` with its default num_classes=1000 and
  torch class i == TFLite class i+1 (ImageNet synsets in the usual order).
- Input convention is read from the input tensor's quantization and written to
  the safetensors __metadata__ (input_mean / input_std in torchvision's
  normalise-after-/255 convention).

--check runs each image (Pillow bilinear resize to 224x224) through
  (a) the TFLite interpreter on uint8 input,
  (b) torchvision mobilenet_v2 with the converted weights, input normalised with
      mean = std = 0.5 (symmetric padding, as torchvision does it),
  (c) the same model with TF "SAME" padding on the stride-2 3x3 convs
      (F.pad(x, (0, 1, 0, 1)) and padding 0),
  and prints top-1/top-5 and the max |logit| difference against TFLite's
  dequantized pre-softmax logits.
"""
import argparse
import hashlib
import os
import sys

import numpy as np
import tflite

BN_EPS = 1e-5  # torchvision BatchNorm2d default


class ConversionError(Exception):
    pass


def fail(message):
    raise ConversionError(f"convert_tflite_mobilenet_v2.py: {message}")


# ---------------------------------------------------------------- flatbuffer access

def _enum_names(enum_class):
    return {v: k for k, v in enum_class.__dict__.items() if not k.startswith("_")}


OP_NAMES = _enum_names(tflite.BuiltinOperator)
TYPE_NAMES = _enum_names(tflite.TensorType)
ACT_NAMES = _enum_names(tflite.ActivationFunctionType)
PAD_NAMES = _enum_names(tflite.Padding)
NUMPY_TYPES = {"UINT8": np.uint8, "INT8": np.int8, "INT32": np.int32, "FLOAT32": np.float32}


class TFLiteGraph:
    """Read-only view of subgraph 0: operators, tensors, constant data."""

    def __init__(self, buf):
        self.buf = buf
        self.model = tflite.Model.GetRootAsModel(buf, 0)
        if self.model.SubgraphsLength() != 1:
            fail(f"expected 1 subgraph, found {self.model.SubgraphsLength()}")
        self.graph = self.model.Subgraphs(0)

    def op_name(self, op):
        code = self.model.OperatorCodes(op.OpcodeIndex())
        return OP_NAMES.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "?")

    def operators(self):
        return [self.graph.Operators(i) for i in range(self.graph.OperatorsLength())]

    @staticmethod
    def inputs(op):
        return [op.Inputs(i) for i in range(op.InputsLength())]

    @staticmethod
    def outputs(op):
        return [op.Outputs(i) for i in range(op.OutputsLength())]

    def tensor(self, index):
        return self.graph.Tensors(index)

    def shape(self, index):
        return tuple(self.tensor(index).ShapeAsNumpy().tolist())

    def type_name(self, index):
        return TYPE_NAMES[self.tensor(index).Type()]

    def quantization(self, index):
        """(scale[], zero_point[], quantized_dimension) or None for float tensors."""
        q = self.tensor(index).Quantization()
        if q is None or q.ScaleLength() == 0:
            return None
        zp = q.ZeroPointAsNumpy() if q.ZeroPointLength() else np.zeros(q.ScaleLength(), np.int64)
        return q.ScaleAsNumpy().astype(np.float64), np.asarray(zp, np.int64), q.QuantizedDimension()

    def raw(self, index):
        """Constant data of a tensor as a numpy array in its TFLite layout."""
        t = self.tensor(index)
        buffer = self.model.Buffers(t.Buffer())
        if buffer.DataLength() > 0:
            data = buffer.DataAsNumpy().tobytes()
        elif buffer.Offset() > 1:  # large models keep data outside the flatbuffer
            data = self.buf[buffer.Offset():buffer.Offset() + buffer.Size()]
        else:
            fail(f"tensor {t.Name().decode()} has no constant data")
        dtype = NUMPY_TYPES.get(self.type_name(index))
        if dtype is None:
            fail(f"tensor {t.Name().decode()}: unsupported type {self.type_name(index)}")
        return np.frombuffer(data, dtype=dtype).reshape(self.shape(index))

    def dequantized(self, index):
        """float32 values: scale * (q - zero_point), per tensor or per axis."""
        q = self.raw(index)
        params = self.quantization(index)
        if q.dtype == np.float32:
            return q.copy()
        if params is None:
            fail(f"tensor {self.tensor(index).Name().decode()} is integer but has no scale")
        scale, zero_point, axis = params
        if scale.size > 1:  # per-axis: broadcast along the quantized dimension
            view = [1] * q.ndim
            view[axis] = scale.size
            scale, zero_point = scale.reshape(view), zero_point.reshape(view)
        return (scale * (q.astype(np.int64) - zero_point)).astype(np.float32)

    def options(self, op, options_class):
        table = op.BuiltinOptions()
        if table is None:
            return None
        opts = options_class()
        opts.Init(table.Bytes, table.Pos)
        return opts


# ---------------------------------------------------------------- expected layout

# torchvision's inverted residual setting: expansion t, channels c, repeats n, stride s.
INVERTED_RESIDUAL_SETTING = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                             (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def expected_layout():
    """Ordered list of ('conv', slot) / ('add', None) / ('pool', None) / ('classifier', slot).

    slot = dict(conv=key, bn=key or None, depthwise, cin, cout, k, stride, act,
    block_start = first conv of an inverted-residual block)."""
    def slot(conv, bn, depthwise, cin, cout, k, stride, act, block_start=False):
        return dict(conv=conv, bn=bn, depthwise=depthwise, cin=cin, cout=cout, k=k,
                    stride=stride, act=act, block_start=block_start)

    steps = [("conv", slot("features.0.0", "features.0.1", False, 3, 32, 3, 2, "RELU6"))]
    cin, index = 32, 1
    for t, c, n, s in INVERTED_RESIDUAL_SETTING:
        for i in range(n):
            stride, hidden, p = (s if i == 0 else 1), cin * t, f"features.{index}.conv"
            if t != 1:
                steps.append(("conv", slot(f"{p}.0.0", f"{p}.0.1", False, cin, hidden, 1, 1, "RELU6", True)))
                steps.append(("conv", slot(f"{p}.1.0", f"{p}.1.1", True, hidden, hidden, 3, stride, "RELU6")))
                steps.append(("conv", slot(f"{p}.2", f"{p}.3", False, hidden, c, 1, 1, "NONE")))
            else:
                steps.append(("conv", slot(f"{p}.0.0", f"{p}.0.1", True, hidden, hidden, 3, stride, "RELU6", True)))
                steps.append(("conv", slot(f"{p}.1", f"{p}.2", False, hidden, c, 1, 1, "NONE")))
            if stride == 1 and cin == c:
                steps.append(("add", None))
            cin, index = c, index + 1
    steps.append(("conv", slot("features.18.0", "features.18.1", False, cin, 1280, 1, 1, "RELU6")))
    steps.append(("pool", None))
    steps.append(("classifier", slot("classifier.1", None, False, 1280, 1001, 1, 1, "NONE")))
    return steps


# ---------------------------------------------------------------- conversion

def convert(graph):
    """Returns (state_dict of numpy arrays, report dict)."""
    ops = graph.operators()
    steps = expected_layout()
    n_convs = sum(1 for kind, s in steps if kind == "conv")
    if n_convs != 52:
        fail(f"internal: expected layout has {n_convs} feature convs, not 52")

    state, activation_notes, bias_scale_dev = {}, [], 0.0
    block_input = None      # tensor feeding the current inverted-residual block
    last_output = None
    classifier_output = stem_output = None
    op_i = 0
    for kind, s in steps:
        if op_i >= len(ops):
            fail(f"graph ended before step {kind} {s['conv'] if s else ''}")
        op = ops[op_i]
        name = graph.op_name(op)
        ins, outs = graph.inputs(op), graph.outputs(op)
        where = f"operator {op_i} ({name})"
        if kind in ("conv", "classifier"):
            want = "DEPTHWISE_CONV_2D" if s["depthwise"] else "CONV_2D"
            if name != want:
                fail(f"{where}: expected {want} for {s['conv']}")
            if last_output is not None and ins[0] != last_output:
                fail(f"{where}: input is not the previous layer's output")
            if s["block_start"]:
                block_input = ins[0]  # input of an inverted-residual block (residual source)
            opts_class = tflite.DepthwiseConv2DOptions if s["depthwise"] else tflite.Conv2DOptions
            opts = graph.options(op, opts_class)
            act = ACT_NAMES[opts.FusedActivationFunction()]
            if act != s["act"]:
                activation_notes.append(f"{s['conv']}: TFLite fused {act}, torchvision {s['act']}")
            if (opts.StrideH(), opts.StrideW()) != (s["stride"], s["stride"]):
                fail(f"{where}: stride {(opts.StrideH(), opts.StrideW())}, expected {s['stride']}")
            if (opts.DilationHFactor(), opts.DilationWFactor()) != (1, 1):
                fail(f"{where}: dilation is not 1")
            if s["k"] == 3 and PAD_NAMES[opts.Padding()] != "SAME":
                fail(f"{where}: 3x3 conv padding is {PAD_NAMES[opts.Padding()]}, expected SAME")
            if s["depthwise"] and opts.DepthMultiplier() != 1:
                fail(f"{where}: depth multiplier {opts.DepthMultiplier()}")
            if len(ins) < 3 or ins[2] < 0:
                fail(f"{where}: conv without bias; BN is expected to be folded into a bias")
            w = graph.dequantized(ins[1])
            b = graph.dequantized(ins[2])
            if s["depthwise"]:
                expect = (1, s["k"], s["k"], s["cout"])
                if w.shape != expect:
                    fail(f"{where}: depthwise weight {w.shape}, expected {expect}")
                w = w.transpose(3, 0, 1, 2)          # [1,kh,kw,out] -> [out,1,kh,kw]
            else:
                expect = (s["cout"], s["k"], s["k"], s["cin"])
                if w.shape != expect:
                    fail(f"{where}: weight {w.shape}, expected {expect}")
                w = w.transpose(0, 3, 1, 2)          # [out,kh,kw,in] -> [out,in,kh,kw]
            if b.shape != (s["cout"],):
                fail(f"{where}: bias {b.shape}, expected ({s['cout']},)")
            # The int32 bias scale should be input_scale * weight_scale.
            qi, qw, qb = (graph.quantization(i) for i in ins[:3])
            if qi and qw and qb:
                expected_scale = qi[0] * qw[0]
                bias_scale_dev = max(bias_scale_dev,
                                     float(np.max(np.abs(qb[0] / expected_scale - 1))))
            if kind == "classifier":
                # Drop TFLite's class 0 ('background'): torch class i == TFLite class i+1.
                state["classifier.1.weight"] = np.ascontiguousarray(w.reshape(s["cout"], s["cin"])[1:])
                state["classifier.1.bias"] = np.ascontiguousarray(b[1:])
                classifier_output = outs[0]
            else:
                if s["conv"] == "features.0.0":
                    stem_output = outs[0]
                state[s["conv"] + ".weight"] = np.ascontiguousarray(w)
                bn = s["bn"]
                state[bn + ".weight"] = np.ones(s["cout"], np.float32)
                state[bn + ".bias"] = b.astype(np.float32)
                state[bn + ".running_mean"] = np.zeros(s["cout"], np.float32)
                state[bn + ".running_var"] = np.full(s["cout"], 1.0 - BN_EPS, np.float32)
                state[bn + ".num_batches_tracked"] = np.array(0, np.int64)
            last_output = outs[0]
        elif kind == "add":
            if name != "ADD":
                fail(f"{where}: expected the residual ADD")
            if sorted(ins) != sorted([last_output, block_input]):
                fail(f"{where}: ADD does not sum the block's input and its projection")
            act = ACT_NAMES[graph.options(op, tflite.AddOptions).FusedActivationFunction()]
            if act != "NONE":
                activation_notes.append(f"residual ADD at operator {op_i}: fused {act}, torchvision none")
            last_output = outs[0]
        elif kind == "pool":
            if name != "AVERAGE_POOL_2D" or ins[0] != last_output:
                fail(f"{where}: expected global AVERAGE_POOL_2D after features.18")
            opts = graph.options(op, tflite.Pool2DOptions)
            in_shape = graph.shape(ins[0])
            if (opts.FilterHeight(), opts.FilterWidth()) != tuple(in_shape[1:3]) \
                    or graph.shape(outs[0])[1:3] != (1, 1):
                fail(f"{where}: average pool is not global ({opts.FilterHeight()}x{opts.FilterWidth()} on {in_shape})")
            last_output = outs[0]
        op_i += 1

    tail = [graph.op_name(op) for op in ops[op_i:]]
    allowed_tail = ({"RESHAPE", "SQUEEZE"}, {"SOFTMAX"})
    if not tail or tail[0] not in allowed_tail[0] or any(t not in allowed_tail[1] for t in tail[1:]) \
            or len(tail) > 2:
        fail(f"unexpected operators after the classifier: {tail}")

    input_index = graph.graph.Inputs(0)
    in_q = graph.quantization(input_index)
    report = dict(activation_notes=activation_notes, bias_scale_deviation=bias_scale_dev,
                  input_index=input_index, input_type=graph.type_name(input_index),
                  input_shape=graph.shape(input_index), input_quant=in_q,
                  classifier_output=classifier_output, stem_output=stem_output, tail=tail)
    return state, report


def input_normalisation(report):
    """torchvision-style mean/std (applied to x/255) equivalent to the uint8 dequantization.

    real = scale * (q - zp) with q = 255 * x01  ->  (x01 - zp/255) / (1 / (255 * scale))."""
    scale, zero_point, _ = report["input_quant"]
    scale, zero_point = float(scale[0]), int(zero_point[0])
    return zero_point / 255.0, 1.0 / (255.0 * scale), scale, zero_point


# ---------------------------------------------------------------- main

def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--check", nargs="+", metavar="IMAGE")
    args = parser.parse_args(argv)

    with open(args.input, "rb") as f:
        buf = f.read()
    graph = TFLiteGraph(buf)
    state, report = convert(graph)

    mean, std, scale, zero_point = input_normalisation(report)
    print(f"input: {report['input_type']} {report['input_shape']} scale={scale!r} zero_point={zero_point}"
          f"  (real = {scale!r} * (q - {zero_point}); torchvision mean={mean:.6f} std={std:.6f} after /255)")
    print("activations: " + ("all fused activations match torchvision (ReLU6 after stem/expand/"
                             "depthwise/last conv, none after project and residual ADD)"
                             if not report["activation_notes"] else "; ".join(report["activation_notes"])))
    print(f"bias scale vs input_scale*weight_scale: max relative deviation {report['bias_scale_deviation']:.2e}")
    print(f"tail operators after classifier: {report['tail']}")

    import torch
    from safetensors.torch import save_file
    # torch.tensor keeps num_batches_tracked 0-d like torchvision (np.ascontiguousarray would make it 1-d)
    tensors = {k: torch.tensor(v) for k, v in state.items()}
    # zero_point 128, scale 1/128 is TF's "inception" preprocessing x/127.5 - 1
    # (mean = std = 0.5) up to one input quantum; publish the rounded 0.5 in that case.
    if abs(mean - 0.5) < 5e-3 and abs(std - 0.5) < 5e-3:
        mean, std = 0.5, 0.5
    mean_s, std_s = f"{mean:g}", f"{std:g}"
    metadata = {
        "format": "pt",
        "architecture": "torchvision.models.mobilenet_v2 (width 1.0), float32 state dict",
        "source": os.path.basename(args.input),
        "source_sha256": hashlib.sha256(buf).hexdigest(),
        "input_quantization": f"uint8 scale={scale!r} zero_point={zero_point}",
        "input_mean": f"{mean_s},{mean_s},{mean_s}",
        "input_std": f"{std_s},{std_s},{std_s}",
        "input_exact": f"(q - {zero_point}) * {scale!r} == mean/std {zero_point}/255 on q/255",
        "input_size": "224",
        "classes": "1000",
        "class_mapping": "TFLite output 0 ('background') dropped; torch class i == TFLite class i+1",
        "batchnorm": "folded: weight=1, bias=folded bias, running_mean=0, running_var=1-1e-5 (eps 1e-5)",
        "padding_note": "TFLite SAME padding pads stride-2 3x3 convs (0 before, 1 after) on even inputs; "
                        "torchvision pads 1 on both sides",
        "license": "Apache-2.0, see LICENSE-mobilenet_v2",
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    save_file(tensors, args.output, metadata=metadata)
    print(f"wrote {args.output}: {len(tensors)} tensors, {os.path.getsize(args.output)} bytes")

    if args.check:
        from check_tflite_mobilenet_v2 import run_check
        run_check(args.input, args.output, args.check, report, mean, std, scale, zero_point)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except ConversionError as error:
        print(error, file=sys.stderr)
        sys.exit(1)
