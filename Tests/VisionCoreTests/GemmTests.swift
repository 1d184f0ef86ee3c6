// VisionKernels' gemm (OpenBLAS single-threaded, C's columns split over the kernels'
// threads) against a naive triple loop: every transpose combination, beta 0 and 1,
// leading dimensions wider than the matrices, column counts that do not divide into
// the 16-aligned blocks, and 1 to 3 threads.

import VisionCore
import VisionKernels
import XCTest

final class GemmTests: XCTestCase {
    func testMatchesNaiveProductForEveryLayoutAndThreadCount() {
        var rng = SplitMix64(seed: 3)
        func uniform() -> Float { Float(rng.next() >> 40) / Float(1 << 24) }
        var worst: Float = 0
        for count in [1, 2, 3] {
            let threads = KernelThreads(count)
            for (m, n, k) in [(7, 1000, 300), (64, 333, 129), (1, 4096, 17), (130, 65, 1000), (5, 200, 1)] {
                for transA in [false, true] {
                    for transB in [false, true] {
                        for beta: Float in [0, 1] {
                            // Stored shapes and padded leading dimensions.
                            let (ar, ac) = transA ? (k, m) : (m, k), (br, bc) = transB ? (n, k) : (k, n)
                            let lda = ac + 3, ldb = bc + 5, ldc = n + 2
                            let a = (0..<(ar * lda)).map { _ in uniform() - 0.5 }
                            let b = (0..<(br * ldb)).map { _ in uniform() - 0.5 }
                            let c0 = (0..<(m * ldc)).map { _ in uniform() - 0.5 }
                            var c = c0
                            a.withUnsafeBufferPointer { pa in
                                b.withUnsafeBufferPointer { pb in
                                    c.withUnsafeMutableBufferPointer { pc in
                                        gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: pa.baseAddress!, lda: lda,
                                             b: pb.baseAddress!, ldb: ldb, beta: beta, c: pc.baseAddress!, ldc: ldc, threads: threads)
                                    }
                                }
                            }
                            for i in 0..<m {
                                for j in 0..<(ldc) {
                                    guard j < n else {
                                        XCTAssertEqual(c[i * ldc + j], c0[i * ldc + j], "padding untouched")
                                        continue
                                    }
                                    var s: Double = 0
                                    for p in 0..<k {
                                        let x = transA ? a[p * lda + i] : a[i * lda + p]
                                        let y = transB ? b[j * ldb + p] : b[p * ldb + j]
                                        s += Double(x) * Double(y)
                                    }
                                    let expected = Float(s) + beta * c0[i * ldc + j]
                                    worst = max(worst, abs(c[i * ldc + j] - expected) / max(1, abs(expected)))
                                }
                            }
                        }
                    }
                }
            }
        }
        print("gemm vs naive: worst relative error \(worst)")
        XCTAssertLessThan(worst, 1e-5)
    }
}
