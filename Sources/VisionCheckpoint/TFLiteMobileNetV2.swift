// TensorFlow's quantized ImageNet MobileNetV2 (.tflite) -> a Float32 torchvision
// `mobilenet_v2` state dict, exactly as Tools/convert_tflite_mobilenet_v2.py does
// it (same keys in the same order, same values, same __metadata__):
// - subgraph 0's operators are matched one by one against MobileNetV2Step.expectedLayout;
// - weights are dequantised and transposed: CONV_2D [out, kh, kw, in] -> [out, in, kh, kw],
//   DEPTHWISE_CONV_2D [1, kh, kw, out] -> [out, 1, kh, kw];
// - BatchNorm is folded into TFLite's biases, so each BatchNorm2d is written as "add the
//   bias": weight 1, bias = folded bias, running_mean 0, running_var 1 - 1e-5;
// - TFLite's class 0 ('background') is dropped: torch class i == TFLite class i + 1.

import Crypto
import Foundation
import VisionCore

public struct TFLiteConversion {
    public let stateDict: StateDict
    /// What the conversion found, one line each (input quantisation, activations, bias scales, tail).
    public let summary: [String]
}

public enum TFLiteMobileNetV2 {
    /// torchvision BatchNorm2d's default eps.
    static let batchNormEps = 1e-5

    /// True for a .tflite name or a file whose bytes 4..8 are "TFL3".
    public static func isTFLite(_ url: URL) -> Bool {
        if url.pathExtension.lowercased() == "tflite" { return true }
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 8) else { return false }
        return head.count == 8 && Array(head[head.startIndex + 4 ..< head.startIndex + 8]) == TFLiteModel.identifier
    }

    public static func convert(contentsOf url: URL) throws -> TFLiteConversion {
        let file = try MappedFile(url: url)
        return try convert(file.bytes, fileName: file.fileName)
    }

    /// `bytes` read as if they were a file called `name` (the name appears in errors and metadata).
    public static func convert(bytes: [UInt8], name: String) throws -> TFLiteConversion {
        try bytes.withUnsafeBytes { try convert($0, fileName: name) }
    }

    static func convert(_ bytes: UnsafeRawBufferPointer, fileName: String) throws -> TFLiteConversion {
        let model = try TFLiteModel(bytes, fileName: fileName)
        var walk = MobileNetV2Walk(model: model)
        try walk.run()
        guard let inputIndex = model.inputs.first else {
            throw CheckpointError.unsupportedModel(file: fileName, message: "the graph has no input tensor")
        }
        let input = try model.tensor(inputIndex, "graph input")
        guard let quantization = input.quantization else {
            throw CheckpointError.unsupportedModel(
                file: fileName, message: "input tensor \(input.name) is \(input.typeName) without quantization; expected a quantized uint8 input")
        }
        let scale = quantization.scale[0], zeroPoint = quantization.zeroPoint[0]
        // real = scale * (q - zp) with q = 255 * x01  ->  (x01 - zp/255) / (1 / (255 * scale)).
        var mean = Double(zeroPoint) / 255, std = 1 / (255 * scale)
        let summary = [
            "input: \(input.typeName) \(pythonTuple(input.shape)) scale=\(scale) zero_point=\(zeroPoint)  (real = \(scale) * (q - \(zeroPoint)); "
                + "torchvision mean=\(String(format: "%.6f", mean)) std=\(String(format: "%.6f", std)) after /255)",
            "activations: " + (walk.activationNotes.isEmpty
                ? "all fused activations match torchvision (ReLU6 after stem/expand/depthwise/last conv, none after project and residual ADD)"
                : walk.activationNotes.joined(separator: "; ")),
            "bias scale vs input_scale*weight_scale: max relative deviation \(String(format: "%.2e", walk.biasScaleDeviation))",
            "tail operators after classifier: \(pythonList(walk.tail))",
        ]
        // zero_point 128, scale 1/128 is TF's "inception" preprocessing x/127.5 - 1 (mean = std = 0.5)
        // up to one input quantum; publish the rounded 0.5 in that case.
        if abs(mean - 0.5) < 5e-3 && abs(std - 0.5) < 5e-3 { (mean, std) = (0.5, 0.5) }
        let meanText = String(format: "%g", mean), stdText = String(format: "%g", std)
        let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        var state = walk.state
        // "\(scale)" (Swift's shortest round-trip digits) spells these scales as Python's repr does: 0.0078125.
        state.metadata = [
            "format": "pt",
            "architecture": "torchvision.models.mobilenet_v2 (width 1.0), float32 state dict",
            "source": fileName,
            "source_sha256": digest,
            "input_quantization": "uint8 scale=\(scale) zero_point=\(zeroPoint)",
            "input_mean": "\(meanText),\(meanText),\(meanText)",
            "input_std": "\(stdText),\(stdText),\(stdText)",
            "input_exact": "(q - \(zeroPoint)) * \(scale) == mean/std \(zeroPoint)/255 on q/255",
            "input_size": "224",
            "classes": "1000",
            "class_mapping": "TFLite output 0 ('background') dropped; torch class i == TFLite class i+1",
            "batchnorm": "folded: weight=1, bias=folded bias, running_mean=0, running_var=1-1e-5 (eps 1e-5)",
            "padding_note": "TFLite SAME padding pads stride-2 3x3 convs (0 before, 1 after) on even inputs; "
                + "torchvision pads 1 on both sides",
            "license": "Apache-2.0, see LICENSE-mobilenet_v2",
        ]
        return TFLiteConversion(stateDict: state, summary: summary)
    }
}

