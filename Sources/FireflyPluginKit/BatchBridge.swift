public import CFireflyPlugin
public import FireflyModel

/// Converts telemetry between the Swift model and the C ABI's `firefly_batch`, in both directions.
/// The host and the plugin kit share it, so both sides of the ABI agree by construction.
public enum BatchBridge {
    /// Why a C batch could not be read.
    public struct InvalidBatch: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Builds the C view of `batch` inside `arena`; valid while the arena lives.
    public static func cBatch(_ batch: TelemetryBatch, in arena: CArena) -> UnsafePointer<firefly_batch> {
        let points = batch.points.map { cPoint($0, arena) }
        let spans = batch.spans.map { cSpan($0, arena) }
        let logs = batch.logs.map { cLog($0, arena) }
        let invocations = batch.invocations.map { cInvocation($0, arena) }
        return header(
            points: (arena.array(points), points.count), spans: (arena.array(spans), spans.count),
            logs: (arena.array(logs), logs.count), invocations: (arena.array(invocations), invocations.count), in: arena)
    }

    /// A batch header over element arrays already in C form (this ABI's strides), inside `arena`.
    public static func header(
        points: (UnsafePointer<firefly_metric_point>?, Int) = (nil, 0), spans: (UnsafePointer<firefly_span>?, Int) = (nil, 0),
        logs: (UnsafePointer<firefly_log_record>?, Int) = (nil, 0),
        invocations: (UnsafePointer<firefly_invocation>?, Int) = (nil, 0), in arena: CArena
    ) -> UnsafePointer<firefly_batch> {
        let header = firefly_batch(
            abi_version: firefly_abi_version,
            struct_size: UInt32(MemoryLayout<firefly_batch>.size),
            points: points.1 > 0 ? points.0 : nil, point_count: points.1,
            point_size: MemoryLayout<firefly_metric_point>.stride,
            spans: spans.1 > 0 ? spans.0 : nil, span_count: spans.1,
            span_size: MemoryLayout<firefly_span>.stride,
            logs: logs.1 > 0 ? logs.0 : nil, log_count: logs.1,
            log_size: MemoryLayout<firefly_log_record>.stride,
            invocations: invocations.1 > 0 ? invocations.0 : nil, invocation_count: invocations.1,
            invocation_size: MemoryLayout<firefly_invocation>.stride
        )
        return arena.array(CollectionOfOne(header))!
    }

    /// Copies a C batch into Swift values, checking versions and strides first.
    public static func telemetry(from batch: UnsafePointer<firefly_batch>) throws(InvalidBatch) -> TelemetryBatch {
        let b = try checkedHeader(batch)
        var out = TelemetryBatch()
        out.points.reserveCapacity(b.point_count)
        for i in 0..<b.point_count { out.points.append(try swiftPoint(point(i, of: b))) }
        out.spans.reserveCapacity(b.span_count)
        for i in 0..<b.span_count { out.spans.append(swiftSpan(span(i, of: b))) }
        out.logs.reserveCapacity(b.log_count)
        for i in 0..<b.log_count { out.logs.append(swiftLog(log(i, of: b))) }
        out.invocations.reserveCapacity(b.invocation_count)
        for i in 0..<b.invocation_count { out.invocations.append(swiftInvocation(invocation(i, of: b))) }
        return out
    }

