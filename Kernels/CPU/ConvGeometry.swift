// The shapes of one 2-D convolution, checked once at kernel entry.
// Layouts: input [N, Cin, H, W], weight [Cout, Cin/groups, kH, kW],
// output [N, Cout, Hout, Wout], all row-major Float32.

public struct ConvGeometry: Sendable, Hashable {
    public let batch: Int
    public let inChannels: Int, inH: Int, inW: Int
    public let outChannels: Int, kernelH: Int, kernelW: Int
    public let strideH: Int, strideW: Int
    public let padH: Int, padW: Int
    public let dilationH: Int, dilationW: Int
    public let groups: Int
    public let outH: Int, outW: Int

    public init(
        batch: Int, inChannels: Int, inH: Int, inW: Int,
        outChannels: Int, kernelH: Int, kernelW: Int,
        strideH: Int = 1, strideW: Int = 1, padH: Int = 0, padW: Int = 0,
        dilationH: Int = 1, dilationW: Int = 1, groups: Int = 1
    ) {
        precondition(batch >= 0 && inChannels > 0 && inH >= 0 && inW >= 0, "bad conv input shape")
        precondition(outChannels > 0 && kernelH > 0 && kernelW > 0, "bad conv weight shape")
        precondition(strideH > 0 && strideW > 0 && dilationH > 0 && dilationW > 0, "stride and dilation must be positive")
        precondition(padH >= 0 && padW >= 0, "padding must be non-negative")
        precondition(groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
                     "groups \(groups) must divide Cin \(inChannels) and Cout \(outChannels)")
        self.batch = batch
        self.inChannels = inChannels; self.inH = inH; self.inW = inW
        self.outChannels = outChannels; self.kernelH = kernelH; self.kernelW = kernelW
        self.strideH = strideH; self.strideW = strideW
        self.padH = padH; self.padW = padW
        self.dilationH = dilationH; self.dilationW = dilationW
        self.groups = groups
        self.outH = (inH + 2 * padH - dilationH * (kernelH - 1) - 1) / strideH + 1
        self.outW = (inW + 2 * padW - dilationW * (kernelW - 1) - 1) / strideW + 1
        precondition(outH > 0 && outW > 0, "conv output would be empty: input \(inH)x\(inW), kernel \(kernelH)x\(kernelW)")
    }

    public var inChannelsPerGroup: Int { inChannels / groups }
    public var outChannelsPerGroup: Int { outChannels / groups }
    /// Rows of the GEMM's A matrix per group: Cin/groups * kH * kW.
    public var reductionSize: Int { inChannelsPerGroup * kernelH * kernelW }
    public var inputCount: Int { batch * inChannels * inH * inW }
    public var outputCount: Int { batch * outChannels * outH * outW }
    public var weightCount: Int { outChannels * reductionSize }

    /// Each group sees exactly one input channel (depthwise, any channel multiplier).
    public var isDepthwise: Bool { groups == inChannels && groups > 1 }
    /// The input already is the GEMM's B matrix: no im2col needed.
    public var isPointwise: Bool {
        kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padH == 0 && padW == 0
    }

    /// Multiply-adds counted as 2 FLOPs.
    public var flops: Double {
        2 * Double(outChannels) * Double(reductionSize) * Double(outH * outW) * Double(batch)
    }
}
