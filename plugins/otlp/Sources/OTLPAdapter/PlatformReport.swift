// Recognises Lambda Telemetry API `platform.report` events that arrive as OTLP log records and makes them invocations.
import FireflyModel
import FireflyWire

/// A `platform.report` (the Lambda Telemetry API's per-invocation summary) forwarded as an OTLP
/// log record becomes an `Invocation` besides the log record, and so does CloudWatch Logs'
/// plain-text `REPORT RequestId: …` line (`invocation(reportLine:…)`). Two report shapes are recognised
/// (plugins/otlp/README.md, "Lambda platform reports"):
///
/// 1. What the opentelemetry-lambda extension's `telemetryapi` receiver emits: the log attribute
///    `type` (or `lambda.event.type`) is `platform.report` and the body is the event's `record`
///    (as JSON text, or as a key/value list).
/// 2. A body that is the whole Telemetry API event, `{"time": …, "type": "platform.report",
///    "record": {…}}` (JSON text or a key/value list), with any attributes.
///
/// The record must hold a non-empty `requestId` and `metrics.durationMs`; anything else is left a
/// plain log record.
enum PlatformReport {
    static let eventType = "platform.report"

    static func invocation(
        body: OTLPValue, attributes: [Attribute], timeUnixNano: UInt64, traceID: TraceID, function: String,
        resource: ResourceContext
    ) -> Invocation? {
        let typed = isReport(attributes[key: "type"]) || isReport(attributes[key: "lambda.event.type"])
        let tree: OTLPValue
        switch body {
        case .kvlist:
            tree = body
        case .string(let text) where text.utf8.starts(with: reportLinePrefix.utf8):
            return invocation(reportLine: text, timeUnixNano: timeUnixNano, traceID: traceID, function: function, resource: resource)
        case .string(let text):
            // Cheap checks first: this runs for every log record with a string body.
            guard text.utf8.first == UInt8(ascii: "{"), typed || text.contains(eventType),
                let node = try? JSON.parseOTLP(Array(text.utf8))
            else { return nil }
            tree = node.otlpValue
        default:
            return nil
        }

        var record: OTLPValue?
        var reportTime = timeUnixNano
        if case .string(eventType)? = tree[member: "type"], case .kvlist? = tree[member: "record"] {
            record = tree[member: "record"]
            if case .string(let time)? = tree[member: "time"], let t = UTCCalendar.unixNano(rfc3339: time) { reportTime = t }
        } else if typed {
            record = tree
        }
        guard let record, case .string(let requestID)? = record[member: "requestId"], !requestID.isEmpty,
            let metrics = record[member: "metrics"], let durationMs = metrics[member: "durationMs"]?.number
        else { return nil }

        var errorType = ""
        if case .string(let e)? = record[member: "errorType"] { errorType = e }
        var statusText = ""
        if case .string(let s)? = record[member: "status"] { statusText = s }
        var reportTraceID = traceID
        if case .string(let header)? = record[member: "tracing"]?[member: "value"], let id = xrayTraceID(header) {
            reportTraceID = id
        }
        var version = ""
        if case .string(let v)? = resource.attributes[key: "faas.version"] { version = v }
        let durationNanos = UInt64(max(0, min((durationMs * 1e6).rounded(), Double(reportTime))))
        return Invocation(
            function: function, version: version, requestID: requestID,
            startTimeUnixNano: reportTime - durationNanos, durationMs: durationMs,
            billedDurationMs: metrics[member: "billedDurationMs"]?.number ?? 0,
            memorySizeMB: megabytes(metrics[member: "memorySizeMB"]),
            maxMemoryUsedMB: megabytes(metrics[member: "maxMemoryUsedMB"]),
            initDurationMs: metrics[member: "initDurationMs"]?.number,
            status: status(statusText, errorType: errorType), errorType: errorType, traceID: reportTraceID,
            attributes: resource.attributes.filter { Self.copiedResourceKeys.contains($0.key) })
    }

    /// How Lambda's plain-text `REPORT` line starts.
    static let reportLinePrefix = "REPORT RequestId: "

