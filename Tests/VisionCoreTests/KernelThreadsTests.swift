// Thread counts are values of each call, not a process-wide setting:
// - KernelThreads' loops never run more than `count` bodies at once, and count 1
//   stays on the calling thread;
// - two CPUBackends with different thread counts and Winograd routings, used at the
//   same time from two threads, give exactly (bit for bit) what each gives alone, and
//   what a one-thread backend with the same routing gives (im2col + sgemm path; the
//   Winograd path within 1e-5, its blocks following the thread count).

import Foundation
import VisionCore
import VisionKernels
import XCTest

/// The most bodies seen running at once, and the threads they ran on.
final class ConcurrencyProbe: @unchecked Sendable {
    private let lock = NSLock()
    private var running = 0
    private(set) var peak = 0
    private(set) var threadsSeen = Set<UInt>()

    func enter() {
        lock.lock()
        running += 1
        peak = max(peak, running)
        threadsSeen.insert(UInt(pthread_self()))
        lock.unlock()
    }

    func leave() {
        lock.lock()
        running -= 1
        lock.unlock()
    }
}

final class KernelThreadsTests: XCTestCase {
    func testLoopsNeverRunMoreBodiesThanTheCount() {
        for count in 1...4 {
            let threads = KernelThreads(count)
            let ranges = ConcurrencyProbe(), chunks = ConcurrencyProbe(), workers = ConcurrencyProbe()
            // Bodies sleep so that every worker a loop starts overlaps the others.
            threads.parallelRanges(64, serialThreshold: 0) { _ in
                ranges.enter(); usleep(2_000); ranges.leave()
            }
            threads.parallelChunks(64, chunks: 32) { _ in
                chunks.enter(); usleep(1_000); chunks.leave()
            }
            threads.forEachWorker(limit: 16) { _ in
                workers.enter(); usleep(2_000); workers.leave()
            }
            for (name, probe) in [("parallelRanges", ranges), ("parallelChunks", chunks), ("forEachWorker", workers)] {
                XCTAssertLessThanOrEqual(probe.peak, count, "\(name) with \(count) threads")
                XCTAssertGreaterThanOrEqual(probe.peak, 1, "\(name) ran")
                if count == 1 {
                    XCTAssertEqual(probe.threadsSeen, [UInt(pthread_self())], "\(name) with one thread stays on the calling thread")
                }
            }
        }
    }

