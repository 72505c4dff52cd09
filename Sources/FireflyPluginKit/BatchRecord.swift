public import CFireflyPlugin
public import FireflyModel

/// Writes a C batch straight into the durable queue's record form (`BatchCodec`), without building
/// Swift values first: the receiver path of the durable queue. The bytes are exactly those of
/// `BatchCodec.encode(BatchBridge.telemetry(from:))` — strings repaired the same way, labels in the
/// same canonical order, the same errors — which a test holds over random and awkward batches.
public enum BatchRecord {
    /// Appends the record of `batch` to `w`, with its points only when `keepPoints` and its spans
    /// only when `keepSpans`; returns how many of each it wrote.
    public static func encode(
        _ batch: UnsafePointer<firefly_batch>, receiver: String, keepPoints: Bool, keepSpans: Bool, into w: inout ByteWriter
    ) throws(BatchBridge.InvalidBatch) -> (points: Int, spans: Int) {
        let b = try BatchBridge.checkedHeader(batch)
        let pointCount = keepPoints ? b.point_count : 0
        let spanCount = keepSpans ? b.span_count : 0
        w.byte(BatchCodec.version)
        w.string(receiver)
        w.varint(UInt64(pointCount))
        for i in 0..<pointCount { try point(BatchBridge.point(i, of: b), &w) }
        w.varint(UInt64(spanCount))
        for i in 0..<spanCount { span(BatchBridge.span(i, of: b), &w) }
        return (pointCount, spanCount)
    }

    /// Field order as `BatchCodec.point`.
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

    /// Field order as `BatchCodec.span`.
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

    /// Type tags as `BatchCodec.attributes`; unknown C types read as strings, as in `BatchBridge`.
    static func attributes(_ ptr: UnsafePointer<firefly_attr>?, _ count: Int, _ w: inout ByteWriter) {
        let attrs = BatchBridge.buffer(ptr, count)
        w.varint(UInt64(attrs.count))
        for a in attrs {
            string(a.key, &w)
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