/// One pass over subgraph 0's operators, filling the state dict step by step.
struct MobileNetV2Walk {
    let model: TFLiteModel
    var state = StateDict()
    var activationNotes: [String] = []
    var biasScaleDeviation = 0.0
    var tail: [String] = []
    /// Tensor feeding the current inverted-residual block (the residual's source).
    private var blockInput: Int?
    private var lastOutput: Int?

    init(model: TFLiteModel) { self.model = model }

    static let activationNames = ["NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT"]
    static func activationName(_ code: Int8) -> String {
        activationNames.indices.contains(Int(code)) ? activationNames[Int(code)] : "ACTIVATION_\(code)"
    }

    private func fail(_ message: String) -> CheckpointError { .unsupportedModel(file: model.fileName, message: message) }

    mutating func run() throws {
        let ops = model.operators
        var opIndex = 0
        for step in MobileNetV2Step.expectedLayout {
            guard opIndex < ops.count else { throw fail("graph ended before step \(step.label)") }
            let op = ops[opIndex]
            let place = "operator \(opIndex) (\(op.name))"
            switch step {
            case let .conv(slot):
                try convolution(op, slot, isClassifier: false, place)
            case let .classifier(slot):
                try convolution(op, slot, isClassifier: true, place)
            case .add:
                guard op.name == "ADD" else { throw fail("\(place): expected the residual ADD") }
                guard let last = lastOutput, let source = blockInput, op.inputs.sorted() == [last, source].sorted() else {
                    throw fail("\(place): ADD does not sum the block's input and its projection")
                }
                // AddOptions: fused_activation_function 0. No options table means no activation.
                let act = try Self.activationName(options(op, type: 11, required: false)?.i8(0, "fused_activation_function") ?? 0)
                if act != "NONE" { activationNotes.append("residual ADD at operator \(opIndex): fused \(act), torchvision none") }
                lastOutput = try firstOutput(op, place)
            case .pool:
                guard op.name == "AVERAGE_POOL_2D", op.inputs.first != nil, op.inputs.first == lastOutput else {
                    throw fail("\(place): expected global AVERAGE_POOL_2D after features.18")
                }
                // Pool2DOptions: filter_width 3, filter_height 4.
                let options = try self.options(op, type: 5, required: true)!
                let filter = [Int(try options.i32(4, "filter_height")), Int(try options.i32(3, "filter_width"))]
                let inShape = try model.tensor(op.inputs[0], place).shape
                let outShape = try model.tensor(try firstOutput(op, place), place).shape
                guard inShape.count >= 3, outShape.count >= 3, filter == Array(inShape[1 ..< 3]), outShape[1 ..< 3] == [1, 1] else {
                    throw fail("\(place): average pool is not global (\(filter[0])x\(filter[1]) on \(pythonTuple(inShape)))")
                }
                lastOutput = op.outputs[0]
            }
            opIndex += 1
        }
        tail = ops[opIndex...].map(\.name)
        guard (1 ... 2).contains(tail.count), ["RESHAPE", "SQUEEZE"].contains(tail[0]), tail.dropFirst().allSatisfy({ $0 == "SOFTMAX" }) else {
            throw fail("unexpected operators after the classifier: \(pythonList(tail))")
        }
    }

    private func firstOutput(_ op: TFLiteOperator, _ place: String) throws -> Int {
        guard let output = op.outputs.first else { throw fail("\(place): operator has no output") }
        return output
    }

    /// The operator's builtin options table, checked to be of union tag `type`.
    private func options(_ op: TFLiteOperator, type: UInt8, required: Bool) throws -> FlatBufferTable? {
        guard let table = op.options else {
            if required { throw fail("operator \(op.index) (\(op.name)): no builtin options") }
            return nil
        }
        guard op.optionsType == type else {
            throw fail("operator \(op.index) (\(op.name)): builtin options of type \(op.optionsType), expected \(type)")
        }
        return table
    }