    func testChunksCoverEveryIndexOnce() {
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: 1000)
        counts.initialize(repeating: 0)
        defer { counts.deallocate() }
        nonisolated(unsafe) let slots = counts
        KernelThreads(3).parallelChunks(1000, chunks: 24) { range in
            for i in range { slots[i] += 1 }
        }
        XCTAssertEqual(Set(counts), [1])
    }

    /// A 3x3 conv (Winograd or im2col + sgemm), a 1x1 conv, a depthwise conv, a linear
    /// layer, softmax, pooling, upsampling and concat on one backend.
    func heavyOps(_ backend: CPUBackend) -> [Tensor] {
        let input = randomTensor([2, 32, 37, 41], seed: 1)
        let conv3 = backend.prepareConv2D(weight: randomTensor([48, 32, 3, 3], seed: 2, scale: 0.3),
                                          bias: randomTensor([48], seed: 3), parameters: Conv2DParameters(padding: 1))
        let conv1 = backend.prepareConv2D(weight: randomTensor([40, 48, 1, 1], seed: 4, scale: 0.3), bias: nil,
                                          parameters: Conv2DParameters())
        let depthwise = backend.prepareConv2D(weight: randomTensor([40, 1, 3, 3], seed: 5), bias: nil,
                                              parameters: Conv2DParameters(stride: 2, padding: 1, groups: 40))
        let linear = backend.prepareLinear(weight: randomTensor([96, 40 * 19 * 21], seed: 6, scale: 0.05),
                                           bias: randomTensor([96], seed: 7))
        let a = backend.conv2d(input, conv3, activation: .relu)
        let b = backend.conv2d(a, conv1, activation: .hardswish)
        let c = backend.conv2d(b, depthwise, activation: .relu6)
        let d = backend.linear(c.reshaped([2, 40 * 19 * 21]), linear, activation: .identity)
        let e = backend.softmax(d)
        let f = backend.maxPool2d(b, kernel: 3, stride: 2, padding: 1)
        let g = backend.concat([f, backend.upsampleNearest(c, height: 19, width: 21)], axis: 1)
        return [a, b, c, d, e, f, g, backend.globalAveragePool(g)]
    }

    func testConcurrentBackendsWithDifferentSettingsMatchOneThread() {
        let settings: [(threads: Int, routing: WinogradRouting)] = [(3, .always), (2, .never)]
        let oneThread = settings.map { heavyOps(CPUBackend(threads: .single, winogradRouting: $0.routing)) }
        let backends = settings.map { CPUBackend(threads: KernelThreads($0.threads), winogradRouting: $0.routing) }
        XCTAssertEqual(backends.map(\.threads.count), [3, 2])
        XCTAssertEqual(backends.map(\.winogradRouting), [.always, .never], "each backend keeps its own routing")
        let alone = backends.map(heavyOps)
        // Both backends run their ops five times, at the same time, from two threads.
        let results = UnsafeMutableBufferPointer<[[Tensor]]>.allocate(capacity: 2)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        nonisolated(unsafe) let out = results
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            out[i] = (0..<5).map { _ in heavyOps(backends[i]) }
        }
        func differing(_ a: Tensor, _ b: Tensor) -> Int {
            zip(a.values, b.values).filter { $0.0.bitPattern != $0.1.bitPattern }.count
        }
        for i in 0..<2 {
            XCTAssertEqual(results[i].count, 5)
            for run in results[i] {
                XCTAssertEqual(run.count, oneThread[i].count)
                for (k, got) in run.enumerated() {
                    XCTAssertEqual(got.shape, oneThread[i][k].shape, "backend \(i) op \(k)")
                    guard got.shape == oneThread[i][k].shape else { continue }
                    // Running beside another backend changes nothing, bit for bit.
                    XCTAssertEqual(differing(got, alone[i][k]), 0, "backend \(i) op \(k): concurrent run differs from a run alone")
                    if settings[i].routing == .never && !sgemmRoundingDependsOnCallWidth {
                        XCTAssertEqual(differing(got, oneThread[i][k]), 0, "backend \(i) op \(k): not bit-identical to one thread")
                    } else if settings[i].routing == .never {
                        // This machine's sgemm rounds the last columns of a call differently
                        // (sgemmRoundingDependsOnCallWidth), so the column split over threads shows.
                        assertClose(got, oneThread[i][k], tolerance: 1e-5, "backend \(i) op \(k) vs one thread (width-dependent sgemm)")
                    } else {
                        // Winograd's block width (the GEMMs' N) follows the thread count, and
                        // sgemm rounds differently for different N (Conv2DWinograd.swift).
                        assertClose(got, oneThread[i][k], tolerance: 1e-5, "backend \(i) op \(k) vs one thread")
                    }
                }
            }
        }
        // The routing really differs: the 3x3 conv is prepared for Winograd on one, im2col on the other.
        let weight = randomTensor([48, 32, 3, 3], seed: 2)
        let winograd = backends[0].prepareConv2D(weight: weight, bias: nil, parameters: Conv2DParameters(padding: 1))
        let im2col = backends[1].prepareConv2D(weight: weight, bias: nil, parameters: Conv2DParameters(padding: 1))
        XCTAssertNotNil((winograd as? CPUPreparedConv2D)?.winogradWeight)
        XCTAssertNil((im2col as? CPUPreparedConv2D)?.winogradWeight)
    }
}
