public import CFireflyPlugin
public import FireflyModel
public import FireflyPluginKit

/// The durable queue's record: one emitted batch (the part of it some pipeline routes) and the
/// receiver it came from. Little-endian fixed-width numbers, LEB128 lengths and counts; a leading
/// version byte lets the format grow — version 2 added logs and invocations, and version 1 records
/// (points and spans only) still read.
///
/// There is one encoder, and it reads the plugin's C batch directly (the receiver path writes no
/// Swift values on the way to disk); Swift values are encoded by viewing them as a C batch first.
/// Strings are repaired exactly as `BatchBridge` repairs them (invalid UTF-8 replaced), labels put
/// in `Label.canonical` order, so a record decodes to what `BatchBridge.telemetry(from:)` gives.
public enum RecordCodec {
    public static let version: UInt8 = 2

    public struct DecodeError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// How many items of each kind a record holds.
    public struct Counts: Equatable, Sendable {
        public var points = 0, spans = 0, logs = 0, invocations = 0
        public var isEmpty: Bool { points + spans + logs + invocations == 0 }
    }

    /// Appends the record of `batch` to `w` with the signals in `keeping` (the others are left out);
    /// returns how many items of each kind it wrote.
    @discardableResult
    public static func encode(
        _ batch: UnsafePointer<firefly_batch>, receiver: String, keeping: Signals, into w: inout ByteWriter
    ) throws(BatchBridge.InvalidBatch) -> Counts {
        try encode(checked: BatchBridge.checkedHeader(batch), receiver: receiver, keeping: keeping, into: &w)
    }

    /// `encode` of a batch header `BatchBridge.checkedHeader` returned.
    static func encode(
        checked b: firefly_batch, receiver: String, keeping: Signals, into w: inout ByteWriter
    ) throws(BatchBridge.InvalidBatch) -> Counts {
        var n = Counts()
        if keeping.contains(.metrics) { n.points = b.point_count }
        if keeping.contains(.traces) { n.spans = b.span_count }
        if keeping.contains(.logs) { (n.logs, n.invocations) = (b.log_count, b.invocation_count) }
        w.byte(version)
        w.string(receiver)
        w.varint(UInt64(n.points))
        for i in 0..<n.points { try point(BatchBridge.point(i, of: b), &w) }
        w.varint(UInt64(n.spans))
        for i in 0..<n.spans { span(BatchBridge.span(i, of: b), &w) }
        w.varint(UInt64(n.logs))
        for i in 0..<n.logs { log(BatchBridge.log(i, of: b), &w) }
        w.varint(UInt64(n.invocations))
        for i in 0..<n.invocations { invocation(BatchBridge.invocation(i, of: b), &w) }
        return n
    }

    /// The record of Swift values: through their C view, so that one encoder writes every record.
    public static func encode(_ batch: TelemetryBatch, receiver: String, into w: inout ByteWriter) {
        let arena = CArena()
        do {
            try encode(BatchBridge.cBatch(batch, in: arena), receiver: receiver, keeping: .all, into: &w)
        } catch {
            preconditionFailure("a batch built from Swift values is always valid: \(error)")
        }
    }

