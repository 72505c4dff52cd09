// Firefly's model → OTLP `Export{Trace,Metrics,Logs}ServiceRequest` protobuf (field numbers: wire-formats.md C.5).
public import FireflyModel
public import FireflyWire

/// Encodes batches as the OTLP export requests the `otlp` receiver (and every OTLP backend) reads.
/// Items that share a resource (and scope) go under one `Resource*` / `Scope*` entry, in the order
/// they first appear, so a request is as small as the data allows and the receiver rebuilds the
/// same model items: the round trip is tested through the receiver's own decoder.
public enum OTLPRequestEncoder {
    /// Resource attributes that the receiver copies into metric labels; a point's labels with these
    /// keys go back to its resource, every other label is a data point attribute.
    static let resourceLabelKeys: Set<String> = ["service.name", "faas.name", "cloud.region", "cloud.account.id"]

    // MARK: Traces

    /// `ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }`.
    public static func traces(_ spans: [Span]) -> [UInt8] {
        var w = ProtobufWriter()
        for (resource, scopes) in grouped(
            spans, resource: \.resourceAttributes, scope: { ScopeKey($0.scopeName, $0.scopeVersion) })
        {
            // ResourceSpans { resource = 1; repeated ScopeSpans scope_spans = 2; }
            w.message(1) { rs in
                rs.message(1) { writeResource(&$0, resource) }
                for (scope, items) in scopes {
                    // ScopeSpans { scope = 1; repeated Span spans = 2; }
                    rs.message(2) { ss in
                        if !scope.isEmpty { ss.message(1) { writeScope(&$0, scope) } }
                        for span in items { ss.message(2) { writeSpan(&$0, span) } }
                    }
                }
            }
        }
        return w.bytes
    }

    /// Span: trace_id 1, span_id 2, trace_state 3, parent_span_id 4, name 5, kind 6,
    /// start 7 / end 8 (fixed64), attributes 9, events 11, links 13, status 15.
    static func writeSpan(_ w: inout ProtobufWriter, _ s: Span) {
        w.bytesField(1, s.traceID.bytes)
        w.bytesField(2, s.spanID.bytes)
        if !s.traceState.isEmpty { w.stringField(3, s.traceState) }
        if s.parentSpanID.isValid { w.bytesField(4, s.parentSpanID.bytes) }
        w.stringField(5, s.name)
        if s.kind != .unspecified { w.varintField(6, UInt64(s.kind.rawValue)) }
        w.fixed64Field(7, s.startTimeUnixNano)
        w.fixed64Field(8, s.endTimeUnixNano)
        writeAttributes(&w, field: 9, s.attributes)
        for event in s.events {
            // Event { time_unix_nano 1 (fixed64), name 2, attributes 3 }
            w.message(11) { e in
                e.fixed64Field(1, event.timeUnixNano)
                e.stringField(2, event.name)
                writeAttributes(&e, field: 3, event.attributes)
            }
        }
        for link in s.links {
            // Link { trace_id 1, span_id 2, trace_state 3, attributes 4 }
            w.message(13) { l in
                l.bytesField(1, link.traceID.bytes)
                l.bytesField(2, link.spanID.bytes)
                if !link.traceState.isEmpty { l.stringField(3, link.traceState) }
                writeAttributes(&l, field: 4, link.attributes)
            }
        }
        if s.statusCode != .unset || !s.statusMessage.isEmpty {
            // Status { message 2, code 3 }
            w.message(15) { st in
                if !s.statusMessage.isEmpty { st.stringField(2, s.statusMessage) }
                if s.statusCode != .unset { st.varintField(3, UInt64(s.statusCode.rawValue)) }
            }
        }
    }

    // MARK: Logs

