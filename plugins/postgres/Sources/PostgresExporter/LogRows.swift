// Log records and invocations as rows of the `logs` and `invocations` tables, in binary COPY format.
import FireflyModel

extension TableRows {
    /// The attribute whose string value fills `logs.request_id` (OpenTelemetry's name for Lambda's request id).
    static let requestIDAttribute = "faas.invocation_id"

    /// One logs row, every column of `logs` in table order. `time` is the record's time, or its
    /// observed time when the record has none (as OpenTelemetry advises for queries).
    static func encode(_ log: LogRecord, into row: inout RowEncoder) {
        let time = log.timeUnixNano != 0 ? log.timeUnixNano : log.observedTimeUnixNano
        row.timestamp(unixNano: time)
        row.uint(time)
        row.optionalTimestamp(unixNano: log.observedTimeUnixNano)
        row.uint(log.observedTimeUnixNano)
        row.int16(Int16(log.severityNumber))
        row.text(log.severityText)
        row.text(bodyText(log.body))
        if case .json(let text) = log.body {
            row.beginJSONColumn()
            row.jsonRaw(text.isEmpty ? "null" : text)
        } else {
            row.null()
        }
        row.beginJSONColumn()
        row.jsonAttributes(log.attributes)
        row.beginJSONColumn()
        row.jsonAttributes(log.resourceAttributes)
        if log.traceID.isValid { row.hex(log.traceID) } else { row.null() }
        if log.spanID.isValid { row.hex(log.spanID) } else { row.null() }
        row.uint(UInt64(log.traceFlags))
        row.text(StorableText.indexed(log.function))
        row.text(log.service)
        row.text(log.scopeName)
        row.text(log.scopeVersion)
        if let requestID = requestID(of: log) { row.text(StorableText.indexed(requestID)) } else { row.null() }
        row.text(StorableText.indexed(recordID(of: log)))
        row.endRow()
    }

    /// The body as text: strings as they are, structured bodies (OTLP maps and arrays) as their JSON
    /// text, numbers and booleans spelled as in JSON, bytes in base64.
    static func bodyText(_ body: AttributeValue) -> String {
        switch body {
        case .string(let s): s
        case .json(let text): text
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .double(let d): d.isNaN ? "NaN" : d.isInfinite ? (d < 0 ? "-Infinity" : "Infinity") : d.description
        case .bytes(let b): Base64.encode(b)
        }
    }

    /// The first `faas.invocation_id` attribute holding a non-empty string.
    static func requestID(of log: LogRecord) -> String? {
        for attribute in log.attributes where attribute.key == requestIDAttribute {
            if case .string(let s) = attribute.value, !s.isEmpty { return s }
            return nil
        }
        return nil
    }

    /// The record's own id (CloudWatch Logs' event id) or, when it has none, `content:` and the first
    /// 128 bits of the SHA-256 of its content in hex (`contentKey`).
    static func recordID(of log: LogRecord) -> String {
        if !log.recordID.isEmpty { return log.recordID }
        return "content:" + Hex.encode(ContentDigest.sha256(contentKey(log)).prefix(16))
    }

    /// Everything that tells two records apart except the observed time, which a collector may set on
    /// receipt (so a sender's retry would otherwise count as a new record): a JSON array of the time,
    /// function, service, scope, severity, typed body, trace and span ids, trace flags, attributes and
    /// resource attributes, written as they are stored (NUL as U+FFFD, a repeated key's first value).
    /// Two records alike in all of these are one record.
    static func contentKey(_ log: LogRecord) -> [UInt8] {
        var json = RowEncoder(capacity: 256)
        json.jsonPunct("[")
        json.jsonUInt(log.timeUnixNano)
        for text in [log.function, log.service, log.scopeName, log.scopeVersion] {
            json.jsonPunct(",")
            json.jsonString(text)
        }
        json.jsonPunct(",")
        json.jsonUInt(UInt64(log.severityNumber))
        json.jsonPunct(",")
        json.jsonString(log.severityText)
        json.jsonPunct(",")
        // The kind first: the string "1" and the integer 1 are different bodies.
        switch log.body {
        case .string: json.jsonString("s")
        case .bool: json.jsonString("b")
        case .int: json.jsonString("i")
        case .double: json.jsonString("d")
        case .bytes: json.jsonString("x")
        case .json: json.jsonString("j")
        }
        json.jsonPunct(",")
        json.jsonString(bodyText(log.body))
        json.jsonPunct(",")
        json.jsonHex(log.traceID)
        json.jsonPunct(",")
        json.jsonHex(log.spanID)
        json.jsonPunct(",")
        json.jsonUInt(UInt64(log.traceFlags))
        json.jsonPunct(",")
        json.jsonAttributes(log.attributes)
        json.jsonPunct(",")
        json.jsonAttributes(log.resourceAttributes)
        json.jsonPunct("]")
        return json.bytes
    }

    /// One invocations row, every column of `invocations` in table order.
    static func encode(_ invocation: Invocation, into row: inout RowEncoder) {
        row.text(StorableText.indexed(invocation.function))
        row.text(invocation.version)
        row.text(StorableText.indexed(invocation.requestID))
        row.timestamp(unixNano: invocation.startTimeUnixNano)
        row.uint(invocation.startTimeUnixNano)
        row.double(invocation.durationMs)
        row.double(invocation.billedDurationMs)
        row.int32(Int32(clamping: invocation.memorySizeMB))
        row.int32(Int32(clamping: invocation.maxMemoryUsedMB))
        row.optionalDouble(invocation.initDurationMs)
        row.bool(invocation.isColdStart)
        row.text(invocation.status.name)
        row.text(invocation.errorType)
        if invocation.traceID.isValid { row.hex(invocation.traceID) } else { row.null() }
        row.beginJSONColumn()
        row.jsonAttributes(invocation.attributes)
        row.endRow()
    }
}
