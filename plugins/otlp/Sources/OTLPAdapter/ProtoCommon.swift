// Protobuf decoding of the messages shared by traces and metrics: KeyValue, AnyValue, Resource, InstrumentationScope.
import FireflyModel
import FireflyWire

enum ProtoCommon {
    /// Nesting limit for arrays and key/value lists inside attribute values (stack safety).
    static let maxValueDepth = 32

    /// A 16-byte trace id (big-endian), nil for any other length.
    @inline(__always)
    static func traceID(_ r: ProtobufReader) -> TraceID? {
        let b = r.remainingBytes
        guard b.count == 16, let base = b.baseAddress else { return nil }
        return TraceID(
            high: UInt64(bigEndian: base.loadUnaligned(as: UInt64.self)),
            low: UInt64(bigEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    /// An 8-byte span id (big-endian), nil for any other length.
    @inline(__always)
    static func spanID(_ r: ProtobufReader) -> SpanID? {
        let b = r.remainingBytes
        guard b.count == 8, let base = b.baseAddress else { return nil }
        return SpanID(UInt64(bigEndian: base.loadUnaligned(as: UInt64.self)))
    }

    /// Attributes one item (resource, span, span event, span link, data point) may carry: the
    /// OpenTelemetry SDKs' default attribute count limit. More is refused (400 / INVALID_ARGUMENT)
    /// so that copying resource attributes into every point stays proportional to the request.
    static let maxAttributesPerItem = 128

    static var tooManyAttributes: OTLPDecodeError {
        OTLPDecodeError(
            "an item has more than \(maxAttributesPerItem) attributes (the limit per resource, span, event, link, data point or log record)")
    }

    /// Reads one KeyValue from `r` onto `list`, refusing more than `maxAttributesPerItem`.
    @inline(__always)
    static func appendAttribute(_ r: inout ProtobufReader, to list: inout [Attribute]) throws {
        guard list.count < maxAttributesPerItem else { throw tooManyAttributes }
        list.append(try keyValue(&r))
    }

    /// Walks what every OTLP export request shares — resource entries (field 1), each a resource (1)
    /// and scope entries (2), each a scope (1) and items (2): spans, metrics or log records — and
    /// hands `item` every item with its resource and scope. A resource or scope may follow its
    /// items on the wire, so both are collected before the items are decoded.
    static func forEachItem(
        in body: [UInt8], _ item: (inout ProtobufReader, ResourceContext, ScopeInfo) throws -> Void
    ) throws {
        try ProtobufReader.read(body) { (r: inout ProtobufReader) throws in
            try walk(
                &r,
                resource: { (resources: [ProtobufReader]) throws -> ResourceContext in
                    var attributes: [Attribute] = []
                    for var resource in resources { try resourceAttributes(&resource, into: &attributes) }
                    return ResourceContext(attributes: attributes)
                },
                scope: { (scopes: [ProtobufReader]) throws -> ScopeInfo in
                    var info = ScopeInfo()
                    for var s in scopes { try scope(&s, into: &info) }
                    return info
                },
                item)
        }
    }

    /// The walk of `forEachItem` over a request, with the resource and scope of each entry built
    /// by `resource` and `scope` from all their messages (in wire order), once per entry.
    @inline(__always)
    static func walk<Resource, Scope>(
        _ r: inout ProtobufReader, resource: ([ProtobufReader]) throws -> Resource, scope: ([ProtobufReader]) throws -> Scope,
        _ item: (inout ProtobufReader, Resource, Scope) throws -> Void
    ) throws {
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            guard field == 1, wire == 2 else {
                try r.skip(wire)
                continue
            }
            var entry = try r.readLengthDelimited()
            let (resources, scopeEntries) = try messages(&entry)
            let context = try resource(resources)
            for var scopeEntry in scopeEntries {
                let (scopes, items) = try messages(&scopeEntry)
                let info = try scope(scopes)
                for var i in items { try item(&i, context, info) }
            }
        }
    }

    /// The embedded messages in fields 1 and 2 of a message, each list in wire order.
    static func messages(_ r: inout ProtobufReader) throws -> (first: [ProtobufReader], second: [ProtobufReader]) {
        var first: [ProtobufReader] = []
        var second: [ProtobufReader] = []
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, 2): first.append(try r.readLengthDelimited())
            case (2, 2): second.append(try r.readLengthDelimited())
            default: try r.skip(wire)
            }
        }
        return (first, second)
    }

    /// Resource: attributes (field 1) appended to `attributes`.
    static func resourceAttributes(_ r: inout ProtobufReader, into attributes: inout [Attribute]) throws {
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            if field == 1, wire == 2 {
                var sub = try r.readLengthDelimited()
                try appendAttribute(&sub, to: &attributes)
            } else {
                try r.skip(wire)
            }
        }
    }

    /// InstrumentationScope: name (1) and version (2).
    static func scope(_ r: inout ProtobufReader, into scope: inout ScopeInfo) throws {
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, 2): scope.name = try r.readString()
            case (2, 2): scope.version = try r.readString()
            default: try r.skip(wire)
            }
        }
    }

    /// KeyValue: key (1) and value (2) as a model attribute.
    @inline(__always)
    static func keyValue(_ r: inout ProtobufReader) throws -> Attribute {
        let (key, value) = try keyValuePair(&r, depth: 0)
        return Attribute(key, value.attributeValue)
    }

    static func keyValuePair(_ r: inout ProtobufReader, depth: Int) throws -> (String, OTLPValue) {
        var key = ""
        var value = OTLPValue.empty
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, 2): key = try r.readString()
            case (2, 2):
                var sub = try r.readLengthDelimited()
                value = try anyValue(&sub, depth: depth)
            default: try r.skip(wire)
            }
        }
        return (key, value)
    }

    /// AnyValue: a oneof of string (1), bool (2), int (3), double (4), array (5), kvlist (6), bytes (7);
    /// the last one on the wire wins.
    static func anyValue(_ r: inout ProtobufReader, depth: Int) throws -> OTLPValue {
        var value = OTLPValue.empty
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, 2): value = .string(try r.readString())
            case (2, 0): value = .bool(try r.readVarint() != 0)
            case (3, 0): value = .int(Int64(bitPattern: try r.readVarint()))
            case (4, 1): value = .double(try r.readDouble())
            case (5, 2): value = try arrayValue(&r, depth: depth)
            case (6, 2): value = try kvlistValue(&r, depth: depth)
            case (7, 2): value = .bytes(try r.readBytes())
            default: try r.skip(wire)
            }
        }
        return value
    }

    /// ArrayValue (the length-delimited field at `r`): values (1), each an AnyValue one level
    /// deeper than the value holding the array.
    static func arrayValue(_ r: inout ProtobufReader, depth: Int) throws -> OTLPValue {
        guard depth < maxValueDepth else { throw OTLPDecodeError("attribute values nested deeper than \(maxValueDepth)") }
        var sub = try r.readLengthDelimited()
        var values: [OTLPValue] = []
        while !sub.isAtEnd {
            let (f, w) = try sub.readTag()
            if f == 1, w == 2 {
                var element = try sub.readLengthDelimited()
                values.append(try anyValue(&element, depth: depth + 1))
            } else {
                try sub.skip(w)
            }
        }
        return .array(values)
    }

    /// KeyValueList (the length-delimited field at `r`): values (1), each a KeyValue one level
    /// deeper than the value holding the list.
    static func kvlistValue(_ r: inout ProtobufReader, depth: Int) throws -> OTLPValue {
        guard depth < maxValueDepth else { throw OTLPDecodeError("attribute values nested deeper than \(maxValueDepth)") }
        var sub = try r.readLengthDelimited()
        var pairs: [(key: String, value: OTLPValue)] = []
        while !sub.isAtEnd {
            let (f, w) = try sub.readTag()
            if f == 1, w == 2 {
                var element = try sub.readLengthDelimited()
                let (k, v) = try keyValuePair(&element, depth: depth + 1)
                pairs.append((key: k, value: v))
            } else {
                try sub.skip(w)
            }
        }
        return .kvlist(pairs)
    }
}
