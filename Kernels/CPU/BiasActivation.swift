// The finishing pass shared by conv and linear: out[r, c] = act(out[r, c] + bias[r])
// over a block of rows, each row `count` floats long, rows `rowStride` apart.
// Called right after the GEMM that wrote the block, while it is still in cache.
// The conv's pass (`finishGemmBlock`) is the C kernel of the chosen instruction set and
// can add a residual too (a ResNet block's identity, an inverted residual's input);
// `applyBiasActivation` is its plain Swift reference.

import CVisionSIMD

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

/// out[r * rowStride + c] = act(out[...] + bias[biasOffset + r] + residual[r * residualStride + c])
/// for r < rows, c < count (residual nil: no add), rows split across threads when the block
/// is large. The C kernel of `instructionSet`; same operation order as applyBiasActivation
/// followed by `add`.
public func finishGemmBlock(
    _ out: UnsafeMutablePointer<Float>, rows: Int, rowStride: Int, count: Int,
    bias: UnsafePointer<Float>?, biasOffset: Int = 0,
    residual: UnsafePointer<Float>?, residualStride: Int,
    activation: KernelActivation, threads: KernelThreads, instructionSet: InstructionSet
) {
    if activation == .identity && bias == nil && residual == nil { return }
    threads.parallelRanges(rows, costPerItem: count) { range in
        vk_bias_residual_activation(
            Int32(instructionSet.rawValue), out + range.lowerBound &* rowStride, range.count, rowStride, count,
            bias.map { $0 + (biasOffset &+ range.lowerBound) },
            residual.map { $0 + (range.lowerBound &* residualStride) }, residualStride, Int32(activation.rawValue))
    }
}