    /// A Lambda `REPORT` line, as CloudWatch Logs has it (and as another Firefly's otlp exporter
    /// forwards the log records its firehose receiver read from CloudWatch Logs), read as the
    /// firehose receiver reads it; the line's time is the invocation's end.
    static func invocation(
        reportLine text: String, timeUnixNano: UInt64, traceID: TraceID, function: String, resource: ResourceContext
    ) -> Invocation? {
        var line = text
        let report: LambdaReport? = line.withUTF8 { bytes in
            if case .report(let r) = LambdaTextLine.classify(bytes) { return r }
            return nil
        }
        // Lambda writes the fields tab-separated; a line without a `Duration` field is only text.
        guard let report, !report.requestID.isEmpty, text.contains("\tDuration: "), report.durationMs.isFinite,
            report.durationMs >= 0
        else { return nil }
        var version = ""
        if case .string(let v)? = resource.attributes[key: "faas.version"] { version = v }
        let durationNanos = UInt64(max(0, min((report.durationMs * 1e6).rounded(), Double(timeUnixNano))))
        return Invocation(
            function: function, version: version, requestID: report.requestID, startTimeUnixNano: timeUnixNano - durationNanos,
            durationMs: report.durationMs, billedDurationMs: report.billedDurationMs, memorySizeMB: report.memorySizeMB,
            maxMemoryUsedMB: report.maxMemoryUsedMB, initDurationMs: report.initDurationMs, status: report.invocationStatus,
            errorType: report.errorType, traceID: report.trace.traceID.isValid ? report.trace.traceID : traceID,
            attributes: resource.attributes.filter { Self.copiedResourceKeys.contains($0.key) })
    }

    /// Resource attributes that travel with the invocation.
    static let copiedResourceKeys: Set<String> = ["cloud.region", "cloud.account.id", "faas.invoked_region"]

    static func isReport(_ value: AttributeValue?) -> Bool {
        if case .string(eventType)? = value { return true }
        return false
    }

    /// `success`, `timeout` and `error`/`failure` as the Telemetry API writes them; an error type
    /// naming OutOfMemory (`Runtime.OutOfMemory`) wins over the status.
    static func status(_ text: String, errorType: String) -> InvocationStatus {
        if errorType.contains("OutOfMemory") { return .outOfMemory }
        switch text {
        case "success": return .success
        case "timeout": return .timeout
        default: return text.isEmpty && errorType.isEmpty ? .success : .error
        }
    }

    static func megabytes(_ value: OTLPValue?) -> UInt32 {
        guard let v = value?.number, v.isFinite, v > 0 else { return 0 }
        return UInt32(min(v.rounded(), Double(UInt32.max)))
    }

    /// The OpenTelemetry trace id inside an `X-Amzn-Trace-Id` header: `Root=1-<8 hex>-<24 hex>`
    /// is the 32 hex digits of the two parts joined.
    static func xrayTraceID(_ header: String) -> TraceID? {
        var header = header
        let id = header.withUTF8 { XRayTrace.parseHeader($0).traceID }
        return id.isValid ? id : nil
    }
}

extension OTLPValue {
    /// The value of `key` in a key/value list (the last one wins, as in JSON objects), else nil.
    subscript(member key: String) -> OTLPValue? {
        guard case .kvlist(let pairs) = self else { return nil }
        return pairs.last { $0.key == key }?.value
    }

    /// A number given as an int, a double or a decimal string.
    var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d.isFinite ? d : nil
        case .string(let s): return Double(s).flatMap { $0.isFinite ? $0 : nil }
        default: return nil
        }
    }
}

extension JSON {
    /// The JSON value as an OTLP value: objects become key/value lists, numbers ints when integral.
    var otlpValue: OTLPValue {
        switch self {
        case .null: return .empty
        case .bool(let b): return .bool(b)
        case .number(let t): return Int64(t).map(OTLPValue.int) ?? .double(Double(t) ?? 0)
        case .string(let s): return .string(s)
        case .array(let values): return .array(values.map(\.otlpValue))
        case .object(let pairs): return .kvlist(pairs.map { (key: $0.key, value: $0.value.otlpValue) })
        }
    }
}
