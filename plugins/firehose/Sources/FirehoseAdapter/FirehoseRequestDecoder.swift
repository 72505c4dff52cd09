import FireflyWire
public import FireflyModel

/// The record formats a metric stream can use; `auto` tells them apart per record. CloudWatch Logs
/// subscription records (gzip, or JSON documents starting with `{"messageType"`) are recognised
/// whatever the setting (unless it is `opentelemetry1.0`, for the uncompressed ones).
public enum RecordFormat: String, Sendable, CaseIterable {
    case auto
    case json
    case openTelemetry = "opentelemetry1.0"
}

/// A Firehose request body that is not a delivery envelope (answered 400).
public struct FirehoseEnvelopeError: Error, Equatable, CustomStringConvertible {
    public var message: String
    /// The body's `requestId` when it was read before the problem.
    public var requestId: String?

    public init(_ message: String, requestId: String? = nil) {
        self.message = message
        self.requestId = requestId
    }

    public var description: String { message }
}

/// What one Firehose delivery request holds once decoded.
public struct FirehoseDelivery: Sendable, Equatable {
    public var requestId: String
    /// Epoch milliseconds when Firehose built the request, when present.
    public var timestamp: UInt64?
    public var recordCount: Int
    /// One SUMMARY point per CloudWatch data point, in record order.
    public var points: [MetricPoint]
    public var rejections: [RecordRejection]
    /// One log record per CloudWatch Logs event, in record order.
    public var logs: [LogRecord]
    /// One invocation per Lambda `REPORT` line or `platform.report` record, in record order.
    public var invocations: [Invocation]
    /// Joins the lines of one invocation across the delivery's records; not part of the value.
    var logsState = LogsDecodeState()

    public init(
        requestId: String = "", timestamp: UInt64? = nil, recordCount: Int = 0, points: [MetricPoint] = [],
        rejections: [RecordRejection] = [], logs: [LogRecord] = [], invocations: [Invocation] = []
    ) {
        self.requestId = requestId
        self.timestamp = timestamp
        self.recordCount = recordCount
        self.points = points
        self.rejections = rejections
        self.logs = logs
        self.invocations = invocations
    }

    public static func == (a: FirehoseDelivery, b: FirehoseDelivery) -> Bool {
        a.requestId == b.requestId && a.timestamp == b.timestamp && a.recordCount == b.recordCount && a.points == b.points
            && a.rejections == b.rejections && a.logs == b.logs && a.invocations == b.invocations
    }
}

/// Decodes a Firehose HTTP-endpoint delivery body — `{"requestId", "timestamp", "records":
/// [{"data": base64}]}` — and the records inside it: CloudWatch Metric Streams records into points,
/// CloudWatch Logs subscription records into log records and invocations.
///
/// Deterministic: the same body always gives the same points in the same order (a re-delivered
/// request then writes the same series at the same timestamps, which storage deduplicates).
public struct FirehoseRequestDecoder: Sendable {
    public var format: RecordFormat
    /// Labels from `X-Amz-Firehose-Common-Attributes`, added to points that lack the key.
    public var commonLabels: [Label]
    /// The observed time of every log record (when the request arrived).
    public var observedTimeUnixNano: UInt64

    public init(format: RecordFormat = .auto, commonLabels: [Label] = [], observedTimeUnixNano: UInt64 = 0) {
        self.format = format
        self.commonLabels = commonLabels
        self.observedTimeUnixNano = observedTimeUnixNano
    }

    private enum EnvelopeField { case requestId, timestamp, records, other }

    private static func envelopeField(_ k: UnsafeBufferPointer<UInt8>) -> EnvelopeField {
        if CloudWatchJSONDecoder.equals(k, "records") { return .records }
        if CloudWatchJSONDecoder.equals(k, "requestId") { return .requestId }
        if CloudWatchJSONDecoder.equals(k, "timestamp") { return .timestamp }
        return .other
    }

