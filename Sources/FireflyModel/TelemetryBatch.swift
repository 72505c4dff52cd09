/// What adapters emit and exporters receive: metric points and spans.
public struct TelemetryBatch: Sendable, Hashable, Codable {
    public var points: [MetricPoint]
    public var spans: [Span]

    public init(points: [MetricPoint] = [], spans: [Span] = []) {
        self.points = points
        self.spans = spans
    }

    public var isEmpty: Bool { points.isEmpty && spans.isEmpty }
}
