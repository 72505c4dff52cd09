// The otlp receiver's configuration keys, defaults and validation.
public import FireflyPluginKit

/// Configuration of one `otlp` receiver instance (every key is documented in plugins/otlp/README.md).
public struct OTLPSettings: Sendable, Equatable {
    /// Path of the OTLP/HTTP trace export endpoint.
    public var tracesPath = "/v1/traces"
    /// Path of the OTLP/HTTP metrics export endpoint.
    public var metricsPath = "/v1/metrics"
    /// Path of the OTLP/HTTP logs export endpoint; empty serves no logs route at all.
    public var logsPath = "/v1/logs"
    /// When not empty, requests must carry `Authorization: Bearer <token>`.
    public var bearerToken = ""
    /// Status answered when the queue is full: 503 (default) or 429. Both are retried by OTLP clients.
    public var busyStatus = 503
    /// `Retry-After` seconds when the collector gives no hint of its own.
    public var retryAfterSeconds = 5
    /// The OTLP/gRPC listener (`grpc:` section).
    public var grpc = GRPCSettings()

    /// `grpc: {enabled, listen, max_message_bytes}`.
    public struct GRPCSettings: Sendable, Equatable {
        /// Whether the receiver serves OTLP/gRPC on a port of its own.
        public var enabled = true
        /// IP address to bind (IPv4 or IPv6 literal; `localhost` means 127.0.0.1).
        public var host = "0.0.0.0"
        /// TCP port; 0 lets the kernel choose (see `OTLPAdapter.grpcPort`).
        public var port = 4317
        /// Largest request message accepted, after gzip decompression (RESOURCE_EXHAUSTED above).
        public var maxMessageBytes = 4 * 1024 * 1024

        public init() {}

        /// `host:port` as configured (IPv6 in brackets).
        public var listen: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public static let `default` = OTLPSettings()

    public init() {}

    /// Reads and validates the instance configuration; throws every problem at once.
    public init(_ config: PluginConfig) throws {
        let d = OTLPSettings.default
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
        if let g = config.object("grpc") {
            grpc.enabled = g.bool("enabled", default: d.grpc.enabled)
            let listen = g.string("listen", default: d.grpc.listen)
            if let (host, port) = Self.parseListen(listen) {
                grpc.host = host
                grpc.port = port
            } else {
                g.problem("listen", "expected an IP address and port, e.g. 0.0.0.0:4317 or [::]:4317, not '\(listen)'")
            }
            grpc.maxMessageBytes = g.int(
                "max_message_bytes", default: d.grpc.maxMessageBytes, range: 1024...(1 << 30))
        }
        try config.finish()
    }

    /// `host:port` (`[v6]:port` for IPv6); the host must be an IP literal or `localhost`; an empty
    /// host means 0.0.0.0, as in `server.listen`.
    static func parseListen(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
            guard SocketAddressText.isIPv6(host) else { return nil }
            return (host, port)
        }
        if host.isEmpty { host = "0.0.0.0" }
        if host == "localhost" { host = "127.0.0.1" }
        guard SocketAddressText.isIPv4(host) else { return nil }
        return (host, port)
    }
}
