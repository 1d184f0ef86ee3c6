// Weights prepared once for the CPU backends.
// Conv weight: [Cout, Cin/groups * kH * kW] contiguous, which is both PyTorch's
// [Cout, Cin/groups, kH, kW] flattened and the row-major A matrix of each
// group's GEMM (group g owns rows g*Cout/groups ..< (g+1)*Cout/groups).

import VisionKernels

public final class CPUPreparedConv2D: PreparedConv2D, @unchecked Sendable {
    public let outChannels: Int
    public let inChannels: Int
    public let kernelH: Int
    public let kernelW: Int
    public let parameters: Conv2DParameters
    /// [Cout, Cin/groups * kH * kW], own storage.
    public let packedWeight: Tensor
    /// [Cout] or nil, own storage.
    public let bias: Tensor?

    /// weight [Cout, Cin/groups, kH, kW], bias [Cout] or nil.
    public init(weight: Tensor, bias: Tensor?, parameters: Conv2DParameters) {
        precondition(weight.rank == 4, "conv weight must be [Cout, Cin/groups, kH, kW], got \(weight.shape)")
        let p = parameters
        precondition(p.groups > 0 && p.strideH > 0 && p.strideW > 0 && p.dilationH > 0 && p.dilationW > 0
                     && p.padH >= 0 && p.padW >= 0, "bad conv parameters \(p)")
        precondition(weight.shape[0] % p.groups == 0, "groups \(p.groups) must divide Cout \(weight.shape[0])")
        if let bias { precondition(bias.count == weight.shape[0], "conv bias \(bias.shape) does not match Cout \(weight.shape[0])") }
        outChannels = weight.shape[0]
        inChannels = weight.shape[1] * p.groups
        kernelH = weight.shape[2]
        kernelW = weight.shape[3]
        self.parameters = p
        packedWeight = weight.copy().reshaped([outChannels, weight.shape[1] * kernelH * kernelW])
        self.bias = bias?.copy().reshaped([outChannels])
    }

    /// The kernel geometry for an input [N, Cin, H, W].
    public func geometry(for input: Tensor) -> ConvGeometry {
        precondition(input.rank == 4, "conv input must be [N, C, H, W], got \(input.shape)")
        precondition(input.shape[1] == inChannels, "conv expects \(inChannels) input channels, got \(input.shape)")
        let p = parameters
        return ConvGeometry(
            batch: input.shape[0], inChannels: inChannels, inH: input.shape[2], inW: input.shape[3],
            outChannels: outChannels, kernelH: kernelH, kernelW: kernelW,
            strideH: p.strideH, strideW: p.strideW, padH: p.padH, padW: p.padW,
            dilationH: p.dilationH, dilationW: p.dilationW, groups: p.groups)
    }
}

public final class CPUPreparedLinear: PreparedLinear, @unchecked Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    /// [out, in], own storage (sgemm reads it transposed).
    public let weight: Tensor
    /// [out] or nil.
    public let bias: Tensor?

    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.rank == 2, "linear weight must be [out, in], got \(weight.shape)")
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
        if let bias { precondition(bias.count == outFeatures, "linear bias \(bias.shape) does not match out \(outFeatures)") }
        self.weight = weight.copy()
        self.bias = bias?.copy().reshaped([outFeatures])
    }
}

extension Activation {
    /// The kernels' code for this activation.
    public var kernelActivation: KernelActivation {
        switch self {
        case .identity: return .identity
        case .relu: return .relu
        case .relu6: return .relu6
        case .hardswish: return .hardswish
        case .hardsigmoid: return .hardsigmoid
        case .sigmoid: return .sigmoid
        }
    }
}
