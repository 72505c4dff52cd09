// Turns a batch into what the database needs, before any connection is used: series keys, new series
// rows, and span rows in COPY format. Every NUL byte is found here, so a bad batch never touches the server.
import FireflyModel

/// The identity and description of one metric series.
struct SeriesRow: Sendable, Equatable {
    /// `["name","namespace",["k1","v1",…]]`: canonical, since labels are sorted with unique keys.
    /// Its SHA-256 is the series' unique key; never change this spelling without a migration.
    var key: String
    var name: String
    var namespace: String
    var unit: String
    var function: String
    var kind: String
    var isMonotonic: Bool
    var isDelta: Bool
    /// The labels as a JSON object.
    var labels: String
}

struct PreparedBatch: Sendable {
    var points: [MetricPoint]
    /// The series key of each point, by index.
    var pointKeys: [String]
    /// Series not in the cache, unique by key, sorted by key.
    var newSeries: [SeriesRow]
    /// Ids of the batch's series that were already cached.
    var knownIDs: [String: Int64]
    /// Span rows in COPY text format, every column of `spans` in table order.
    var spanRows: [UInt8]
    var spanCount: Int

    init(_ batch: TelemetryBatch, cache: [String: Int64]) throws(UnstorableValue) {
        points = batch.points
        pointKeys = []
        pointKeys.reserveCapacity(batch.points.count)
        knownIDs = [:]
        var fresh: [String: SeriesRow] = [:]
        for point in batch.points {
            let key = try Self.seriesKey(point)
            pointKeys.append(key)
            if let id = cache[key] {
                knownIDs[key] = id
            } else if fresh[key] == nil {
                fresh[key] = try Self.seriesRow(point, key: key)
            }
        }
        newSeries = fresh.values.sorted { $0.key < $1.key }
        spanCount = batch.spans.count
        var encoder = RowEncoder(capacity: batch.spans.count * 512)
        for span in batch.spans {
            try Self.encode(span, into: &encoder)
        }
        spanRows = encoder.bytes
    }

    static func kindName(_ kind: MetricKind) -> String {
        switch kind {
        case .gauge: "gauge"
        case .cumulativeSum: "cumulative_sum"
        case .deltaSum: "delta_sum"
        case .summary: "summary"
        case .histogram: "histogram"
        }
    }

    static func spanKindName(_ kind: SpanKind) -> String {
        switch kind {
        case .unspecified: "unspecified"
        case .internal: "internal"
        case .server: "server"
        case .client: "client"
        case .producer: "producer"
        case .consumer: "consumer"
        }
    }

    static func seriesKey(_ point: MetricPoint) throws(UnstorableValue) -> String {
        var json = RowEncoder(copyEscaping: false)
        json.jsonPunct("[")
        try json.jsonString(point.name, field: "metric name '\(point.name)'")
        json.jsonPunct(",")
        try json.jsonString(point.namespace, field: "namespace of metric '\(point.name)'")
        json.jsonPunct(",")
        json.jsonPunct("[")
        for (i, label) in point.labels.enumerated() {
            if i > 0 { json.jsonPunct(",") }
            try json.jsonString(label.key, field: "label key '\(label.key)' of metric '\(point.name)'")
            json.jsonPunct(",")
            try json.jsonString(label.value, field: "label '\(label.key)' of metric '\(point.name)'")
        }
        json.jsonPunct("]")
        json.jsonPunct("]")
        return String(decoding: json.bytes, as: UTF8.self)
    }

    static func seriesRow(_ point: MetricPoint, key: String) throws(UnstorableValue) -> SeriesRow {
        var json = RowEncoder(copyEscaping: false)
        json.jsonPunct("{")
        for (i, label) in point.labels.enumerated() {
            if i > 0 { json.jsonPunct(",") }
            try json.jsonString(label.key, field: "label key '\(label.key)' of metric '\(point.name)'")
            json.jsonPunct(":")
            try json.jsonString(label.value, field: "label '\(label.key)' of metric '\(point.name)'")
        }
        json.jsonPunct("}")
        for (text, what) in [(point.unit, "unit"), (point.function, "function")] where text.utf8.contains(0) {
            throw UnstorableValue(field: "\(what) of metric '\(point.name)'")
        }
        return SeriesRow(
            key: key, name: point.name, namespace: point.namespace, unit: point.unit, function: point.function,
            kind: kindName(point.kind), isMonotonic: point.isMonotonic, isDelta: point.isDelta,
            labels: String(decoding: json.bytes, as: UTF8.self))
    }

