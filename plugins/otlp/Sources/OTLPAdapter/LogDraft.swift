// The fields of one OTLP log record as either decoder reads them, and the rules that turn them into a model LogRecord.
import FireflyModel
import FireflyWire

/// One log record's fields as decoded. Ids are `.zero` when absent (a log record need not belong
/// to a trace) and nil when present with the wrong length; `finish` rejects the latter, as the
/// span decoders reject spans with malformed ids.
struct LogDraft {
    var timeUnixNano: UInt64 = 0
    var observedTimeUnixNano: UInt64 = 0
    var severityNumber: UInt64 = 0
    var severityText = ""
    var body = OTLPValue.empty
    var attributes: [Attribute] = []
    var flags: UInt64 = 0
    var traceID: TraceID? = .zero
    var spanID: SpanID? = .zero
    var eventName = ""

    /// The highest SeverityNumber OTLP defines (FATAL4).
    static let maxSeverity: UInt64 = 24

    /// The model record (and the invocation, when the record is a Lambda `platform.report`), or
    /// the reason the record is rejected.
    func finish(resource: ResourceContext, scope: ScopeInfo) -> Result<(LogRecord, Invocation?), LogRejection> {
        guard let traceID else { return .failure(LogRejection(field: "trace_id")) }
        guard let spanID else { return .failure(LogRejection(field: "span_id")) }
        var attributes = self.attributes
        // OTLP 1.5's `event_name` has no column of its own: it is kept as the attribute it
        // replaced (`event.name`), unless the record carries that attribute already.
        if !eventName.isEmpty, attributes[key: "event.name"] == nil {
            attributes.append(Attribute("event.name", .string(eventName)))
        }
        let function = FunctionResolver.function(spanAttributes: attributes, resourceAttributes: resource.attributes)
        let record = LogRecord(
            timeUnixNano: timeUnixNano, observedTimeUnixNano: observedTimeUnixNano,
            severityNumber: severityNumber <= Self.maxSeverity ? UInt8(severityNumber) : 0, severityText: severityText,
            body: bodyValue, attributes: attributes, resourceAttributes: resource.attributes,
            traceID: traceID, spanID: spanID, traceFlags: UInt32(flags & 0xFF), function: function,
            service: resource.service, scopeName: scope.name, scopeVersion: scope.version, recordID: "")
        let invocation = PlatformReport.invocation(
            body: body, attributes: attributes, timeUnixNano: timeUnixNano != 0 ? timeUnixNano : observedTimeUnixNano,
            traceID: traceID, function: function, resource: resource)
        return .success((record, invocation))
    }

    /// Strings and other scalars keep their type, maps and arrays become JSON text; a record
    /// without a body has the empty string.
    var bodyValue: AttributeValue {
        if case .empty = body { return .string("") }
        return body.attributeValue
    }
}

/// Why a log record was dropped: an id of the wrong length.
struct LogRejection: Error {
    var field: String
    var description: String { "a log record has an invalid \(field)" }
}

extension DecodeOutcome {
    /// Appends a finished log record (and its invocation) or counts its rejection.
    mutating func append(_ result: Result<(LogRecord, Invocation?), LogRejection>) {
        switch result {
        case .success(let (record, invocation)):
            batch.logs.append(record)
            if let invocation { batch.invocations.append(invocation) }
        case .failure(let rejection):
            reject(1, rejection.description)
        }
    }
}
