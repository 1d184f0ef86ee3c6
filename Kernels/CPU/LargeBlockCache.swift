// Reuse of large host blocks between tensors.
//
// Why: glibc serves every block above its mmap threshold (32 MiB at most, see
// VisionCore's MemoryTuning.swift) with fresh mmap'd pages and unmaps them on free, so each tensor
// that large costs a page fault and a kernel zero-fill per 4 KiB every time it is made:
// 14% of a training step of fasterrcnn_mobilenet_v3_large_fpn at 800x1333 (perf,
// clear_page_erms), where the tape holds dozens of 40-140 MB activations per step.
// Freed blocks are kept here instead and handed to the next tensor (or kernel scratch
// buffer) that fits.
//
// What it keeps: blocks of at least `minimumBytes`, rounded up to whole granules (1/64
// of the size's power of two, at least 64 KiB); at most `capacityBytes` of free blocks.
// A block is reused for a request between its size and 1/8 less. Memory never grows
// because of the cache: a request no free block fits first returns at least its own
// size of free blocks (oldest first) to the C library, so resident memory is at most
// what was once in use (plus rounding) — images of other sizes in one run (a folder,
// the server) do not pile up blocks of sizes nobody asks for again. Training, which
// asks for the same sizes every step, is served from the cache after its first step.
// Thread-safe: serve's workers and training's lanes free tensors concurrently.

import Foundation

public final class LargeBlockCache: @unchecked Sendable {
    /// The process's cache: tensors are made everywhere (kernels, layers, tests), so
    /// like malloc itself it is one per process. It changes no computed value. Blocks
    /// from 1 MiB: below 32 MiB glibc's heap would reuse them too, but a training tape
    /// that grows the heap during the forward pass faults fresh pages in during the
    /// backward pass (3.5% of a step in perf) when blocks freed there do not fit.
    public static let shared = LargeBlockCache(
        minimumBytes: 1 << 20,
        capacityBytes: LargeBlockCache.defaultCapacity(physicalMemory: ProcessInfo.processInfo.physicalMemory))

    /// A quarter of physical memory, at most 8 GiB: free blocks kept are at most what
    /// was in use at once, this bounds what differing shapes can leave behind.
    public static func defaultCapacity(physicalMemory: UInt64) -> Int {
        Int(min(physicalMemory / 4, 8 << 30))
    }

    /// The rounding unit for a block of `bytes`: 1/64 of its power of two (at most 1.6%
    /// more than asked), at least 64 KiB.
    public static func granule(for bytes: Int) -> Int {
        let power = Int.bitWidth - 1 - max(bytes, 1).leadingZeroBitCount
        return 1 << max(16, power - 6)
    }

    public let minimumBytes: Int
    public let capacityBytes: Int
    private let lock = NSLock()
    /// Free blocks, oldest first.
    private var free: [(bytes: Int, pointer: UnsafeMutableRawPointer)] = []
    private var freeBytes = 0
    private var reuses = 0

    public init(minimumBytes: Int, capacityBytes: Int) {
        self.minimumBytes = minimumBytes
        self.capacityBytes = capacityBytes
    }

    /// A 64-byte-aligned block of at least `bytes` (contents undefined) and its real
    /// size, to pass back to `release`; nil for requests below `minimumBytes` (the
    /// caller uses malloc).
    public func take(bytes: Int) -> (pointer: UnsafeMutableRawPointer, bytes: Int)? {
        guard bytes >= minimumBytes else { return nil }
        let granule = Self.granule(for: bytes)
        let size = (bytes + granule - 1) / granule * granule
        lock.lock()
        var best = -1
        for (i, block) in free.enumerated() where block.bytes >= size && block.bytes - block.bytes / 8 <= size {
            if best < 0 || block.bytes < free[best].bytes { best = i }
        }
        if best >= 0 {
            let block = free.remove(at: best)
            freeBytes -= block.bytes
            reuses += 1
            lock.unlock()
            return (block.pointer, block.bytes)
        }
        // A miss: make room for this block out of the free ones first.
        var evictedBytes = 0
        let evicted = removeOldest { oldest in
            defer { evictedBytes += oldest }
            return evictedBytes < size
        }
        lock.unlock()
        for p in evicted { p.deallocate() }
        return (UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64), size)
    }

    /// Gives back a block from `take`.
    public func release(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        lock.lock()
        free.append((bytes, pointer))
        freeBytes += bytes
        let evicted = removeOldest { _ in freeBytes > capacityBytes }
        lock.unlock()
        for p in evicted { p.deallocate() }
    }

    /// Takes free blocks off the list, oldest first, while `more(size of the next)` says
    /// so; returns them for the caller to deallocate once the lock is released. Caller
    /// holds the lock.
    private func removeOldest(while more: (Int) -> Bool) -> [UnsafeMutableRawPointer] {
        var removed: [UnsafeMutableRawPointer] = []
        while let oldest = free.first, more(oldest.bytes) {
            free.removeFirst()
            freeBytes -= oldest.bytes
            removed.append(oldest.pointer)
        }
        return removed
    }

    /// Bytes held in free blocks, and how many requests a free block served.
    public var statistics: (freeBytes: Int, freeBlocks: Int, reuses: Int) {
        lock.lock(); defer { lock.unlock() }
        return (freeBytes, free.count, reuses)
    }

    /// Runs `body` on a scratch buffer of `count` floats (contents undefined), from the
    /// cache when it is large enough, else from malloc.
    public func withScratch<R>(floats count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        if let block = take(bytes: bytes) {
            defer { release(block.pointer, bytes: block.bytes) }
            return try body(block.pointer.bindMemory(to: Float.self, capacity: max(count, 1)))
        }
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        defer { p.deallocate() }
        return try body(p)
    }

    /// Returns every free block to the C library.
    public func trim() {
        lock.lock()
        let blocks = free
        free = []
        freeBytes = 0
        lock.unlock()
        for block in blocks { block.pointer.deallocate() }
    }
}
