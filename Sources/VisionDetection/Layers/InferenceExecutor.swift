// The inference executor: every layer's weights are read by name through the
// verifying WeightReader, batch norms folded into the conv, and prepared once for
// the ComputeBackend (packed, Winograd-transformed); activations are fused into
// the kernel that produces their input.

import VisionCore

/// A convolution with its batch norm folded in and its activation fused.
public struct Conv {
    public let prepared: PreparedConv2D
    public let activation: Activation
}

/// A fully connected layer, weight [out, in] as PyTorch stores it, activation fused.
public struct Linear {
    public let prepared: PreparedLinear
    public let activation: Activation
}

public final class InferenceExecutor: LayerExecutor {
    public let backend: ComputeBackend
    /// The checkpoint while layers are being made; dropped by `finishLoading` so a loaded
    /// model (whose layers hold this executor) does not keep a second copy of every weight.
    private var reader: WeightReader?

    public init(weights: WeightReader, backend: ComputeBackend) {
        reader = weights
        self.backend = backend
    }

    /// Checks every key the layers asked for (WeightReader.finish) and lets the checkpoint go.
    public func finishLoading() throws {
        try reader?.finish()
        reader = nil
    }

    private var weights: WeightReader {
        guard let reader else { preconditionFailure("a layer was made after the model finished loading") }
        return reader
    }

    public func makeConv(_ spec: ConvSpec) -> Conv {
        let c = [spec.outChannels]
        var weight = weights.tensor("\(spec.conv).weight", shape: spec.weightShape)
        var bias: Tensor? = spec.bias ? weights.tensor("\(spec.conv).bias", shape: c) : nil
        if let bn = spec.batchNorm {
            let folded = foldBatchNorm(
                weight: weight, bias: bias,
                gamma: weights.tensor("\(bn).weight", shape: c), beta: weights.tensor("\(bn).bias", shape: c),
                runningMean: weights.tensor("\(bn).running_mean", shape: c),
                runningVar: weights.tensor("\(bn).running_var", shape: c), eps: spec.batchNormEps)
            weight = folded.weight
            bias = folded.bias
        }
        return Conv(prepared: backend.prepareConv2D(weight: weight, bias: bias, parameters: spec.geometry),
                    activation: spec.activation)
    }

    public func makeLinear(_ spec: LinearSpec) -> Linear {
        let weight = weights.tensor("\(spec.prefix).weight", shape: [spec.outFeatures, spec.inFeatures])
        let bias = weights.tensor("\(spec.prefix).bias", shape: [spec.outFeatures])
        return Linear(prepared: backend.prepareLinear(weight: weight, bias: bias), activation: spec.activation)
    }

    public func conv(_ layer: Conv, _ x: Tensor) -> Tensor {
        backend.conv2d(x, layer.prepared, activation: layer.activation)
    }

    /// Fused into the conv's epilogue when the conv itself has no activation (the add must
    /// see its raw output); otherwise conv then add.
    public func conv(_ layer: Conv, _ x: Tensor, adding residual: Tensor, activation: Activation) -> Tensor {
        if layer.activation != .identity { return add(conv(layer, x), residual, activation: activation) }
        return backend.conv2d(x, layer.prepared, activation: activation, adding: residual)
    }

    /// The backend's block (the CPU backend fuses it). The backend adds the input before the
    /// project conv's activation, so a residual block's project conv must have none (as in
    /// every MobileNet).
    public func invertedResidual(expand: Conv?, depthwise: Conv, project: Conv, _ x: Tensor, addsInput: Bool) -> Tensor {
        precondition(!addsInput || project.activation == .identity, "a residual block's project conv has no activation")
        return backend.invertedResidual(x, InvertedResidualConvs(
            expand: expand.map { ($0.prepared, $0.activation) }, depthwise: (depthwise.prepared, depthwise.activation),
            project: (project.prepared, project.activation), addsInput: addsInput))
    }

    public func linear(_ layer: Linear, _ x: Tensor) -> Tensor {
        let flat = x.rank == 2 ? x : x.reshaped([x.shape[0], x.count / max(x.shape[0], 1)])
        return backend.linear(flat, layer.prepared, activation: layer.activation)
    }

    public func add(_ a: Tensor, _ b: Tensor, activation: Activation) -> Tensor {
        backend.add(a, b, activation: activation)
    }

    public func maxPool2d(_ x: Tensor, kernel: Int, stride: Int, padding: Int) -> Tensor {
        backend.maxPool2d(x, kernel: kernel, stride: stride, padding: padding)
    }

    public func globalAveragePool(_ x: Tensor) -> Tensor { backend.globalAveragePool(x) }

    public func scaleChannels(_ x: Tensor, by scale: Tensor) -> Tensor { backend.scaleChannels(x, by: scale) }

    public func upsampleNearest(_ x: Tensor, height: Int, width: Int) -> Tensor {
        backend.upsampleNearest(x, height: height, width: width)
    }

    public func shape(of x: Tensor) -> [Int] { x.shape }
}
