import FireflyWire
import FireflyModel

/// Decodes CloudWatch Metric Streams records in `opentelemetry1.0` output format (and the older
/// `opentelemetry0.7`): one or more varint-length-delimited `ExportMetricsServiceRequest` messages,
/// each summary data point becoming one delta SUMMARY point shaped exactly like the JSON format's.
///
/// Field numbers: wire-formats spec C.5 and B.2. The 0.7 schema differs only in the data point's
/// labels (field 1, flat `StringKeyValue`s) where 1.0 has attributes (field 7, `Dimensions` kvlist),
/// so both are read.
struct OTelMetricStreamDecoder {
    var commonLabels: [Label] = []

    /// Appends the record's points to `points`. A record whose framing or protobuf is broken is
    /// rejected as a whole (its messages cannot be trusted); a metric of another type than summary
    /// is rejected on its own.
    func decode(
        record: [UInt8], index: Int, into points: inout [MetricPoint], rejections: inout [RecordRejection]
    ) {
        record.withUnsafeBytes { raw in
            let messages: [Range<Int>]
            do throws(ProtobufError) {
                messages = try ProtobufReader.delimitedMessages(in: raw)
            } catch {
                rejections.append(RecordRejection(.truncatedFraming, record: index, detail: error.description))
                return
            }
            var decoded: [MetricPoint] = []
            var unsupported: [RecordRejection] = []
            do throws(ProtobufError) {
                for m in messages {
                    try decodeRequest(ProtobufReader(raw, range: m), index: index, into: &decoded, unsupported: &unsupported)
                }
            } catch {
                rejections.append(RecordRejection(.invalidProtobuf, record: index, detail: error.description))
                return
            }
            points.append(contentsOf: decoded)
            rejections.append(contentsOf: unsupported)
        }
    }

    /// ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
    private func decodeRequest(
        _ r: ProtobufReader, index: Int, into points: inout [MetricPoint], unsupported: inout [RecordRejection]
    ) throws(ProtobufError) {
        var r = r
        while let (field, wire) = try r.nextField() {
            if field == 1 {
                try decodeResourceMetrics(try r.message(wire, field: 1), index: index, into: &points, unsupported: &unsupported)
            } else {
                try r.skip(wire)
            }
        }
    }

