// Nearest-neighbour resize with PyTorch's legacy "nearest" rule (F.interpolate
// with size= and mode="nearest"): scale = Float(in) / Float(out) in float32,
// src = min(floor(Float(dst) * scale), in - 1); out == in copies and
// out == 2*in uses dst >> 1, as ATen does. Layouts: [planes, H, W] -> [planes, outH, outW].

import Foundation

/// Source index along one axis for each destination index.
public func nearestSourceIndices(inSize: Int, outSize: Int) -> [Int] {
    if outSize == inSize { return Array(0..<outSize) }
    if outSize == 2 * inSize { return (0..<outSize).map { $0 >> 1 } }
    let scale = Float(inSize) / Float(outSize)
    return (0..<outSize).map { min(Int(floorf(Float($0) * scale)), inSize - 1) }
}

public func upsampleNearest(
    input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
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
                    let src = input + p &* inH &* inW
                    var dst = output + p &* outH &* outW
                    for oy in 0..<outH {
                        let row = src + yIdx[oy] &* inW
                        for ox in 0..<outW { dst[ox] = row[xIdx[ox]] }
                        dst += outW
                    }
                }
            }
        }
    }
}
