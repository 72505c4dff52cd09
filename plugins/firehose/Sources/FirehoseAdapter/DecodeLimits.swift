// Per-point limits that keep decoding work proportional to the request, whatever its shape.
import FireflyModel

/// Fixed limits on what one data point (or log record) may carry. A record over a limit is refused with
/// `limit_exceeded`, and the request is answered 400 naming the limit (whatever
/// `reject_malformed_records` says): no real CloudWatch stream comes near them (CloudWatch allows
/// 30 dimensions per metric), and a sender that exceeds them would be refused on every retry.
enum DecodeLimits {
    /// Dimensions (CloudWatch JSON) or attributes and labels (OpenTelemetry) per data point.
    static let labelsPerPoint = 128
    /// Percentile statistics (CloudWatch JSON) or quantile values (OpenTelemetry) per data point.
    static let quantilesPerPoint = 128

    /// Log events per CloudWatch Logs record (all its documents together). CloudWatch batches at
    /// most 10 000 events per `PutLogEvents` call, and a Firehose record is at most 1 000 KiB.
    static let logEventsPerRecord = 50_000
    /// Bytes of one log message: CloudWatch's own maximum event size (1 MiB). A longer message is
    /// truncated (at a UTF-8 boundary, keeping the record) and marked with the attribute
    /// `firefly.log.original_size` — refusing it would make Firehose retry it forever.
    static let logMessageBytes = 1_048_576
    /// Bytes one gzip'd record may inflate to (a record is at most 1 000 KiB compressed; log text
    /// compresses about 10:1, a gzip bomb 1000:1).
    static let inflatedBytesPerRecord = 16 * 1_048_576
    /// Bytes all the gzip'd records of one request may inflate to together.
    static let inflatedBytesPerRequest = 256 * 1_048_576

    static let tooManyLogEvents = "more than \(logEventsPerRecord) log events in one record (the limit per record)"
    static let tooMuchInflatedPerRecord =
        "gzip data inflates to more than \(inflatedBytesPerRecord / 1_048_576) MiB in one record (the limit per record)"
    static let tooMuchInflatedPerRequest =
        "gzip records inflate to more than \(inflatedBytesPerRequest / 1_048_576) MiB in one request (the limit per request)"

    static func tooManyLabels(_ what: String) -> String {
        "more than \(labelsPerPoint) \(what) in one data point (the limit per data point)"
    }

    static func tooManyQuantiles(_ what: String) -> String {
        "more than \(quantilesPerPoint) \(what) in one data point (the limit per data point)"
    }
}

extension Array where Element == Label {
    /// Keeps the last label of each key, in the order of those last occurrences (what removing an
    /// earlier label of the same key before each append gives), in linear time.
    func lastOfEachKey() -> [Label] {
        guard count > 1 else { return self }
        if count <= 16 {
            // The usual few dimensions: a pairwise look costs less than a hash set, and an array
            // without repeats is returned as it is.
            var repeated = false
            for i in 1..<count where !repeated {
                for j in 0..<i where self[j].key == self[i].key {
                    repeated = true
                    break
                }
            }
            if !repeated { return self }
        }
        var seen = Set<String>(minimumCapacity: count)
        var out: [Label] = []
        out.reserveCapacity(count + 4)
        for label in reversed() where seen.insert(label.key).inserted { out.append(label) }
        out.reverse()
        return out
    }

    /// Appends the labels of `more` whose keys are not present yet, in linear time.
    mutating func appendMissing(_ more: [Label]) {
        guard !more.isEmpty else { return }
        if count * more.count <= 256 {
            for label in more where !contains(where: { $0.key == label.key }) { append(label) }
            return
        }
        var keys = Set(map(\.key))
        for label in more where keys.insert(label.key).inserted { append(label) }
    }
}

extension Array where Element == Quantile {
    /// Sorted ascending by quantile; a repeated quantile keeps its last value. O(n log n).
    func lastOfEachQuantileSorted() -> [Quantile] {
        guard count > 1 else { return self }
        let ordered = enumerated().sorted { ($0.element.quantile, $0.offset) < ($1.element.quantile, $1.offset) }
        var out: [Quantile] = []
        out.reserveCapacity(count)
        for (i, entry) in ordered.enumerated() {
            let isLastOfRun = i + 1 == ordered.count || ordered[i + 1].element.quantile != entry.element.quantile
            if isLastOfRun { out.append(entry.element) }
        }
        return out
    }
}
