// Process-wide malloc settings for the executables (a library does not change them
// behind its caller's back: `vision` and the benchmarks call this at start-up).
//
// Why: every operator returns a fresh tensor, and glibc serves blocks above its mmap
// threshold with new mmap'd pages that the kernel zero-fills on first touch and unmaps
// on free, so each inference call would pay a page fault per 4 KiB of every large
// activation and im2col buffer. Pinning the threshold at glibc's maximum (32 MiB on
// 64-bit) and never trimming the heap keeps freed blocks for the next call.

#if canImport(Glibc)
import Glibc
#endif

public enum MemoryTuning {
    /// glibc's largest allowed M_MMAP_THRESHOLD on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX).
    public static let mmapThreshold: Int32 = 32 << 20

    /// Returns false where the C library refused (or is not glibc).
    @discardableResult
    public static func reuseFreedMemory() -> Bool {
        #if canImport(Glibc)
        let a = mallopt(M_MMAP_THRESHOLD, mmapThreshold)
        let b = mallopt(M_TRIM_THRESHOLD, Int32.max)
        return a == 1 && b == 1
        #else
        return false
        #endif
    }
}