    /// One points row, every column of `points` in table order. Columns that do not apply to the
    /// point's kind are NULL: `value` for gauges and
    /// sums; `count`, `sum` (and `min`, `max` when known) for summaries and histograms; quantiles for
    /// summaries; bounds and bucket counts for histograms.
    static func encode(_ point: MetricPoint, seriesID: Int64, into row: inout RowEncoder) {
        row.int(seriesID)
        row.timestamp(unixNano: point.timeUnixNano)
        row.optionalTimestamp(unixNano: point.startTimeUnixNano)
        row.uint(point.timeUnixNano)
        row.uint(point.startTimeUnixNano)
        switch point.kind {
        case .gauge, .cumulativeSum, .deltaSum:
            row.double(point.value)
            for _ in 0..<4 { row.null() }
            for _ in 0..<4 { row.null() }
        case .summary, .histogram:
            row.null()
            row.double(point.count)
            row.double(point.sum)
            row.optionalDouble(point.hasMinMax ? point.min : nil)
            row.optionalDouble(point.hasMinMax ? point.max : nil)
            if point.kind == .summary {
                row.doubleArray(point.quantiles.map(\.quantile))
                row.doubleArray(point.quantiles.map(\.value))
                row.null()
                row.null()
            } else {
                row.null()
                row.null()
                row.doubleArray(point.bounds)
                row.uintArray(point.bucketCounts)
            }
        }
        row.endRow()
    }

    static func encode(_ span: Span, into row: inout RowEncoder) throws(UnstorableValue) {
        let what = { "span '\(span.name)' (trace \(span.traceID), span \(span.spanID))" }
        try row.text(span.traceID.description, field: what())
        try row.text(span.spanID.description, field: what())
        if span.parentSpanID.isValid {
            try row.text(span.parentSpanID.description, field: what())
        } else {
            row.null()
        }
        try row.text(span.traceState, field: "trace state of \(what())")
        try row.text(span.name, field: "name of \(what())")
        try row.text(spanKindName(span.kind), field: what())
        row.int(Int64(span.statusCode.rawValue))
        try row.text(span.statusMessage, field: "status message of \(what())")
        row.timestamp(unixNano: span.startTimeUnixNano)
        row.timestamp(unixNano: span.endTimeUnixNano)
        row.uint(span.startTimeUnixNano)
        row.uint(span.endTimeUnixNano)
        row.double(Double(Int64(clamping: span.endTimeUnixNano) - Int64(clamping: span.startTimeUnixNano)) / 1e6)
        try row.text(span.function, field: "function of \(what())")
        try row.text(span.service, field: "service of \(what())")
        try row.text(span.scopeName, field: "scope name of \(what())")
        try row.text(span.scopeVersion, field: "scope version of \(what())")
        row.bool(span.isColdStart)
        row.beginJSONColumn()
        try row.jsonAttributes(span.attributes, field: "attribute of \(what())")
        row.beginJSONColumn()
        try row.jsonAttributes(span.resourceAttributes, field: "resource attribute of \(what())")
        row.beginJSONColumn()
        row.jsonPunct("[")
        for (i, event) in span.events.enumerated() {
            if i > 0 { row.jsonPunct(",") }
            row.jsonPunct("{")
            try row.jsonString("time_unix_nano", field: what())
            row.jsonPunct(":")
            row.jsonUInt(event.timeUnixNano)
            row.jsonPunct(",")
            try row.jsonString("name", field: what())
            row.jsonPunct(":")
            try row.jsonString(event.name, field: "event name of \(what())")
            row.jsonPunct(",")
            try row.jsonString("attributes", field: what())
            row.jsonPunct(":")
            try row.jsonAttributes(event.attributes, field: "event attribute of \(what())")
            row.jsonPunct("}")
        }
        row.jsonPunct("]")
        row.beginJSONColumn()
        row.jsonPunct("[")
        for (i, link) in span.links.enumerated() {
            if i > 0 { row.jsonPunct(",") }
            row.jsonPunct("{")
            try row.jsonString("trace_id", field: what())
            row.jsonPunct(":")
            try row.jsonString(link.traceID.description, field: what())
            row.jsonPunct(",")
            try row.jsonString("span_id", field: what())
            row.jsonPunct(":")
            try row.jsonString(link.spanID.description, field: what())
            row.jsonPunct(",")
            try row.jsonString("trace_state", field: what())
            row.jsonPunct(":")
            try row.jsonString(link.traceState, field: "link trace state of \(what())")
            row.jsonPunct(",")
            try row.jsonString("attributes", field: what())
            row.jsonPunct(":")
            try row.jsonAttributes(link.attributes, field: "link attribute of \(what())")
            row.jsonPunct("}")
        }
        row.jsonPunct("]")
        row.endRow()
    }
}
