// Decodes a binary ExportTraceServiceRequest (field numbers: wire-formats.md C.5) straight into the C ABI's firefly_batch.
package import CFireflyPlugin
package import FireflyPluginKit
import FireflyModel
import FireflyWire
import Synchronization

/// A traces request decoded into C: the batch to emit, valid while both the request body and the
/// arena it was decoded into live, and what was rejected (`problems.batch` is empty).
package struct CTraceOutcome {
    package var batch: UnsafePointer<firefly_batch>
    package var spanCount: Int
    package var problems: DecodeOutcome
}

/// The hand-written protobuf decoder for traces. It writes `firefly_span`s (with their attributes,
/// events and links) into a `CArena`, every string a slice of the request body and each resource's
/// attributes written once and shared by its spans, so the batch goes to the host's `emit`
/// without Swift values in between. Unknown fields, and known fields carrying an unexpected wire
/// type, are skipped (as the reference implementations do); anything structurally broken
/// (truncation, a length past the end, wire types 3/4/6/7) is an error.
///
/// What is kept and how is what the model's rules say (`SpanDraft`, `LinkDraft`, `OTLPValue`,
/// `FunctionResolver`); strings are not checked for UTF-8 here: the host and
/// `BatchBridge.telemetry(from:)` repair them when they read the batch, as `readString` would.
package enum TraceProtoDecoder {
    /// Decodes `body` as Swift values (tests, tools): the C batch converted with
    /// `BatchBridge.telemetry(from:)`, so the result is exactly what the host stores.
    package static func decode(_ body: [UInt8]) throws(OTLPDecodeError) -> DecodeOutcome {
        let arena = CArena(chunkSize: 64 * 1024)
        let result: Result<DecodeOutcome, OTLPDecodeError> = body.withUnsafeBytes { raw in
            let c: CTraceOutcome
            do throws(OTLPDecodeError) {
                c = try decode(raw, into: arena)
            } catch {
                return .failure(error)
            }
            var outcome = c.problems
            do throws(BatchBridge.InvalidBatch) {
                outcome.batch = try BatchBridge.telemetry(from: c.batch)
            } catch {
                return .failure(OTLPDecodeError("internal error: the decoded batch does not read back: \(error)"))
            }
            return .success(outcome)
        }
        withExtendedLifetime(arena) {}
        return try result.get()
    }

    /// Decodes `body` into `arena`. The batch points into `body` and `arena`: keep both alive
    /// until it has been emitted.
    package static func decode(_ body: UnsafeRawBufferPointer, into arena: CArena) throws(OTLPDecodeError) -> CTraceOutcome {
        var scratch = TraceScratch()
        return try decode(body, into: arena, scratch: &scratch)
    }

    /// Decodes `body` into `workspace`'s arena with its scratch lists (what the receiver does:
    /// workspaces are reused, so their memory is). The batch points into `body` and the
    /// workspace: keep both until it has been emitted, then give the workspace back.
    package static func decode(_ body: UnsafeRawBufferPointer, in workspace: TraceWorkspace) throws(OTLPDecodeError) -> CTraceOutcome {
        try decode(body, into: workspace.arena, scratch: &workspace.scratch)
    }

    static func decode(
        _ body: UnsafeRawBufferPointer, into arena: CArena, scratch: inout TraceScratch
    ) throws(OTLPDecodeError) -> CTraceOutcome {
        scratch.clear()
        var w = SpanWriter(arena: arena, scratch: scratch)
        scratch = TraceScratch()  // the writer holds the lists now (no copy on write)
        defer { scratch = w.scratch }
        return try OTLPDecodeError.mapping { () throws -> CTraceOutcome in
            var r = ProtobufReader(body)
            try ProtoCommon.walk(
                &r,
                resource: { (resources: [ProtobufReader]) throws -> CResource in try w.resource(resources) },
                scope: { (scopes: [ProtobufReader]) throws -> CScope in try CScope(scopes) },
                { (item: inout ProtobufReader, resource: CResource, scope: CScope) throws in
                    try w.span(&item, resource: resource, scope: scope)
                })
            let spans = arena.copy(w.scratch.spans)
            return CTraceOutcome(
                batch: BatchBridge.header(spans: (spans, w.scratch.spans.count), in: arena),
                spanCount: w.scratch.spans.count, problems: w.problems)
        }
    }
}

/// A resource's attributes, written once, with what its spans need from them.
struct CResource {
    var attributes: UnsafePointer<firefly_attr>?
    var count: Int
    var resolver: CFunctionResolver
}

