// LargeBlockCache: freed large blocks serve the next tensor that fits (whole or its head),
// grow when none does, stay within the peak and the capacity; tensors on reused blocks
// behave as fresh ones.

import Foundation
import VisionCore
import VisionKernels
import XCTest

final class LargeBlockCacheTests: XCTestCase {
    let mib = 1 << 20

    func testReusesAFreedBlockForARequestThatFits() {
        let cache = LargeBlockCache(minimumBytes: 4 * mib, capacityBytes: 64 * mib)
        defer { cache.trim() }
        XCTAssertNil(cache.take(bytes: 4 * mib - 1), "below the minimum: malloc's job")
        let a = cache.take(bytes: 10 * mib + 5)!
        XCTAssertEqual(a.bytes, 10 * mib + 128 * 1024, "rounded up to whole granules: 1/64 of 8 MiB")
        XCTAssertEqual(Int(bitPattern: a.pointer) % 64, 0)
        cache.release(a.pointer, bytes: a.bytes)
        XCTAssertEqual(cache.statistics.freeBytes, 10 * mib + 128 * 1024)
        // 10 MiB: within 1/8 below the block, the same block comes back.
        let b = cache.take(bytes: 10 * mib)!
        XCTAssertEqual(b.pointer, a.pointer)
        XCTAssertEqual(cache.statistics.reuses, 1)
        cache.release(b.pointer, bytes: b.bytes)
        XCTAssertEqual(LargeBlockCache.granule(for: 100), 64 * 1024)
        XCTAssertEqual(LargeBlockCache.granule(for: 40 * mib), 512 * 1024)
        // 6 MiB would waste 40% of it: it gets the block's head, the 4.125 MiB tail stays free.
        let c = cache.take(bytes: 6 * mib)!
        XCTAssertEqual(c.bytes, 6 * mib)
        XCTAssertEqual(c.pointer, a.pointer)
        XCTAssertEqual(cache.statistics.freeBlocks, 1)
        XCTAssertEqual(cache.statistics.freeBytes, 4 * mib + 128 * 1024)
        cache.release(c.pointer, bytes: c.bytes)
        XCTAssertEqual(cache.statistics.freeBytes, 10 * mib + 128 * 1024)
    }

    /// A request no free block holds grows the largest one: its pages move along
    /// (contents kept, no fault), only the tail is fresh.
    func testAMissGrowsTheLargestFreeBlock() {
        let cache = LargeBlockCache(minimumBytes: mib, capacityBytes: 64 * mib)
        defer { cache.trim() }
        let floats = 8 * mib / 4
        let a = cache.take(bytes: 8 * mib)!
        a.pointer.bindMemory(to: Float.self, capacity: floats).update(repeating: 7, count: floats)
        cache.release(a.pointer, bytes: a.bytes)
        let b = cache.take(bytes: 9 * mib)!
        XCTAssertEqual(b.bytes, 9 * mib)
        XCTAssertEqual(cache.statistics.freeBlocks, 0)
        let values = UnsafeBufferPointer(start: b.pointer.bindMemory(to: Float.self, capacity: floats + mib / 4),
                                         count: floats + mib / 4)
        XCTAssertTrue(values[..<floats].allSatisfy { $0 == 7 }, "the old block's pages moved along")
        XCTAssertTrue(values[floats...].allSatisfy { $0 == 0 }, "the grown tail is fresh zero pages")
        cache.release(b.pointer, bytes: b.bytes)
    }

    /// Free blocks are given up, oldest first, only while the cache would hold more than
    /// the most ever handed out at once.
    func testFreeBlocksAreGivenUpOnlyAboveThePeak() {
        let cache = LargeBlockCache(minimumBytes: mib, capacityBytes: 256 * mib)
        defer { cache.trim() }
        let blocks = [5, 6, 7].map { cache.take(bytes: $0 * mib)! }  // peak: 18 MiB
        for b in blocks { cache.release(b.pointer, bytes: b.bytes) }
        // 8 MiB: none holds it, the 7 MiB block grows; 8 + 5 + 6 = 19 MiB is over the
        // peak: the oldest (5 MiB) goes.
        let eight = cache.take(bytes: 8 * mib)!
        XCTAssertEqual(cache.statistics.freeBlocks, 1)
        XCTAssertEqual(cache.statistics.freeBytes, 6 * mib)
        cache.release(eight.pointer, bytes: eight.bytes)
        // 2 MiB: the head of the 6 MiB block; 14 MiB in all, under the peak: nothing goes.
        let two = cache.take(bytes: 2 * mib)!
        XCTAssertEqual(cache.statistics.freeBlocks, 2)
        XCTAssertEqual(cache.statistics.freeBytes, 12 * mib)
        // 30 MiB: the 8 MiB block grows; the peak is now 32 MiB and 2 + 30 + 4 is over
        // it: the 4 MiB tail goes.
        let thirty = cache.take(bytes: 30 * mib)!
        XCTAssertEqual(cache.statistics.freeBlocks, 0)
        cache.release(two.pointer, bytes: two.bytes)
        cache.release(thirty.pointer, bytes: thirty.bytes)
    }

