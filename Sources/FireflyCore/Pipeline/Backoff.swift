/// Retry delays for an exporter: exponential from `initial` up to `maximum`, with full jitter in the
/// upper half (delay ∈ [d/2, d]) so many collectors do not retry in lockstep. A plugin-given
/// retry-after wins when it is longer. Pure: the random source is injected.
public struct Backoff: Sendable {
    public let initial: Duration
    public let maximum: Duration
    public private(set) var attempt = 0

    public init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The delay before the next try; `random` returns a value in [0, 1).
    public mutating func next(retryAfter: Duration? = nil, random: () -> Double) -> Duration {
        let exponent = min(attempt, 30)
        attempt += 1
        var ceiling = initial * (1 << exponent)
        if ceiling > maximum || ceiling < initial { ceiling = maximum }
        let jittered = ceiling / 2 + (ceiling / 2) * random()
        if let retryAfter, retryAfter > jittered { return min(retryAfter, maximum * 10) }
        return jittered
    }

    public mutating func reset() { attempt = 0 }
}
