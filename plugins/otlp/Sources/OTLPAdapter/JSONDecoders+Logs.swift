// Decodes OTLP/JSON ExportLogsServiceRequest into the same drafts as protobuf.
import FireflyModel
import FireflyWire

extension JSONDecoders {
    /// `SEVERITY_NUMBER_*` names, accepted where OTLP/JSON puts the integer.
    static let severityNumbers: [String: UInt64] = {
        var names: [String: UInt64] = ["SEVERITY_NUMBER_UNSPECIFIED": 0]
        for (i, level) in ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"].enumerated() {
            let base = UInt64(i * 4 + 1)
            names["SEVERITY_NUMBER_\(level)"] = base
            for n in 2...4 { names["SEVERITY_NUMBER_\(level)\(n)"] = base + UInt64(n - 1) }
        }
        return names
    }()

    static func logs(_ body: [UInt8]) throws(OTLPDecodeError) -> DecodeOutcome {
        var outcome = DecodeOutcome()
        for (key, value) in try JSON.parseOTLP(body).members("request") {
            guard key == "resourceLogs" || key == "resource_logs" else { continue }
            for rl in try value.elements("resourceLogs") {
                var resource: [Attribute] = []
                var scopes: [JSON] = []
                for (k, v) in try rl.members("resourceLogs[]") {
                    switch k {
                    case "resource": try resourceAttributes(v, into: &resource)
                    case "scopeLogs", "scope_logs": scopes += try v.elements("scopeLogs")
                    default: continue
                    }
                }
                let context = ResourceContext(attributes: resource)
                for sl in scopes {
                    var scope = ScopeInfo()
                    var records: [JSON] = []
                    for (k, v) in try sl.members("scopeLogs[]") {
                        switch k {
                        case "scope": try scopeInfo(v, into: &scope)
                        case "logRecords", "log_records": records += try v.elements("logRecords")
                        default: continue
                        }
                    }
                    for l in records {
                        outcome.append(try logRecord(l).finish(resource: context, scope: scope))
                    }
                }
            }
        }
        return outcome
    }

    static func logRecord(_ node: JSON) throws(OTLPDecodeError) -> LogDraft {
        var d = LogDraft()
        for (k, v) in try node.members("logRecord") {
            switch k {
            case "timeUnixNano", "time_unix_nano": d.timeUnixNano = try v.uint64("timeUnixNano")
            case "observedTimeUnixNano", "observed_time_unix_nano":
                d.observedTimeUnixNano = try v.uint64("observedTimeUnixNano")
            case "severityNumber", "severity_number":
                d.severityNumber = try v.enumValue("severityNumber", names: severityNumbers)
            case "severityText", "severity_text": d.severityText = try v.string("severityText")
            case "body": d.body = try anyValue(v, depth: 0)
            case "attributes": try attributes(v, into: &d.attributes)
            case "flags": d.flags = try v.uint64("flags")
            case "traceId", "trace_id":
                let bytes = try v.idBytes("traceId")
                d.traceID = bytes?.isEmpty == true ? .zero : bytes.flatMap { TraceID(bytes: $0) }
            case "spanId", "span_id":
                let bytes = try v.idBytes("spanId")
                d.spanID = bytes?.isEmpty == true ? .zero : bytes.flatMap { SpanID(bytes: $0) }
            case "eventName", "event_name": d.eventName = try v.string("eventName")
            default: continue
            }
        }
        return d
    }
}
