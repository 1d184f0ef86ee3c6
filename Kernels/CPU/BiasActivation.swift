// The finishing pass shared by conv and linear: out[r, c] = act(out[r, c] + bias[r])
// over a block of rows, each row `count` floats long, rows `rowStride` apart.
// Called right after the GEMM that wrote the block, while it is still in cache.

@inlinable @inline(__always)
func finishRows<A: ActivationFunction>(
    _: A.Type, _ out: UnsafeMutablePointer<Float>, rows: Range<Int>, rowStride: Int, count: Int,
    bias: UnsafePointer<Float>?, biasOffset: Int
) {
    for r in rows {
        let p = out + r &* rowStride
        let b: Float = bias.map { $0[biasOffset &+ r] } ?? 0
        for i in 0..<count { p[i] = A.apply(p[i] + b) }
    }
}

/// out[r * rowStride + c] = act(out[...] + bias[biasOffset + r]) for r in rows, c < count.
/// A no-op for identity without bias.
public func applyBiasActivation(
    _ out: UnsafeMutablePointer<Float>, rows: Range<Int>, rowStride: Int, count: Int,
    bias: UnsafePointer<Float>?, biasOffset: Int = 0, activation: KernelActivation
) {
    switch activation {
    case .identity:
        if bias == nil { return }
        finishRows(IdentityActivation.self, out, rows: rows, rowStride: rowStride, count: count, bias: bias, biasOffset: biasOffset)
    case .relu: finishRows(ReluActivation.self, out, rows: rows, rowStride: rowStride, count: count, bias: bias, biasOffset: biasOffset)
    case .relu6: finishRows(Relu6Activation.self, out, rows: rows, rowStride: rowStride, count: count, bias: bias, biasOffset: biasOffset)
    case .hardswish: finishRows(HardswishActivation.self, out, rows: rows, rowStride: rowStride, count: count, bias: bias, biasOffset: biasOffset)
    case .hardsigmoid: finishRows(HardsigmoidActivation.self, out, rows: rows, rowStride: rowStride, count: count, bias: bias, biasOffset: biasOffset)
    case .sigmoid: finishRows(SigmoidActivation.self, out, rows: rows, rowStride: rowStride, count: count, bias: bias, biasOffset: biasOffset)
    }
}

/// Same as `applyBiasActivation`, split over rows across threads when the block is large.
public func applyBiasActivationParallel(
    _ out: UnsafeMutablePointer<Float>, rows: Int, rowStride: Int, count: Int,
    bias: UnsafePointer<Float>?, biasOffset: Int = 0, activation: KernelActivation,
    threads: KernelThreads
) {
    if activation == .identity && bias == nil { return }
    threads.parallelRanges(rows, costPerItem: count) { range in
        applyBiasActivation(out, rows: range, rowStride: rowStride, count: count,
                            bias: bias, biasOffset: biasOffset, activation: activation)
    }
}
