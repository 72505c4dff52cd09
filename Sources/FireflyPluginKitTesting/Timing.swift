#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Measuring how work grows with its input, for tests that hold a decoder to linear time.
public enum Timing {
    /// The least CPU time of the calling thread for each of two pieces of work over `rounds` rounds,
    /// run alternately: CPU time, not wall time, so that other processes on a loaded machine do not
    /// count (a long run is more likely to be descheduled than a short one).
    public static func fastest(rounds: Int = 7, _ small: () -> Void, _ large: () -> Void) -> (small: Double, large: Double) {
        func seconds(_ work: () -> Void) -> Double {
            func now() -> Double {
                var t = timespec()
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
                return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
            }
            let start = now()
            work()
            return now() - start
        }
        small()
        large()
        var best = (small: Double.infinity, large: Double.infinity)
        for _ in 0..<rounds {
            best.small = min(best.small, seconds(small))
            best.large = min(best.large, seconds(large))
        }
        return best
    }

    /// Runs CPU-heavy test work on a thread of its own and awaits it: a test that computes for
    /// seconds on one of Swift concurrency's few shared threads stalls every other test in the
    /// process (in-process servers among them).
    public static func onItsOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: work()) }
            thread.start()
        }
    }
}