    /// `ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }`. Invocations are not
    /// sent on their own: they travel as the platform report log records they were read from, and
    /// the receiving side reads them from those records again.
    public static func logs(_ records: [LogRecord]) -> [UInt8] {
        var w = ProtobufWriter()
        for (resource, scopes) in grouped(
            records, resource: \.resourceAttributes, scope: { ScopeKey($0.scopeName, $0.scopeVersion) })
        {
            w.message(1) { rl in
                rl.message(1) { writeResource(&$0, resource) }
                for (scope, items) in scopes {
                    rl.message(2) { sl in
                        if !scope.isEmpty { sl.message(1) { writeScope(&$0, scope) } }
                        for record in items { sl.message(2) { writeLogRecord(&$0, record) } }
                    }
                }
            }
        }
        return w.bytes
    }

    /// LogRecord: time 1 (fixed64), severity_number 2, severity_text 3, body 5, attributes 6,
    /// flags 8 (fixed32), trace_id 9, span_id 10, observed_time 11 (fixed64).
    static func writeLogRecord(_ w: inout ProtobufWriter, _ r: LogRecord) {
        if r.timeUnixNano != 0 { w.fixed64Field(1, r.timeUnixNano) }
        if r.severityNumber != 0 { w.varintField(2, UInt64(r.severityNumber)) }
        if !r.severityText.isEmpty { w.stringField(3, r.severityText) }
        w.message(5) { writeAnyValue(&$0, r.body) }
        writeAttributes(&w, field: 6, r.attributes)
        if r.traceFlags != 0 { w.fixed32Field(8, r.traceFlags) }
        if r.traceID.isValid { w.bytesField(9, r.traceID.bytes) }
        if r.spanID.isValid { w.bytesField(10, r.spanID.bytes) }
        if r.observedTimeUnixNano != 0 { w.fixed64Field(11, r.observedTimeUnixNano) }
    }

    // MARK: Metrics

    /// `ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }`. Points of
    /// one metric (same name, unit and kind) under one resource share one `Metric`.
    public static func metrics(_ points: [MetricPoint]) -> [UInt8] {
        var w = ProtobufWriter()
        let byResource = grouped(
            points,
            resource: { p in
                p.labels.filter { resourceLabelKeys.contains($0.key) }.map { Attribute($0.key, .string($0.value)) }
            }, scope: { MetricKey($0) })
        for (resource, metrics) in byResource {
            w.message(1) { rm in
                rm.message(1) { writeResource(&$0, resource) }
                // ScopeMetrics { scope 1; repeated Metric metrics 2 }: Firefly keeps no metric scope.
                rm.message(2) { sm in
                    for (key, items) in metrics { sm.message(2) { writeMetric(&$0, key, items) } }
                }
            }
        }
        return w.bytes
    }

    /// What one OTLP `Metric` has in common: name, unit and the shape of its data.
    struct MetricKey: Hashable {
        var name: String
        var unit: String
        var kind: MetricKind
        var isMonotonic: Bool
        var isDelta: Bool

        init(_ p: MetricPoint) {
            name = CloudWatchMetricName.join(namespace: p.namespace, name: p.name)
            unit = p.unit
            kind = p.kind
            isMonotonic = p.kind == .cumulativeSum || p.kind == .deltaSum ? p.isMonotonic : false
            isDelta = p.kind == .histogram ? p.isDelta : false
        }
    }

    /// Metric: name 1, unit 3, gauge 5, sum 7, histogram 9, summary 11.
    static func writeMetric(_ w: inout ProtobufWriter, _ key: MetricKey, _ points: [MetricPoint]) {
        w.stringField(1, key.name)
        if !key.unit.isEmpty { w.stringField(3, key.unit) }
        switch key.kind {
        case .gauge:
            w.message(5) { g in for p in points { g.message(1) { writeNumberPoint(&$0, p) } } }
        case .cumulativeSum, .deltaSum:
            // Sum { data_points 1, aggregation_temporality 2 (1 delta, 2 cumulative), is_monotonic 3 }
            w.message(7) { s in
                for p in points { s.message(1) { writeNumberPoint(&$0, p) } }
                s.varintField(2, key.kind == .deltaSum ? 1 : 2)
                if key.isMonotonic { s.boolField(3, true) }
            }
        case .histogram:
            w.message(9) { h in
                for p in points { h.message(1) { writeHistogramPoint(&$0, p) } }
                h.varintField(2, key.isDelta ? 1 : 2)
            }
        case .summary:
            w.message(11) { s in for p in points { s.message(1) { writeSummaryPoint(&$0, p) } } }
        }
    }