    public static func encode(_ batch: TelemetryBatch, receiver: String) -> [UInt8] {
        var w = ByteWriter()
        encode(batch, receiver: receiver, into: &w)
        return w.bytes
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> (receiver: String, batch: TelemetryBatch) {
        var r = ByteReader(bytes)
        let recordVersion = try r.byte()
        guard recordVersion == 1 || recordVersion == version else {
            throw DecodeError(description: "unknown record version \(recordVersion)")
        }
        let receiver = try r.string()
        var batch = TelemetryBatch()
        let pointCount = try r.count()
        batch.points.reserveCapacity(pointCount)
        for _ in 0..<pointCount { batch.points.append(try point(&r)) }
        let spanCount = try r.count()
        batch.spans.reserveCapacity(spanCount)
        for _ in 0..<spanCount { batch.spans.append(try span(&r)) }
        if recordVersion >= 2 {
            let logCount = try r.count()
            batch.logs.reserveCapacity(logCount)
            for _ in 0..<logCount { batch.logs.append(try log(&r)) }
            let invocationCount = try r.count()
            batch.invocations.reserveCapacity(invocationCount)
            for _ in 0..<invocationCount { batch.invocations.append(try invocation(&r)) }
        }
        guard r.isAtEnd else { throw DecodeError(description: "trailing bytes after batch") }
        return (receiver, batch)
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> (receiver: String, batch: TelemetryBatch) {
        let result: Result<(receiver: String, batch: TelemetryBatch), DecodeError> = bytes.withUnsafeBytes { b in
            do throws(DecodeError) { return .success(try decode(b)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    // MARK: Points

    static func point(_ p: firefly_metric_point, _ w: inout ByteWriter) throws(BatchBridge.InvalidBatch) {
        guard MetricKind(rawValue: p.kind) != nil else { throw BatchBridge.unknownKind(p) }
        string(p.name, &w); string(p.namespace_, &w); string(p.unit, &w); string(p.function, &w)
        w.byte(UInt8(p.kind))
        w.byte((p.flags & FIREFLY_POINT_MONOTONIC != 0 ? 1 : 0) | (p.flags & FIREFLY_POINT_HAS_MIN_MAX != 0 ? 2 : 0)
               | (p.flags & FIREFLY_POINT_DELTA != 0 ? 4 : 0))
        labels(BatchBridge.buffer(p.labels, p.label_count), &w)
        w.u64(p.start_time_unix_nano); w.u64(p.time_unix_nano)
        w.double(p.value); w.double(p.count); w.double(p.sum); w.double(p.min); w.double(p.max)
        let quantiles = BatchBridge.buffer(p.quantiles, p.quantile_count)
        w.varint(UInt64(quantiles.count))
        for q in quantiles { w.double(q.quantile); w.double(q.value) }
        let bounds = BatchBridge.buffer(p.bounds, p.bound_count)
        w.varint(UInt64(bounds.count))
        for v in bounds { w.double(v) }
        let counts = BatchBridge.buffer(p.bucket_counts, p.bucket_count)
        w.varint(UInt64(counts.count))
        for c in counts { w.u64(c) }
    }

    static func point(_ r: inout ByteReader) throws(DecodeError) -> MetricPoint {
        let name = try r.string(), namespace = try r.string(), unit = try r.string(), function = try r.string()
        guard let kind = MetricKind(rawValue: UInt32(try r.byte())) else { throw DecodeError(description: "bad metric kind") }
        let flags = try r.byte()
        var labels: [Label] = []
        let n = try r.count()
        labels.reserveCapacity(n)
        for _ in 0..<n { labels.append(Label(try r.string(), try r.string())) }
        var p = MetricPoint(name: name, namespace: namespace, unit: unit, function: function, kind: kind,
                            isMonotonic: flags & 1 != 0, hasMinMax: flags & 2 != 0, isDelta: flags & 4 != 0,
                            timeUnixNano: 0)
        p.labels = labels  // stored canonical already
        p.startTimeUnixNano = try r.u64(); p.timeUnixNano = try r.u64()
        p.value = try r.double(); p.count = try r.double(); p.sum = try r.double(); p.min = try r.double(); p.max = try r.double()
        let qn = try r.count()
        for _ in 0..<qn { p.quantiles.append(Quantile(try r.double(), try r.double())) }
        let bn = try r.count()
        for _ in 0..<bn { p.bounds.append(try r.double()) }
        let cn = try r.count()
        for _ in 0..<cn { p.bucketCounts.append(try r.u64()) }
        return p
    }

    // MARK: Spans

    static func span(_ s: firefly_span, _ w: inout ByteWriter) {
        var s = s
        withUnsafeBytes(of: &s.trace_id) { w.u64(bigEndian($0, 0)); w.u64(bigEndian($0, 8)) }
        withUnsafeBytes(of: &s.span_id) { w.u64(bigEndian($0, 0)) }
        withUnsafeBytes(of: &s.parent_span_id) { w.u64(bigEndian($0, 0)) }
        string(s.trace_state, &w); string(s.name, &w)
        w.byte(UInt8((SpanKind(rawValue: s.kind) ?? .unspecified).rawValue))
        w.byte(UInt8((StatusCode(rawValue: s.status_code) ?? .unset).rawValue))
        string(s.status_message, &w)
        w.u64(s.start_time_unix_nano); w.u64(s.end_time_unix_nano)
        string(s.function, &w); string(s.service, &w); string(s.scope_name, &w); string(s.scope_version, &w)
        attributes(s.attributes, s.attribute_count, &w)
        attributes(s.resource_attributes, s.resource_attribute_count, &w)
        let events = BatchBridge.buffer(s.events, s.event_count)
        w.varint(UInt64(events.count))
        for e in events {
            w.u64(e.time_unix_nano); string(e.name, &w)
            attributes(e.attributes, e.attribute_count, &w)
        }
        let links = BatchBridge.buffer(s.links, s.link_count)
        w.varint(UInt64(links.count))
        for var l in links {
            withUnsafeBytes(of: &l.trace_id) { w.u64(bigEndian($0, 0)); w.u64(bigEndian($0, 8)) }
            withUnsafeBytes(of: &l.span_id) { w.u64(bigEndian($0, 0)) }
            string(l.trace_state, &w)
            attributes(l.attributes, l.attribute_count, &w)
        }
    }

    static func span(_ r: inout ByteReader) throws(DecodeError) -> Span {
        let trace = TraceID(high: try r.u64(), low: try r.u64())
        let id = SpanID(try r.u64()), parent = SpanID(try r.u64())
        let traceState = try r.string(), name = try r.string()
        let kind = SpanKind(rawValue: UInt32(try r.byte())) ?? .unspecified
        let status = StatusCode(rawValue: UInt32(try r.byte())) ?? .unset
        let message = try r.string()
        let start = try r.u64(), end = try r.u64()
        let function = try r.string(), service = try r.string(), scopeName = try r.string(), scopeVersion = try r.string()
        let attrs = try attributes(&r), resource = try attributes(&r)
        var events: [SpanEvent] = []
        for _ in 0..<(try r.count()) { events.append(SpanEvent(timeUnixNano: try r.u64(), name: try r.string(), attributes: try attributes(&r))) }
        var links: [SpanLink] = []
        for _ in 0..<(try r.count()) {
            let t = TraceID(high: try r.u64(), low: try r.u64())
            links.append(SpanLink(traceID: t, spanID: SpanID(try r.u64()), traceState: try r.string(), attributes: try attributes(&r)))
        }
        return Span(traceID: trace, spanID: id, parentSpanID: parent, traceState: traceState, name: name, kind: kind,
                    statusCode: status, statusMessage: message, startTimeUnixNano: start, endTimeUnixNano: end,
                    function: function, service: service, scopeName: scopeName, scopeVersion: scopeVersion,
                    attributes: attrs, resourceAttributes: resource, events: events, links: links)
    }

    // MARK: Logs and invocations

    static func log(_ l: firefly_log_record, _ w: inout ByteWriter) {
        var l = l
        w.u64(l.time_unix_nano); w.u64(l.observed_time_unix_nano)
        w.byte(UInt8(clamping: l.severity_number)); w.u32(l.trace_flags)
        string(l.severity_text, &w)
        value(l.body, &w)
        withUnsafeBytes(of: &l.trace_id) { w.u64(bigEndian($0, 0)); w.u64(bigEndian($0, 8)) }
        withUnsafeBytes(of: &l.span_id) { w.u64(bigEndian($0, 0)) }
        string(l.function, &w); string(l.service, &w); string(l.scope_name, &w); string(l.scope_version, &w)
        string(l.record_id, &w)
        attributes(l.attributes, l.attribute_count, &w)
        attributes(l.resource_attributes, l.resource_attribute_count, &w)
    }

    static func log(_ r: inout ByteReader) throws(DecodeError) -> LogRecord {
        let time = try r.u64(), observed = try r.u64()
        let severity = try r.byte(), flags = try r.u32()
        let severityText = try r.string()
        let body = try value(&r)
        let trace = TraceID(high: try r.u64(), low: try r.u64()), span = SpanID(try r.u64())
        let function = try r.string(), service = try r.string(), scopeName = try r.string(), scopeVersion = try r.string()
        let recordID = try r.string()
        let attrs = try attributes(&r), resource = try attributes(&r)
        return LogRecord(
            timeUnixNano: time, observedTimeUnixNano: observed, severityNumber: severity, severityText: severityText,
            body: body, attributes: attrs, resourceAttributes: resource, traceID: trace, spanID: span, traceFlags: flags,
            function: function, service: service, scopeName: scopeName, scopeVersion: scopeVersion, recordID: recordID)
    }

    static func invocation(_ v: firefly_invocation, _ w: inout ByteWriter) {
        var v = v
        string(v.function, &w); string(v.version, &w); string(v.request_id, &w)
        w.u64(v.start_time_unix_nano)
        w.double(v.duration_ms); w.double(v.billed_duration_ms); w.double(v.init_duration_ms)
        w.u32(v.memory_size_mb); w.u32(v.max_memory_used_mb)
        w.byte(UInt8((InvocationStatus(rawValue: v.status) ?? .error).rawValue))
        w.byte(v.flags & FIREFLY_INVOCATION_COLD_START != 0 ? 1 : 0)
        string(v.error_type, &w)
        withUnsafeBytes(of: &v.trace_id) { w.u64(bigEndian($0, 0)); w.u64(bigEndian($0, 8)) }
        attributes(v.attributes, v.attribute_count, &w)
    }

    static func invocation(_ r: inout ByteReader) throws(DecodeError) -> Invocation {
        let function = try r.string(), version = try r.string(), requestID = try r.string()
        let start = try r.u64()
        let duration = try r.double(), billed = try r.double(), initDuration = try r.double()
        let memory = try r.u32(), used = try r.u32()
        guard let status = InvocationStatus(rawValue: UInt32(try r.byte())) else { throw DecodeError(description: "bad invocation status") }
        let coldStart = try r.byte() & 1 != 0
        let errorType = try r.string()
        let trace = TraceID(high: try r.u64(), low: try r.u64())
        return Invocation(
            function: function, version: version, requestID: requestID, startTimeUnixNano: start, durationMs: duration,
            billedDurationMs: billed, memorySizeMB: memory, maxMemoryUsedMB: used, initDurationMs: coldStart ? initDuration : nil,
            status: status, errorType: errorType, traceID: trace, attributes: try attributes(&r))
    }

    // MARK: Attributes

    /// Keyed values; type tags: 1 string, 2 bool, 3 int, 4 double, 5 bytes, 6 JSON text.
    static func attributes(_ ptr: UnsafePointer<firefly_attr>?, _ count: Int, _ w: inout ByteWriter) {
        let attrs = BatchBridge.buffer(ptr, count)
        w.varint(UInt64(attrs.count))
        for a in attrs {
            string(a.key, &w)
            value(a, &w)
        }
    }

    /// One typed value; unknown C types read as strings, as in `BatchBridge`.
    static func value(_ a: firefly_attr, _ w: inout ByteWriter) {
        switch a.type {
        case FIREFLY_ATTR_BOOL.rawValue: w.byte(2); w.byte(a.int_value != 0 ? 1 : 0)
        case FIREFLY_ATTR_INT.rawValue: w.byte(3); w.u64(UInt64(bitPattern: a.int_value))
        case FIREFLY_ATTR_DOUBLE.rawValue: w.byte(4); w.double(a.double_value)
        case FIREFLY_ATTR_BYTES.rawValue:
            w.byte(5)
            if let p = a.string_value.ptr, a.string_value.len > 0 {
                w.lengthPrefixed(UnsafeRawBufferPointer(start: p, count: a.string_value.len))
            } else {
                w.varint(0)
            }
        case FIREFLY_ATTR_JSON.rawValue: w.byte(6); string(a.string_value, &w)
        default: w.byte(1); string(a.string_value, &w)
        }
    }

    static func attributes(_ r: inout ByteReader) throws(DecodeError) -> [Attribute] {
        let n = try r.count()
        var out: [Attribute] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(Attribute(try r.string(), try value(&r))) }
        return out
    }

    static func value(_ r: inout ByteReader) throws(DecodeError) -> AttributeValue {
        switch try r.byte() {
        case 1: .string(try r.string())
        case 2: .bool(try r.byte() != 0)
        case 3: .int(Int64(bitPattern: try r.u64()))
        case 4: .double(try r.double())
        case 5: .bytes(try r.byteArray())
        case 6: .json(try r.string())
        default: throw DecodeError(description: "bad attribute type")
        }
    }

    // MARK: Labels and strings

    /// Labels already canonical (ASCII keys strictly ascending: what receivers make) are copied;
    /// any other set goes through `Label.canonical`, as `MetricPoint` does.
    static func labels(_ kvs: UnsafeBufferPointer<firefly_kv>, _ w: inout ByteWriter) {
        var canonical = true
        for i in kvs.indices where !isASCII(kvs[i].key) || (i > 0 && !precedes(kvs[i - 1].key, kvs[i].key)) {
            canonical = false
            break
        }
        if canonical {
            w.varint(UInt64(kvs.count))
            for kv in kvs { string(kv.key, &w); string(kv.value, &w) }
        } else {
            let sorted = Label.canonical(kvs.map { Label($0.key.string, $0.value.string) })
            w.varint(UInt64(sorted.count))
            for l in sorted { w.string(l.key); w.string(l.value) }
        }
    }

    /// The bytes as `firefly_str.string` would hold them: copied when ASCII, else repaired UTF-8.
    @inline(__always) static func string(_ s: firefly_str, _ w: inout ByteWriter) {
        guard let ptr = s.ptr, s.len > 0 else {
            w.varint(0)
            return
        }
        let bytes = UnsafeRawBufferPointer(start: ptr, count: s.len)
        if isASCII(bytes) { w.lengthPrefixed(bytes) } else { w.string(s.string) }
    }

    static func isASCII(_ s: firefly_str) -> Bool {
        guard let ptr = s.ptr, s.len > 0 else { return true }
        return isASCII(UnsafeRawBufferPointer(start: ptr, count: s.len))
    }

    @inline(__always) static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        while i + 8 <= n {
            if bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            i += 8
        }
        while i < n {
            if bytes[i] >= 0x80 { return false }
            i += 1
        }
        return true
    }

    /// Byte-wise `a < b` (keys ASCII, so the same order `Label.canonical` uses).
    static func precedes(_ a: firefly_str, _ b: firefly_str) -> Bool {
        let x = a.ptr.map { UnsafeRawBufferPointer(start: $0, count: a.len) } ?? UnsafeRawBufferPointer(start: nil, count: 0)
        let y = b.ptr.map { UnsafeRawBufferPointer(start: $0, count: b.len) } ?? UnsafeRawBufferPointer(start: nil, count: 0)
        return x.lexicographicallyPrecedes(y)
    }

    @inline(__always) static func bigEndian(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}