    /// The batch header, once its version and element strides are known to be usable. A batch
    /// from a plugin built before ABI 1.2 is shorter: it is read at its own size, so the fields it
    /// lacks (logs, invocations) read as empty.
    package static func checkedHeader(_ batch: UnsafePointer<firefly_batch>) throws(InvalidBatch) -> firefly_batch {
        let version = batch.pointee.abi_version, size = Int(batch.pointee.struct_size)
        guard (version >> 16) == FIREFLY_ABI_MAJOR else {
            throw InvalidBatch(description: "batch ABI major \((version >> 16)), expected \(FIREFLY_ABI_MAJOR)")
        }
        guard size >= firefly_batch_size_1_0 else {
            throw InvalidBatch(description: "batch struct_size \(size) is smaller than \(firefly_batch_size_1_0)")
        }
        var b = firefly_batch()
        withUnsafeMutableBytes(of: &b) { $0.baseAddress!.copyMemory(from: batch, byteCount: min(size, $0.count)) }
        // Each element array: present when it has elements, and strided at least this ABI's element size.
        func check(_ name: String, count: Int, pointer: UnsafeRawPointer?, stride: Int, minimum: Int) throws(InvalidBatch) {
            guard count == 0 || (pointer != nil && stride >= minimum) else {
                throw InvalidBatch(description: "batch \(name)_size \(stride) is invalid")
            }
        }
        try check("point", count: b.point_count, pointer: b.points, stride: b.point_size, minimum: MemoryLayout<firefly_metric_point>.size)
        try check("span", count: b.span_count, pointer: b.spans, stride: b.span_size, minimum: MemoryLayout<firefly_span>.size)
        try check("log", count: b.log_count, pointer: b.logs, stride: b.log_size, minimum: MemoryLayout<firefly_log_record>.size)
        try check(
            "invocation", count: b.invocation_count, pointer: b.invocations, stride: b.invocation_size,
            minimum: MemoryLayout<firefly_invocation>.size)
        return b
    }

    /// Point `i` of a checked batch (the plugin's stride may be larger than this host's struct).
    @inline(__always) package static func point(_ i: Int, of b: firefly_batch) -> firefly_metric_point {
        (UnsafeRawPointer(b.points!) + i * b.point_size).assumingMemoryBound(to: firefly_metric_point.self).pointee
    }

    @inline(__always) package static func span(_ i: Int, of b: firefly_batch) -> firefly_span {
        (UnsafeRawPointer(b.spans!) + i * b.span_size).assumingMemoryBound(to: firefly_span.self).pointee
    }

    @inline(__always) package static func log(_ i: Int, of b: firefly_batch) -> firefly_log_record {
        (UnsafeRawPointer(b.logs!) + i * b.log_size).assumingMemoryBound(to: firefly_log_record.self).pointee
    }

    @inline(__always) package static func invocation(_ i: Int, of b: firefly_batch) -> firefly_invocation {
        (UnsafeRawPointer(b.invocations!) + i * b.invocation_size).assumingMemoryBound(to: firefly_invocation.self).pointee
    }

    package static func unknownKind(_ p: firefly_metric_point) -> InvalidBatch {
        InvalidBatch(description: "metric point '\(p.name.string)' has unknown kind \(p.kind)")
    }

    // MARK: Swift → C

    static func cPoint(_ p: MetricPoint, _ arena: CArena) -> firefly_metric_point {
        var flags: UInt32 = 0
        if p.isMonotonic { flags |= FIREFLY_POINT_MONOTONIC }
        if p.hasMinMax { flags |= FIREFLY_POINT_HAS_MIN_MAX }
        if p.isDelta { flags |= FIREFLY_POINT_DELTA }
        return firefly_metric_point(
            name: arena.str(p.name), namespace_: arena.str(p.namespace), unit: arena.str(p.unit),
            function: arena.str(p.function), kind: p.kind.rawValue, flags: flags,
            labels: arena.kvArray(p.labels), label_count: p.labels.count,
            start_time_unix_nano: p.startTimeUnixNano, time_unix_nano: p.timeUnixNano,
            value: p.value, count: p.count, sum: p.sum, min: p.min, max: p.max,
            quantiles: arena.array(p.quantiles.map { firefly_quantile(quantile: $0.quantile, value: $0.value) }),
            quantile_count: p.quantiles.count,
            bounds: arena.array(p.bounds), bound_count: p.bounds.count,
            bucket_counts: arena.array(p.bucketCounts), bucket_count: p.bucketCounts.count
        )
    }

