/// What adapters emit and exporters receive: metric points (the metrics signal), spans (traces),
/// and log records with the invocations reported in them (logs).
public struct TelemetryBatch: Sendable, Hashable, Codable {
    public var points: [MetricPoint]
    public var spans: [Span]
    public var logs: [LogRecord]
    public var invocations: [Invocation]

    public init(points: [MetricPoint] = [], spans: [Span] = [], logs: [LogRecord] = [], invocations: [Invocation] = []) {
        self.points = points
        self.spans = spans
        self.logs = logs
        self.invocations = invocations
    }

    public var isEmpty: Bool { points.isEmpty && spans.isEmpty && logs.isEmpty && invocations.isEmpty }

    private enum CodingKeys: String, CodingKey {
        case points, spans, logs, invocations
    }

    /// Each kind may be missing (dead-letter lines written before logs existed have no `logs`).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        points = try c.decodeIfPresent([MetricPoint].self, forKey: .points) ?? []
        spans = try c.decodeIfPresent([Span].self, forKey: .spans) ?? []
        logs = try c.decodeIfPresent([LogRecord].self, forKey: .logs) ?? []
        invocations = try c.decodeIfPresent([Invocation].self, forKey: .invocations) ?? []
    }
}

extension TelemetryBatch {
    /// Points, spans, log records and invocations together.
    public var itemCount: Int { points.count + spans.count + logs.count + invocations.count }

    /// The items at `range` of the batch's items taken in order: points, then spans, then log
    /// records, then invocations.
    public func items(_ range: Range<Int>) -> TelemetryBatch {
        var offset = 0
        func part<T>(_ items: [T]) -> [T] {
            defer { offset += items.count }
            let lower = min(max(range.lowerBound - offset, 0), items.count)
            let upper = min(max(range.upperBound - offset, 0), items.count)
            return lower < upper ? Array(items[lower..<upper]) : []
        }
        return TelemetryBatch(points: part(points), spans: part(spans), logs: part(logs), invocations: part(invocations))
    }
}
