import VisionCore

/// A convolution with its batch norm folded in and its activation fused.
/// Weights are prepared (packed) once for the backend at load time.
public struct Conv {
    public let prepared: PreparedConv2D
    public let activation: Activation
    let backend: ComputeBackend

    /// Loads `<conv>.weight` [out, in/groups, k, k] (and `<conv>.bias` when `bias`),
    /// then folds the batch norm at `<bn>.{weight,bias,running_mean,running_var}` if given.
    public static func load(
        _ r: WeightReader, backend: ComputeBackend, conv: String, bn: String? = nil, bnEps: Float = 1e-5,
        inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int? = nil,
        dilation: Int = 1, groups: Int = 1, bias: Bool = false, activation: Activation = .identity
    ) -> Conv {
        var weight = r.tensor("\(conv).weight", shape: [outChannels, inChannels / groups, kernel, kernel])
        var b: Tensor? = bias ? r.tensor("\(conv).bias", shape: [outChannels]) : nil
        if let bn {
            let folded = foldBatchNorm(
                weight: weight, bias: b,
                gamma: r.tensor("\(bn).weight", shape: [outChannels]),
                beta: r.tensor("\(bn).bias", shape: [outChannels]),
                runningMean: r.tensor("\(bn).running_mean", shape: [outChannels]),
                runningVar: r.tensor("\(bn).running_var", shape: [outChannels]),
                eps: bnEps)
            weight = folded.weight
            b = folded.bias
        }
        let parameters = Conv2DParameters(
            stride: stride, padding: padding ?? (kernel - 1) / 2 * dilation, dilation: dilation, groups: groups)
        return Conv(prepared: backend.prepareConv2D(weight: weight, bias: b, parameters: parameters),
                    activation: activation, backend: backend)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        backend.conv2d(x, prepared, activation: activation)
    }
}

/// A fully connected layer, weight [out, in] as PyTorch stores it.
public struct Linear {
    public let prepared: PreparedLinear
    public let activation: Activation
    let backend: ComputeBackend

    public static func load(_ r: WeightReader, backend: ComputeBackend, prefix: String,
                            inFeatures: Int, outFeatures: Int, activation: Activation = .identity) -> Linear {
        let weight = r.tensor("\(prefix).weight", shape: [outFeatures, inFeatures])
        let bias = r.tensor("\(prefix).bias", shape: [outFeatures])
        return Linear(prepared: backend.prepareLinear(weight: weight, bias: bias), activation: activation, backend: backend)
    }

    /// x [N, in] -> [N, out]; a 4-D x [N, C, H, W] is flattened in C, H, W order first.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let flat = x.rank == 2 ? x : x.reshaped([x.shape[0], x.count / max(x.shape[0], 1)])
        return backend.linear(flat, prepared, activation: activation)
    }
}