    func testPicksTheSmallestFittingBlock() {
        let cache = LargeBlockCache(minimumBytes: 4 * mib, capacityBytes: 64 * mib)
        defer { cache.trim() }
        let big = cache.take(bytes: 16 * mib)!, small = cache.take(bytes: 14 * mib)!
        cache.release(big.pointer, bytes: big.bytes)
        cache.release(small.pointer, bytes: small.bytes)
        XCTAssertEqual(cache.take(bytes: 14 * mib)!.pointer, small.pointer)
    }

    func testCapacityReleasesTheOldestBlocks() {
        let cache = LargeBlockCache(minimumBytes: 4 * mib, capacityBytes: 20 * mib)
        defer { cache.trim() }
        let blocks = (0..<3).map { _ in cache.take(bytes: 8 * mib)! }
        for b in blocks { cache.release(b.pointer, bytes: b.bytes) }
        let s = cache.statistics
        XCTAssertEqual(s.freeBlocks, 2)
        XCTAssertEqual(s.freeBytes, 16 * mib)
        // The oldest (first released) was unmapped; the newest two remain.
        let again = [cache.take(bytes: 8 * mib)!.pointer, cache.take(bytes: 8 * mib)!.pointer]
        XCTAssertEqual(Set(again), Set([blocks[1].pointer, blocks[2].pointer]))
    }

    /// Tensors above the shared cache's minimum: a freed tensor's block is reused, and
    /// concurrent tensors never share one.
    func testTensorsReuseBlocksAndNeverShareThem() {
        let count = LargeBlockCache.shared.minimumBytes / 4 + 1000
        LargeBlockCache.shared.trim()  // no other test's free block of this size
        var first: UnsafeMutablePointer<Float>?
        do {
            let t = Tensor(shape: [count], repeating: 1)
            first = t.storage.pointer
        }
        let before = LargeBlockCache.shared.statistics.reuses
        let u = Tensor(shape: [count], repeating: 2)
        XCTAssertEqual(u.storage.pointer, first, "the freed block is reused")
        XCTAssertGreaterThan(LargeBlockCache.shared.statistics.reuses, before)
        XCTAssertTrue(UnsafeBufferPointer(start: u.storage.pointer, count: count).allSatisfy { $0 == 2 })

        // Four threads each fill, check and free their own tensors, 20 times.
        let failures = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        failures.initialize(repeating: 0, count: 4)
        defer { failures.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 4) { lane in
            for round in 0..<20 {
                let value = Float(lane * 100 + round)
                let t = Tensor(shape: [count], repeating: value)
                usleep(100)
                if !UnsafeBufferPointer(start: t.storage.pointer, count: count).allSatisfy({ $0 == value }) {
                    failures[lane] += 1
                }
            }
        }
        XCTAssertEqual((0..<4).map { failures[$0] }, [0, 0, 0, 0])
    }

    /// A block the cache gives up leaves resident memory at once, also under glibc's
    /// 32 MiB mmap threshold, where a freed malloc block would stay in the never-trimmed
    /// heap that the executables ask for (MemoryTuning.reuseFreedMemory, called here too).
    func testAGivenUpBlockLeavesResidentMemory() throws {
        MemoryTuning.reuseFreedMemory()
        let cache = LargeBlockCache(minimumBytes: mib, capacityBytes: 256 * mib)
        defer { cache.trim() }
        let bytes = 24 * mib
        let block = cache.take(bytes: bytes)!
        memset(block.pointer, 1, block.bytes)  // fault every page in
        let touched = try residentBytes()
        cache.release(block.pointer, bytes: block.bytes)
        XCTAssertEqual(try residentBytes(), touched, accuracy: 4 * mib, "a free block stays for reuse")
        cache.trim()
        XCTAssertLessThan(try residentBytes(), touched - 20 * mib, "the trimmed block left resident memory")
    }

    /// VmRSS of this process.
    private func residentBytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let kib = try XCTUnwrap(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        return kib * 1024
    }
}
