// LargeBlockCache: freed large blocks serve the next tensor that fits, within the
// size window and the capacity; tensors on reused blocks behave as fresh ones.

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
        // 6 MiB would waste 40% of it: a new block, and the free one goes back to the C
        // library first (a miss never grows memory by more than what it asks).
        let c = cache.take(bytes: 6 * mib)!
        XCTAssertEqual(c.bytes, 6 * mib)
        XCTAssertEqual(cache.statistics.freeBlocks, 0)
        cache.release(c.pointer, bytes: c.bytes)
        XCTAssertEqual(cache.statistics.freeBytes, 6 * mib)
    }

    /// A miss returns the oldest free blocks until they add up to the request.
    func testAMissReturnsAtLeastItsSizeOfOldBlocks() {
        let cache = LargeBlockCache(minimumBytes: 4 * mib, capacityBytes: 256 * mib)
        defer { cache.trim() }
        let blocks = [5, 6, 7, 40].map { cache.take(bytes: $0 * mib)! }
        for b in blocks { cache.release(b.pointer, bytes: b.bytes) }
        _ = cache.take(bytes: 12 * mib)!  // fits none: 5 + 6 + 7 >= 12 go back, 40 stays
        let s = cache.statistics
        XCTAssertEqual(s.freeBlocks, 1)
        XCTAssertEqual(s.freeBytes, 40 * mib)
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
        // The oldest (first released) went back to the C library; the newest two remain.
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
}
