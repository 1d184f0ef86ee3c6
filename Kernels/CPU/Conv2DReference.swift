// The obviously-correct convolution: direct nested loops, no tricks.
// Layouts: input [N, Cin, H, W], weight [Cout, Cin/groups, kH, kW], bias [Cout],
// output [N, Cout, Hout, Wout].

public func conv2dReference(
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    output: UnsafeMutablePointer<Float>, geometry g: ConvGeometry, activation: KernelActivation
) {
    let cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup
    for n in 0..<g.batch {
        for oc in 0..<g.outChannels {
            let group = oc / coutG
            for oy in 0..<g.outH {
                for ox in 0..<g.outW {
                    var sum: Float = bias?[oc] ?? 0
                    for icG in 0..<cinG {
                        let ic = group * cinG + icG
                        for ky in 0..<g.kernelH {
                            let iy = oy * g.strideH - g.padH + ky * g.dilationH
                            if iy < 0 || iy >= g.inH { continue }
                            for kx in 0..<g.kernelW {
                                let ix = ox * g.strideW - g.padW + kx * g.dilationW
                                if ix < 0 || ix >= g.inW { continue }
                                let x = input[((n * g.inChannels + ic) * g.inH + iy) * g.inW + ix]
                                let w = weight[((oc * cinG + icG) * g.kernelH + ky) * g.kernelW + kx]
                                sum += x * w
                            }
                        }
                    }
                    output[((n * g.outChannels + oc) * g.outH + oy) * g.outW + ox] = activation.apply(sum)
                }
            }
        }
    }
}
