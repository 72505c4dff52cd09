// How long an invocation takes and whether it fails, as functions of time: a slow sine-wave
// drift plus noise, so dashboards show movement instead of flat lines.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Latency and error behaviour of one function at a point in time.
public struct LatencyModel: Sendable {
    public var function: DemoFunction

    public init(_ function: DemoFunction) {
        self.function = function
    }

    /// The drift factor at `timeUnixNano`: 1 ± 35 % along a sine of the function's period.
    public func drift(at timeUnixNano: UInt64) -> Double {
        let seconds = Double(timeUnixNano / 1_000_000) / 1000
        return 1 + 0.35 * sin(2 * Double.pi * seconds / function.driftPeriodSeconds + function.driftPhase)
    }

    /// Median latency at this time, milliseconds.
    public func median(at timeUnixNano: UInt64) -> Double {
        function.baseLatencyMs * drift(at: timeUnixNano)
    }

    /// One invocation's own duration (without cold start or downstream calls), milliseconds:
    /// log-normal around the drifting median, with an occasional slow outlier.
    public func sample(at timeUnixNano: UInt64, _ rng: inout SeededGenerator) -> Double {
        var ms = median(at: timeUnixNano) * exp(0.3 * rng.gaussian())
        if rng.chance(0.02) { ms *= 3 + 3 * rng.unit() }
        return max(1, ms)
    }

    /// The init phase of a cold start, milliseconds.
    public func coldStart(_ rng: inout SeededGenerator) -> Double {
        function.coldStartMs * (0.7 + 0.6 * rng.unit())
    }

    /// Chance that an invocation at this time fails: the function's rate, in waves (0.1× … 1.9×).
    public func errorProbability(at timeUnixNano: UInt64) -> Double {
        let seconds = Double(timeUnixNano / 1_000_000) / 1000
        let wave = 1 + 0.9 * sin(2 * Double.pi * seconds / (function.driftPeriodSeconds * 1.7) + function.driftPhase * 2)
        return min(1, function.errorRate * wave)
    }
}