    static func cAttributes(_ attrs: [Attribute], _ arena: CArena) -> UnsafePointer<firefly_attr>? {
        arena.array(attrs.map { cAttribute($0.key, $0.value, arena) })
    }

    static func cAttribute(_ key: String, _ value: AttributeValue, _ arena: CArena) -> firefly_attr {
        var c = firefly_attr(
            key: arena.str(key), type: 0, reserved: 0, int_value: 0, double_value: 0,
            string_value: firefly_str(ptr: nil, len: 0))
        switch value {
        case .string(let s): c.type = FIREFLY_ATTR_STRING.rawValue; c.string_value = arena.str(s)
        case .bool(let b): c.type = FIREFLY_ATTR_BOOL.rawValue; c.int_value = b ? 1 : 0
        case .int(let i): c.type = FIREFLY_ATTR_INT.rawValue; c.int_value = i
        case .double(let d): c.type = FIREFLY_ATTR_DOUBLE.rawValue; c.double_value = d
        case .bytes(let b):
            c.type = FIREFLY_ATTR_BYTES.rawValue
            let bytes = arena.bytes(b)
            c.string_value = firefly_str(ptr: UnsafeRawPointer(bytes.ptr)?.assumingMemoryBound(to: CChar.self), len: bytes.len)
        case .json(let s): c.type = FIREFLY_ATTR_JSON.rawValue; c.string_value = arena.str(s)
        }
        return c
    }

    static func cSpan(_ s: Span, _ arena: CArena) -> firefly_span {
        var c = firefly_span()
        withUnsafeMutableBytes(of: &c.trace_id) { $0.copyBytes(from: s.traceID.bytes) }
        withUnsafeMutableBytes(of: &c.span_id) { $0.copyBytes(from: s.spanID.bytes) }
        withUnsafeMutableBytes(of: &c.parent_span_id) { $0.copyBytes(from: s.parentSpanID.bytes) }
        c.trace_state = arena.str(s.traceState)
        c.name = arena.str(s.name)
        c.kind = s.kind.rawValue
        c.status_code = s.statusCode.rawValue
        c.status_message = arena.str(s.statusMessage)
        c.start_time_unix_nano = s.startTimeUnixNano
        c.end_time_unix_nano = s.endTimeUnixNano
        c.function = arena.str(s.function)
        c.service = arena.str(s.service)
        c.scope_name = arena.str(s.scopeName)
        c.scope_version = arena.str(s.scopeVersion)
        c.attributes = cAttributes(s.attributes, arena)
        c.attribute_count = s.attributes.count
        c.resource_attributes = cAttributes(s.resourceAttributes, arena)
        c.resource_attribute_count = s.resourceAttributes.count
        c.events = arena.array(s.events.map { e in
            firefly_span_event(
                time_unix_nano: e.timeUnixNano, name: arena.str(e.name),
                attributes: cAttributes(e.attributes, arena), attribute_count: e.attributes.count)
        })
        c.event_count = s.events.count
        c.links = arena.array(s.links.map { l in
            var cl = firefly_span_link()
            withUnsafeMutableBytes(of: &cl.trace_id) { $0.copyBytes(from: l.traceID.bytes) }
            withUnsafeMutableBytes(of: &cl.span_id) { $0.copyBytes(from: l.spanID.bytes) }
            cl.trace_state = arena.str(l.traceState)
            cl.attributes = cAttributes(l.attributes, arena)
            cl.attribute_count = l.attributes.count
            return cl
        })
        c.link_count = s.links.count
        return c
    }

    // MARK: C → Swift

