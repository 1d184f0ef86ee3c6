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
    threads: KernelThreads, instructionSet: InstructionSet = .detected
) {
    precondition(g.isDepthwise || g.inChannelsPerGroup == 1, "conv2dDepthwise needs one input channel per group")
    var cGeometry = g.simdGeometry
    let planes = g.batch &* g.outChannels
    let taps = g.kernelH &* g.kernelW
    threads.parallelRanges(planes, costPerItem: g.outH &* g.outW &* taps) { range in
        let status = vk_depthwise_conv2d(Int32(instructionSet.rawValue), input, weight, bias, output, &cGeometry,
                                         Int32(activation.rawValue), range.lowerBound, range.upperBound)
        precondition(status == 0, "conv2dDepthwise: out of memory for its padded input rows (\(g.inW) wide)")
    }
}
