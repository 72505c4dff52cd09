// Writes spans as an OTLP/HTTP protobuf `ExportTraceServiceRequest` (field numbers: wire-formats.md C.5).
public import FireflyModel
import FireflyWire

/// Encodes Firefly spans as OTLP protobuf. Spans are grouped into one `ResourceSpans` per distinct
/// resource (in order of first appearance) and one `ScopeSpans` per scope within it.
public enum OTLPTraceEncoder {
    public static func request(_ spans: [Span]) -> [UInt8] {
        var groups: [(resource: [Attribute], scopes: [(name: String, version: String, spans: [Span])])] = []
        var index: [[Attribute]: Int] = [:]
        for span in spans {
            let g: Int
            if let i = index[span.resourceAttributes] {
                g = i
            } else {
                g = groups.count
                index[span.resourceAttributes] = g
                groups.append((span.resourceAttributes, []))
            }
            if let s = groups[g].scopes.firstIndex(where: { $0.name == span.scopeName && $0.version == span.scopeVersion }) {
                groups[g].scopes[s].spans.append(span)
            } else {
                groups[g].scopes.append((span.scopeName, span.scopeVersion, [span]))
            }
        }
        var w = ProtobufWriter()
        for group in groups {
            w.message(1) { rs in
                rs.message(1) { resource in
                    for a in group.resource { keyValue(&resource, 1, a.key, a.value) }
                }
                for scope in group.scopes {
                    rs.message(2) { ss in
                        ss.message(1) { s in
                            if !scope.name.isEmpty { s.stringField(1, scope.name) }
                            if !scope.version.isEmpty { s.stringField(2, scope.version) }
                        }
                        for span in scope.spans {
                            ss.message(2) { encode(&$0, span) }
                        }
                    }
                }
            }
        }
        return w.bytes
    }

    static func encode(_ w: inout ProtobufWriter, _ span: Span) {
        w.bytesField(1, span.traceID.bytes)
        w.bytesField(2, span.spanID.bytes)
        if !span.traceState.isEmpty { w.stringField(3, span.traceState) }
        if span.parentSpanID.isValid { w.bytesField(4, span.parentSpanID.bytes) }
        w.stringField(5, span.name)
        if span.kind != .unspecified { w.varintField(6, UInt64(span.kind.rawValue)) }
        w.fixed64Field(7, span.startTimeUnixNano)
        w.fixed64Field(8, span.endTimeUnixNano)
        for a in span.attributes { keyValue(&w, 9, a.key, a.value) }
        for event in span.events {
            w.message(11) { e in
                e.fixed64Field(1, event.timeUnixNano)
                e.stringField(2, event.name)
                for a in event.attributes { keyValue(&e, 3, a.key, a.value) }
            }
        }
        for link in span.links {
            w.message(13) { l in
                l.bytesField(1, link.traceID.bytes)
                l.bytesField(2, link.spanID.bytes)
                if !link.traceState.isEmpty { l.stringField(3, link.traceState) }
                for a in link.attributes { keyValue(&l, 4, a.key, a.value) }
            }
        }
        if span.statusCode != .unset || !span.statusMessage.isEmpty {
            w.message(15) { s in
                if !span.statusMessage.isEmpty { s.stringField(2, span.statusMessage) }
                if span.statusCode != .unset { s.varintField(3, UInt64(span.statusCode.rawValue)) }
            }
        }
    }

    /// A `KeyValue` as field `field` of the enclosing message.
    static func keyValue(_ w: inout ProtobufWriter, _ field: UInt32, _ key: String, _ value: AttributeValue) {
        w.message(field) { kv in
            kv.stringField(1, key)
            kv.message(2) { any in
                switch value {
                case .string(let s): any.stringField(1, s)
                case .bool(let b): any.boolField(2, b)
                case .int(let i): any.int64Field(3, i)
                case .double(let d): any.doubleField(4, d)
                case .bytes(let b): any.bytesField(7, b)
                // Arrays and maps travel as JSON text inside Firefly; OTLP receivers keep them as a string.
                case .json(let j): any.stringField(1, j)
                }
            }
        }
    }
}
