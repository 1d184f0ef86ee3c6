// Concatenation along one axis of row-major buffers. With the shape split as
// [outer, axis, inner], each input contributes a block of `axisSize * inner`
// floats per outer index.

/// inputs: (pointer, axis size) pairs; inner = product of the dimensions after the axis.
public func concatenate(
    _ inputs: [(pointer: UnsafePointer<Float>, axisSize: Int)], output: UnsafeMutablePointer<Float>,
    outer: Int, inner: Int,
    threads: KernelThreads
) {
    let totalAxis = inputs.reduce(0) { $0 + $1.axisSize }
    let outBlock = totalAxis &* inner
    threads.parallelRanges(outer, costPerItem: outBlock, serialThreshold: 1 << 18) { range in
        for o in range {
            var dst = output + o &* outBlock
            for (p, size) in inputs {
                let block = size &* inner
                dst.update(from: p + o &* block, count: block)
                dst += block
            }
        }
    }
}