    /// The labels that are not resource attributes, as data point attributes.
    static func pointAttributes(_ p: MetricPoint) -> [Attribute] {
        p.labels.filter { !resourceLabelKeys.contains($0.key) }.map { Attribute($0.key, .string($0.value)) }
    }

    /// NumberDataPoint: start 2, time 3 (fixed64), as_double 4, attributes 7.
    static func writeNumberPoint(_ w: inout ProtobufWriter, _ p: MetricPoint) {
        writeAttributes(&w, field: 7, pointAttributes(p))
        if p.startTimeUnixNano != 0 { w.fixed64Field(2, p.startTimeUnixNano) }
        w.fixed64Field(3, p.timeUnixNano)
        w.doubleField(4, p.value)
    }

    /// HistogramDataPoint: start 2, time 3, count 4 (fixed64), sum 5, bucket_counts 6 (packed
    /// fixed64), explicit_bounds 7 (packed double), attributes 9, min 11, max 12.
    static func writeHistogramPoint(_ w: inout ProtobufWriter, _ p: MetricPoint) {
        writeAttributes(&w, field: 9, pointAttributes(p))
        if p.startTimeUnixNano != 0 { w.fixed64Field(2, p.startTimeUnixNano) }
        w.fixed64Field(3, p.timeUnixNano)
        w.fixed64Field(4, count(p.count))
        w.doubleField(5, p.sum)
        if !p.bucketCounts.isEmpty {
            w.lengthPrefix(6, p.bucketCounts.count * 8)
            for c in p.bucketCounts { w.fixed64(c) }
        }
        if !p.bounds.isEmpty {
            w.lengthPrefix(7, p.bounds.count * 8)
            for b in p.bounds { w.fixed64(b.bitPattern) }
        }
        if p.hasMinMax {
            w.doubleField(11, p.min)
            w.doubleField(12, p.max)
        }
    }

    /// SummaryDataPoint: start 2, time 3, count 4 (fixed64), sum 5, quantile_values 6
    /// ({quantile 1, value 2}), attributes 7.
    static func writeSummaryPoint(_ w: inout ProtobufWriter, _ p: MetricPoint) {
        writeAttributes(&w, field: 7, pointAttributes(p))
        if p.startTimeUnixNano != 0 { w.fixed64Field(2, p.startTimeUnixNano) }
        w.fixed64Field(3, p.timeUnixNano)
        w.fixed64Field(4, count(p.count))
        w.doubleField(5, p.sum)
        for q in p.quantiles {
            w.message(6) { v in
                v.doubleField(1, q.quantile)
                v.doubleField(2, q.value)
            }
        }
    }

    /// A count as OTLP's fixed64: rounded, 0 for negative or NaN, saturating at the top.
    static func count(_ value: Double) -> UInt64 {
        guard value.isFinite, value > 0 else { return value == .infinity ? .max : 0 }
        return value >= 18_446_744_073_709_549_568 ? .max : UInt64(value.rounded())
    }

    // MARK: Common

    /// An instrumentation scope's name and version ("" for none).
    struct ScopeKey: Hashable {
        var name: String
        var version: String
        init(_ name: String, _ version: String) {
            self.name = name
            self.version = version
        }
        var isEmpty: Bool { name.isEmpty && version.isEmpty }
    }

