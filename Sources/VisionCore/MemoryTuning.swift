// Process-wide malloc settings for the executables (a library does not change them
// behind its caller's back: `vision` and the benchmarks call this at start-up).
//
// Why: every operator returns a fresh tensor, and glibc serves blocks above its mmap
// threshold with new mmap'd pages that the kernel zero-fills on first touch and unmaps
// on free, so each inference call would pay a page fault per 4 KiB of every large
// activation and im2col buffer. Pinning the threshold at glibc's maximum (32 MiB on
// 64-bit) and never trimming the heap keeps freed blocks for the next call.

#if canImport(Glibc)
/// glibc's mallopt(3); <malloc.h> is not part of Swift's Glibc module, so it is declared here.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
/// <malloc.h>: M_TRIM_THRESHOLD -1, M_MMAP_THRESHOLD -3.
private let mallocTrimThreshold: Int32 = -1
private let mallocMmapThreshold: Int32 = -3
#endif

public enum MemoryTuning {
    /// glibc's largest allowed M_MMAP_THRESHOLD on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX).
    public static let mmapThreshold: Int32 = 32 << 20

    /// Returns false where the C library refused (or is not glibc).
    @discardableResult
    public static func reuseFreedMemory() -> Bool {
        #if canImport(Glibc)
        let a = glibcMallopt(mallocMmapThreshold, mmapThreshold)
        let b = glibcMallopt(mallocTrimThreshold, Int32.max)
        return a == 1 && b == 1
        #else
        return false
        #endif
    }
}
