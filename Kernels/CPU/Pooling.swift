// Max pooling (PyTorch max_pool2d: floor mode, padding counts as -inf, no
// dilation) and global average pooling. Layouts: [N, C, H, W] in and out.

/// Output size of max_pool2d along one axis (floor mode).
public func maxPoolOutputSize(input: Int, kernel: Int, stride: Int, padding: Int) -> Int {
    (input + 2 * padding - kernel) / stride + 1
}

/// Fast form: each window's in-bounds range is computed once, no per-tap checks.
public func maxPool2d(
    input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
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
            let dst = output + p &* outPlane
            for oy in 0..<outH {
                let y0 = oy &* stride &- padding
                let yLo = max(0, y0), yHi = min(inH, y0 &+ kernel)
                for ox in 0..<outW {
                    let x0 = ox &* stride &- padding
                    let xLo = max(0, x0), xHi = min(inW, x0 &+ kernel)
                    var m = -Float.infinity
                    var y = yLo
                    while y < yHi {
                        let row = src + y &* inW
                        var x = xLo
                        while x < xHi {
                            let v = row[x]
                            // NaN propagates, as in PyTorch.
                            if v > m || v.isNaN { m = v }
                            x &+= 1
                        }
                        y &+= 1
                    }
                    dst[oy &* outW &+ ox] = m
                }
            }
        }
    }
}

/// Naive form: visits every tap of the padded window, padding as -inf.
public func maxPool2dReference(
    input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
    planes: Int, inH: Int, inW: Int, kernel: Int, stride: Int, padding: Int
) {
    let outH = maxPoolOutputSize(input: inH, kernel: kernel, stride: stride, padding: padding)
    let outW = maxPoolOutputSize(input: inW, kernel: kernel, stride: stride, padding: padding)
    for p in 0..<planes {
        for oy in 0..<outH {
            for ox in 0..<outW {
                var m = -Float.infinity
                for ky in 0..<kernel {
                    for kx in 0..<kernel {
                        let y = oy * stride - padding + ky, x = ox * stride - padding + kx
                        let v = (y < 0 || y >= inH || x < 0 || x >= inW) ? -Float.infinity : input[(p * inH + y) * inW + x]
                        if v > m || v.isNaN { m = v }
                    }
                }
                output[(p * outH + oy) * outW + ox] = m
            }
        }
    }
}

/// output[p] = mean of input plane p (planes = N*C, each `planeSize` floats).
/// Accumulates in Double so the result does not depend on the summation order.
public func globalAveragePool(
    input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, planes: Int, planeSize: Int,
    threads: KernelThreads
) {
    threads.parallelRanges(planes, costPerItem: planeSize) { range in
        for p in range {
            let src = input + p &* planeSize
            var sum: Double = 0
            for i in 0..<planeSize { sum += Double(src[i]) }
            output[p] = planeSize == 0 ? .nan : Float(sum / Double(planeSize))
        }
    }
}
