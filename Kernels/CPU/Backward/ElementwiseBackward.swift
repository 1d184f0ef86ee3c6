// Backward of the element-wise kernels in Elementwise.swift. Flat Float32 buffers;
// every gradient is accumulated into (callers zero it). `add` needs no kernel: its
// gradient is gradOutput for both operands (see accumulate).

/// dst[i] += src[i].
public func accumulate(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int, threads: KernelThreads) {
    threads.parallelRanges(count, serialThreshold: 1 << 16) { r in
        for i in r { dst[i] += src[i] }
    }
}

/// out = a * b: gradA += dY * b, gradB += dY * a.
public func multiplyBackward(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
    gradA: UnsafeMutablePointer<Float>?, gradB: UnsafeMutablePointer<Float>?, count: Int,
    threads: KernelThreads
) {
    threads.parallelRanges(count, serialThreshold: 1 << 16) { r in
        if let gradA { for i in r { gradA[i] += gradOutput[i] * b[i] } }
        if let gradB { for i in r { gradB[i] += gradOutput[i] * a[i] } }
    }
}

/// Squeeze-excitation scaling out[p, i] = x[p, i] * scale[p] (planes = N*C):
/// gradX[p, i] += dY[p, i] * scale[p]; gradScale[p] += sum_i dY[p, i] * x[p, i].
public func scaleChannelsBackward(
    _ x: UnsafePointer<Float>, scale: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
    gradX: UnsafeMutablePointer<Float>?, gradScale: UnsafeMutablePointer<Float>?, planes: Int, planeSize: Int,
    threads: KernelThreads
) {
    threads.parallelRanges(planes, costPerItem: planeSize, serialThreshold: 1 << 16) { r in
        for p in r {
            let dy = gradOutput + p &* planeSize, src = x + p &* planeSize
            if let gradX {
                let s = scale[p], dx = gradX + p &* planeSize
                for i in 0..<planeSize { dx[i] += dy[i] * s }
            }
            if let gradScale {
                var sum: Double = 0
                for i in 0..<planeSize { sum += Double(dy[i] * src[i]) }
                gradScale[p] += Float(sum)
            }
        }
    }
}

/// Per-channel affine y[n, c, i] = x * scale[c] + shift[c] (a frozen batch norm):
/// gradX += dY * scale[c]. scale and shift are constants, so they get no gradient.
public func channelAffineBackward(
    scale: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, gradX: UnsafeMutablePointer<Float>,
    batch: Int, channels: Int, planeSize: Int,
    threads: KernelThreads
) {
    threads.parallelRanges(batch &* channels, costPerItem: planeSize, serialThreshold: 1 << 16) { r in
        for p in r {
            let s = scale[p % channels]
            let dy = gradOutput + p &* planeSize, dx = gradX + p &* planeSize
            for i in 0..<planeSize { dx[i] += dy[i] * s }
        }
    }
}
