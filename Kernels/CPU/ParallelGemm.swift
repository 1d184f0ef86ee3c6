// Every GEMM of the kernels goes through `gemm`: row-major C[M, N] = op(A)[M, K] · op(B)[K, N]
// (+ beta · C), alpha 1. By default the parallelism is the kernels' own: OpenBLAS runs
// single-threaded and C's columns are split into one contiguous block per thread, each a
// single-threaded cblas_sgemm, at most `threads.count` blocks (see OpenBLASThreads.swift
// for why OpenBLAS's own threads stay off, and the VISION_OPENBLAS_THREADS=1 comparison mode).

import COpenBLAS
import Foundation

/// Row-major GEMM. A is [M, K] (or [K, M] when transA), B is [K, N] (or [N, K] when transB).
@inlinable
public func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                 a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                 beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threads: KernelThreads) {
    if m == 0 || n == 0 { return }
    let ta = transA ? CblasTrans : CblasNoTrans, tb = transB ? CblasTrans : CblasNoTrans
    // Blocks of at least 64 columns and ~2 MFLOP each; otherwise one call.
    let blocks = gemmUsesOpenBLASThreads ? 1 : min(threads.count, n / 64, max(1, m &* n &* k / (1 << 20)))
    if blocks <= 1 {
        setOpenBLASThreadsForComparison(threads)
        cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
        return
    }
    threads.forEachWorker(limit: blocks) { t in
        // Column blocks aligned to 16 (the sgemm kernels' register width multiple).
        let n0 = (n &* t / blocks) & ~15, n1 = t == blocks &- 1 ? n : (n &* (t &+ 1) / blocks) & ~15
        if n0 >= n1 { return }
        let bBlock = transB ? b + n0 &* ldb : b + n0
        cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n1 &- n0), Int32(k), 1, a, Int32(lda), bBlock, Int32(ldb),
                    beta, c + n0, Int32(ldc))
    }
}

/// Whether this machine's cblas_sgemm rounds a column differently depending on the width
/// of the call that computes it (measured once: a 48x288 by 288x1517 product in one call
/// against the same product as two calls split at column 752). OpenBLAS's AVX-512 kernels
/// do not; its Haswell/Zen kernels (AVX2 CPUs) do, in the last columns of a call. Where it
/// does, `gemm`'s split of C's columns over threads makes results depend on the thread
/// count in the last bits; where it does not, results are bit-identical for any count.
public let sgemmRoundingDependsOnCallWidth: Bool = {
    let m = 48, k = 288, n = 1517, split = 752
    var state: UInt32 = 7
    func random() -> Float {
        state = state &* 1664525 &+ 1013904223
        return Float(state >> 8) / Float(1 << 24) - 0.5
    }
    let a = (0..<(m * k)).map { _ in random() }, b = (0..<(k * n)).map { _ in random() }
    var whole = [Float](repeating: 0, count: m * n), halves = whole
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(n),
                0, &whole, Int32(n))
    b.withUnsafeBufferPointer { bp in
        halves.withUnsafeMutableBufferPointer { cp in
            for (n0, n1) in [(0, split), (split, n)] {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n1 - n0), Int32(k), 1, a, Int32(k),
                            bp.baseAddress! + n0, Int32(n), 0, cp.baseAddress! + n0, Int32(n))
            }
        }
    }
    return zip(whole, halves).contains { $0.bitPattern != $1.bitPattern }
}()
