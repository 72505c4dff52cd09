// One CloudWatch log event of a Lambda function → a LogRecord (and, for a report, an Invocation).
import FireflyModel

/// Turns one event's message into a log record, in either of Lambda's log formats: plain text
/// (`START`/`END`/`REPORT` lines, the runtimes' `<time>\t<request id>\t<LEVEL>\t…` prefixes) or
/// JSON (`LogFormat: JSON`: application records with `level`/`message`/`requestId`, platform
/// records with `type`/`record`). A message is never split: a stack trace stays one record.
///
/// A line that names no request (a bare `print`) gets the request id of the invocation its log
/// stream is in — between that request's `START` and its `END`/`REPORT` — since one execution
/// environment (one log stream) runs one invocation at a time.
enum LambdaLogEvent {
    /// `current`: the request the document's log stream is in, kept from event to event.
    static func decode(
        _ full: UnsafeBufferPointer<UInt8>, time: UInt64, id: String, source: CloudWatchLogsDecoder.Source,
        observed: UInt64, current: inout String, into delivery: inout FirehoseDelivery
    ) {
        var message = full
        var truncatedFrom = 0
        if message.count > DecodeLimits.logMessageBytes {
            truncatedFrom = message.count
            message = UnsafeBufferPointer(rebasing: message[0..<utf8Boundary(message, at: DecodeLimits.logMessageBytes)])
        }
        var record = LogRecord(
            timeUnixNano: time, observedTimeUnixNano: observed, body: .string(""), resourceAttributes: source.resource,
            function: source.function, recordID: id)
        var requestID = ""
        var firstNonSpace = 0
        while firstNonSpace < message.count && TextScan.isSpace(message[firstNonSpace]) { firstNonSpace += 1 }
        if truncatedFrom == 0, firstNonSpace < message.count, message[firstNonSpace] == UInt8(ascii: "{"),
            let json = LambdaJSONRecord.parse(message)
        {
            requestID = json.requestID
            apply(json, to: &record, message: message, time: time, source: source, current: &current, into: &delivery)
        } else {
            requestID = text(message, into: &record, time: time, source: source, current: &current, delivery: &delivery)
        }
        if requestID.isEmpty { requestID = current }
        if !requestID.isEmpty { record.attributes.insert(Attribute("faas.invocation_id", .string(requestID)), at: 0) }
        if truncatedFrom > 0 { record.attributes.append(Attribute("firefly.log.original_size", .int(Int64(truncatedFrom)))) }
        delivery.logs.append(record)
    }

    /// The text format; returns the request id the line names.
    private static func text(
        _ message: UnsafeBufferPointer<UInt8>, into record: inout LogRecord, time: UInt64,
        source: CloudWatchLogsDecoder.Source, current: inout String, delivery: inout FirehoseDelivery
    ) -> String {
        let line = LambdaTextLine.classify(message)
        var body = TextScan.trimmedEnd(message)
        var requestID = ""
        var severity: Severity? = .info
        switch line {
        case .start(let id, _):
            requestID = id
            current = id
            delivery.logsState.started(id, at: time, invocations: &delivery.invocations)
        case .end(let id):
            requestID = id
            current = ""
        case .report(let report):
            requestID = report.requestID
            current = ""
            let invocation = delivery.logsState.reported(report, at: time, source: source, invocations: &delivery.invocations)
            if invocation.status != .success { severity = .error }
            record.traceID = report.trace.traceID
            record.spanID = report.trace.spanID
            record.traceFlags = report.trace.flags
        case .timedOut(let id):
            requestID = id
            severity = .error
            delivery.logsState.timedOut(id, invocations: &delivery.invocations)
        case .platformError(let id):
            requestID = id
            severity = .error
        case .runtime(let id, let level, let start):
            requestID = id
            severity = level
            body = trimmedNewline(UnsafeBufferPointer(rebasing: message[start...]))
        case .other:
            severity = nil
            body = trimmedNewline(message)
        }
        if let severity {
            record.severityNumber = severity.number
            record.severityText = severity.text
        }
        record.body = .string(TextScan.string(body))
        return requestID
    }

