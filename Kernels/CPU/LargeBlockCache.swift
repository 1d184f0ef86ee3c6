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
// A request takes the smallest free block that holds it, whole when it is at most 1/8
// larger, else its head (the tail stays a free block). When none holds it, the largest
// free block grows to it with mremap: its resident pages move along, only the new tail
// is fresh. Free blocks are unmapped, oldest first, only while the cache would hold
// more (handed out + free) than the most ever handed out at once, so it keeps no memory
// beyond the program's own peak — images of other sizes in one run (a folder, the
// server) do not pile up blocks of sizes nobody asks for again — and a training run
// whose image size changes every step (multi-scale) rarely faults a page in.
// Blocks are mmap'd and munmap'd directly, not malloc'd: glibc keeps freed blocks of
// under 32 MiB in its never-trimmed heap (MemoryTuning) as fragments other sizes may not
// fit. Measured (2026-12-01, one core busy elsewhere): resnet50_fpn's peak RSS over 4
// inferences 860-917 MB with malloc'd blocks, 773-776 with these; a 20-image multi-scale
// mobilenet_v3_large_fpn training run 2.08 -> 1.51 GB peak, 1.7 M -> 0.14 M page faults,
// same step time.
// Thread-safe: serve's workers and training's lanes free tensors concurrently.

import CVisionSIMD
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
    /// Bytes of the blocks handed out and not yet released, and their most at any time.
    private var liveBytes = 0
    private var peakLiveBytes = 0
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
        // The smallest free block that holds the request. Much larger (by 1/8 and at
        // least `minimumBytes`), it is split: the request gets its head, the tail stays
        // free with its pages resident (no page is faulted in or given up either way).
        var best = -1
        for (i, block) in free.enumerated() where block.bytes >= size {
            if best < 0 || block.bytes < free[best].bytes { best = i }
        }
        if best >= 0 {
            let block = free[best]
            let bytes: Int
            if block.bytes - size >= max(minimumBytes, size / 8) {
                free[best] = (block.bytes - size, block.pointer + size)  // the tail keeps the block's age
                bytes = size
            } else {
                free.remove(at: best)
                bytes = block.bytes
            }
            freeBytes -= bytes
            reuses += 1
            liveBytes += bytes
            peakLiveBytes = max(peakLiveBytes, liveBytes)
            lock.unlock()
            return (block.pointer, bytes)
        }
        // None holds it: the largest free block grows to it (its resident pages move along;
        // only the new tail is fresh pages), else fresh pages. Free blocks are unmapped,
        // oldest first, only while what the cache holds (handed out + free) is more than
        // the most ever handed out at once: the cache keeps no memory beyond the program's
        // own peak.
        var grown: (bytes: Int, pointer: UnsafeMutableRawPointer)? = nil
        if let largest = free.indices.max(by: { free[$0].bytes < free[$1].bytes }) {
            grown = free.remove(at: largest)
            freeBytes -= grown!.bytes
        }
        liveBytes += size
        peakLiveBytes = max(peakLiveBytes, liveBytes)
        let evicted = removeOldest { _ in liveBytes + freeBytes > peakLiveBytes }
        lock.unlock()
        for block in evicted { Self.unmap(block) }
        return grown.map { Self.resize($0, to: size) } ?? (Self.map(bytes: size), size)
    }

    /// `block` resized to `bytes` with mremap (a new mapping if that fails).
    private static func resize(_ block: (bytes: Int, pointer: UnsafeMutableRawPointer),
                               to bytes: Int) -> (pointer: UnsafeMutableRawPointer, bytes: Int) {
        if let p = vk_remap_block(block.pointer, UInt(block.bytes), UInt(bytes)) { return (p, bytes) }
        unmap(block)
        return (map(bytes: bytes), bytes)
    }

    /// Fresh zero pages straight from the kernel: a block given back with `unmap` leaves
    /// resident memory at once, where a freed malloc block of under 32 MiB would stay in
    /// the heap (MemoryTuning never trims it) as fragments other sizes may not fit.
    private static func map(bytes: Int) -> UnsafeMutableRawPointer {
        guard let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              p != MAP_FAILED else {
            fatalError("LargeBlockCache: out of memory mapping \(bytes) bytes (errno \(errno))")
        }
        // Transparent huge pages where the system offers them on request: a first touch
        // faults in 2 MiB, not 4 KiB (a no-op where THP is "never").
        _ = madvise(p, bytes, Int32(MADV_HUGEPAGE))
        return p
    }

    private static func unmap(_ block: (bytes: Int, pointer: UnsafeMutableRawPointer)) {
        munmap(block.pointer, block.bytes)
    }

    /// Gives back a block from `take`.
    public func release(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        lock.lock()
        free.append((bytes, pointer))
        freeBytes += bytes
        liveBytes -= bytes
        let evicted = removeOldest { _ in freeBytes > capacityBytes }
        lock.unlock()
        for block in evicted { Self.unmap(block) }
    }

    /// Takes free blocks off the list, oldest first, while `more(size of the next)` says
    /// so; returns them for the caller to unmap once the lock is released. Caller
    /// holds the lock.
    private func removeOldest(while more: (Int) -> Bool) -> [(bytes: Int, pointer: UnsafeMutableRawPointer)] {
        var removed: [(bytes: Int, pointer: UnsafeMutableRawPointer)] = []
        while let oldest = free.first, more(oldest.bytes) {
            free.removeFirst()
            freeBytes -= oldest.bytes
            removed.append(oldest)
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

    /// Unmaps every free block.
    public func trim() {
        lock.lock()
        let blocks = free
        free = []
        freeBytes = 0
        lock.unlock()
        for block in blocks { Self.unmap(block) }
    }
}
