// Decodes OTLP/JSON ExportTraceServiceRequest and ExportMetricsServiceRequest into the same drafts as protobuf.
import FireflyModel
import FireflyWire

/// OTLP/JSON decoding (wire-formats.md C.3): lowerCamelCase keys (snake_case accepted too),
/// unknown keys ignored, a known key with a value of the wrong JSON type is an error.
enum JSONDecoders {
    static let spanKinds: [String: UInt64] = [
        "SPAN_KIND_UNSPECIFIED": 0, "SPAN_KIND_INTERNAL": 1, "SPAN_KIND_SERVER": 2, "SPAN_KIND_CLIENT": 3,
        "SPAN_KIND_PRODUCER": 4, "SPAN_KIND_CONSUMER": 5,
    ]
    static let statusCodes: [String: UInt64] = ["STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2]
    static let temporalities: [String: UInt64] = [
        "AGGREGATION_TEMPORALITY_UNSPECIFIED": 0, "AGGREGATION_TEMPORALITY_DELTA": 1,
        "AGGREGATION_TEMPORALITY_CUMULATIVE": 2,
    ]

    // MARK: Traces

    static func traces(_ body: [UInt8]) throws(OTLPDecodeError) -> DecodeOutcome {
        var outcome = DecodeOutcome()
        for (key, value) in try JSON.parseOTLP(body).members("request") {
            guard key == "resourceSpans" || key == "resource_spans" else { continue }
            for rs in try value.elements("resourceSpans") {
                var resource: [Attribute] = []
                var scopes: [JSON] = []
                for (k, v) in try rs.members("resourceSpans[]") {
                    switch k {
                    case "resource": try resourceAttributes(v, into: &resource)
                    case "scopeSpans", "scope_spans": scopes += try v.elements("scopeSpans")
                    default: continue
                    }
                }
                let context = ResourceContext(attributes: resource)
                for ss in scopes {
                    var scope = ScopeInfo()
                    var spans: [JSON] = []
                    for (k, v) in try ss.members("scopeSpans[]") {
                        switch k {
                        case "scope": try scopeInfo(v, into: &scope)
                        case "spans": spans += try v.elements("spans")
                        default: continue
                        }
                    }
                    for s in spans {
                        switch try span(s).finish(resource: context, scope: scope) {
                        case .success(let span): outcome.batch.spans.append(span)
                        case .failure(let rejection): outcome.reject(1, rejection.description)
                        }
                    }
                }
            }
        }
        return outcome
    }

    static func span(_ node: JSON) throws(OTLPDecodeError) -> SpanDraft {
        var d = SpanDraft()
        for (k, v) in try node.members("span") {
            switch k {
            case "traceId", "trace_id": d.traceID = try v.idBytes("traceId").flatMap { TraceID(bytes: $0) }
            case "spanId", "span_id": d.spanID = try v.idBytes("spanId").flatMap { SpanID(bytes: $0) }
            case "parentSpanId", "parent_span_id":
                let bytes = try v.idBytes("parentSpanId")
                d.parentSpanID = bytes?.isEmpty == true ? .zero : bytes.flatMap { SpanID(bytes: $0) }
            case "traceState", "trace_state": d.traceState = try v.string("traceState")
            case "name": d.name = try v.string("name")
            case "kind": d.kind = try v.enumValue("kind", names: spanKinds)
            case "startTimeUnixNano", "start_time_unix_nano": d.startTimeUnixNano = try v.uint64("startTimeUnixNano")
            case "endTimeUnixNano", "end_time_unix_nano": d.endTimeUnixNano = try v.uint64("endTimeUnixNano")
            case "attributes": try attributes(v, into: &d.attributes)
            case "events":
                for e in try v.elements("events") {
                    var event = SpanEvent(timeUnixNano: 0, name: "")
                    for (ek, ev) in try e.members("events[]") {
                        switch ek {
                        case "timeUnixNano", "time_unix_nano": event.timeUnixNano = try ev.uint64("timeUnixNano")
                        case "name": event.name = try ev.string("name")
                        case "attributes": try attributes(ev, into: &event.attributes)
                        default: continue
                        }
                    }
                    d.events.append(event)
                }
            case "links":
                for l in try v.elements("links") {
                    var link = LinkDraft()
                    for (lk, lv) in try l.members("links[]") {
                        switch lk {
                        case "traceId", "trace_id": link.traceID = try lv.idBytes("traceId").flatMap { TraceID(bytes: $0) }
                        case "spanId", "span_id": link.spanID = try lv.idBytes("spanId").flatMap { SpanID(bytes: $0) }
                        case "traceState", "trace_state": link.traceState = try lv.string("traceState")
                        case "attributes": try attributes(lv, into: &link.attributes)
                        default: continue
                        }
                    }
                    if let l = link.link { d.links.append(l) }
                }
            case "status":
                for (sk, sv) in try v.members("status") {
                    switch sk {
                    case "message": d.statusMessage = try sv.string("status.message")
                    case "code": d.statusCode = try sv.enumValue("status.code", names: statusCodes)
                    default: continue
                    }
                }
            default: continue
            }
        }
        return d
    }

    // MARK: Common

    static func resourceAttributes(_ node: JSON, into out: inout [Attribute]) throws(OTLPDecodeError) {
        for (k, v) in try node.members("resource") where k == "attributes" {
            try attributes(v, into: &out)
        }
    }

    static func scopeInfo(_ node: JSON, into scope: inout ScopeInfo) throws(OTLPDecodeError) {
        for (k, v) in try node.members("scope") {
            switch k {
            case "name": scope.name = try v.string("scope.name")
            case "version": scope.version = try v.string("scope.version")
            default: continue
            }
        }
    }

    static func attributes(_ node: JSON, into out: inout [Attribute]) throws(OTLPDecodeError) {
        for kv in try node.elements("attributes") {
            guard out.count < ProtoCommon.maxAttributesPerItem else { throw ProtoCommon.tooManyAttributes }
            let (key, value) = try keyValue(kv, depth: 0)
            out.append(Attribute(key, value.attributeValue))
        }
    }

    static func keyValue(_ node: JSON, depth: Int) throws(OTLPDecodeError) -> (String, OTLPValue) {
        var key = ""
        var value = OTLPValue.empty
        for (k, v) in try node.members("attributes[]") {
            switch k {
            case "key": key = try v.string("key")
            case "value": value = try anyValue(v, depth: depth)
            default: continue
            }
        }
        return (key, value)
    }

    static func anyValue(_ node: JSON, depth: Int) throws(OTLPDecodeError) -> OTLPValue {
        var value = OTLPValue.empty
        for (k, v) in try node.members("value") {
            switch k {
            case "stringValue", "string_value": value = .string(try v.string("stringValue"))
            case "boolValue", "bool_value": value = .bool(try v.bool("boolValue"))
            case "intValue", "int_value": value = .int(try v.int64("intValue"))
            case "doubleValue", "double_value": value = .double(try v.double("doubleValue"))
            case "bytesValue", "bytes_value": value = .bytes(try v.base64Bytes("bytesValue"))
            case "arrayValue", "array_value":
                guard depth < ProtoCommon.maxValueDepth else {
                    throw OTLPDecodeError("attribute values nested deeper than \(ProtoCommon.maxValueDepth)")
                }
                var values: [OTLPValue] = []
                for (ak, av) in try v.members("arrayValue") where ak == "values" {
                    for element in try av.elements("arrayValue.values") {
                        values.append(try anyValue(element, depth: depth + 1))
                    }
                }
                value = .array(values)
            case "kvlistValue", "kvlist_value":
                guard depth < ProtoCommon.maxValueDepth else {
                    throw OTLPDecodeError("attribute values nested deeper than \(ProtoCommon.maxValueDepth)")
                }
                var pairs: [(key: String, value: OTLPValue)] = []
                for (kk, kv) in try v.members("kvlistValue") where kk == "values" {
                    for element in try kv.elements("kvlistValue.values") {
                        let (ek, ev) = try keyValue(element, depth: depth + 1)
                        pairs.append((key: ek, value: ev))
                    }
                }
                value = .kvlist(pairs)
            default: continue
            }
        }
        return value
    }

    // MARK: Metrics

    static func metrics(_ body: [UInt8]) throws(OTLPDecodeError) -> DecodeOutcome {
        var outcome = DecodeOutcome()
        for (key, value) in try JSON.parseOTLP(body).members("request") {
            guard key == "resourceMetrics" || key == "resource_metrics" else { continue }
            for rm in try value.elements("resourceMetrics") {
                var resource: [Attribute] = []
                var scopes: [JSON] = []
                for (k, v) in try rm.members("resourceMetrics[]") {
                    switch k {
                    case "resource": try resourceAttributes(v, into: &resource)
                    case "scopeMetrics", "scope_metrics": scopes += try v.elements("scopeMetrics")
                    default: continue
                    }
                }
                let context = ResourceContext(attributes: resource)
                for sm in scopes {
                    for (k, v) in try sm.members("scopeMetrics[]") where k == "metrics" {
                        for m in try v.elements("metrics") {
                            try metric(m).convert(resource: context, into: &outcome)
                        }
                    }
                }
            }
        }
        return outcome
    }

    static func metric(_ node: JSON) throws(OTLPDecodeError) -> MetricDraft {
        var m = MetricDraft()
        for (k, v) in try node.members("metric") {
            switch k {
            case "name": m.name = try v.string("metric.name")
            case "unit": m.unit = try v.string("metric.unit")
            case "gauge":
                var points: [NumberPointDraft] = []
                for (gk, gv) in try v.members("gauge") where gk == "dataPoints" || gk == "data_points" {
                    for p in try gv.elements("gauge.dataPoints") { points.append(try numberPoint(p)) }
                }
                m.data = .gauge(points)
            case "sum":
                var points: [NumberPointDraft] = []
                var temporality: UInt64 = 0
                var monotonic = false
                for (sk, sv) in try v.members("sum") {
                    switch sk {
                    case "dataPoints", "data_points":
                        for p in try sv.elements("sum.dataPoints") { points.append(try numberPoint(p)) }
                    case "aggregationTemporality", "aggregation_temporality":
                        temporality = try sv.enumValue("sum.aggregationTemporality", names: temporalities)
                    case "isMonotonic", "is_monotonic": monotonic = try sv.bool("sum.isMonotonic")
                    default: continue
                    }
                }
                m.data = .sum(points, temporality: temporality, isMonotonic: monotonic)
            case "histogram":
                var points: [HistogramPointDraft] = []
                var temporality: UInt64 = 0
                for (hk, hv) in try v.members("histogram") {
                    switch hk {
                    case "dataPoints", "data_points":
                        for p in try hv.elements("histogram.dataPoints") { points.append(try histogramPoint(p)) }
                    case "aggregationTemporality", "aggregation_temporality":
                        temporality = try hv.enumValue("histogram.aggregationTemporality", names: temporalities)
                    default: continue
                    }
                }
                m.data = .histogram(points, temporality: temporality)
            case "exponentialHistogram", "exponential_histogram":
                var points: [ExponentialHistogramPointDraft] = []
                var temporality: UInt64 = 0
                for (hk, hv) in try v.members("exponentialHistogram") {
                    switch hk {
                    case "dataPoints", "data_points":
                        for p in try hv.elements("exponentialHistogram.dataPoints") {
                            points.append(try exponentialPoint(p))
                        }
                    case "aggregationTemporality", "aggregation_temporality":
                        temporality = try hv.enumValue("exponentialHistogram.aggregationTemporality", names: temporalities)
                    default: continue
                    }
                }
                m.data = .exponentialHistogram(points, temporality: temporality)
            case "summary":
                var points: [SummaryPointDraft] = []
                for (sk, sv) in try v.members("summary") where sk == "dataPoints" || sk == "data_points" {
                    for p in try sv.elements("summary.dataPoints") { points.append(try summaryPoint(p)) }
                }
                m.data = .summary(points)
            default: continue
            }
        }
        return m
    }

    /// Reads a field every data point kind has; false when `key` is not one of them.
    static func common(_ key: String, _ value: JSON, into c: inout PointCommon) throws(OTLPDecodeError) -> Bool {
        switch key {
        case "attributes": try attributes(value, into: &c.attributes)
        case "startTimeUnixNano", "start_time_unix_nano": c.startTimeUnixNano = try value.uint64("startTimeUnixNano")
        case "timeUnixNano", "time_unix_nano": c.timeUnixNano = try value.uint64("timeUnixNano")
        case "flags": c.flags = try value.uint64("flags")
        default: return false
        }
        return true
    }

    static func numberPoint(_ node: JSON) throws(OTLPDecodeError) -> NumberPointDraft {
        var p = NumberPointDraft()
        for (k, v) in try node.members("dataPoints[]") where try !common(k, v, into: &p.common) {
            switch k {
            case "asDouble", "as_double": p.value = try v.double("asDouble")
            case "asInt", "as_int": p.value = Double(try v.int64("asInt"))
            default: continue
            }
        }
        return p
    }

    static func histogramPoint(_ node: JSON) throws(OTLPDecodeError) -> HistogramPointDraft {
        var p = HistogramPointDraft()
        for (k, v) in try node.members("dataPoints[]") where try !common(k, v, into: &p.common) {
            switch k {
            case "count": p.count = try v.uint64("count")
            case "sum": p.sum = try v.double("sum")
            case "min": p.min = try v.double("min")
            case "max": p.max = try v.double("max")
            case "bucketCounts", "bucket_counts":
                for c in try v.elements("bucketCounts") { p.bucketCounts.append(try c.uint64("bucketCounts[]")) }
            case "explicitBounds", "explicit_bounds":
                for b in try v.elements("explicitBounds") { p.explicitBounds.append(try b.double("explicitBounds[]")) }
            default: continue
            }
        }
        return p
    }

    static func exponentialPoint(_ node: JSON) throws(OTLPDecodeError) -> ExponentialHistogramPointDraft {
        var p = ExponentialHistogramPointDraft()
        for (k, v) in try node.members("dataPoints[]") where try !common(k, v, into: &p.common) {
            switch k {
            case "count": p.count = try v.uint64("count")
            case "sum": p.sum = try v.double("sum")
            case "min": p.min = try v.double("min")
            case "max": p.max = try v.double("max")
            case "scale": p.scale = try v.int32("scale")
            case "zeroCount", "zero_count": p.zeroCount = try v.uint64("zeroCount")
            case "zeroThreshold", "zero_threshold": p.zeroThreshold = try v.double("zeroThreshold")
            case "positive": p.positive = try buckets(v, "positive")
            case "negative": p.negative = try buckets(v, "negative")
            default: continue
            }
        }
        return p
    }

    static func buckets(_ node: JSON, _ field: String) throws(OTLPDecodeError) -> ExponentialBucketsDraft {
        var b = ExponentialBucketsDraft()
        for (k, v) in try node.members(field) {
            switch k {
            case "offset": b.offset = try v.int32("\(field).offset")
            case "bucketCounts", "bucket_counts":
                for c in try v.elements("\(field).bucketCounts") { b.bucketCounts.append(try c.uint64("\(field).bucketCounts[]")) }
            default: continue
            }
        }
        return b
    }

    static func summaryPoint(_ node: JSON) throws(OTLPDecodeError) -> SummaryPointDraft {
        var p = SummaryPointDraft()
        for (k, v) in try node.members("dataPoints[]") where try !common(k, v, into: &p.common) {
            switch k {
            case "count": p.count = try v.uint64("count")
            case "sum": p.sum = try v.double("sum")
            case "quantileValues", "quantile_values":
                for q in try v.elements("quantileValues") {
                    var quantile = Quantile(0, 0)
                    for (qk, qv) in try q.members("quantileValues[]") {
                        switch qk {
                        case "quantile": quantile.quantile = try qv.double("quantile")
                        case "value": quantile.value = try qv.double("value")
                        default: continue
                        }
                    }
                    p.quantiles.append(quantile)
                }
            default: continue
            }
        }
        return p
    }
}
