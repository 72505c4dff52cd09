// Which endpoint an item goes to: rendezvous (highest random weight) hashing on a stable key.
public import FireflyModel

/// Spreads items over several endpoints so that all items with one key land on one endpoint:
/// every span of a trace (so a tail-sampling tier sees whole traces), every point of a series,
/// every log record of a function.
///
/// Rendezvous hashing: each (key, endpoint) pair gets a score and the key goes to the endpoint
/// with the highest. Removing an endpoint moves only the keys it had (each to its runner-up);
/// adding one moves only the keys it now wins. The hash is fixed (FNV-1a and SplitMix64, no
/// per-process seed), so every collector with the same endpoint list makes the same choice —
/// needed when several edge collectors see spans of one trace.
public struct EndpointRing: Sendable {
    private let seeds: [UInt64]

    /// `names` identify the endpoints (their normalized URLs); the order does not matter.
    public init(_ names: [String]) {
        seeds = names.map { Self.fnv1a($0.utf8) }
    }

    public var count: Int { seeds.count }

    /// The index of the endpoint that owns `key`.
    public func endpoint(for key: UInt64) -> Int {
        var best = 0
        var bestScore: UInt64 = 0
        for (i, seed) in seeds.enumerated() {
            let score = Self.mix(key ^ seed)
            if i == 0 || score > bestScore {
                best = i
                bestScore = score
            }
        }
        return best
    }

    /// Splits `items` by owner, keeping their order within each endpoint's share.
    public func partition<Item>(_ items: [Item], key: (Item) -> UInt64) -> [[Item]] {
        var shares = [[Item]](repeating: [], count: seeds.count)
        if seeds.count == 1 {
            shares[0] = items
            return shares
        }
        for item in items { shares[endpoint(for: key(item))].append(item) }
        return shares
    }

    // MARK: Keys

    /// A trace's key: its id.
    public static func key(_ trace: TraceID) -> UInt64 { mix(trace.high ^ mix(trace.low)) }

    /// A series' key: metric name, namespace and label set.
    public static func key(series p: MetricPoint) -> UInt64 {
        var h = fnv1a(p.namespace.utf8)
        h = fnv1a(p.name.utf8, h ^ 0xFF)
        for label in p.labels {
            h = fnv1a(label.key.utf8, h ^ 0xFE)
            h = fnv1a(label.value.utf8, h ^ 0xFD)
        }
        return h
    }

    /// A log record's key: its function, else its service, else its trace.
    public static func key(log r: LogRecord) -> UInt64 {
        if !r.function.isEmpty { return fnv1a(r.function.utf8) }
        if !r.service.isEmpty { return fnv1a(r.service.utf8) }
        return key(r.traceID)
    }

    static func fnv1a(_ bytes: some Sequence<UInt8>, _ start: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        var h = start
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// SplitMix64's finalizer: every input bit affects every output bit.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