/// An instrumentation scope's name (1) and version (2); the last of each on the wire wins.
struct CScope {
    var name = firefly_str(ptr: nil, len: 0)
    var version = firefly_str(ptr: nil, len: 0)

    init(_ scopes: [ProtobufReader]) throws {
        for var r in scopes {
            while !r.isAtEnd {
                let (field, wire) = try r.readTag()
                switch (field, wire) {
                case (1, 2): name = try r.readStr()
                case (2, 2): version = try r.readStr()
                default: try r.skip(wire)
                }
            }
        }
    }
}

extension ProtobufReader {
    /// A string field as a slice of the request body (not checked for UTF-8).
    @inline(__always)
    mutating func readStr() throws -> firefly_str {
        firefly_str(borrowing: try readLengthDelimited().remainingBytes)
    }

    /// A length-delimited id field copied into `id` when it has exactly `T`'s size; whether it
    /// did, and the id is not all zero (OTLP's validity rule for trace and span ids).
    @inline(__always)
    mutating func readID<T>(into id: inout T) throws -> (rightLength: Bool, nonZero: Bool) {
        let b = try readLengthDelimited().remainingBytes
        guard b.count == MemoryLayout<T>.size else { return (false, false) }
        return withUnsafeMutableBytes(of: &id) { dst in
            dst.copyMemory(from: b)
            return (true, dst.contains { $0 != 0 })
        }
    }
}

/// The lists a decode fills before copying them into the arena: the spans, and the attributes,
/// events and links of the span being read. Reused (capacity kept) across spans and requests.
package struct TraceScratch {
    var spans: [firefly_span] = []
    var attributes: [firefly_attr] = []
    /// Attributes of the resource, event or link being read (never nested in each other).
    var nested: [firefly_attr] = []
    var events: [firefly_span_event] = []
    var links: [firefly_span_link] = []

    package init() {}

    /// Empties the lists; keeps their capacity unless it is large (one huge request should not
    /// pin its memory).
    mutating func clear() {
        func clear<T>(_ list: inout [T]) {
            if list.capacity * MemoryLayout<T>.stride > 1 << 20 { list = [] } else { list.removeAll(keepingCapacity: true) }
        }
        clear(&spans)
        clear(&attributes)
        clear(&nested)
        clear(&events)
        clear(&links)
    }
}

/// An arena and scratch lists for decoding one traces request at a time, reused through `TraceWorkspacePool`.
package final class TraceWorkspace {
    package let arena = CArena(chunkSize: 64 * 1024)
    package var scratch = TraceScratch()

    package init() {}
}

/// Workspaces for concurrent requests: taken for a request, given back after its emit. At most
/// `capacity` are kept, each keeping at most 2 MiB of arena and 1 MiB per scratch list (a
/// 1000-span request takes about 0.7 MiB and 0.25 MiB); a larger request's memory is freed.
package final class TraceWorkspacePool: Sendable {
    private let idle = Mutex<[UncheckedWorkspace]>([])
    private let capacity: Int

    /// Workspaces are used by one request at a time: the pool hands each to one taker.
    private struct UncheckedWorkspace: @unchecked Sendable {
        var workspace: TraceWorkspace
    }

    package init(capacity: Int = 16) {
        self.capacity = capacity
    }

    /// Runs `body` with a workspace of its own (its arena empty), then keeps the workspace for a later request.
    package func withWorkspace<T, E: Error>(_ body: (TraceWorkspace) throws(E) -> T) throws(E) -> T {
        let workspace = idle.withLock { $0.popLast()?.workspace } ?? TraceWorkspace()
        defer {
            workspace.arena.reset(keepingAtMost: 2 << 20)
            idle.withLock { if $0.count < capacity { $0.append(UncheckedWorkspace(workspace: workspace)) } }
        }
        return try body(workspace)
    }
}

/// Collects the spans of one request in `scratch`, copying each finished list into the arena.
struct SpanWriter {
    let arena: CArena
    var scratch: TraceScratch
    var problems = DecodeOutcome()

    /// Resource messages: attributes (field 1), all of them (at most 128 in all) written once.
    mutating func resource(_ resources: [ProtobufReader]) throws -> CResource {
        scratch.nested.removeAll(keepingCapacity: true)
        for var r in resources {
            while !r.isAtEnd {
                let (field, wire) = try r.readTag()
                if field == 1, wire == 2 {
                    var sub = try r.readLengthDelimited()
                    try Self.appendAttribute(&sub, to: &scratch.nested, arena)
                } else {
                    try r.skip(wire)
                }
            }
        }
        let resolver = scratch.nested.withUnsafeBufferPointer { CFunctionResolver(resourceAttributes: $0) }
        return CResource(attributes: arena.copy(scratch.nested), count: scratch.nested.count, resolver: resolver)
    }

