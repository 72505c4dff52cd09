/// A record (or, for CloudWatch JSON, one line of a record) that could not be turned into points.
/// The rest of the request is still accepted unless `reject_malformed_records` is on.
public struct RecordRejection: Sendable, Equatable, CustomStringConvertible {
    /// The kind of problem; also the `reason` label of the `firehose_records_rejected` counter.
    public enum Reason: String, Sendable, CaseIterable {
        /// The line is not valid JSON.
        case invalidJSON = "invalid_json"
        /// A required field (`namespace`, `metric_name`, `timestamp`, `value` with `min`, `max`,
        /// `sum`, `count`) is absent.
        case missingField = "missing_field"
        /// A field has the wrong type or an impossible value.
        case invalidField = "invalid_field"
        /// The varint length framing of an OpenTelemetry record runs past its end.
        case truncatedFraming = "truncated_framing"
        /// An OpenTelemetry message is not valid protobuf.
        case invalidProtobuf = "invalid_protobuf"
        /// An OpenTelemetry metric that is not a summary (CloudWatch only sends summaries).
        case unsupportedMetricType = "unsupported_metric_type"
        /// A CloudWatch Logs record whose gzip data does not inflate.
        case invalidGzip = "invalid_gzip"
        /// A data point with more dimensions, attributes or percentiles than `DecodeLimits` allows,
        /// or a CloudWatch Logs record with too many events or too much inflated data; the request
        /// is answered 400.
        case limitExceeded = "limit_exceeded"
    }

    public var reason: Reason
    /// Index of the record in the request's `records` array.
    public var record: Int
    /// 1-based line inside the record for CloudWatch JSON; the 1-based JSON document for CloudWatch
    /// Logs (several may be concatenated); 0 for OpenTelemetry records and record-wide problems.
    public var line: Int
    public var detail: String

    public init(_ reason: Reason, record: Int, line: Int = 0, detail: String) {
        self.reason = reason
        self.record = record
        self.line = line
        self.detail = detail
    }

    public var description: String {
        let place = line > 0 ? "record \(record) line \(line)" : "record \(record)"
        return "\(place): \(reason.rawValue): \(detail)"
    }
}
