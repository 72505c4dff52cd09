// One CloudWatch Metric Streams data point, before it is written as JSON or OpenTelemetry.

/// One metric of one dimension set for one minute, with the statistics a metric stream sends:
/// min, max, sum and sample count always, plus configured percentiles (`p50`, `p99`, …).
public struct CloudWatchDatapoint: Sendable, Hashable {
    public var metricStreamName: String
    public var accountID: String
    public var region: String
    public var namespace: String
    public var metricName: String
    /// Dimension name → value, in the order they are written.
    public var dimensions: [(name: String, value: String)]
    /// Start of the one-minute period, epoch milliseconds.
    public var timestampMs: UInt64
    public var min: Double
    public var max: Double
    public var sum: Double
    public var count: Double
    /// Extra statistics: `("p99", 790.1)`; percentiles only, ascending.
    public var percentiles: [(name: String, value: Double)]
    /// CloudWatch `StandardUnit` name: `Count`, `Milliseconds`, …
    public var unit: String

    public init(
        metricStreamName: String, accountID: String, region: String, namespace: String = "AWS/Lambda",
        metricName: String, dimensions: [(name: String, value: String)], timestampMs: UInt64,
        min: Double, max: Double, sum: Double, count: Double, percentiles: [(name: String, value: Double)] = [],
        unit: String
    ) {
        self.metricStreamName = metricStreamName
        self.accountID = accountID
        self.region = region
        self.namespace = namespace
        self.metricName = metricName
        self.dimensions = dimensions
        self.timestampMs = timestampMs
        self.min = min
        self.max = max
        self.sum = sum
        self.count = count
        self.percentiles = percentiles
        self.unit = unit
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.metricStreamName == b.metricStreamName && a.accountID == b.accountID && a.region == b.region
            && a.namespace == b.namespace && a.metricName == b.metricName
            && a.dimensions.elementsEqual(b.dimensions, by: { $0 == $1 }) && a.timestampMs == b.timestampMs
            && a.min == b.min && a.max == b.max && a.sum == b.sum && a.count == b.count
            && a.percentiles.elementsEqual(b.percentiles, by: { $0 == $1 }) && a.unit == b.unit
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(metricName)
        hasher.combine(timestampMs)
        for d in dimensions { hasher.combine(d.value) }
    }

    /// The quantile a percentile statistic stands for: `p99` → 0.99, `p99.9` → 0.999.
    public static func quantile(ofPercentile name: String) -> Double? {
        guard name.first == "p", let v = Double(name.dropFirst()), v >= 0, v <= 100 else { return nil }
        return v / 100
    }
}