    /// One Span; kept as `SpanDraft.finish` keeps it, rejected (counted, first reason kept) otherwise.
    mutating func span(_ r: inout ProtobufReader, resource: CResource, scope: CScope) throws {
        var c = firefly_span()
        // Absent trace and span ids are invalid; an absent (or empty) parent is a root.
        var traceValid = false, spanValid = false, parentValid = true
        var kind: UInt64 = 0, statusCode: UInt64 = 0
        scratch.attributes.removeAll(keepingCapacity: true)
        scratch.events.removeAll(keepingCapacity: true)
        scratch.links.removeAll(keepingCapacity: true)
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, 2):
                let id = try r.readID(into: &c.trace_id)
                traceValid = id.rightLength && id.nonZero
            case (2, 2):
                let id = try r.readID(into: &c.span_id)
                spanValid = id.rightLength && id.nonZero
            case (3, 2): c.trace_state = try r.readStr()
            case (4, 2):
                // Empty is a root; any 8 bytes (zero included) are a parent; anything else is invalid.
                let b = try r.readLengthDelimited().remainingBytes
                parentValid = b.count == 0 || b.count == 8
                if b.count == 0 {
                    c.parent_span_id = (0, 0, 0, 0, 0, 0, 0, 0)
                } else if b.count == 8 {
                    withUnsafeMutableBytes(of: &c.parent_span_id) { $0.copyMemory(from: b) }
                }
            case (5, 2): c.name = try r.readStr()
            case (6, 0): kind = try r.readVarint()
            case (7, 1): c.start_time_unix_nano = try r.readFixed64()
            case (8, 1): c.end_time_unix_nano = try r.readFixed64()
            case (9, 2):
                var sub = try r.readLengthDelimited()
                try Self.appendAttribute(&sub, to: &scratch.attributes, arena)
            case (11, 2):
                var sub = try r.readLengthDelimited()
                try event(&sub)
            case (13, 2):
                var sub = try r.readLengthDelimited()
                try link(&sub)
            case (15, 2):
                var sub = try r.readLengthDelimited()
                try Self.status(&sub, code: &statusCode, message: &c.status_message)
            default: try r.skip(wire)
            }
        }
        let invalid = !traceValid ? "trace_id" : !spanValid ? "span_id" : !parentValid ? "parent_span_id" : nil
        if let invalid {
            problems.reject(1, SpanRejection(name: c.name.string, field: invalid).description)
            return
        }
        c.kind = (SpanKind(rawValue: UInt32(clamping: kind)) ?? .unspecified).rawValue
        c.status_code = (StatusCode(rawValue: UInt32(clamping: statusCode)) ?? .unset).rawValue
        c.function = scratch.attributes.withUnsafeBufferPointer { resource.resolver.function(spanAttributes: $0) }
        c.service = resource.resolver.service
        c.scope_name = scope.name
        c.scope_version = scope.version
        c.attributes = arena.copy(scratch.attributes)
        c.attribute_count = scratch.attributes.count
        c.resource_attributes = resource.attributes
        c.resource_attribute_count = resource.count
        c.events = arena.copy(scratch.events)
        c.event_count = scratch.events.count
        c.links = arena.copy(scratch.links)
        c.link_count = scratch.links.count
        scratch.spans.append(c)
    }

    /// Span.Event: time (1), name (2), attributes (3).
    private mutating func event(_ r: inout ProtobufReader) throws {
        var e = firefly_span_event()
        scratch.nested.removeAll(keepingCapacity: true)
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, 1): e.time_unix_nano = try r.readFixed64()
            case (2, 2): e.name = try r.readStr()
            case (3, 2):
                var sub = try r.readLengthDelimited()
                try Self.appendAttribute(&sub, to: &scratch.nested, arena)
            default: try r.skip(wire)
            }
        }
        e.attributes = arena.copy(scratch.nested)
        e.attribute_count = scratch.nested.count
        scratch.events.append(e)
    }

    /// Span.Link: trace id (1), span id (2), trace state (3), attributes (4); dropped when an id
    /// is invalid (as `LinkDraft`: it points nowhere).
    private mutating func link(_ r: inout ProtobufReader) throws {
        var l = firefly_span_link()
        var traceValid = false, spanValid = false
        scratch.nested.removeAll(keepingCapacity: true)
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, 2):
                let id = try r.readID(into: &l.trace_id)
                traceValid = id.rightLength && id.nonZero
            case (2, 2):
                let id = try r.readID(into: &l.span_id)
                spanValid = id.rightLength && id.nonZero
            case (3, 2): l.trace_state = try r.readStr()
            case (4, 2):
                var sub = try r.readLengthDelimited()
                try Self.appendAttribute(&sub, to: &scratch.nested, arena)
            default: try r.skip(wire)
            }
        }
        guard traceValid, spanValid else { return }
        l.attributes = arena.copy(scratch.nested)
        l.attribute_count = scratch.nested.count
        scratch.links.append(l)
    }

    /// Status: message (2), code (3).
    private static func status(_ r: inout ProtobufReader, code: inout UInt64, message: inout firefly_str) throws {
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (2, 2): message = try r.readStr()
            case (3, 0): code = try r.readVarint()
            default: try r.skip(wire)
            }
        }
    }

    /// Reads one KeyValue onto `list`, refusing more than `ProtoCommon.maxAttributesPerItem`.
    /// (Static, like the value readers: `list` is part of the writer, which a method reading
    /// `self` would have to copy for the call.)
    @inline(__always)
    private static func appendAttribute(_ r: inout ProtobufReader, to list: inout [firefly_attr], _ arena: CArena) throws {
        guard list.count < ProtoCommon.maxAttributesPerItem else { throw ProtoCommon.tooManyAttributes }
        list.append(try keyValue(&r, arena))
    }

    /// KeyValue: key (1) and value (2), mapped as `OTLPValue.attributeValue` and
    /// `BatchBridge.cAttribute` map them: scalars keep their type, bytes are raw, and arrays,
    /// key/value lists and the empty value become JSON text (rendered by `OTLPValue`).
    private static func keyValue(_ r: inout ProtobufReader, _ arena: CArena) throws -> firefly_attr {
        var a = firefly_attr()
        var sawValue = false
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, 2): a.key = try r.readStr()
            case (2, 2):
                var sub = try r.readLengthDelimited()
                try anyValue(&sub, into: &a, arena)
                sawValue = true
            default: try r.skip(wire)
            }
        }
        if !sawValue { json(.empty, into: &a, arena) }
        return a
    }

    /// AnyValue into `a`'s type and value: string (1), bool (2), int (3), double (4), array (5),
    /// kvlist (6), bytes (7); the last one on the wire wins (none: the empty value, `null`).
    private static func anyValue(_ r: inout ProtobufReader, into a: inout firefly_attr, _ arena: CArena) throws {
        var structured: OTLPValue = .empty
        a.type = 0
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, 2):
                a.type = FIREFLY_ATTR_STRING.rawValue
                a.string_value = try r.readStr()
            case (2, 0):
                a.type = FIREFLY_ATTR_BOOL.rawValue
                a.int_value = try r.readVarint() != 0 ? 1 : 0
            case (3, 0):
                a.type = FIREFLY_ATTR_INT.rawValue
                a.int_value = Int64(bitPattern: try r.readVarint())
            case (4, 1):
                a.type = FIREFLY_ATTR_DOUBLE.rawValue
                a.double_value = try r.readDouble()
            case (5, 2):
                structured = try ProtoCommon.arrayValue(&r, depth: 0)
                a.type = FIREFLY_ATTR_JSON.rawValue
            case (6, 2):
                structured = try ProtoCommon.kvlistValue(&r, depth: 0)
                a.type = FIREFLY_ATTR_JSON.rawValue
            case (7, 2):
                a.type = FIREFLY_ATTR_BYTES.rawValue
                a.string_value = try r.readStr()
            default: try r.skip(wire)
            }
        }
        // Only the winning field's value is kept, as BatchBridge.cAttribute sets it.
        switch a.type {
        case FIREFLY_ATTR_STRING.rawValue, FIREFLY_ATTR_BYTES.rawValue:
            a.int_value = 0
            a.double_value = 0
        case FIREFLY_ATTR_BOOL.rawValue, FIREFLY_ATTR_INT.rawValue:
            a.double_value = 0
            a.string_value = firefly_str(ptr: nil, len: 0)
        case FIREFLY_ATTR_DOUBLE.rawValue:
            a.int_value = 0
            a.string_value = firefly_str(ptr: nil, len: 0)
        case FIREFLY_ATTR_JSON.rawValue: json(structured, into: &a, arena)
        default: json(.empty, into: &a, arena)
        }
    }

    /// A structured or empty value as JSON text in the arena.
    private static func json(_ value: OTLPValue, into a: inout firefly_attr, _ arena: CArena) {
        var text = ""
        value.renderJSON(into: &text)
        a.type = FIREFLY_ATTR_JSON.rawValue
        a.int_value = 0
        a.double_value = 0
        a.string_value = arena.str(text)
    }
}
