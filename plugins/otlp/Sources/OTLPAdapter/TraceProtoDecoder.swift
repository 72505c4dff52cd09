// Decodes a binary ExportTraceServiceRequest (field numbers: wire-formats.md C.5) into model spans.
import FireflyModel
import FireflyWire

/// The hand-written protobuf decoder for traces. Unknown fields, and known fields carrying an
/// unexpected wire type, are skipped (as the reference implementations do); anything structurally
/// broken (truncation, a length past the end, wire types 3/4/6/7) is an error.
package enum TraceProtoDecoder {
    package static func decode(_ body: [UInt8]) throws(OTLPDecodeError) -> DecodeOutcome {
        try OTLPDecodeError.mapping { () throws -> DecodeOutcome in
            var outcome = DecodeOutcome()
            try ProtoCommon.forEachItem(in: body) { (r: inout ProtobufReader, resource, scope) throws in
                switch try span(&r).finish(resource: resource, scope: scope) {
                case .success(let span): outcome.batch.spans.append(span)
                case .failure(let rejection): outcome.reject(1, rejection.description)
                }
            }
            return outcome
        }
    }

    static func span(_ r: inout ProtobufReader) throws -> SpanDraft {
        var d = SpanDraft()
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, 2): d.traceID = ProtoCommon.traceID(try r.readLengthDelimited())
            case (2, 2): d.spanID = ProtoCommon.spanID(try r.readLengthDelimited())
            case (3, 2): d.traceState = try r.readString()
            case (4, 2):
                let sub = try r.readLengthDelimited()
                d.parentSpanID = sub.isAtEnd ? .zero : ProtoCommon.spanID(sub)
            case (5, 2): d.name = try r.readString()
            case (6, 0): d.kind = try r.readVarint()
            case (7, 1): d.startTimeUnixNano = try r.readFixed64()
            case (8, 1): d.endTimeUnixNano = try r.readFixed64()
            case (9, 2):
                var sub = try r.readLengthDelimited()
                try ProtoCommon.appendAttribute(&sub, to: &d.attributes)
            case (11, 2):
                var sub = try r.readLengthDelimited()
                d.events.append(try event(&sub))
            case (13, 2):
                var sub = try r.readLengthDelimited()
                if let l = try link(&sub).link { d.links.append(l) }
            case (15, 2):
                var sub = try r.readLengthDelimited()
                try status(&sub, into: &d)
            default: try r.skip(wire)
            }
        }
        return d
    }

    static func event(_ r: inout ProtobufReader) throws -> SpanEvent {
        var e = SpanEvent(timeUnixNano: 0, name: "")
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, 1): e.timeUnixNano = try r.readFixed64()
            case (2, 2): e.name = try r.readString()
            case (3, 2):
                var sub = try r.readLengthDelimited()
                try ProtoCommon.appendAttribute(&sub, to: &e.attributes)
            default: try r.skip(wire)
            }
        }
        return e
    }

    static func link(_ r: inout ProtobufReader) throws -> LinkDraft {
        var l = LinkDraft()
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, 2): l.traceID = ProtoCommon.traceID(try r.readLengthDelimited())
            case (2, 2): l.spanID = ProtoCommon.spanID(try r.readLengthDelimited())
            case (3, 2): l.traceState = try r.readString()
            case (4, 2):
                var sub = try r.readLengthDelimited()
                try ProtoCommon.appendAttribute(&sub, to: &l.attributes)
            default: try r.skip(wire)
            }
        }
        return l
    }

    static func status(_ r: inout ProtobufReader, into d: inout SpanDraft) throws {
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (2, 2): d.statusMessage = try r.readString()
            case (3, 0): d.statusCode = try r.readVarint()
            default: try r.skip(wire)
            }
        }
    }
}