    /// Groups `items` by resource, then by scope, each level in first-appearance order.
    static func grouped<Item, Scope: Hashable>(
        _ items: [Item], resource: (Item) -> [Attribute], scope: (Item) -> Scope
    ) -> [(resource: [Attribute], scopes: [(scope: Scope, items: [Item])])] {
        var resourceIndex: [[Attribute]: Int] = [:]
        var out: [(resource: [Attribute], scopes: [(scope: Scope, items: [Item])])] = []
        var scopeIndex: [[Scope: Int]] = []
        for item in items {
            let r = resource(item)
            let ri: Int
            if let existing = resourceIndex[r] {
                ri = existing
            } else {
                ri = out.count
                resourceIndex[r] = ri
                out.append((r, []))
                scopeIndex.append([:])
            }
            let s = scope(item)
            if let si = scopeIndex[ri][s] {
                out[ri].scopes[si].items.append(item)
            } else {
                scopeIndex[ri][s] = out[ri].scopes.count
                out[ri].scopes.append((s, [item]))
            }
        }
        return out
    }

    /// Resource { attributes 1 }.
    static func writeResource(_ w: inout ProtobufWriter, _ attributes: [Attribute]) {
        writeAttributes(&w, field: 1, attributes)
    }

    /// InstrumentationScope { name 1, version 2 }.
    static func writeScope(_ w: inout ProtobufWriter, _ scope: ScopeKey) {
        if !scope.name.isEmpty { w.stringField(1, scope.name) }
        if !scope.version.isEmpty { w.stringField(2, scope.version) }
    }

    /// One KeyValue { key 1, value 2 } at `field`.
    public static func keyValue(_ w: inout ProtobufWriter, _ field: UInt32, _ key: String, _ value: AttributeValue) {
        writeAttributes(&w, field: field, [Attribute(key, value)])
    }

    /// Repeated KeyValue { key 1, value 2 } at `field`.
    public static func writeAttributes(_ w: inout ProtobufWriter, field: UInt32, _ attributes: [Attribute]) {
        for a in attributes {
            w.message(field) { kv in
                kv.stringField(1, a.key)
                kv.message(2) { writeAnyValue(&$0, a.value) }
            }
        }
    }

    /// AnyValue: string 1, bool 2, int 3, double 4, array 5, kvlist 6, bytes 7. Structured values
    /// (`.json` text in the model) become arrays and key/value lists again.
    static func writeAnyValue(_ w: inout ProtobufWriter, _ value: AttributeValue) {
        switch value {
        case .string(let s): w.stringField(1, s)
        case .bool(let b): w.boolField(2, b)
        case .int(let i): w.int64Field(3, i)
        case .double(let d): w.doubleField(4, d)
        case .bytes(let b): w.bytesField(7, b)
        case .json(let text):
            if let tree = try? JSON.parse(Array(text.utf8), maxDepth: 64) {
                writeJSONValue(&w, tree)
            } else {
                w.stringField(1, text)  // not JSON after all: keep the text
            }
        }
    }

    /// A JSON tree as AnyValue: null is the empty AnyValue, numbers with a fraction or exponent
    /// are doubles and the others 64-bit integers (as the receiver renders them).
    static func writeJSONValue(_ w: inout ProtobufWriter, _ json: JSON) {
        switch json {
        case .null: break
        case .bool(let b): w.boolField(2, b)
        case .string(let s): w.stringField(1, s)
        case .number(let text):
            if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let i = Int64(text) {
                w.int64Field(3, i)
            } else {
                w.doubleField(4, Double(text) ?? .nan)
            }
        case .array(let values):
            w.message(5) { a in
                for v in values { a.message(1) { writeJSONValue(&$0, v) } }
            }
        case .object(let members):
            w.message(6) { kvl in
                for m in members {
                    kvl.message(1) { kv in
                        kv.stringField(1, m.key)
                        kv.message(2) { writeJSONValue(&$0, m.value) }
                    }
                }
            }
        }
    }
}
