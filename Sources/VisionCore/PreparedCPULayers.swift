// Weights prepared once for the CPU backends.
// Conv weight: [Cout, Cin/groups * kH * kW] contiguous, which is both PyTorch's
// [Cout, Cin/groups, kH, kW] flattened and the row-major A matrix of each
// group's GEMM (group g owns rows g*Cout/groups ..< (g+1)*Cout/groups).
// 3x3 stride-1 convs with enough channels also keep Winograd F(4x4, 3x3)
// weights [36, Cout, Cin] (U = G g Gᵀ), transformed once here.

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
    /// [36, Cout, Cin] Winograd F(4x4, 3x3) weights, or nil when this conv never uses Winograd.
    public let winogradWeight: Tensor?
    /// The routing rule of the backend that prepared the weights.
    public let winogradRouting: WinogradRouting

    /// weight [Cout, Cin/groups, kH, kW], bias [Cout] or nil; `winogradRouting` is the
    /// preparing backend's (`threads` only parallelizes the weight transform).
    public init(weight: Tensor, bias: Tensor?, parameters: Conv2DParameters, winogradRouting routing: WinogradRouting,
                threads: KernelThreads) {
        checkConv2DWeights(weight: weight, bias: bias, parameters: parameters)
        let p = parameters
        outChannels = weight.shape[0]
        inChannels = weight.shape[1] * p.groups
        kernelH = weight.shape[2]
        kernelW = weight.shape[3]
        self.parameters = p
        packedWeight = weight.copy().reshaped([outChannels, weight.shape[1] * kernelH * kernelW])
        self.bias = bias?.copy().reshaped([outChannels])
        winogradRouting = routing
        if kernelH == 3 && kernelW == 3 && p.strideH == 1 && p.strideW == 1 && p.dilationH == 1 && p.dilationW == 1
            && p.groups == 1 && inChannels >= routing.minChannels && outChannels >= routing.minChannels {
            let u = Tensor(uninitializedShape: [WinogradF43.points, outChannels, inChannels])
            winogradTransformWeights(weight: packedWeight.storage.pointer, outChannels: outChannels,
                                     inChannels: inChannels, output: u.storage.pointer, threads: threads)
            winogradWeight = u
        } else {
            winogradWeight = nil
        }
    }

    /// Whether the CPU backend runs this conv on `g` with Winograd.
    public func usesWinograd(_ g: ConvGeometry) -> Bool {
        // Output pixels over the whole batch: 1000 RoIs of 7x7 (v2's box head) are one
        // large Winograd problem even though each map is small.
        winogradWeight != nil && g.batch * g.outH * g.outW >= winogradRouting.minOutputPixels
    }

    /// A 1x1 conv that is a plain GEMM over its input's pixels (stride 1, no padding, one group).
    public var isPlainPointwise: Bool {
        let p = parameters
        return kernelH == 1 && kernelW == 1 && p.strideH == 1 && p.strideW == 1 && p.padH == 0 && p.padW == 0 && p.groups == 1
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

/// Which 3x3 stride-1 undilated ungrouped convs the CPU backend computes with
/// Winograd F(4x4, 3x3) instead of im2col + sgemm: a value of each CPUBackend, given to
/// every conv it prepares.
public struct WinogradRouting: Sendable, Hashable {
    /// Fewest input and output channels (decides at prepare time whether to keep
    /// transformed weights, 4x the size of the filters).
    public var minChannels: Int
    /// Fewest output pixels per image (decided per call).
    public var minOutputPixels: Int

    public init(minChannels: Int, minOutputPixels: Int) {
        self.minChannels = minChannels
        self.minOutputPixels = minOutputPixels
    }

    /// Measured with vision-kernel-bench (3x3 convs of ResNet-50 and its FPN, 2 threads):
    /// Winograd wins from 16 channels on maps of a few hundred pixels up.
    public static let measured = WinogradRouting(minChannels: 16, minOutputPixels: 400)
    /// Every eligible conv, whatever its size (tests).
    public static let always = WinogradRouting(minChannels: 1, minOutputPixels: 1)
    /// im2col + sgemm only.
    public static let never = WinogradRouting(minChannels: .max, minOutputPixels: .max)
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
