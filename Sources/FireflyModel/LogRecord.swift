/// One log record, with OpenTelemetry semantics: a line a function wrote (or the platform wrote
/// about it). `function` is resolved once at ingest, as for points and spans: from the log group
/// (`/aws/lambda/<name>`) for CloudWatch Logs, from `faas.name` / `service.name` for OTLP.
public struct LogRecord: Sendable, Hashable, Codable {
    /// When the event happened; 0 when unknown (then `observedTimeUnixNano` stands in).
    public var timeUnixNano: UInt64
    /// When Firefly (or the first collector) saw it.
    public var observedTimeUnixNano: UInt64
    /// OpenTelemetry's SeverityNumber: 0 unspecified, 1–4 TRACE, 5–8 DEBUG, 9–12 INFO, 13–16 WARN,
    /// 17–20 ERROR, 21–24 FATAL.
    public var severityNumber: UInt8
    /// The severity as the source wrote it ("ERROR", "WARN", "info"), or "".
    public var severityText: String
    /// The message. Structured bodies (OTLP maps and arrays) are `.json` text.
    public var body: AttributeValue
    public var attributes: [Attribute]
    public var resourceAttributes: [Attribute]
    /// Zero when the record belongs to no trace.
    public var traceID: TraceID
    public var spanID: SpanID
    /// W3C trace flags (bit 0: sampled).
    public var traceFlags: UInt32
    public var function: String
    public var service: String
    public var scopeName: String
    public var scopeVersion: String
    /// A key that is the same each time the same record is delivered again (CloudWatch Logs'
    /// event id), or "" when the source has none (storage then derives one from the content).
    public var recordID: String

    public init(
        timeUnixNano: UInt64, observedTimeUnixNano: UInt64 = 0, severityNumber: UInt8 = 0, severityText: String = "",
        body: AttributeValue, attributes: [Attribute] = [], resourceAttributes: [Attribute] = [],
        traceID: TraceID = .zero, spanID: SpanID = .zero, traceFlags: UInt32 = 0, function: String = "",
        service: String = "", scopeName: String = "", scopeVersion: String = "", recordID: String = ""
    ) {
        self.timeUnixNano = timeUnixNano
        self.observedTimeUnixNano = observedTimeUnixNano
        self.severityNumber = severityNumber
        self.severityText = severityText
        self.body = body
        self.attributes = attributes
        self.resourceAttributes = resourceAttributes
        self.traceID = traceID
        self.spanID = spanID
        self.traceFlags = traceFlags
        self.function = function
        self.service = service
        self.scopeName = scopeName
        self.scopeVersion = scopeVersion
        self.recordID = recordID
    }
}

/// How an invocation ended.
public enum InvocationStatus: UInt32, Sendable, Hashable, Codable, CaseIterable {
    case success = 0, error, timeout, outOfMemory

    /// The word storage and dashboards use: success, error, timeout, out_of_memory.
    public var name: String {
        switch self {
        case .success: "success"
        case .error: "error"
        case .timeout: "timeout"
        case .outOfMemory: "out_of_memory"
        }
    }
}

/// One function invocation as the platform reported it (Lambda's `REPORT` line or
/// `platform.report` record). Travels with the logs signal.
public struct Invocation: Sendable, Hashable, Codable {
    public var function: String
    /// `$LATEST`, a version number, or "" when unknown.
    public var version: String
    /// Lambda's request id (OpenTelemetry `faas.invocation_id`).
    public var requestID: String
    /// When the invocation started (the report's time less its duration when nothing better is known).
    public var startTimeUnixNano: UInt64
    public var durationMs: Double
    public var billedDurationMs: Double
    public var memorySizeMB: UInt32
    public var maxMemoryUsedMB: UInt32
    /// Set only for a cold start: how long the runtime's init phase took.
    public var initDurationMs: Double?
    public var status: InvocationStatus
    /// The platform's error type (e.g. "Runtime.ExitError"), or "".
    public var errorType: String
    /// Zero when the function is not traced.
    public var traceID: TraceID
    /// Where it came from: e.g. `cloud.account.id`, `cloud.region`, `aws.log.group.names`.
    public var attributes: [Attribute]

    public init(
        function: String, version: String = "", requestID: String, startTimeUnixNano: UInt64, durationMs: Double,
        billedDurationMs: Double = 0, memorySizeMB: UInt32 = 0, maxMemoryUsedMB: UInt32 = 0, initDurationMs: Double? = nil,
        status: InvocationStatus = .success, errorType: String = "", traceID: TraceID = .zero, attributes: [Attribute] = []
    ) {
        self.function = function
        self.version = version
        self.requestID = requestID
        self.startTimeUnixNano = startTimeUnixNano
        self.durationMs = durationMs
        self.billedDurationMs = billedDurationMs
        self.memorySizeMB = memorySizeMB
        self.maxMemoryUsedMB = maxMemoryUsedMB
        self.initDurationMs = initDurationMs
        self.status = status
        self.errorType = errorType
        self.traceID = traceID
        self.attributes = attributes
    }

    /// An invocation with an init phase started its execution environment: a cold start.
    public var isColdStart: Bool { initDurationMs != nil }
}
