// Caps glibc's malloc arenas for the serving process.
#if canImport(Glibc)
import Glibc
#endif

/// glibc gives each thread that meets contention an arena of its own (up to 8 per core) and keeps
/// what it freed there, so the collector's threads (event loops, workers, queue, exporters) each
/// end up holding the high-water mark of what they once allocated. Two arenas lower the peak, at
/// the cost of throughput on a single connection (measured in docs/performance.md, "Peak memory:
/// malloc arenas"). `MALLOC_ARENA_MAX` in the environment overrides the cap.
enum MallocArenas {
    static let count: Int32 = 2
    /// `M_ARENA_MAX` of glibc's `<malloc.h>`, which Swift's Glibc module does not import.
    static let mArenaMax: Int32 = -8

    /// Applies the cap unless `MALLOC_ARENA_MAX` is set (glibc then reads that itself).
    static func limit() {
        #if canImport(Glibc)
        guard getenv("MALLOC_ARENA_MAX") == nil, let symbol = dlsym(dlopen(nil, RTLD_NOW), "mallopt") else { return }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        _ = unsafeBitCast(symbol, to: Mallopt.self)(mArenaMax, count)
        #endif
    }
}
