// The three OTLP signals as the exporter sends them: path, gRPC service, what an item is called.

/// A signal's request: where it goes over HTTP and gRPC, and what the receiver calls its items.
public enum OTLPSignal: String, Sendable, CaseIterable {
    case traces, metrics, logs

    /// The OTLP/HTTP path appended to an endpoint.
    public var httpPath: String { "/v1/\(rawValue)" }

    /// `opentelemetry.proto.collector.<x>.v1.<X>Service`, method `Export`.
    public var grpcService: String {
        switch self {
        case .traces: "opentelemetry.proto.collector.trace.v1.TraceService"
        case .metrics: "opentelemetry.proto.collector.metrics.v1.MetricsService"
        case .logs: "opentelemetry.proto.collector.logs.v1.LogsService"
        }
    }

    /// The item `partial_success` counts: spans, data points, log records.
    public var itemName: String {
        switch self {
        case .traces: "spans"
        case .metrics: "data points"
        case .logs: "log records"
        }
    }
}
