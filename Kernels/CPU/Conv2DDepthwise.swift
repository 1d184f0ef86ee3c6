// Direct depthwise convolution: each group has one input channel and
// `multiplier = Cout / groups` output channels (output channel oc reads input
// channel oc / multiplier). Layouts as in Conv2D.swift; weight [Cout, kH * kW].
//
// The loops are C (Kernels/CPUSIMD/depthwise_body.h), built per instruction set;
// planes (n, oc) are split across threads here. conv2dReference is the plain
// reference it is tested against (DepthwiseEdgeTests, InstructionSetTests).

import CVisionSIMD

public func conv2dDepthwise(
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    output: UnsafeMutablePointer<Float>, geometry g: ConvGeometry, activation: KernelActivation,
    threads: KernelThreads, instructionSet: InstructionSet = .detected, window: DepthwiseRowWindow? = nil
) {
    precondition(g.isDepthwise || g.inChannelsPerGroup == 1, "conv2dDepthwise needs one input channel per group")
    var cGeometry = g.simdGeometry
    let cWindow = window.map {
        vk_depthwise_window(in_plane_stride: $0.inputPlaneStride, in_row0: $0.firstInputRow,
                            out_plane_stride: $0.outputPlaneStride, oy_begin: $0.outputRows.lowerBound,
                            oy_end: $0.outputRows.upperBound)
    }
    let planes = g.batch &* g.outChannels
    let taps = g.kernelH &* g.kernelW
    let rows = window?.outputRows.count ?? g.outH
    threads.parallelRanges(planes, costPerItem: rows &* g.outW &* taps) { range in
        let status: Int32
        if var bandWindow = cWindow {
            status = vk_depthwise_conv2d(Int32(instructionSet.rawValue), input, weight, bias, output, &cGeometry,
                                         &bandWindow, Int32(activation.rawValue), range.lowerBound, range.upperBound)
        } else {
            status = vk_depthwise_conv2d(Int32(instructionSet.rawValue), input, weight, bias, output, &cGeometry,
                                         nil, Int32(activation.rawValue), range.lowerBound, range.upperBound)
        }
        precondition(status == 0, "conv2dDepthwise: out of memory for its padded input rows (\(g.inW) wide)")
    }
}

/// A band of output rows of a depthwise conv whose input planes hold only some image rows
/// (the fused inverted-residual block, InvertedResidualFused.swift). Input plane q
/// (= n * Cin + c) starts at input + q * inputPlaneStride and holds image rows
/// firstInputRow, firstInputRow + 1, ... (inW floats each); every row the band reads must
/// be held. Output plane p's rows `outputRows` go to output + p * outputPlaneStride,
/// row oy at (oy - outputRows.lowerBound) * outW.
public struct DepthwiseRowWindow {
    public var inputPlaneStride: Int, firstInputRow: Int
    public var outputPlaneStride: Int, outputRows: Range<Int>

    public init(inputPlaneStride: Int, firstInputRow: Int, outputPlaneStride: Int, outputRows: Range<Int>) {
        self.inputPlaneStride = inputPlaneStride; self.firstInputRow = firstInputRow
        self.outputPlaneStride = outputPlaneStride; self.outputRows = outputRows
    }
}
