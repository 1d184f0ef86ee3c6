// The kernels' thread count: the number of chunks our own loops (GEMM column blocks,
// im2col, depthwise, element-wise) are split into. OpenBLAS itself runs single-threaded
// (see ParallelGemm.swift) unless VISION_OPENBLAS_THREADS=1.

import COpenBLAS
import Foundation

@usableFromInline
nonisolated(unsafe) var kernelThreadCount: Int = {
    let n = max(1, ProcessInfo.processInfo.activeProcessorCount)
    openblas_set_num_threads(gemmUsesOpenBLASThreads ? Int32(n) : 1)
    return n
}()

/// Sets the threads used by OpenBLAS and by the kernels' own parallel loops.
public func setThreadCount(_ n: Int) {
    precondition(n >= 1, "thread count must be at least 1, got \(n)")
    kernelThreadCount = n
    openblas_set_num_threads(gemmUsesOpenBLASThreads ? Int32(n) : 1)
}

/// The thread count set by `setThreadCount` (all cores by default).
public func currentThreadCount() -> Int { kernelThreadCount }

/// Splits 0..<count into up to `currentThreadCount()` contiguous ranges and runs
/// them concurrently. Runs serially when `count * costPerItem` is below
/// `serialThreshold` (thread hand-off costs a few microseconds).
@inlinable
public func parallelRanges(
    _ count: Int, costPerItem: Int = 1, serialThreshold: Int = 1 << 15,
    _ body: (Range<Int>) -> Void
) {
    if count <= 0 { return }
    let threads = min(kernelThreadCount, count)
    if threads <= 1 || count &* costPerItem < serialThreshold {
        body(0..<count)
        return
    }
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        let start = count &* t / threads
        let end = count &* (t &+ 1) / threads
        if start < end { body(start..<end) }
    }
}
