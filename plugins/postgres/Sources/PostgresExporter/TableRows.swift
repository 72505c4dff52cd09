// Turns a batch's values into what the database needs: series keys, new series rows, and point, span,
// log and invocation rows in binary COPY format. Values PostgreSQL would refuse are made storable here (`StorableText`).
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

/// How a batch's values become rows of Firefly's tables: series keys, series rows, and rows in
/// binary COPY form for points, spans, log records and invocations.
enum TableRows {
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

    static func seriesKey(_ point: MetricPoint) -> String {
        var json = RowEncoder()
        json.jsonPunct("[")
        json.jsonString(point.name)
        json.jsonPunct(",")
        json.jsonString(point.namespace)
        json.jsonPunct(",")
        json.jsonPunct("[")
        for (i, label) in point.labels.enumerated() {
            if i > 0 { json.jsonPunct(",") }
            json.jsonString(label.key)
            json.jsonPunct(",")
            json.jsonString(label.value)
        }
        json.jsonPunct("]")
        json.jsonPunct("]")
        return String(decoding: json.bytes, as: UTF8.self)
    }

    static func seriesRow(_ point: MetricPoint, key: String) -> SeriesRow {
        var json = RowEncoder()
        json.jsonPunct("{")
        for (i, label) in point.labels.enumerated() {
            if i > 0 { json.jsonPunct(",") }
            json.jsonString(label.key)
            json.jsonPunct(":")
            json.jsonString(label.value)
        }
        json.jsonPunct("}")
        return SeriesRow(
            key: key, name: StorableText.indexed(point.name), namespace: StorableText.indexed(point.namespace),
            unit: StorableText.withoutNUL(point.unit), function: StorableText.indexed(point.function),
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

    static func encode(_ span: Span, into row: inout RowEncoder) {
        row.hex(span.traceID)
        row.hex(span.spanID)
        if span.parentSpanID.isValid {
            row.hex(span.parentSpanID)
        } else {
            row.null()
        }
        row.text(span.traceState)
        row.text(span.name)
        row.text(spanKindName(span.kind))
        row.int16(Int16(clamping: span.statusCode.rawValue))
        row.text(span.statusMessage)
        row.timestamp(unixNano: span.startTimeUnixNano)
        row.timestamp(unixNano: span.endTimeUnixNano)
        row.uint(span.startTimeUnixNano)
        row.uint(span.endTimeUnixNano)
        row.double(Double(Int64(clamping: span.endTimeUnixNano) - Int64(clamping: span.startTimeUnixNano)) / 1e6)
        row.text(StorableText.indexed(span.function))
        row.text(span.service)
        row.text(span.scopeName)
        row.text(span.scopeVersion)
        row.bool(span.isColdStart)
        row.beginJSONColumn()
        row.jsonAttributes(span.attributes)
        row.beginJSONColumn()
        row.jsonAttributes(span.resourceAttributes)
        row.beginJSONColumn()
        row.jsonPunct("[")
        for (i, event) in span.events.enumerated() {
            if i > 0 { row.jsonPunct(",") }
            row.jsonPunct("{")
            row.jsonString("time_unix_nano")
            row.jsonPunct(":")
            row.jsonUInt(event.timeUnixNano)
            row.jsonPunct(",")
            row.jsonString("name")
            row.jsonPunct(":")
            row.jsonString(event.name)
            row.jsonPunct(",")
            row.jsonString("attributes")
            row.jsonPunct(":")
            row.jsonAttributes(event.attributes)
            row.jsonPunct("}")
        }
        row.jsonPunct("]")
        row.beginJSONColumn()
        row.jsonPunct("[")
        for (i, link) in span.links.enumerated() {
            if i > 0 { row.jsonPunct(",") }
            row.jsonPunct("{")
            row.jsonString("trace_id")
            row.jsonPunct(":")
            row.jsonString(link.traceID.description)
            row.jsonPunct(",")
            row.jsonString("span_id")
            row.jsonPunct(":")
            row.jsonString(link.spanID.description)
            row.jsonPunct(",")
            row.jsonString("trace_state")
            row.jsonPunct(":")
            row.jsonString(link.traceState)
            row.jsonPunct(",")
            row.jsonString("attributes")
            row.jsonPunct(":")
            row.jsonAttributes(link.attributes)
            row.jsonPunct("}")
        }
        row.jsonPunct("]")
        row.endRow()
    }
}
