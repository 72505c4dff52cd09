public import CFireflyPlugin
public import FireflyModel
public import FireflyPluginKit

/// The durable queue's record: one emitted batch (the part of it some pipeline routes) and the
/// receiver it came from. Little-endian fixed-width numbers, LEB128 lengths and counts; a leading
/// version byte lets the format grow — version 2 added logs and invocations, version 3 writes a
/// span's or log record's resource attributes once for a run of items that share them (as receivers
/// share one resource's attributes among its items), and records of every earlier version still read.
///
/// There is one encoder, and it reads the plugin's C batch directly (the receiver path writes no
/// Swift values on the way to disk); Swift values are encoded by viewing them as a C batch first.
/// Strings are repaired exactly as `BatchBridge` repairs them (invalid UTF-8 replaced), labels put
/// in `Label.canonical` order, so a record decodes to what `BatchBridge.telemetry(from:)` gives.
public enum RecordCodec {
    public static let version: UInt8 = 3

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
        var resource = SharedResource()
        for i in 0..<n.spans { span(BatchBridge.span(i, of: b), &resource, &w) }
        w.varint(UInt64(n.logs))
        resource = SharedResource()
        for i in 0..<n.logs { log(BatchBridge.log(i, of: b), &resource, &w) }
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

    /// The receiver and the telemetry of a record, as Swift values: the record's C view
    /// (`decode(_:arena:keeping:into:)`, the one decoder) converted by `BatchBridge`.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> (receiver: String, batch: TelemetryBatch) {
        let arena = CArena()
        var items = CItems()
        let receiver = try decode(bytes, arena: arena, keeping: { _ in .all }, into: &items)
        do {
            return (receiver, try BatchBridge.telemetry(from: items.cBatch(0..<items.count, in: arena)))
        } catch {
            throw DecodeError(description: error.description)
        }
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> (receiver: String, batch: TelemetryBatch) {
        let result: Result<(receiver: String, batch: TelemetryBatch), DecodeError> = bytes.withUnsafeBytes { b in
            do throws(DecodeError) { return .success(try decode(b)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// The items of one or more records as C structs, kind by kind, in record order.
    struct CItems {
        var points: [firefly_metric_point] = []
        var spans: [firefly_span] = []
        var logs: [firefly_log_record] = []
        var invocations: [firefly_invocation] = []

        var count: Int { points.count + spans.count + logs.count + invocations.count }

        mutating func append(contentsOf other: CItems) {
            points += other.points
            spans += other.spans
            logs += other.logs
            invocations += other.invocations
        }

        /// The C batch of the items at `range` of points, then spans, log records, invocations —
        /// the order of `TelemetryBatch.items(_:)`; the arrays are copied into `arena`.
        func cBatch(_ range: Range<Int>, in arena: CArena) -> UnsafePointer<firefly_batch> {
            var offset = 0
            func part<T>(_ items: [T]) -> (UnsafePointer<T>?, Int) {
                defer { offset += items.count }
                let lower = min(max(range.lowerBound - offset, 0), items.count)
                let upper = min(max(range.upperBound - offset, 0), items.count)
                return lower < upper ? (arena.array(items[lower..<upper]), upper - lower) : (nil, 0)
            }
            return BatchBridge.header(
                points: part(points), spans: part(spans), logs: part(logs), invocations: part(invocations), in: arena)
        }
    }

    /// Decodes a record into C structs appended to `items`, keeping the signals `keeping` gives for
    /// the record's receiver. Strings, bytes and numbers are read in place: the structs point into
    /// `bytes` and `arena`, so both must outlive them. Nothing is appended when the record is damaged.
    /// Returns the receiver.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, arena: CArena, keeping: (String) -> Signals, into items: inout CItems
    ) throws(DecodeError) -> String {
        var r = CRecordReader(r: ByteReader(bytes), arena: arena)
        let recordVersion = try r.r.byte()
        guard (1...version).contains(recordVersion) else {
            throw DecodeError(description: "unknown record version \(recordVersion)")
        }
        r.sharesResources = recordVersion >= 3
        let receiver = try r.string().string
        let signals = keeping(receiver)
        var out = CItems()
        let pointCount = try r.r.count()
        if signals.contains(.metrics) { out.points.reserveCapacity(pointCount) }
        for _ in 0..<pointCount {
            let p = try r.point()
            if signals.contains(.metrics) { out.points.append(p) }
        }
        let spanCount = try r.r.count()
        if signals.contains(.traces) { out.spans.reserveCapacity(spanCount) }
        for _ in 0..<spanCount {
            let s = try r.span()
            if signals.contains(.traces) { out.spans.append(s) }
        }
        if recordVersion >= 2 {
            r.previousResource = nil
            let logCount = try r.r.count()
            for _ in 0..<logCount {
                let l = try r.log()
                if signals.contains(.logs) { out.logs.append(l) }
            }
            let invocationCount = try r.r.count()
            for _ in 0..<invocationCount {
                let v = try r.invocation()
                if signals.contains(.logs) { out.invocations.append(v) }
            }
        }
        guard r.r.isAtEnd else { throw DecodeError(description: "trailing bytes after batch") }
        items.append(contentsOf: out)
        return receiver
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

    // MARK: Spans

    static func span(_ s: firefly_span, _ resource: inout SharedResource, _ w: inout ByteWriter) {
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
        resource.write(s.resource_attributes, s.resource_attribute_count, &w)
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

    // MARK: Logs and invocations

    static func log(_ l: firefly_log_record, _ resource: inout SharedResource, _ w: inout ByteWriter) {
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
        resource.write(l.resource_attributes, l.resource_attribute_count, &w)
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

    /// An item's resource attributes (version 3): `count << 1` and the attributes, or `1` when they
    /// are the same C array as the previous item's, which a receiver hands over for every item of
    /// one resource.
    struct SharedResource {
        private var previous: (UnsafePointer<firefly_attr>, Int)?

        mutating func write(_ ptr: UnsafePointer<firefly_attr>?, _ count: Int, _ w: inout ByteWriter) {
            guard let ptr, count > 0 else {
                w.varint(0)
                return
            }
            if let (p, n) = previous, p == ptr, n == count {
                w.varint(1)
                return
            }
            previous = (ptr, count)
            w.varint(UInt64(count) << 1)
            for a in UnsafeBufferPointer(start: ptr, count: count) {
                string(a.key, &w)
                value(a, &w)
            }
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
