// Element-wise kernels over flat Float32 buffers, split across threads when large.

@inlinable @inline(__always)
func addActivate<A: ActivationFunction>(
    _: A.Type, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ range: Range<Int>
) {
    for i in range { out[i] = A.apply(a[i] + b[i]) }
}

@inlinable @inline(__always)
func activateRange<A: ActivationFunction>(
    _: A.Type, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ range: Range<Int>
) {
    for i in range { out[i] = A.apply(x[i]) }
}

/// out[i] = act(a[i] + b[i]). `out` may alias `a` or `b`.
public func add(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, output out: UnsafeMutablePointer<Float>,
    count: Int, activation: KernelActivation,
    threads: KernelThreads
) {
    threads.parallelRanges(count, serialThreshold: 1 << 16) { r in
        switch activation {
        case .identity: addActivate(IdentityActivation.self, a, b, out, r)
        case .relu: addActivate(ReluActivation.self, a, b, out, r)
        case .relu6: addActivate(Relu6Activation.self, a, b, out, r)
        case .hardswish: addActivate(HardswishActivation.self, a, b, out, r)
        case .hardsigmoid: addActivate(HardsigmoidActivation.self, a, b, out, r)
        case .sigmoid: addActivate(SigmoidActivation.self, a, b, out, r)
        }
    }
}

/// out[i] = act(x[i]). `out` may alias `x`.
public func activate(
    _ x: UnsafePointer<Float>, output out: UnsafeMutablePointer<Float>, count: Int, activation: KernelActivation,
    threads: KernelThreads
) {
    threads.parallelRanges(count, serialThreshold: 1 << 16) { r in
        switch activation {
        case .identity: activateRange(IdentityActivation.self, x, out, r)
        case .relu: activateRange(ReluActivation.self, x, out, r)
        case .relu6: activateRange(Relu6Activation.self, x, out, r)
        case .hardswish: activateRange(HardswishActivation.self, x, out, r)
        case .hardsigmoid: activateRange(HardsigmoidActivation.self, x, out, r)
        case .sigmoid: activateRange(SigmoidActivation.self, x, out, r)
        }
    }
}

/// out[i] = a[i] * b[i].
public func multiply(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, output out: UnsafeMutablePointer<Float>, count: Int,
    threads: KernelThreads
) {
    threads.parallelRanges(count, serialThreshold: 1 << 16) { r in
        for i in r { out[i] = a[i] * b[i] }
    }
}

/// Squeeze-excitation scaling: out[p, i] = x[p, i] * scale[p] for planes p
/// (N*C of them, each `planeSize` floats); scale is [N, C] flattened.
public func scaleChannels(
    _ x: UnsafePointer<Float>, scale: UnsafePointer<Float>, output out: UnsafeMutablePointer<Float>,
    planes: Int, planeSize: Int,
    threads: KernelThreads
) {
    threads.parallelRanges(planes, costPerItem: planeSize, serialThreshold: 1 << 16) { r in
        for p in r {
            let s = scale[p]
            let src = x + p &* planeSize, dst = out + p &* planeSize
            for i in 0..<planeSize { dst[i] = src[i] * s }
        }
    }
}

/// Copies `count` floats, split across threads when large.
public func copyParallel(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count: Int, threads: KernelThreads) {
    threads.parallelRanges(count, serialThreshold: 1 << 18) { r in
        (dst + r.lowerBound).update(from: src + r.lowerBound, count: r.count)
    }
}