    /// The JSON format.
    private static func apply(
        _ json: LambdaJSONRecord, to record: inout LogRecord, message: UnsafeBufferPointer<UInt8>, time: UInt64,
        source: CloudWatchLogsDecoder.Source, current: inout String, into delivery: inout FirehoseDelivery
    ) {
        var severity = json.level
        record.traceID = json.trace.traceID
        record.spanID = json.trace.spanID
        record.traceFlags = json.trace.flags
        if let type = json.platformType {
            // Platform records have no message: the record itself is the body.
            record.body = .json(TextScan.string(TextScan.trimmed(message)))
            severity = .info
            switch type {
            case "platform.start":
                current = json.requestID
                delivery.logsState.started(json.requestID, at: time, invocations: &delivery.invocations)
            case "platform.runtimeDone":
                current = ""
                if json.report.status == "timeout" { delivery.logsState.timedOut(json.requestID, invocations: &delivery.invocations) }
                if !json.report.status.isEmpty && json.report.status != "success" { severity = .error }
            case "platform.report":
                current = ""
                let invocation = delivery.logsState.reported(json.report, at: time, source: source, invocations: &delivery.invocations)
                if invocation.status != .success { severity = .error }
            default:
                break
            }
        } else {
            switch json.message {
            case .string(let range):
                record.body = .string(range.text(in: message))
            case .json(let range):
                record.body = .json(TextScan.string(UnsafeBufferPointer(rebasing: message[range.start..<range.end])))
            case nil:
                record.body = .json(TextScan.string(TextScan.trimmed(message)))
            }
            record.attributes = json.exceptionAttributes
        }
        if let severity {
            record.severityNumber = severity.number
            record.severityText = severity.text
        }
    }

    /// Gives the log records of a traced invocation its trace id when they lack one: the text
    /// format names the trace only in the `REPORT` line, written after every line of the invocation.
    /// Runs once per delivery, over the records only when some invocation was traced.
    static func propagateTraceIDs(in delivery: inout FirehoseDelivery) {
        var traces: [String: TraceID] = [:]
        for invocation in delivery.invocations where invocation.traceID.isValid && !invocation.requestID.isEmpty {
            traces[invocation.requestID] = invocation.traceID
        }
        guard !traces.isEmpty else { return }
        for i in delivery.logs.indices where !delivery.logs[i].traceID.isValid {
            // The request id, when there is one, is the first attribute.
            guard let first = delivery.logs[i].attributes.first, first.key == "faas.invocation_id",
                case .string(let requestID) = first.value, let trace = traces[requestID]
            else { continue }
            delivery.logs[i].traceID = trace
        }
    }

    private static func trimmedNewline(_ b: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var e = b.count
        while e > 0 && (b[e - 1] == 0x0A || b[e - 1] == 0x0D) { e -= 1 }
        return UnsafeBufferPointer(rebasing: b[0..<e])
    }

    /// The largest index ≤ `at` that does not cut a UTF-8 sequence.
    static func utf8Boundary(_ b: UnsafeBufferPointer<UInt8>, at: Int) -> Int {
        var i = at
        while i > 0 && i < b.count && b[i] & 0xC0 == 0x80 { i -= 1 }
        return i
    }
}

/// What joins the lines of one invocation across a delivery: per request id, the `START` time,
/// whether a `Task timed out` line was seen, and where its invocation is (one hash per line).
struct LogsDecodeState: Sendable {
    struct Request: Sendable {
        var start: UInt64?
        var timedOut = false
        var invocation: Int?
    }

    var requests: [String: Request] = [:]
    /// Bytes inflated so far in this delivery (checked against `DecodeLimits.inflatedBytesPerRequest`).
    var inflatedBytes = 0
    /// Reused across records.
    var inflateBuffer: [UInt8] = []

    mutating func started(_ requestID: String, at time: UInt64, invocations: inout [Invocation]) {
        guard !requestID.isEmpty else { return }
        requests[requestID, default: Request()].start = time
        if let i = requests[requestID]?.invocation { invocations[i].startTimeUnixNano = time }
    }

    mutating func timedOut(_ requestID: String, invocations: inout [Invocation]) {
        guard !requestID.isEmpty else { return }
        requests[requestID, default: Request()].timedOut = true
        if let i = requests[requestID]?.invocation, invocations[i].status != .outOfMemory { invocations[i].status = .timeout }
    }

    /// Appends the invocation a report describes and returns it.
    mutating func reported(
        _ r: LambdaReport, at time: UInt64, source: CloudWatchLogsDecoder.Source, invocations: inout [Invocation]
    ) -> Invocation {
        var known = Request()
        if !r.requestID.isEmpty {
            known = requests[r.requestID, default: Request()]
            requests[r.requestID] = Request(start: known.start, timedOut: known.timedOut, invocation: invocations.count)
        }
        var status = r.invocationStatus
        if status != .outOfMemory, known.timedOut { status = .timeout }
        let durationNanos = r.durationMs >= 0 && r.durationMs < 1e12 ? UInt64((r.durationMs * 1_000_000).rounded()) : 0
        let start = known.start ?? (time >= durationNanos ? time - durationNanos : 0)
        let invocation = Invocation(
            function: source.function, version: source.version, requestID: r.requestID, startTimeUnixNano: start,
            durationMs: r.durationMs, billedDurationMs: r.billedDurationMs, memorySizeMB: r.memorySizeMB,
            maxMemoryUsedMB: r.maxMemoryUsedMB, initDurationMs: r.initDurationMs, status: status, errorType: r.errorType,
            traceID: r.trace.traceID, attributes: source.invocationAttributes)
        invocations.append(invocation)
        return invocation
    }
}