    public func decode(body: [UInt8]) throws(FirehoseEnvelopeError) -> FirehoseDelivery {
        try body.withUnsafeBufferPointer { (bytes) throws(FirehoseEnvelopeError) -> FirehoseDelivery in
            var delivery = FirehoseDelivery()
            var requestId: String?
            var records: [JSONKey?] = []
            var sawRecords = false
            var s = JSONScanner(bytes)
            do throws(JSONSyntaxError) {
                try s.readObject { (s, key) throws(JSONSyntaxError) in
                    switch CloudWatchJSONDecoder.withKey(s, key, Self.envelopeField) {
                    case .requestId:
                        requestId = try s.peek() == UInt8(ascii: "\"") ? try s.readString() : nil
                        if requestId == nil { try s.skipValue() }
                    case .timestamp:
                        let b = try s.peek()
                        if b == UInt8(ascii: "-") || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) {
                            let v = try s.readNumber()
                            if v >= 0, v < 1.8e16, v.rounded(.towardZero) == v { delivery.timestamp = UInt64(v) }
                        } else {
                            try s.skipValue()
                        }
                    case .records:
                        if try s.consumeNull() { return }
                        guard try s.peek() == UInt8(ascii: "[") else {
                            try s.skipValue()
                            return
                        }
                        sawRecords = true
                        try s.readArray { (s, _) throws(JSONSyntaxError) in
                            guard try s.peek() == UInt8(ascii: "{") else {
                                try s.skipValue()
                                records.append(nil)
                                return
                            }
                            var data: JSONKey?
                            try s.readObject { (s, key) throws(JSONSyntaxError) in
                                guard CloudWatchJSONDecoder.withKey(s, key, { CloudWatchJSONDecoder.equals($0, "data") }) else {
                                    try s.skipValue()
                                    return
                                }
                                if try s.peek() == UInt8(ascii: "\"") {
                                    data = try s.readOpaqueString()
                                } else {
                                    data = nil
                                    try s.skipValue()
                                }
                            }
                            records.append(data)
                        }
                    case .other:
                        try s.skipValue()
                    }
                }
                try s.expectEnd()
            } catch {
                throw FirehoseEnvelopeError("request body is not valid JSON: \(error.description)", requestId: requestId)
            }
            guard let requestId, !requestId.isEmpty else {
                throw FirehoseEnvelopeError("missing requestId in body")
            }
            delivery.requestId = requestId
            guard sawRecords else { throw FirehoseEnvelopeError("missing records array in body", requestId: requestId) }
            delivery.recordCount = records.count
            // About one point per 400 bytes of base64 (a ~300-byte JSON line), at least one per record.
            delivery.points.reserveCapacity(Swift.max(records.count, bytes.count / 400))

            var scratch: [UInt8] = []
            for (i, token) in records.enumerated() {
                guard let token else {
                    throw FirehoseEnvelopeError("record \(i) has no data string", requestId: requestId)
                }
                let raw = UnsafeBufferPointer(rebasing: bytes[token.start..<token.end])
                let ok =
                    token.escaped
                    ? JSONScanner.unescape(raw).withUnsafeBufferPointer { Base64.decode($0, into: &scratch) }
                    : Base64.decode(raw, into: &scratch)
                guard ok else {
                    throw FirehoseEnvelopeError("unable to base64 decode the record at index \(i)", requestId: requestId)
                }
                decodeRecord(&scratch, index: i, into: &delivery)
            }
            LambdaLogEvent.propagateTraceIDs(in: &delivery)
            // The join state and the inflate buffer (up to 16 MiB) are done with: do not keep them
            // alive while the delivery waits for the queue.
            delivery.logsState = LogsDecodeState()
            return delivery
        }
    }

    /// Decodes one record's bytes (already base64-decoded) into `delivery`.
    public func decodeRecord(_ record: inout [UInt8], index: Int, into delivery: inout FirehoseDelivery) {
        if record.isEmpty { return }  // empty records are legal in Firehose
        if decodeLogs(record, index: index, into: &delivery) { return }
        if Self.isJSON(record, format: format) {
            let decoder = CloudWatchJSONDecoder(commonLabels: commonLabels)
            record.withUnsafeBufferPointer {
                decoder.decode(record: $0, index: index, into: &delivery.points, rejections: &delivery.rejections)
            }
        } else {
            OTelMetricStreamDecoder(commonLabels: commonLabels)
                .decode(record: record, index: index, into: &delivery.points, rejections: &delivery.rejections)
        }
    }

    /// Decodes `record` when it is a CloudWatch Logs subscription record — gzip (whatever the record
    /// format), or a JSON document starting with `{"messageType"` (what Firehose's decompression
    /// option delivers) — and says whether it was one.
    private func decodeLogs(_ record: [UInt8], index: Int, into delivery: inout FirehoseDelivery) -> Bool {
        record.withUnsafeBufferPointer { bytes in
            let decoder = CloudWatchLogsDecoder(observedTimeUnixNano: observedTimeUnixNano, commonLabels: commonLabels)
            if Inflater.isGzip(UnsafeRawBufferPointer(bytes)) {
                let budget = DecodeLimits.inflatedBytesPerRequest - delivery.logsState.inflatedBytes
                let limit = Swift.min(DecodeLimits.inflatedBytesPerRecord, Swift.max(budget, 0))
                var buffer = delivery.logsState.inflateBuffer
                delivery.logsState.inflateBuffer = []
                defer { delivery.logsState.inflateBuffer = buffer }
                let count: Int
                do throws(Inflater.Failure) {
                    count = try Inflater.inflate(UnsafeRawBufferPointer(bytes), format: .gzip, limit: limit, into: &buffer)
                } catch {
                    switch error {
                    case .tooLarge:
                        let detail =
                            limit < DecodeLimits.inflatedBytesPerRecord
                            ? DecodeLimits.tooMuchInflatedPerRequest : DecodeLimits.tooMuchInflatedPerRecord
                        delivery.rejections.append(RecordRejection(.limitExceeded, record: index, detail: detail))
                    case .invalid(let message):
                        delivery.rejections.append(RecordRejection(.invalidGzip, record: index, detail: message))
                    }
                    return true
                }
                delivery.logsState.inflatedBytes += count
                buffer.withUnsafeBufferPointer {
                    decoder.decode(record: UnsafeBufferPointer(rebasing: $0[0..<count]), index: index, into: &delivery)
                }
                return true
            }
            guard format != .openTelemetry, Self.startsWithMessageType(bytes) else { return false }
            decoder.decode(record: bytes, index: index, into: &delivery)
            return true
        }
    }

    /// `{` then `"messageType"` (whitespace allowed): CloudWatch Logs writes that key first.
    static func startsWithMessageType(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        while i < b.count, TextScan.isSpace(b[i]) { i += 1 }
        guard i < b.count, b[i] == UInt8(ascii: "{") else { return false }
        i += 1
        while i < b.count, TextScan.isSpace(b[i]) { i += 1 }
        return TextScan.after(UnsafeBufferPointer(rebasing: b[i...]), "\"messageType\"") != nil
    }

    /// Whether a record holds CloudWatch JSON. `auto`: a record not starting with `{` (after
    /// whitespace) is OpenTelemetry; one starting with `{` is JSON unless it is a well-formed
    /// varint-delimited stream of messages each starting with tag 0x0A (`resource_metrics`) — a
    /// 123-byte protobuf message has the length prefix 0x7B, which is `{`.
    static func isJSON(_ record: [UInt8], format: RecordFormat) -> Bool {
        switch format {
        case .json: return true
        case .openTelemetry: return false
        case .auto: break
        }
        guard let first = record.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else {
            return true  // blank: nothing to decode either way
        }
        guard first == UInt8(ascii: "{") else { return false }
        return record[0] != UInt8(ascii: "{") || !isDelimitedMetricsRequests(record)
    }

    /// Whether `record` is exactly a sequence of varint-length-delimited messages that each start
    /// with tag 0x0A. Does not throw: it runs for every JSON record in `auto` mode.
    static func isDelimitedMetricsRequests(_ record: [UInt8]) -> Bool {
        var i = 0
        let n = record.count
        while i < n {
            var length = 0
            var shift = 0
            while true {
                guard i < n, shift < 35 else { return false }
                let b = record[i]
                i += 1
                length |= Int(b & 0x7F) << shift
                if b < 0x80 { break }
                shift += 7
            }
            guard length > 0, length <= n - i, record[i] == 0x0A else { return false }
            i += length
        }
        return true
    }
}
