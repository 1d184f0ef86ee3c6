// The kernels' parallelism is a value passed to every kernel call, never a process-wide
// setting: two backends with different thread counts can run in one process at once.
// `KernelThreads.count` bounds how many chunks our own loops (GEMM column blocks, im2col,
// Winograd blocks, depthwise, element-wise, pooling, backward passes) are split into, so a
// call never has more than `count` threads computing for it. OpenBLAS itself runs
// single-threaded (see OpenBLASThreads.swift) unless VISION_OPENBLAS_THREADS=1.

import Foundation

/// How many threads one kernel call may use.
public struct KernelThreads: Sendable, Hashable, CustomStringConvertible {
    /// At least 1.
    public let count: Int

    public init(_ count: Int) {
        precondition(count >= 1, "thread count must be at least 1, got \(count)")
        self.count = count
    }

    /// Everything on the calling thread.
    public static let single = KernelThreads(1)

    /// One per active core (the default of --threads).
    public static var allCores: KernelThreads { KernelThreads(max(1, ProcessInfo.processInfo.activeProcessorCount)) }

    public var description: String { "\(count)" }

    /// Splits 0..<count into up to `self.count` contiguous ranges and runs them
    /// concurrently. Runs serially when `count * costPerItem` is below
    /// `serialThreshold` (thread hand-off costs a few microseconds).
    @inlinable
    public func parallelRanges(
        _ count: Int, costPerItem: Int = 1, serialThreshold: Int = 1 << 15,
        _ body: (Range<Int>) -> Void
    ) {
        if count <= 0 { return }
        let chunks = Swift.min(self.count, count)
        if chunks <= 1 || count &* costPerItem < serialThreshold {
            body(0..<count)
            return
        }
        // concurrentPerform runs one of the chunks on the calling thread; at most `chunks`
        // run at once.
        DispatchQueue.concurrentPerform(iterations: chunks) { t in
            let start = count &* t / chunks
            let end = count &* (t &+ 1) / chunks
            if start < end { body(start..<end) }
        }
    }

    /// Splits 0..<count into `chunks` contiguous ranges that at most `self.count` workers
    /// take in order as they finish the previous one (balances uneven items, e.g. RoIs
    /// whose sampling grids differ in size).
    public func parallelChunks(_ count: Int, chunks: Int, _ body: (Range<Int>) -> Void) {
        let chunks = Swift.max(1, Swift.min(chunks, count))
        if count <= 0 { return }
        if chunks == 1 || self.count == 1 {
            body(0..<count)
            return
        }
        let next = ChunkCounter()
        forEachWorker(limit: chunks) { _ in
            while let c = next.take(below: chunks) {
                body((count &* c / chunks)..<(count &* (c &+ 1) / chunks))
            }
        }
    }

    /// Runs body(0), ..., body(n - 1) with n = min(self.count, limit) workers at once
    /// (workers that pull work from a shared counter, e.g. Winograd's blocks).
    @inlinable
    public func forEachWorker(limit: Int, _ body: (Int) -> Void) {
        let workers = Swift.max(1, Swift.min(self.count, limit))
        if workers == 1 {
            body(0)
            return
        }
        DispatchQueue.concurrentPerform(iterations: workers, execute: body)
    }
}

/// Hands out 0, 1, 2, ... to whichever worker asks first.
final class ChunkCounter: @unchecked Sendable {
    private var next = 0
    private let lock = NSLock()

    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < limit else { return nil }
        next += 1
        return next - 1
    }
}
