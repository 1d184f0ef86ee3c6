// The obviously-correct convolution backward: the forward's nested loops with each
// multiply-add turned into its two gradient contributions. Layouts as in
// Conv2DBackward.swift; gradients are accumulated into (callers zero them).

public func conv2dBackwardReference(
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
    gradInput: UnsafeMutablePointer<Float>?, gradWeight: UnsafeMutablePointer<Float>?,
    gradBias: UnsafeMutablePointer<Float>?, geometry g: ConvGeometry
) {
    let cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup
    for n in 0..<g.batch {
        for oc in 0..<g.outChannels {
            let group = oc / coutG
            for oy in 0..<g.outH {
                for ox in 0..<g.outW {
                    let dy = gradOutput[((n * g.outChannels + oc) * g.outH + oy) * g.outW + ox]
                    gradBias?[oc] += dy
                    for icG in 0..<cinG {
                        let ic = group * cinG + icG
                        for ky in 0..<g.kernelH {
                            let iy = oy * g.strideH - g.padH + ky * g.dilationH
                            if iy < 0 || iy >= g.inH { continue }
                            for kx in 0..<g.kernelW {
                                let ix = ox * g.strideW - g.padW + kx * g.dilationW
                                if ix < 0 || ix >= g.inW { continue }
                                let xi = ((n * g.inChannels + ic) * g.inH + iy) * g.inW + ix
                                let wi = ((oc * cinG + icG) * g.kernelH + ky) * g.kernelW + kx
                                gradInput?[xi] += weight[wi] * dy
                                gradWeight?[wi] += input[xi] * dy
                            }
                        }
                    }
                }
            }
        }
    }
}
