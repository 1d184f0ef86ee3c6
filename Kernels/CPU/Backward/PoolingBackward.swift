// Backward of max_pool2d and global average pooling. Layouts: [planes, H, W] in,
// [planes, Hout, Wout] out (planes = N*C); gradients accumulated into gradInput.
//
// Max pooling routes each output's gradient to the input its window picked, with
// PyTorch's rule: taps are scanned row by row over the window's in-bounds part, a tap
// replaces the current maximum only when strictly greater (or NaN), so the first
// maximum wins ties; the start is the window's first in-bounds tap.

/// Fast form: the argmax is recomputed per window over its in-bounds range.
/// Planes run on separate threads (a window only ever writes its own plane).
public func maxPool2dBackward(
    input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>,
    planes: Int, inH: Int, inW: Int, kernel: Int, stride: Int, padding: Int,
    threads: KernelThreads
) {
    let outH = maxPoolOutputSize(input: inH, kernel: kernel, stride: stride, padding: padding)
    let outW = maxPoolOutputSize(input: inW, kernel: kernel, stride: stride, padding: padding)
    precondition(outH > 0 && outW > 0 && kernel > 0 && stride > 0 && padding >= 0, "bad max_pool2d geometry")
    let inPlane = inH &* inW, outPlane = outH &* outW
    threads.parallelRanges(planes, costPerItem: outPlane &* kernel &* kernel) { range in
        for p in range {
            let src = input + p &* inPlane
            let dx = gradInput + p &* inPlane
            let dy = gradOutput + p &* outPlane
            for oy in 0..<outH {
                let y0 = oy &* stride &- padding
                let yLo = max(0, y0), yHi = min(inH, y0 &+ kernel)
                for ox in 0..<outW {
                    let x0 = ox &* stride &- padding
                    let xLo = max(0, x0), xHi = min(inW, x0 &+ kernel)
                    var m = -Float.infinity
                    var best = yLo &* inW &+ xLo
                    var y = yLo
                    while y < yHi {
                        var x = xLo
                        while x < xHi {
                            let i = y &* inW &+ x
                            let v = src[i]
                            if v > m || v.isNaN { m = v; best = i }
                            x &+= 1
                        }
                        y &+= 1
                    }
                    dx[best] += dy[oy &* outW &+ ox]
                }
            }
        }
    }
}

/// Naive form: a forward pass that records argmax indices (as PyTorch's
/// max_pool2d_with_indices), then a scatter of the gradient through them.
public func maxPool2dBackwardReference(
    input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>,
    planes: Int, inH: Int, inW: Int, kernel: Int, stride: Int, padding: Int
) {
    let outH = maxPoolOutputSize(input: inH, kernel: kernel, stride: stride, padding: padding)
    let outW = maxPoolOutputSize(input: inW, kernel: kernel, stride: stride, padding: padding)
    for p in 0..<planes {
        for oy in 0..<outH {
            for ox in 0..<outW {
                var m = -Float.infinity
                var best = -1
                for ky in 0..<kernel {
                    for kx in 0..<kernel {
                        let y = oy * stride - padding + ky, x = ox * stride - padding + kx
                        if y < 0 || y >= inH || x < 0 || x >= inW { continue }
                        let v = input[(p * inH + y) * inW + x]
                        if best < 0 || v > m || v.isNaN { m = v; best = y * inW + x }
                    }
                }
                if best >= 0 {
                    gradInput[p * inH * inW + best] += gradOutput[(p * outH + oy) * outW + ox]
                }
            }
        }
    }
}

/// gradInput[p, i] += gradOutput[p] / planeSize (the mean spreads evenly).
public func globalAveragePoolBackward(
    gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>, planes: Int, planeSize: Int,
    threads: KernelThreads
) {
    if planeSize == 0 { return }
    let scale = 1 / Float(planeSize)
    threads.parallelRanges(planes, costPerItem: planeSize, serialThreshold: 1 << 16) { range in
        for p in range {
            let g = gradOutput[p] * scale
            let dst = gradInput + p &* planeSize
            for i in 0..<planeSize { dst[i] += g }
        }
    }
}