    /// ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
    /// The resource may follow its metrics on the wire, so scopes are read after the whole message.
    private func decodeResourceMetrics(
        _ r: ProtobufReader, index: Int, into points: inout [MetricPoint], unsupported: inout [RecordRejection]
    ) throws(ProtobufError) {
        var r = r
        var resource: [Label] = []
        var scopes: [ProtobufReader] = []
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: try readResource(try r.message(wire, field: 1), into: &resource)
            case 2: scopes.append(try r.message(wire, field: 2))
            default: try r.skip(wire)
            }
        }
        for var scope in scopes {
            // ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; }
            while let (field, wire) = try scope.nextField() {
                if field == 2 {
                    try decodeMetric(try scope.message(wire, field: 2), resource: resource, index: index, into: &points, unsupported: &unsupported)
                } else {
                    try scope.skip(wire)
                }
            }
        }
    }

    /// Resource { repeated KeyValue attributes = 1; }: keeps `cloud.account.id` and `cloud.region`.
    private func readResource(_ r: ProtobufReader, into labels: inout [Label]) throws(ProtobufError) {
        var r = r
        while let (field, wire) = try r.nextField() {
            guard field == 1 else {
                try r.skip(wire)
                continue
            }
            let (key, value) = try Self.keyValue(try r.message(wire, field: 1))
            if key == "cloud.account.id" || key == "cloud.region", case .string(let v)? = value, !v.isEmpty {
                labels.append(Label(key, v))
            }
        }
    }

    /// Metric { string name = 1; string unit = 3; Summary summary = 11; … }
    private func decodeMetric(
        _ r: ProtobufReader, resource: [Label], index: Int, into points: inout [MetricPoint],
        unsupported: inout [RecordRejection]
    ) throws(ProtobufError) {
        var r = r
        var name = ""
        var unit = ""
        var summaries: [ProtobufReader] = []
        var otherType: UInt32?
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: name = try r.string(wire, field: 1)
            case 3: unit = try r.string(wire, field: 3)
            case 11: summaries.append(try r.message(wire, field: 11))
            // 1.0: gauge 5, sum 7, histogram 9, exponential histogram 10; 0.7: int/double variants 4…10.
            case 4...10:
                otherType = field
                try r.skip(wire)
            default: try r.skip(wire)
            }
        }
        if let otherType {
            unsupported.append(RecordRejection(
                .unsupportedMetricType, record: index,
                detail: "metric \(name) has data of field \(otherType); only summaries are read"))
        }
        let (namespace, metricName) = CloudWatchMetricName.split(name)
        let cloudWatchUnit = CloudWatchUnit.fromUCUM(unit)
        for var summary in summaries {
            // Summary { repeated SummaryDataPoint data_points = 1; }
            while let (field, wire) = try summary.nextField() {
                if field == 1 {
                    let point = try decodePoint(
                        try summary.message(wire, field: 1), namespace: namespace, name: metricName,
                        unit: cloudWatchUnit, resource: resource)
                    switch point {
                    case .success(let p): points.append(p)
                    case .failure(let over): unsupported.append(RecordRejection(.limitExceeded, record: index, detail: "metric \(name): \(over.detail)"))
                    }
                } else {
                    try summary.skip(wire)
                }
            }
        }
    }

    /// SummaryDataPoint { labels = 1 (0.7); start 2, time 3, count 4: fixed64; sum 5: double;
    /// quantile_values 6; attributes 7 (1.0); flags 8 }
    private func decodePoint(
        _ r: ProtobufReader, namespace: String, name: String, unit: String, resource: [Label]
    ) throws(ProtobufError) -> Result<MetricPoint, LimitExceeded> {
        var r = r
        var labelCount = 0
        var start: UInt64 = 0
        var time: UInt64 = 0
        var count: UInt64 = 0
        var sum = 0.0
        var quantiles: [Quantile] = []
        var namespace = namespace
        var name = name
        var dimensions: [Label] = []
        var extra: [Label] = []
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1:
                // 0.7 StringKeyValue { string key = 1; string value = 2; }
                var kv = try r.message(wire, field: 1)
                var key = ""
                var value = ""
                while let (f, w) = try kv.nextField() {
                    switch f {
                    case 1: key = try kv.string(w, field: 1)
                    case 2: value = try kv.string(w, field: 2)
                    default: try kv.skip(w)
                    }
                }
                switch key {
                case "Namespace": namespace = value
                case "MetricName": name = value
                default:
                    labelCount += 1
                    dimensions.append(Label(key, value))
                }
            case 2: start = try r.fixed64(wire, field: 2)
            case 3: time = try r.fixed64(wire, field: 3)
            case 4: count = try r.fixed64(wire, field: 4)
            case 5: sum = try r.double(wire, field: 5)
            case 6:
                // ValueAtQuantile { double quantile = 1; double value = 2; }
                var q = try r.message(wire, field: 6)
                var quantile = 0.0
                var value = 0.0
                while let (f, w) = try q.nextField() {
                    switch f {
                    case 1: quantile = try q.double(w, field: 1)
                    case 2: value = try q.double(w, field: 2)
                    default: try q.skip(w)
                    }
                }
                if quantiles.count == DecodeLimits.quantilesPerPoint {
                    return .failure(LimitExceeded(detail: DecodeLimits.tooManyQuantiles("quantile values")))
                }
                quantiles.append(Quantile(quantile, value))
            case 7:
                let (key, value) = try Self.keyValue(try r.message(wire, field: 7))
                switch (key, value) {
                case ("Namespace", .string(let v)?): namespace = v
                case ("MetricName", .string(let v)?): name = v
                case ("Dimensions", .kvlist(let entries)?):
                    labelCount += entries.count
                    for (k, v) in entries { if let text = v?.text { dimensions.append(Label(k, text)) } }
                default:
                    labelCount += 1
                    if let text = value?.text { extra.append(Label(key, text)) }
                }
            default: try r.skip(wire)
            }
            if labelCount > DecodeLimits.labelsPerPoint {
                return .failure(LimitExceeded(detail: DecodeLimits.tooManyLabels("labels and attributes")))
            }
        }
        // A repeated key or quantile keeps its last value; quantiles sorted ascending.
        dimensions = dimensions.lastOfEachKey()
        let unique = quantiles.lastOfEachQuantileSorted()
        let min = unique.first { $0.quantile == 0 }?.value
        let max = unique.first { $0.quantile == 1 }?.value
        var labels = dimensions
        labels.appendMissing(extra.lastOfEachKey())
        labels.append(contentsOf: resource)
        CloudWatchJSONDecoder.addCommon(commonLabels, to: &labels)
        return .success(MetricPoint(
            name: name, namespace: namespace, unit: unit,
            function: FunctionResolver.function(cloudWatchDimensions: dimensions),
            kind: .summary, hasMinMax: min != nil && max != nil, isDelta: true, labels: labels,
            startTimeUnixNano: start, timeUnixNano: time,
            count: Double(count), sum: sum, min: min ?? 0, max: max ?? 0, quantiles: unique))
    }

    /// A data point over one of `DecodeLimits`.
    struct LimitExceeded: Error {
        var detail: String
    }

    /// The parts of an `AnyValue` a CloudWatch stream uses.
    enum Value {
        case string(String)
        case scalar(String)
        case kvlist([(String, Value?)])

        /// Label text: strings as they are, numbers and booleans spelled out.
        var text: String? {
            switch self {
            case .string(let s), .scalar(let s): s
            case .kvlist: nil
            }
        }
    }

    /// KeyValue { string key = 1; AnyValue value = 2; }
    static func keyValue(_ r: ProtobufReader) throws(ProtobufError) -> (String, Value?) {
        var r = r
        var key = ""
        var value: Value?
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: key = try r.string(wire, field: 1)
            case 2: value = try anyValue(try r.message(wire, field: 2))
            default: try r.skip(wire)
            }
        }
        return (key, value)
    }

    /// AnyValue { string 1; bool 2; int64 3; double 4; array 5; kvlist 6; bytes 7 }: arrays and
    /// bytes have no label spelling and read as nil.
    static func anyValue(_ r: ProtobufReader) throws(ProtobufError) -> Value? {
        var r = r
        var value: Value?
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: value = .string(try r.string(wire, field: 1))
            case 2: value = .scalar(try r.bool(wire, field: 2) ? "true" : "false")
            case 3: value = .scalar(String(try r.int64(wire, field: 3)))
            case 4: value = .scalar(String(try r.double(wire, field: 4)))
            case 6:
                // KeyValueList { repeated KeyValue values = 1; }. Entries past one over the label
                // limit are skipped undecoded: the point is refused anyway, and building thousands of
                // strings for it would be the work the limit is there to prevent.
                var list = try r.message(wire, field: 6)
                var entries: [(String, Value?)] = []
                while let (f, w) = try list.nextField() {
                    if f == 1, entries.count <= DecodeLimits.labelsPerPoint {
                        entries.append(try keyValue(try list.message(w, field: 1)))
                    } else {
                        try list.skip(w)
                    }
                }
                value = .kvlist(entries)
            default:
                try r.skip(wire)
                if field == 5 || field == 7 { value = nil }
            }
        }
        return value
    }
}
