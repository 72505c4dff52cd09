// glibc malloc settings for the serving process: memory is the scarcer resource where collectors run.
#if canImport(Glibc)
import Glibc
#endif

/// Two settings, each overridden by glibc's own environment variable (glibc then reads that itself):
/// - **Arenas: 2** (`MALLOC_ARENA_MAX`). glibc gives each thread that meets contention an arena of
///   its own (up to 8 per core) and keeps what it freed there, so the collector's threads (event
///   loops, workers, queue, exporters) each end up holding the high-water mark of what they once
///   allocated. Two arenas lower the peak, at the cost of throughput on a single connection.
/// - **mmap threshold: 4 MiB** (`MALLOC_MMAP_THRESHOLD_`). Blocks this large (a request body, its
///   inflated bytes) get pages of their own that go back to the system when freed. By default glibc
///   raises the threshold to the largest block freed so far, so after the first large request every
///   body comes from the arenas, which then keep that memory: 5 MiB bodies on 16 connections peaked
///   at 183–208 MiB that way, 162–174 MiB with the fixed threshold, for 3–13 % less throughput once
///   exporting (docs/performance.md, "Peak memory").
enum MallocTuning {
    static let arenas: Int32 = 2
    static let mmapThreshold: Int32 = 4 << 20

    /// `M_ARENA_MAX` and `M_MMAP_THRESHOLD` of glibc's `<malloc.h>`, which Swift's Glibc module does not import.
    static let mArenaMax: Int32 = -8
    static let mMmapThreshold: Int32 = -3

    static func apply() {
        #if canImport(Glibc)
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "mallopt") else { return }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        if getenv("MALLOC_ARENA_MAX") == nil { _ = mallopt(mArenaMax, arenas) }
        if getenv("MALLOC_MMAP_THRESHOLD_") == nil { _ = mallopt(mMmapThreshold, mmapThreshold) }
        #endif
    }
}
