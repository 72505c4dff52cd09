// Decodes a binary ExportLogsServiceRequest (field numbers: wire-formats.md C.5, opentelemetry-proto logs.proto) into model log records.
import FireflyModel
import FireflyWire

/// The hand-written protobuf decoder for logs, with the trace decoder's rules: unknown fields and
/// known fields with an unexpected wire type are skipped; structural damage is an error.
package enum LogsProtoDecoder {
    package static func decode(_ body: [UInt8]) throws(OTLPDecodeError) -> DecodeOutcome {
        try OTLPDecodeError.mapping { () throws -> DecodeOutcome in
            var outcome = DecodeOutcome()
            try ProtoCommon.forEachItem(in: body) { (r: inout ProtobufReader, resource, scope) throws in
                outcome.append(try logRecord(&r).finish(resource: resource, scope: scope))
            }
            return outcome
        }
    }

    /// LogRecord: time_unix_nano (1 fixed64), severity_number (2), severity_text (3), body (5),
    /// attributes (6), dropped_attributes_count (7, not kept), flags (8 fixed32), trace_id (9),
    /// span_id (10), observed_time_unix_nano (11 fixed64), event_name (12).
    static func logRecord(_ r: inout ProtobufReader) throws -> LogDraft {
        var d = LogDraft()
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, 1): d.timeUnixNano = try r.readFixed64()
            case (2, 0): d.severityNumber = try r.readVarint()
            case (3, 2): d.severityText = try r.readString()
            case (5, 2):
                var sub = try r.readLengthDelimited()
                d.body = try ProtoCommon.anyValue(&sub, depth: 0)
            case (6, 2):
                var sub = try r.readLengthDelimited()
                try ProtoCommon.appendAttribute(&sub, to: &d.attributes)
            case (8, 5): d.flags = UInt64(try r.readFixed32())
            case (9, 2):
                let sub = try r.readLengthDelimited()
                d.traceID = sub.isAtEnd ? .zero : ProtoCommon.traceID(sub)
            case (10, 2):
                let sub = try r.readLengthDelimited()
                d.spanID = sub.isAtEnd ? .zero : ProtoCommon.spanID(sub)
            case (11, 1): d.observedTimeUnixNano = try r.readFixed64()
            case (12, 2): d.eventName = try r.readString()
            default: try r.skip(wire)
            }
        }
        return d
    }
}
