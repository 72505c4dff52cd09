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
}
