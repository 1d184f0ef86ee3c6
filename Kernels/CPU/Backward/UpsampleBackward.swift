// Backward of nearest-neighbour upsampling (Upsample.swift's index rule): every output
// pixel's gradient is added to the input pixel it copied. Layouts: gradOutput
// [planes, outH, outW], gradInput [planes, inH, inW] (accumulated into).

public func upsampleNearestBackward(
    gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>,
    planes: Int, inH: Int, inW: Int, outH: Int, outW: Int,
    threads: KernelThreads
) {
    precondition(inH > 0 && inW > 0 && outH >= 0 && outW >= 0, "bad upsample geometry")
    if planes == 0 || outH == 0 || outW == 0 { return }
    let ys = nearestSourceIndices(inSize: inH, outSize: outH)
    let xs = nearestSourceIndices(inSize: inW, outSize: outW)
    ys.withUnsafeBufferPointer { ysp in
        xs.withUnsafeBufferPointer { xsp in
            let yIdx = ysp.baseAddress!, xIdx = xsp.baseAddress!
            threads.parallelRanges(planes, costPerItem: outH &* outW) { range in
                for p in range {
                    let dst = gradInput + p &* inH &* inW
                    var src = gradOutput + p &* outH &* outW
                    for oy in 0..<outH {
                        let row = dst + yIdx[oy] &* inW
                        for ox in 0..<outW { row[xIdx[ox]] += src[ox] }
                        src += outW
                    }
                }
            }
        }
    }
}
