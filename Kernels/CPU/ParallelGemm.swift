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
