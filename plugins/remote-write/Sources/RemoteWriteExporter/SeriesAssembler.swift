// Turns a batch's points into per-shard write requests: grouped by series, in timestamp order, late samples removed.
public import FireflyModel

/// The pure part of an export: no I/O, no clock.
///
/// Prometheus appends a remote-write request in one transaction and rolls the whole request
/// back (HTTP 400) on the first out-of-order or duplicate sample, so a single re-sent point
/// would lose every other sample of its request. Samples at or before a series' high-water
/// mark (the newest timestamp already accepted) are therefore removed before sending.
public struct SeriesAssembler: Sendable {
    public var externalLabels: [Label]
    public var maxSamplesPerRequest: Int
    public var shards: Int

    public init(externalLabels: [Label] = [], maxSamplesPerRequest: Int = 2000, shards: Int = 1) {
        self.externalLabels = externalLabels
        self.maxSamplesPerRequest = max(1, maxSamplesPerRequest)
        self.shards = max(1, shards)
    }

    /// What one batch becomes.
    public struct Plan: Sendable, Equatable {
        /// For each shard, its requests in sending order.
        public var shards: [[[RemoteWriteSeries]]]
        /// Samples at or before their series' high-water mark (including repeats within the batch).
        public var outOfOrder = 0
        /// Points that give no Prometheus series (delta histograms).
        public var unsupported = 0

        public var sampleCount: Int { shards.joined().joined().reduce(0) { $0 + $1.samples.count } }
    }

    /// Groups the points' series, orders and filters their samples against `highWaterMarks`
    /// (newest accepted timestamp per label set) and splits them into shards and requests.
    public func plan(_ points: [MetricPoint], highWaterMarks: (([Label]) -> Int64?)) -> Plan {
        var plan = Plan(shards: Array(repeating: [], count: shards))
        var index: [[Label]: Int] = [:]
        var grouped: [RemoteWriteSeries] = []
        for point in points {
            let values = PrometheusNaming.series(for: point)
            if values.isEmpty {
                plan.unsupported += 1
                continue
            }
            let timestamp = Int64(point.timeUnixNano / 1_000_000)
            for value in values {
                let labels = PrometheusNaming.labelSet(name: value.name, labels: withExternalLabels(value.labels))
                // A NaN from the source must never look like Prometheus' stale marker.
                let sample = RemoteWriteSample(value: value.value.isNaN ? .nan : value.value, timestampMs: timestamp)
                if let i = index[labels] {
                    grouped[i].samples.append(sample)
                } else {
                    index[labels] = grouped.count
                    grouped.append(RemoteWriteSeries(labels: labels, samples: [sample]))
                }
            }
        }
        var perShard: [[RemoteWriteSeries]] = Array(repeating: [], count: shards)
        for var series in grouped {
            let before = series.samples.count
            if before > 1 { series.samples.sort { $0.timestampMs < $1.timestampMs } }
            var mark = highWaterMarks(series.labels) ?? Int64.min
            series.samples.removeAll { sample in
                if sample.timestampMs <= mark { return true }
                mark = sample.timestampMs
                return false
            }
            plan.outOfOrder += before - series.samples.count
            if series.samples.isEmpty { continue }
            perShard[shards == 1 ? 0 : Self.shard(of: series.labels, count: shards)].append(series)
        }
        for (shard, list) in perShard.enumerated() {
            plan.shards[shard] = split(list)
        }
        return plan
    }

    /// Requests of at most `maxSamplesPerRequest` samples; a long series continues in the next
    /// request of the same shard, so its samples still go out in order.
    func split(_ list: [RemoteWriteSeries]) -> [[RemoteWriteSeries]] {
        var requests: [[RemoteWriteSeries]] = []
        var current: [RemoteWriteSeries] = []
        var room = maxSamplesPerRequest
        for series in list {
            var rest = series.samples[...]
            while !rest.isEmpty {
                let take = min(room, rest.count)
                current.append(RemoteWriteSeries(labels: series.labels, samples: Array(rest.prefix(take))))
                rest = rest.dropFirst(take)
                room -= take
                if room == 0 {
                    requests.append(current)
                    current = []
                    room = maxSamplesPerRequest
                }
            }
        }
        if !current.isEmpty { requests.append(current) }
        return requests
    }

    /// External labels never replace a label the series already has (Prometheus' rule).
    func withExternalLabels(_ labels: [Label]) -> [Label] {
        if externalLabels.isEmpty { return labels }
        var out = labels
        for label in externalLabels where !labels.contains(where: { $0.key == label.key }) {
            out.append(label)
        }
        return out
    }

    /// A stable shard for a label set (FNV-1a over names and values), the same in every process.
    static func shard(of labels: [Label], count: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for label in labels {
            for b in label.key.utf8 { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
            hash = (hash ^ 0xFF) &* 0x100_0000_01b3
            for b in label.value.utf8 { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
            hash = (hash ^ 0xFE) &* 0x100_0000_01b3
        }
        return Int(hash % UInt64(count))
    }
}

/// The newest timestamp accepted per series. Bounded: above `limit` series, series not written
/// for `retentionMs` (relative to the newest sample seen) are forgotten — the receiver rejects
/// samples that old anyway.
public struct HighWaterMarks: Sendable {
    private var marks: [[Label]: Int64] = [:]
    private var newest: Int64 = .min
    public var limit: Int
    public var retentionMs: Int64

    public init(limit: Int = 1_000_000, retentionMs: Int64 = 3 * 3_600_000) {
        self.limit = limit
        self.retentionMs = retentionMs
    }

    public var count: Int { marks.count }

    public subscript(labels: [Label]) -> Int64? { marks[labels] }

    /// Records that every sample of `request` was accepted.
    public mutating func accept(_ request: [RemoteWriteSeries]) {
        for series in request {
            guard let last = series.samples.last?.timestampMs else { continue }
            if let old = marks[series.labels], old >= last { continue }
            marks[series.labels] = last
            newest = max(newest, last)
        }
        if marks.count > limit {
            let cutoff = newest &- retentionMs
            marks = marks.filter { $0.value >= cutoff }
        }
    }
}