    private mutating func convolution(_ op: TFLiteOperator, _ slot: MobileNetV2ConvSlot, isClassifier: Bool, _ place: String) throws {
        let want = slot.depthwise ? "DEPTHWISE_CONV_2D" : "CONV_2D"
        guard op.name == want else { throw fail("\(place): expected \(want) for \(slot.conv)") }
        guard let input = op.inputs.first else { throw fail("\(place): operator has no input") }
        if let last = lastOutput, input != last { throw fail("\(place): input is not the previous layer's output") }
        if slot.blockStart { blockInput = input }
        // Conv2DOptions: padding 0, stride_w 1, stride_h 2, fused_activation 3, dilation_w 4, dilation_h 5.
        // DepthwiseConv2DOptions: the same, with depth_multiplier 3 shifting the last three by one.
        let options = try self.options(op, type: slot.depthwise ? 2 : 1, required: true)!
        let shift = slot.depthwise ? 1 : 0
        let act = Self.activationName(try options.i8(3 + shift, "fused_activation_function"))
        if act != slot.activation { activationNotes.append("\(slot.conv): TFLite fused \(act), torchvision \(slot.activation)") }
        let stride = [Int(try options.i32(2, "stride_h")), Int(try options.i32(1, "stride_w"))]
        guard stride == [slot.stride, slot.stride] else { throw fail("\(place): stride \(pythonTuple(stride)), expected \(slot.stride)") }
        let dilation = [try options.i32(5 + shift, "dilation_h_factor", default: 1), try options.i32(4 + shift, "dilation_w_factor", default: 1)]
        guard dilation == [1, 1] else { throw fail("\(place): dilation is not 1") }
        let padding = try options.i8(0, "padding")
        if slot.kernel == 3 && padding != 0 {
            throw fail("\(place): 3x3 conv padding is \(padding == 1 ? "VALID" : "PADDING_\(padding)"), expected SAME")
        }
        if slot.depthwise {
            let multiplier = try options.i32(3, "depth_multiplier")
            guard multiplier == 1 else { throw fail("\(place): depth multiplier \(multiplier)") }
        }
        guard op.inputs.count >= 3, op.inputs[2] >= 0 else {
            throw fail("\(place): conv without bias; BN is expected to be folded into a bias")
        }
        let w = try model.dequantized(op.inputs[1], place), b = try model.dequantized(op.inputs[2], place)
        let weight: Tensor
        if slot.depthwise {
            let expect = [1, slot.kernel, slot.kernel, slot.outChannels]
            guard w.shape == expect else { throw fail("\(place): depthwise weight \(pythonTuple(w.shape)), expected \(pythonTuple(expect))") }
            weight = Self.permuted(w, to: [3, 0, 1, 2])  // [1,kh,kw,out] -> [out,1,kh,kw]
        } else {
            let expect = [slot.outChannels, slot.kernel, slot.kernel, slot.inChannels]
            guard w.shape == expect else { throw fail("\(place): weight \(pythonTuple(w.shape)), expected \(pythonTuple(expect))") }
            weight = Self.permuted(w, to: [0, 3, 1, 2])  // [out,kh,kw,in] -> [out,in,kh,kw]
        }
        guard b.shape == [slot.outChannels] else {
            throw fail("\(place): bias \(pythonTuple(b.shape)), expected \(pythonTuple([slot.outChannels]))")
        }
        try recordBiasScale(op.inputs, place)
        let output = try firstOutput(op, place)
        if isClassifier {
            // Drop TFLite's class 0 ('background'): [1001, 1280, 1, 1] -> [1000, 1280].
            let perClass = slot.inChannels
            state["classifier.1.weight"] = Tensor(shape: [slot.outChannels - 1, perClass], values: Array(weight.values[perClass...]))
            state["classifier.1.bias"] = Tensor(shape: [slot.outChannels - 1], values: Array(b.values[1...]))
        } else {
            let n = slot.outChannels, bn = slot.batchNorm!
            state[slot.conv + ".weight"] = weight
            state[bn + ".weight"] = Tensor(shape: [n], repeating: 1)
            state[bn + ".bias"] = b
            state[bn + ".running_mean"] = Tensor(shape: [n], repeating: 0)
            state[bn + ".running_var"] = Tensor(shape: [n], repeating: Float(1 - TFLiteMobileNetV2.batchNormEps))
            state.insert(Tensor(shape: [], repeating: 0), forKey: bn + ".num_batches_tracked", sourceDType: .int64)
        }
        lastOutput = output
    }

    /// The int32 bias scale should be input_scale * weight_scale (first scales); records the largest relative miss.
    private mutating func recordBiasScale(_ inputs: [Int], _ place: String) throws {
        guard let qi = try model.tensor(inputs[0], place).quantization, let qw = try model.tensor(inputs[1], place).quantization,
              let qb = try model.tensor(inputs[2], place).quantization else { return }
        let expected = qi.scale[0] * qw.scale[0]
        biasScaleDeviation = max(biasScaleDeviation, qb.scale.map { abs($0 / expected - 1) }.max() ?? 0)
    }

    /// A contiguous copy of `tensor` with its axes reordered: result axis k is source axis `order[k]`.
    static func permuted(_ tensor: Tensor, to order: [Int]) -> Tensor {
        let shape = order.map { tensor.shape[$0] }
        let sourceStrides = TensorConversion.contiguousStrides(tensor.shape)
        let strides = order.map { sourceStrides[$0] }
        let source = tensor.values
        var values = [Float](repeating: 0, count: source.count)
        var index = [Int](repeating: 0, count: shape.count)
        for i in values.indices {
            values[i] = source[zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 }]
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return Tensor(shape: shape, values: values)
    }
}
