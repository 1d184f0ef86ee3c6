// Direct depthwise convolution backward: one input channel per group and
// `multiplier = Cout / groups` output channels per input channel (output channel oc
// reads input channel oc / multiplier). Layouts as in Conv2DDepthwise.swift:
// input / gradInput [N, Cin, H, W], weight / gradWeight [Cout, kH * kW], gradOutput [N, Cout, Hout, Wout].
//
// Work is split by input channel: a thread owns gradInput planes (n, ic) for all n and
// the gradWeight rows of ic's output channels, so no two threads write the same float.
// Per (oc, n, output row), every kernel tap over the row's valid outputs:
//   gradInput[iy, ix] += w[tap] * dY[oy, ox]   and   dW[tap] += x[iy, ix] * dY[oy, ox].
// Gradients are accumulated into (callers zero them); nil skips one.
// The loops are C (Kernels/CPUSIMD/depthwise_backward_body.h), built per instruction
// set; conv2dBackwardReference is the plain reference they are tested against
// (Conv2DBackwardTests, InstructionSetTests).

import CVisionSIMD

public func conv2dDepthwiseBackward(
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
    gradInput: UnsafeMutablePointer<Float>?, gradWeight: UnsafeMutablePointer<Float>?,
    gradBias: UnsafeMutablePointer<Float>?, geometry g: ConvGeometry,
    threads: KernelThreads, instructionSet: InstructionSet = .detected
) {
    precondition(g.inChannelsPerGroup == 1, "conv2dDepthwiseBackward needs one input channel per group")
    let outPlane = g.outH &* g.outW
    if let gradBias { accumulateBiasGradient(gradOutput, gradBias, batch: g.batch, channels: g.outChannels, plane: outPlane, threads: threads) }
    if gradInput == nil && gradWeight == nil { return }
    let multiplier = g.outChannels / g.groups
    let taps = g.kernelH &* g.kernelW
    // Per tap, the output columns whose input column is inside the row.
    var tapLow = [Int](repeating: 0, count: taps), tapHigh = tapLow
    for tap in 0..<taps {
        let kx = tap % g.kernelW
        let range = validOutputRange(offset: kx &* g.dilationW &- g.padW, stride: g.strideW, inSize: g.inW, outSize: g.outW)
        tapLow[tap] = range.lo
        tapHigh[tap] = range.hi
    }
    var cGeometry = g.simdGeometry
    threads.parallelRanges(g.inChannels, costPerItem: g.batch &* multiplier &* outPlane &* taps &* 2) { channels in
        vk_depthwise_conv2d_backward(Int32(instructionSet.rawValue), input, weight, gradOutput, gradInput, gradWeight,
                                     &cGeometry, tapLow, tapHigh, channels.lowerBound, channels.upperBound)
    }
}
