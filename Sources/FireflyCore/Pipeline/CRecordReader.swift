// Reads a RecordCodec record's items into the C ABI's structs, in place.
import CFireflyPlugin
import FireflyModel
import FireflyPluginKit

/// The decoding half of `RecordCodec`: each item becomes the C struct an exporter plugin is
/// handed, with its strings and bytes pointing into the record (written valid UTF-8 by the
/// encoder) and its arrays (labels, attributes, quantiles, events, links) in the arena. No Swift
/// value is made on the way from the queue to the plugin.
struct CRecordReader {
    var r: ByteReader
    let arena: CArena
    /// Version 3 and later: resource attributes may refer to the previous item's.
    var sharesResources = false
    /// The previous span's or log record's resource attributes, shared rather than copied.
    var previousResource: (UnsafePointer<firefly_attr>?, Int)?

    typealias DecodeError = RecordCodec.DecodeError

    // MARK: Strings and ids

    /// A length-prefixed string, in place.
    @inline(__always) mutating func string() throws(DecodeError) -> firefly_str {
        let n = try r.count()
        guard n > 0 else { return firefly_str(ptr: nil, len: 0) }
        defer { r.offset += n }
        return firefly_str(ptr: (r.base.baseAddress! + r.offset).assumingMemoryBound(to: CChar.self), len: n)
    }

    /// An id the encoder wrote as big-endian 64-bit words (`words` of them) back into its bytes.
    @inline(__always) mutating func id<T>(_ out: inout T, words: Int) throws(DecodeError) {
        var values: (UInt64, UInt64) = (0, 0)
        values.0 = try r.u64()
        if words == 2 { values.1 = try r.u64() }
        withUnsafeMutableBytes(of: &out) { raw in
            raw.storeBytes(of: values.0.bigEndian, toByteOffset: 0, as: UInt64.self)
            if words == 2 { raw.storeBytes(of: values.1.bigEndian, toByteOffset: 8, as: UInt64.self) }
        }
    }

    /// `count` elements read by `element` into arena storage; nil when there are none.
    @inline(__always) mutating func array<T>(
        _ count: Int, _ element: (inout CRecordReader) throws(DecodeError) -> T
    ) throws(DecodeError) -> UnsafePointer<T>? {
        guard count > 0 else { return nil }
        let storage = arena.allocate(byteCount: MemoryLayout<T>.stride * count, alignment: MemoryLayout<T>.alignment)
            .bindMemory(to: T.self, capacity: count)
        for i in 0..<count { (storage + i).initialize(to: try element(&self)) }
        return UnsafePointer(storage)
    }

    // MARK: Attributes

    /// Keyed values (`RecordCodec.attributes`' format).
    mutating func attributes() throws(DecodeError) -> (UnsafePointer<firefly_attr>?, Int) {
        try attributes(count: try r.count())
    }

    /// An item's resource attributes (`RecordCodec.SharedResource`'s format from version 3 on).
    mutating func resourceAttributes() throws(DecodeError) -> (UnsafePointer<firefly_attr>?, Int) {
        guard sharesResources else { return try attributes() }
        let tag = try r.varint()
        if tag == 1 {
            guard let previous = previousResource else {
                throw DecodeError(description: "resource attributes refer to a previous item that is not there")
            }
            return previous
        }
        guard tag & 1 == 0, tag >> 1 <= UInt64(r.base.count - r.offset) else {
            throw DecodeError(description: "bad resource attribute count")
        }
        let resource = try attributes(count: Int(tag >> 1))
        if resource.1 > 0 { previousResource = resource }  // as the encoder: an empty set is never referred to
        return resource
    }

    private mutating func attributes(count n: Int) throws(DecodeError) -> (UnsafePointer<firefly_attr>?, Int) {
        (try array(n) { (me: inout CRecordReader) throws(DecodeError) in
            let key = try me.string()
            var a = try me.value()
            a.key = key
            return a
        }, n)
    }

    /// One typed value (type tags: 1 string, 2 bool, 3 int, 4 double, 5 bytes, 6 JSON text).
    mutating func value() throws(DecodeError) -> firefly_attr {
        var a = firefly_attr(
            key: firefly_str(ptr: nil, len: 0), type: FIREFLY_ATTR_STRING.rawValue, reserved: 0, int_value: 0,
            double_value: 0, string_value: firefly_str(ptr: nil, len: 0))
        switch try r.byte() {
        case 1: a.string_value = try string()
        case 2: a.type = FIREFLY_ATTR_BOOL.rawValue; a.int_value = try r.byte() != 0 ? 1 : 0
        case 3: a.type = FIREFLY_ATTR_INT.rawValue; a.int_value = Int64(bitPattern: try r.u64())
        case 4: a.type = FIREFLY_ATTR_DOUBLE.rawValue; a.double_value = try r.double()
        case 5: a.type = FIREFLY_ATTR_BYTES.rawValue; a.string_value = try string()
        case 6: a.type = FIREFLY_ATTR_JSON.rawValue; a.string_value = try string()
        default: throw DecodeError(description: "bad attribute type")
        }
        return a
    }

