// Direct depthwise convolution backward: one input channel per group and
// `multiplier = Cout / groups` output channels per input channel (output channel oc
// reads input channel oc / multiplier). Layouts as in Conv2DDepthwise.swift:
// input / gradInput [N, Cin, H, W], weight / gradWeight [Cout, kH * kW], gradOutput [N, Cout, Hout, Wout].
//
// Work is split by input channel: a thread owns gradInput planes (n, ic) for all n and
// the gradWeight rows of ic's output channels, so no two threads write the same float.
// Per (n, oc, kernel tap) one pass over the valid outputs of each output row:
//   gradInput[iy, ix] += w[tap] * dY[oy, ox]   and   dW[tap] += x[iy, ix] * dY[oy, ox].
// Gradients are accumulated into (callers zero them); nil skips one.

public func conv2dDepthwiseBackward(
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
    gradInput: UnsafeMutablePointer<Float>?, gradWeight: UnsafeMutablePointer<Float>?,
    gradBias: UnsafeMutablePointer<Float>?, geometry g: ConvGeometry,
    threads: KernelThreads
) {
    precondition(g.inChannelsPerGroup == 1, "conv2dDepthwiseBackward needs one input channel per group")
    let outPlane = g.outH &* g.outW, inPlane = g.inH &* g.inW
    if let gradBias { accumulateBiasGradient(gradOutput, gradBias, batch: g.batch, channels: g.outChannels, plane: outPlane, threads: threads) }
    if gradInput == nil && gradWeight == nil { return }
    let multiplier = g.outChannels / g.groups
    let taps = g.kernelH &* g.kernelW
    let sw = g.strideW
    threads.parallelRanges(g.inChannels, costPerItem: g.batch &* multiplier &* outPlane &* taps &* 2) { channels in
        for ic in channels {
            for m in 0..<multiplier {
                let oc = ic &* multiplier &+ m
                let w = weight + oc &* taps
                for tap in 0..<taps {
                    let ky = tap / g.kernelW, kx = tap &- ky &* g.kernelW
                    let offX = kx &* g.dilationW &- g.padW
                    let (lo, hi) = validOutputRange(offset: offX, stride: sw, inSize: g.inW, outSize: g.outW)
                    if lo >= hi { continue }
                    let wv = w[tap]
                    var dwSum: Float = 0
                    for n in 0..<g.batch {
                        let dyPlane = gradOutput + (n &* g.outChannels &+ oc) &* outPlane
                        let planeOffset = (n &* g.inChannels &+ ic) &* inPlane
                        for oy in 0..<g.outH {
                            let iy = oy &* g.strideH &- g.padH &+ ky &* g.dilationH
                            if iy < 0 || iy >= g.inH { continue }
                            let dy = dyPlane + oy &* g.outW
                            let rowOffset = planeOffset &+ iy &* g.inW &+ offX
                            if let gradInput {
                                let dx = gradInput + rowOffset
                                for ox in lo..<hi { dx[ox &* sw] += wv * dy[ox] }
                            }
                            if gradWeight != nil {
                                let x = input + rowOffset
                                var s: Float = 0
                                for ox in lo..<hi { s += x[ox &* sw] * dy[ox] }
                                dwSum += s
                            }
                        }
                    }
                    if let gradWeight { gradWeight[oc &* taps &+ tap] += dwSum }
                }
            }
        }
    }
}
