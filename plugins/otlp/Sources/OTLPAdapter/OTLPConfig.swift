// The otlp receiver's configuration keys, defaults and validation.
public import FireflyPluginKit

/// Configuration of one `otlp` receiver instance (every key is documented in plugins/otlp/README.md).
public struct OTLPConfig: Sendable, Equatable {
    /// Path of the OTLP/HTTP trace export endpoint.
    public var tracesPath = "/v1/traces"
    /// Path of the OTLP/HTTP metrics export endpoint.
    public var metricsPath = "/v1/metrics"
    /// Path answered with "logs are not supported" (404); empty serves no logs route at all.
    public var logsPath = "/v1/logs"
    /// When not empty, requests must carry `Authorization: Bearer <token>`.
    public var bearerToken = ""
    /// Status answered when the queue is full: 503 (default) or 429. Both are retried by OTLP clients.
    public var busyStatus = 503
    /// `Retry-After` seconds when the collector gives no hint of its own.
    public var retryAfterSeconds = 5

    public static let `default` = OTLPConfig()

    public init() {}

    /// Reads and validates the instance configuration; throws every problem at once.
    public init(_ config: PluginConfig) throws {
        let d = OTLPConfig.default
        tracesPath = config.string("traces_path", default: d.tracesPath)
        metricsPath = config.string("metrics_path", default: d.metricsPath)
        logsPath = config.string("logs_path", default: d.logsPath)
        bearerToken = config.string("bearer_token", default: d.bearerToken)
        busyStatus = config.int("busy_status", default: d.busyStatus)
        retryAfterSeconds = config.int("retry_after_seconds", default: d.retryAfterSeconds, range: 1...3600)
        if busyStatus != 503 && busyStatus != 429 {
            config.problem("busy_status", "must be 503 or 429, not \(busyStatus)")
        }
        for (key, path) in [("traces_path", tracesPath), ("metrics_path", metricsPath)] where !path.hasPrefix("/") {
            config.problem(key, "must start with '/', not '\(path)'")
        }
        if !logsPath.isEmpty && !logsPath.hasPrefix("/") {
            config.problem("logs_path", "must start with '/' or be empty, not '\(logsPath)'")
        }
        if tracesPath == metricsPath {
            config.problem("metrics_path", "must differ from traces_path ('\(tracesPath)')")
        }
        if !logsPath.isEmpty && (logsPath == tracesPath || logsPath == metricsPath) {
            config.problem("logs_path", "must differ from traces_path and metrics_path")
        }
        try config.finish()
    }
}