    static func swiftPoint(_ p: firefly_metric_point) throws(InvalidBatch) -> MetricPoint {
        guard let kind = MetricKind(rawValue: p.kind) else { throw unknownKind(p) }
        return MetricPoint(
            name: p.name.string, namespace: p.namespace_.string, unit: p.unit.string, function: p.function.string,
            kind: kind, isMonotonic: p.flags & FIREFLY_POINT_MONOTONIC != 0,
            hasMinMax: p.flags & FIREFLY_POINT_HAS_MIN_MAX != 0, isDelta: p.flags & FIREFLY_POINT_DELTA != 0,
            labels: buffer(p.labels, p.label_count).map { Label($0.key.string, $0.value.string) },
            startTimeUnixNano: p.start_time_unix_nano, timeUnixNano: p.time_unix_nano,
            value: p.value, count: p.count, sum: p.sum, min: p.min, max: p.max,
            quantiles: buffer(p.quantiles, p.quantile_count).map { Quantile($0.quantile, $0.value) },
            bounds: Array(buffer(p.bounds, p.bound_count)),
            bucketCounts: Array(buffer(p.bucket_counts, p.bucket_count))
        )
    }

    static func swiftAttributes(_ ptr: UnsafePointer<firefly_attr>?, _ count: Int) -> [Attribute] {
        buffer(ptr, count).map { Attribute($0.key.string, swiftValue($0)) }
    }

    static func swiftValue(_ a: firefly_attr) -> AttributeValue {
        switch a.type {
        case FIREFLY_ATTR_BOOL.rawValue: .bool(a.int_value != 0)
        case FIREFLY_ATTR_INT.rawValue: .int(a.int_value)
        case FIREFLY_ATTR_DOUBLE.rawValue: .double(a.double_value)
        case FIREFLY_ATTR_BYTES.rawValue:
            .bytes(a.string_value.ptr.map { Array(UnsafeRawBufferPointer(start: $0, count: a.string_value.len)) } ?? [])
        case FIREFLY_ATTR_JSON.rawValue: .json(a.string_value.string)
        default: .string(a.string_value.string)
        }
    }

    static func swiftSpan(_ s: firefly_span) -> Span {
        var t = s.trace_id, id = s.span_id, parent = s.parent_span_id
        let traceID = withUnsafeBytes(of: &t) { TraceID(bytes: $0)! }
        let spanID = withUnsafeBytes(of: &id) { SpanID(bytes: $0)! }
        let parentID = withUnsafeBytes(of: &parent) { SpanID(bytes: $0)! }
        return Span(
            traceID: traceID, spanID: spanID, parentSpanID: parentID, traceState: s.trace_state.string,
            name: s.name.string, kind: SpanKind(rawValue: s.kind) ?? .unspecified,
            statusCode: StatusCode(rawValue: s.status_code) ?? .unset, statusMessage: s.status_message.string,
            startTimeUnixNano: s.start_time_unix_nano, endTimeUnixNano: s.end_time_unix_nano,
            function: s.function.string, service: s.service.string,
            scopeName: s.scope_name.string, scopeVersion: s.scope_version.string,
            attributes: swiftAttributes(s.attributes, s.attribute_count),
            resourceAttributes: swiftAttributes(s.resource_attributes, s.resource_attribute_count),
            events: buffer(s.events, s.event_count).map {
                SpanEvent(timeUnixNano: $0.time_unix_nano, name: $0.name.string,
                          attributes: swiftAttributes($0.attributes, $0.attribute_count))
            },
            links: buffer(s.links, s.link_count).map { l in
                var lt = l.trace_id, ls = l.span_id
                return SpanLink(
                    traceID: withUnsafeBytes(of: &lt) { TraceID(bytes: $0)! },
                    spanID: withUnsafeBytes(of: &ls) { SpanID(bytes: $0)! },
                    traceState: l.trace_state.string,
                    attributes: swiftAttributes(l.attributes, l.attribute_count))
            }
        )
    }

