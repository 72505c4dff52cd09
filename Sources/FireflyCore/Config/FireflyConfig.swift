public import FireflyModel

/// The collector's configuration: the parsed and validated `firefly.yaml`.
/// Every field has a documented default (`docs/configuration.md`).
public struct FireflyConfig: Sendable {
    public var server: ServerConfig = .default
    public var plugins: PluginsConfig = .default
    public var queue: QueueConfig = .default
    public var receivers: [InstanceConfig] = []
    public var exporters: [InstanceConfig] = []
    public var pipelines: [PipelineConfig] = []
    /// Alert rule thresholds for `firefly grafana generate`.
    public var alerts = AlertsConfig()
    /// The file the configuration came from (for messages).
    public var file: String = "firefly.yaml"

    public init() {}
}

public struct ServerConfig: Sendable {
    public var host: String
    public var port: Int
    public var maxBodyBytes: Int
    /// Threads that run adapters' `handle` (they may block while the queue commits).
    public var workerThreads: Int
    /// Serve HTTPS with this certificate chain and key (PEM files) when set.
    public var tls: TLSFiles?
    /// A connection that sends nothing for this long is closed, also in the middle of a request
    /// body, so a stalled upload cannot hold one of the `workerThreads` request slots.
    public var idleTimeout: Duration = .seconds(60)
    /// The whole request body must arrive within this long (a sender that trickles gets 408).
    public var bodyTimeout: Duration = .seconds(300)
    /// After `bodyRateGrace`, a request body must arrive at this many bytes per second on average
    /// (0: no minimum); slower senders get 408 and give their request slot back.
    public var bodyMinRate: Int = 65536
    public var bodyRateGrace: Duration = .seconds(5)

    var bodyPace: BodyPace { BodyPace(timeout: bodyTimeout, minRate: bodyMinRate, grace: bodyRateGrace) }

    public static let `default` = ServerConfig(host: "0.0.0.0", port: 4318, maxBodyBytes: 64 * 1024 * 1024, workerThreads: 4, tls: nil)
}

public struct TLSFiles: Sendable {
    public var certFile: String
    public var keyFile: String
}

public struct PluginsConfig: Sendable {
    public var paths: [String]
    public static let `default` = PluginsConfig(paths: [".firefly/plugins", "./plugins.d"])
}

public struct QueueConfig: Sendable {
    public var directory: String
    public var maxBytes: Int
    /// Most points + spans in one export batch.
    public var batchMaxItems: Int
    /// How long a worker waits to fill a batch before exporting what it has.
    public var batchMaxWait: Duration
    /// First retry delay after a retryable export failure; doubles up to `retryMax`, with jitter.
    public var retryInitial: Duration
    public var retryMax: Duration
    /// On shutdown, how long exporters may keep draining the queue.
    public var drainTimeout: Duration
    /// `disk` (durable, the default) or `memory` (fast, loses unexported data when the process dies).
    public var type: QueueType
    public var fsync: FsyncPolicy
    /// Size at which the durable queue starts a new segment file.
    public var segmentBytes: Int

    public static let `default` = QueueConfig(
        directory: ".firefly/queue", maxBytes: 1 << 30, batchMaxItems: 5000, batchMaxWait: .milliseconds(200),
        retryInitial: .milliseconds(500), retryMax: .seconds(30), drainTimeout: .seconds(10),
        type: .disk, fsync: .always, segmentBytes: 16 << 20)
}

public enum QueueType: String, Sendable, CaseIterable {
    case disk, memory
}

/// Where in the configuration file something was written.
public struct SourceLocation: Sendable, Hashable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// A receiver or exporter instance: `name` (`firehose`, `webhook/github`), the plugin it uses and
/// the plugin's own keys as JSON.
public struct InstanceConfig: Sendable {
    public var name: String
    public var plugin: String
    public var settingsJSON: String
    /// Where the instance is defined, where its `plugin:` value is, and where each of its keys is.
    public var location: SourceLocation
    public var pluginLocation: SourceLocation
    public var keyLocations: [String: SourceLocation]
}

/// A kind of telemetry, as `pipelines:` names it: metric points, spans, or log records with the
/// invocations reported in them.
public enum Signal: String, Sendable, CaseIterable {
    case metrics, traces, logs
}

extension Signals {
    public init(_ signal: Signal) {
        switch signal {
        case .metrics: self = .metrics
        case .traces: self = .traces
        case .logs: self = .logs
        }
    }
}

public struct PipelineConfig: Sendable {
    public var name: String
    public var signal: Signal
    public var receivers: [String]
    public var exporters: [String]
}
