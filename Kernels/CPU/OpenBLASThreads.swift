// OpenBLAS's own threads. By default the kernels split every GEMM over their own
// threads (KernelThreads) and each piece is a single-threaded cblas_sgemm, so OpenBLAS
// must never run threads of its own: they would exceed the caller's thread count, and
// its workers spin-wait after each call, competing with the kernels' loops (depthwise,
// im2col, activations, RoIAlign) that run between GEMMs.
//
// OpenBLAS's pthread build starts a pool of (cores - 1) workers when the library is
// loaded, before any Swift code runs (OPENBLAS_NUM_THREADS is read then; setting it
// later has no effect). The first read of `gemmUsesOpenBLASThreads` (every GEMM path
// reads it) sets OpenBLAS to one thread and joins that pool with blas_thread_shutdown_
// (OpenBLAS's own fork handler; looked up with dlsym so a build without it still works:
// its workers then stay asleep, never woken, since every call is single-threaded).
//
// VISION_OPENBLAS_THREADS=1 (comparison mode) keeps OpenBLAS's threading instead: each
// GEMM is one cblas_sgemm and OpenBLAS's thread count, which is PROCESS-WIDE, is set to
// the calling kernel's count just before the call. Two backends with different counts in
// one process then race on that setting: the mode is only for comparing against
// OpenBLAS's threading in a single-backend benchmark.

import COpenBLAS
import Foundation

/// True when OpenBLAS keeps its own threads (VISION_OPENBLAS_THREADS=1), false when the
/// kernels split GEMMs over their own threads and OpenBLAS is single-threaded. Computed
/// once per process (thread-safely), configuring OpenBLAS as described above.
public let gemmUsesOpenBLASThreads: Bool = {
    if ProcessInfo.processInfo.environment["VISION_OPENBLAS_THREADS"] == "1" { return true }
    openblas_set_num_threads(1)
    typealias Shutdown = @convention(c) () -> Int32
    if let symbol = dlsym(nil, "blas_thread_shutdown_") {  // nil: RTLD_DEFAULT
        _ = unsafeBitCast(symbol, to: Shutdown.self)()
    }
    return false
}()

/// Comparison mode only: OpenBLAS's process-wide thread count for the next cblas_sgemm.
@inlinable
public func setOpenBLASThreadsForComparison(_ threads: KernelThreads) {
    if gemmUsesOpenBLASThreads { openblas_set_num_threads(Int32(threads.count)) }
}

/// Applies the setting above now instead of at the first GEMM: OpenBLAS's load-time
/// workers spin (sched_yield) for a while before they sleep, so a program joins them
/// as early as it can (`vision` does it first thing in main).
public func configureOpenBLASThreads() {
    if gemmUsesOpenBLASThreads { return }
}
