/// The kinds of metric point Firefly stores; they mirror the C ABI's `firefly_metric_kind`.
public enum MetricKind: UInt32, Sendable, Hashable, Codable {
    case gauge = 1
    case cumulativeSum = 2
    case deltaSum = 3
    case summary = 4
    case histogram = 5
}

/// One quantile of a summary; quantile 0 is the minimum and 1 the maximum.
public struct Quantile: Sendable, Hashable, Codable {
    public var quantile: Double
    public var value: Double

    public init(_ quantile: Double, _ value: Double) {
        self.quantile = quantile
        self.value = value
    }
}

/// A metric label. Points keep their labels sorted by key with unique keys, so a label set has
/// one canonical form (series identity in storage).
public struct Label: Sendable, Hashable, Codable {
    public var key: String
    public var value: String

    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

/// One metric data point.
///
/// CloudWatch Metric Stream data arrives as `.summary` points (one per metric, dimension set and
/// minute) with `isDelta == true`: the values aggregate one period and are summed, never `rate()`d.
public struct MetricPoint: Sendable, Hashable, Codable {
    /// Metric name: the CloudWatch metric name (`Duration`) or the OpenTelemetry metric name.
    public var name: String
    /// CloudWatch namespace (`AWS/Lambda`), empty for OpenTelemetry metrics.
    public var namespace: String
    /// Unit: the CloudWatch `StandardUnit` name, or the OpenTelemetry (UCUM) unit.
    public var unit: String
    /// The function this point belongs to, resolved once at ingest; empty when none.
    public var function: String
    public var kind: MetricKind
    /// For sums: whether the value never decreases.
    public var isMonotonic: Bool
    /// For summaries and histograms: whether `min` and `max` are meaningful.
    public var hasMinMax: Bool
    /// For summaries and histograms: the aggregate covers one interval only.
    public var isDelta: Bool
    /// Sorted by key, keys unique (see `Label`).
    public var labels: [Label]
    public var startTimeUnixNano: UInt64
    public var timeUnixNano: UInt64
    public var value: Double
    public var count: Double
    public var sum: Double
    public var min: Double
    public var max: Double
    public var quantiles: [Quantile]
    /// Histogram explicit bounds; `bucketCounts.count == bounds.count + 1`.
    public var bounds: [Double]
    public var bucketCounts: [UInt64]

    public init(
        name: String, namespace: String = "", unit: String = "", function: String = "",
        kind: MetricKind, isMonotonic: Bool = false, hasMinMax: Bool = false, isDelta: Bool = false,
        labels: [Label] = [], startTimeUnixNano: UInt64 = 0, timeUnixNano: UInt64,
        value: Double = 0, count: Double = 0, sum: Double = 0, min: Double = 0, max: Double = 0,
        quantiles: [Quantile] = [], bounds: [Double] = [], bucketCounts: [UInt64] = []
    ) {
        self.name = name
        self.namespace = namespace
        self.unit = unit
        self.function = function
        self.kind = kind
        self.isMonotonic = isMonotonic
        self.hasMinMax = hasMinMax
        self.isDelta = isDelta
        self.labels = Label.canonical(labels)
        self.startTimeUnixNano = startTimeUnixNano
        self.timeUnixNano = timeUnixNano
        self.value = value
        self.count = count
        self.sum = sum
        self.min = min
        self.max = max
        self.quantiles = quantiles
        self.bounds = bounds
        self.bucketCounts = bucketCounts
    }

    /// The value of a label, if present.
    public func label(_ key: String) -> String? {
        labels.first { $0.key == key }?.value
    }
}

extension Label {
    /// Sorts labels byte-wise by key and keeps the last value of a repeated key.
    public static func canonical(_ labels: [Label]) -> [Label] {
        if labels.count < 2 { return labels }
        var sorted = labels
        var inOrder = true
        for i in 1..<labels.count where !(labels[i - 1].key.utf8.lexicographicallyPrecedes(labels[i].key.utf8)) {
            inOrder = false
            break
        }
        if inOrder { return labels }
        // Stable sort keeps the input order of equal keys, so "last one wins" below is well defined.
        sorted = labels.enumerated().sorted { a, b in
            if a.element.key == b.element.key { return a.offset < b.offset }
            return a.element.key.utf8.lexicographicallyPrecedes(b.element.key.utf8)
        }.map(\.element)
        var unique: [Label] = []
        unique.reserveCapacity(sorted.count)
        for label in sorted {
            if let last = unique.last, last.key == label.key {
                unique[unique.count - 1] = label
            } else {
                unique.append(label)
            }
        }
        return unique
    }
}