    static func cLog(_ l: LogRecord, _ arena: CArena) -> firefly_log_record {
        var c = firefly_log_record()
        c.time_unix_nano = l.timeUnixNano
        c.observed_time_unix_nano = l.observedTimeUnixNano
        c.severity_number = UInt32(l.severityNumber)
        c.trace_flags = l.traceFlags
        c.severity_text = arena.str(l.severityText)
        c.body = cAttribute("", l.body, arena)
        withUnsafeMutableBytes(of: &c.trace_id) { $0.copyBytes(from: l.traceID.bytes) }
        withUnsafeMutableBytes(of: &c.span_id) { $0.copyBytes(from: l.spanID.bytes) }
        c.function = arena.str(l.function)
        c.service = arena.str(l.service)
        c.scope_name = arena.str(l.scopeName)
        c.scope_version = arena.str(l.scopeVersion)
        c.record_id = arena.str(l.recordID)
        c.attributes = cAttributes(l.attributes, arena)
        c.attribute_count = l.attributes.count
        c.resource_attributes = cAttributes(l.resourceAttributes, arena)
        c.resource_attribute_count = l.resourceAttributes.count
        return c
    }

    static func cInvocation(_ v: Invocation, _ arena: CArena) -> firefly_invocation {
        var c = firefly_invocation()
        c.function = arena.str(v.function)
        c.version = arena.str(v.version)
        c.request_id = arena.str(v.requestID)
        c.start_time_unix_nano = v.startTimeUnixNano
        c.duration_ms = v.durationMs
        c.billed_duration_ms = v.billedDurationMs
        c.init_duration_ms = v.initDurationMs ?? 0
        c.memory_size_mb = v.memorySizeMB
        c.max_memory_used_mb = v.maxMemoryUsedMB
        c.status = v.status.rawValue
        c.flags = v.initDurationMs == nil ? 0 : FIREFLY_INVOCATION_COLD_START
        c.error_type = arena.str(v.errorType)
        withUnsafeMutableBytes(of: &c.trace_id) { $0.copyBytes(from: v.traceID.bytes) }
        c.attributes = cAttributes(v.attributes, arena)
        c.attribute_count = v.attributes.count
        return c
    }

    static func swiftLog(_ c: firefly_log_record) -> LogRecord {
        var t = c.trace_id, s = c.span_id
        return LogRecord(
            timeUnixNano: c.time_unix_nano, observedTimeUnixNano: c.observed_time_unix_nano,
            severityNumber: UInt8(clamping: c.severity_number), severityText: c.severity_text.string,
            body: swiftValue(c.body),
            attributes: swiftAttributes(c.attributes, c.attribute_count),
            resourceAttributes: swiftAttributes(c.resource_attributes, c.resource_attribute_count),
            traceID: withUnsafeBytes(of: &t) { TraceID(bytes: $0)! }, spanID: withUnsafeBytes(of: &s) { SpanID(bytes: $0)! },
            traceFlags: c.trace_flags, function: c.function.string, service: c.service.string,
            scopeName: c.scope_name.string, scopeVersion: c.scope_version.string, recordID: c.record_id.string)
    }

    static func swiftInvocation(_ c: firefly_invocation) -> Invocation {
        var t = c.trace_id
        return Invocation(
            function: c.function.string, version: c.version.string, requestID: c.request_id.string,
            startTimeUnixNano: c.start_time_unix_nano, durationMs: c.duration_ms, billedDurationMs: c.billed_duration_ms,
            memorySizeMB: c.memory_size_mb, maxMemoryUsedMB: c.max_memory_used_mb,
            initDurationMs: c.flags & FIREFLY_INVOCATION_COLD_START != 0 ? c.init_duration_ms : nil,
            status: InvocationStatus(rawValue: c.status) ?? .error, errorType: c.error_type.string,
            traceID: withUnsafeBytes(of: &t) { TraceID(bytes: $0)! },
            attributes: swiftAttributes(c.attributes, c.attribute_count))
    }

    public static func buffer<T>(_ ptr: UnsafePointer<T>?, _ count: Int) -> UnsafeBufferPointer<T> {
        UnsafeBufferPointer(start: count > 0 ? ptr : nil, count: count > 0 && ptr != nil ? count : 0)
    }
}