    // MARK: Items

    mutating func point() throws(DecodeError) -> firefly_metric_point {
        var p = firefly_metric_point()
        p.name = try string(); p.namespace_ = try string(); p.unit = try string(); p.function = try string()
        p.kind = UInt32(try r.byte())
        guard MetricKind(rawValue: p.kind) != nil else { throw DecodeError(description: "bad metric kind") }
        let flags = try r.byte()
        if flags & 1 != 0 { p.flags |= FIREFLY_POINT_MONOTONIC }
        if flags & 2 != 0 { p.flags |= FIREFLY_POINT_HAS_MIN_MAX }
        if flags & 4 != 0 { p.flags |= FIREFLY_POINT_DELTA }
        p.label_count = try r.count()
        p.labels = try array(p.label_count) { (me: inout CRecordReader) throws(DecodeError) in
            firefly_kv(key: try me.string(), value: try me.string())
        }
        p.start_time_unix_nano = try r.u64(); p.time_unix_nano = try r.u64()
        p.value = try r.double(); p.count = try r.double(); p.sum = try r.double(); p.min = try r.double(); p.max = try r.double()
        p.quantile_count = try r.count()
        p.quantiles = try array(p.quantile_count) { (me: inout CRecordReader) throws(DecodeError) in
            firefly_quantile(quantile: try me.r.double(), value: try me.r.double())
        }
        p.bound_count = try r.count()
        p.bounds = try array(p.bound_count) { (me: inout CRecordReader) throws(DecodeError) in try me.r.double() }
        p.bucket_count = try r.count()
        p.bucket_counts = try array(p.bucket_count) { (me: inout CRecordReader) throws(DecodeError) in try me.r.u64() }
        return p
    }

    mutating func span() throws(DecodeError) -> firefly_span {
        var s = firefly_span()
        try id(&s.trace_id, words: 2)
        try id(&s.span_id, words: 1)
        try id(&s.parent_span_id, words: 1)
        s.trace_state = try string(); s.name = try string()
        s.kind = UInt32(try r.byte())
        s.status_code = UInt32(try r.byte())
        s.status_message = try string()
        s.start_time_unix_nano = try r.u64(); s.end_time_unix_nano = try r.u64()
        s.function = try string(); s.service = try string(); s.scope_name = try string(); s.scope_version = try string()
        (s.attributes, s.attribute_count) = try attributes()
        (s.resource_attributes, s.resource_attribute_count) = try resourceAttributes()
        s.event_count = try r.count()
        s.events = try array(s.event_count) { (me: inout CRecordReader) throws(DecodeError) in
            var e = firefly_span_event()
            e.time_unix_nano = try me.r.u64()
            e.name = try me.string()
            (e.attributes, e.attribute_count) = try me.attributes()
            return e
        }
        s.link_count = try r.count()
        s.links = try array(s.link_count) { (me: inout CRecordReader) throws(DecodeError) in
            var l = firefly_span_link()
            try me.id(&l.trace_id, words: 2)
            try me.id(&l.span_id, words: 1)
            l.trace_state = try me.string()
            (l.attributes, l.attribute_count) = try me.attributes()
            return l
        }
        return s
    }

    mutating func log() throws(DecodeError) -> firefly_log_record {
        var l = firefly_log_record()
        l.time_unix_nano = try r.u64(); l.observed_time_unix_nano = try r.u64()
        l.severity_number = UInt32(try r.byte()); l.trace_flags = try r.u32()
        l.severity_text = try string()
        l.body = try value()
        try id(&l.trace_id, words: 2)
        try id(&l.span_id, words: 1)
        l.function = try string(); l.service = try string(); l.scope_name = try string(); l.scope_version = try string()
        l.record_id = try string()
        (l.attributes, l.attribute_count) = try attributes()
        (l.resource_attributes, l.resource_attribute_count) = try resourceAttributes()
        return l
    }

    mutating func invocation() throws(DecodeError) -> firefly_invocation {
        var v = firefly_invocation()
        v.function = try string(); v.version = try string(); v.request_id = try string()
        v.start_time_unix_nano = try r.u64()
        v.duration_ms = try r.double(); v.billed_duration_ms = try r.double()
        let initDuration = try r.double()
        v.memory_size_mb = try r.u32(); v.max_memory_used_mb = try r.u32()
        v.status = UInt32(try r.byte())
        guard InvocationStatus(rawValue: v.status) != nil else { throw DecodeError(description: "bad invocation status") }
        if try r.byte() & 1 != 0 {
            v.flags = FIREFLY_INVOCATION_COLD_START
            v.init_duration_ms = initDuration
        }
        v.error_type = try string()
        try id(&v.trace_id, words: 2)
        (v.attributes, v.attribute_count) = try attributes()
        return v
    }
}
