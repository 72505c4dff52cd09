import FireflyWire
import FireflyModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Decodes CloudWatch Metric Streams records in `json` output format: newline-delimited objects,
/// each one data point of one metric, into one delta SUMMARY point per line.
///
/// Byte-level and single pass over each line (see `JSONScanner`); a bad line is reported and
/// skipped while the other lines of the record still count.
struct CloudWatchJSONDecoder {
    /// Labels from `X-Amz-Firehose-Common-Attributes`, added where a point lacks the key.
    var commonLabels: [Label] = []

    /// Appends the points of every line of `record` to `points` and the bad lines to `rejections`.
    func decode(
        record: UnsafeBufferPointer<UInt8>, index: Int,
        into points: inout [MetricPoint], rejections: inout [RecordRejection]
    ) {
        guard let base = record.baseAddress else { return }
        var start = 0
        var line = 0
        while start < record.count {
            line += 1
            let remaining = record.count - start
            let end: Int
            if let nl = memchr(base + start, 0x0A, remaining) {
                end = base.distance(to: nl.assumingMemoryBound(to: UInt8.self))
            } else {
                end = record.count
            }
            if !Self.isBlank(record, start, end) {
                do {
                    points.append(try decodeLine(record, from: start, to: end))
                } catch let rejection {
                    rejections.append(RecordRejection(rejection.reason, record: index, line: line, detail: rejection.detail))
                }
            }
            start = end + 1
        }
    }

    private static func isBlank(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var i = start
        while i < end {
            let c = b[i]
            if c != 0x20 && c != 0x09 && c != 0x0D { return false }
            i += 1
        }
        return true
    }

    struct LineError: Error {
        var reason: RecordRejection.Reason
        var detail: String
    }

    private enum Field {
        case namespace, metricName, dimensions, timestamp, value, unit, accountID, region, other
    }

    private static func field(_ k: UnsafeBufferPointer<UInt8>) -> Field {
        switch k.count {
        case 4: return equals(k, "unit") ? .unit : .other
        case 5: return equals(k, "value") ? .value : .other
        case 6: return equals(k, "region") ? .region : .other
        case 9: return equals(k, "namespace") ? .namespace : equals(k, "timestamp") ? .timestamp : .other
        case 10: return equals(k, "dimensions") ? .dimensions : equals(k, "account_id") ? .accountID : .other
        case 11: return equals(k, "metric_name") ? .metricName : .other
        default: return .other
        }
    }

    @inline(__always)
    static func equals(_ k: UnsafeBufferPointer<UInt8>, _ name: StaticString) -> Bool {
        k.count == name.utf8CodeUnitCount && memcmp(k.baseAddress!, name.utf8Start, k.count) == 0
    }

    /// Calls `body` with the unescaped bytes of a key token.
    @inline(__always)
    static func withKey<R>(_ s: JSONScanner, _ key: JSONKey, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if !key.escaped { return body(UnsafeBufferPointer(rebasing: s.bytes[key.start..<key.end])) }
        return JSONScanner.unescape(UnsafeBufferPointer(rebasing: s.bytes[key.start..<key.end])).withUnsafeBufferPointer(body)
    }

    /// The fields of one line while it is being read.
    private struct Line {
        var namespace: String?
        var metricName: String?
        var unit: String?
        var accountID: String?
        var region: String?
        var timestamp: Double?
        var dimensions: [Label] = []
        var stats = Stats()
        var hasValue = false
        var problem: LineError?
    }

    struct Stats {
        var min: Double?
        var max: Double?
        var sum: Double?
        var count: Double?
        /// Percentile statistics in document order.
        var percentiles: [Quantile] = []
    }

    func decodeLine(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) throws(LineError) -> MetricPoint {
        var s = JSONScanner(bytes, from: start, to: end)
        var l = Line()
        do throws(JSONSyntaxError) {
            try s.readObject { (s, key) throws(JSONSyntaxError) in
                switch Self.withKey(s, key, Self.field) {
                case .namespace: l.namespace = try Self.optionalString(&s, "namespace", &l.problem)
                case .metricName: l.metricName = try Self.optionalString(&s, "metric_name", &l.problem)
                case .unit: l.unit = try Self.optionalString(&s, "unit", &l.problem)
                case .accountID: l.accountID = try Self.optionalString(&s, "account_id", &l.problem)
                case .region: l.region = try Self.optionalString(&s, "region", &l.problem)
                case .timestamp:
                    if try s.consumeNull() {
                        l.timestamp = nil
                    } else if try Self.isNumberNext(&s) {
                        l.timestamp = try s.readNumber()
                    } else {
                        Self.note(&l.problem, .invalidField, "timestamp is not a number")
                        try s.skipValue()
                    }
                case .dimensions: try Self.readDimensions(&s, into: &l.dimensions, &l.problem)
                case .value:
                    if try s.peek() == UInt8(ascii: "{") {
                        l.hasValue = true
                        l.stats = Stats()
                        try Self.readStats(&s, into: &l.stats, &l.problem)
                    } else if try s.consumeNull() {
                        l.hasValue = false
                    } else {
                        Self.note(&l.problem, .invalidField, "value is not an object")
                        try s.skipValue()
                    }
                case .other: try s.skipValue()
                }
            }
            try s.expectEnd()
        } catch {
            var relative = error
            relative.offset -= start  // positions within the line
            throw LineError(reason: .invalidJSON, detail: relative.description)
        }
        if let problem = l.problem { throw problem }
        return try point(&l)
    }

    private func point(_ l: inout Line) throws(LineError) -> MetricPoint {
        guard let namespace = l.namespace else { throw LineError(reason: .missingField, detail: "namespace is missing") }
        guard let name = l.metricName else { throw LineError(reason: .missingField, detail: "metric_name is missing") }
        guard let ms = l.timestamp else { throw LineError(reason: .missingField, detail: "timestamp is missing") }
        guard l.hasValue else { throw LineError(reason: .missingField, detail: "value is missing") }
        guard let min = l.stats.min, let max = l.stats.max, let sum = l.stats.sum, let count = l.stats.count else {
            throw LineError(reason: .missingField, detail: "value needs min, max, sum and count")
        }
        if namespace.isEmpty { throw LineError(reason: .invalidField, detail: "namespace is empty") }
        if name.isEmpty { throw LineError(reason: .invalidField, detail: "metric_name is empty") }
        guard ms >= 0, ms <= 18_446_744_073_709, ms.rounded(.towardZero) == ms else {
            throw LineError(reason: .invalidField, detail: "timestamp is not a whole number of milliseconds since 1970")
        }
        let function = FunctionResolver.function(cloudWatchDimensions: l.dimensions)
        // Take the dimensions' storage (reserved with room for these) instead of copying it.
        var labels = l.dimensions
        l.dimensions = []
        labels.reserveCapacity(labels.count + 2 + commonLabels.count)
        if let a = l.accountID, !a.isEmpty { labels.append(Label("cloud.account.id", a)) }
        if let r = l.region, !r.isEmpty { labels.append(Label("cloud.region", r)) }
        Self.addCommon(commonLabels, to: &labels)
        return MetricPoint(
            name: name, namespace: namespace, unit: l.unit.flatMap { $0.isEmpty ? nil : $0 } ?? "None",
            function: function, kind: .summary, hasMinMax: true, isDelta: true, labels: labels,
            timeUnixNano: UInt64(ms) * 1_000_000,
            count: count, sum: sum, min: min, max: max,
            quantiles: Self.quantiles(min: min, max: max, percentiles: l.stats.percentiles))
    }

    /// Adds the common attributes whose keys the point does not have yet.
    static func addCommon(_ common: [Label], to labels: inout [Label]) {
        labels.appendMissing(common)
    }

    /// Quantile 0 = min, the percentiles ascending (the last one in the document wins for a
    /// repeated quantile), quantile 1 = max.
    static func quantiles(min: Double, max: Double, percentiles: [Quantile]) -> [Quantile] {
        var out: [Quantile] = []
        out.reserveCapacity(percentiles.count + 2)
        out.append(Quantile(0, min))
        if percentiles.count == 1 {
            out.append(percentiles[0])
        } else if percentiles.count > 1 {
            out.append(contentsOf: percentiles.lastOfEachQuantileSorted())
        }
        out.append(Quantile(1, max))
        return out
    }

    private static func note(_ problem: inout LineError?, _ reason: RecordRejection.Reason, _ detail: String) {
        if problem == nil { problem = LineError(reason: reason, detail: detail) }
    }

    private static func isNumberNext(_ s: inout JSONScanner) throws(JSONSyntaxError) -> Bool {
        let b = try s.peek()
        return b == UInt8(ascii: "-") || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
    }

    /// A string or null; another type is noted as a problem and skipped.
    private static func optionalString(
        _ s: inout JSONScanner, _ name: String, _ problem: inout LineError?
    ) throws(JSONSyntaxError) -> String? {
        let b = try s.peek()
        if b == UInt8(ascii: "\"") { return try s.readString() }
        if try s.consumeNull() { return nil }
        note(&problem, .invalidField, "\(name) is not a string")
        try s.skipValue()
        return nil
    }

    private static func readDimensions(
        _ s: inout JSONScanner, into dims: inout [Label], _ problem: inout LineError?
    ) throws(JSONSyntaxError) {
        dims.removeAll()
        if try s.consumeNull() { return }
        guard try s.peek() == UInt8(ascii: "{") else {
            note(&problem, .invalidField, "dimensions is not an object")
            try s.skipValue()
            return
        }
        var read = 0
        try s.readObject { (s, key) throws(JSONSyntaxError) in
            guard try s.peek() == UInt8(ascii: "\"") else {
                note(&problem, .invalidField, "dimension \(s.string(key)) is not a string")
                try s.skipValue()
                return
            }
            read += 1
            guard read <= DecodeLimits.labelsPerPoint else {
                note(&problem, .limitExceeded, DecodeLimits.tooManyLabels("dimensions"))
                try s.skipValue()
                return
            }
            let value = try s.readString()
            // Room for the account and region labels added later, so they need no reallocation.
            if dims.capacity == 0 { dims.reserveCapacity(4) }
            dims.append(Label(s.string(key), value))
        }
        // A repeated key: the last value wins, as in any JSON object reader.
        dims = dims.lastOfEachKey()
    }

    private enum Stat { case min, max, sum, count, percentile(Double), other }

    private static func stat(_ k: UnsafeBufferPointer<UInt8>) -> Stat {
        switch k.count {
        case 3:
            if equals(k, "min") { return .min }
            if equals(k, "max") { return .max }
            if equals(k, "sum") { return .sum }
            return k[0] == UInt8(ascii: "p") ? percentile(k) : .other
        case 5 where equals(k, "count"): return .count
        default: return k.count > 1 && k[0] == UInt8(ascii: "p") ? percentile(k) : .other
        }
    }

    /// `pNN` / `pNN.N…` → NN/100, computed as an exact decimal (digits / 10^k, one correctly rounded
    /// division) so `p99.9` becomes the same double as the literal `0.999`. Only quantiles strictly
    /// between 0 and 1 count: p0 and p100 repeat the min and max.
    private static func percentile(_ k: UnsafeBufferPointer<UInt8>) -> Stat {
        var digits: UInt64 = 0
        var fraction = -1
        var any = false
        for i in 1..<k.count {
            let c = k[i]
            if c == UInt8(ascii: ".") {
                guard fraction < 0, any else { return .other }
                fraction = 0
                continue
            }
            guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { return .other }
            any = true
            if fraction >= 0 { fraction += 1 }
            guard digits < 100_000_000_000_000 else { return .other }
            digits = digits * 10 + UInt64(c - UInt8(ascii: "0"))
        }
        guard any, fraction != 0, fraction < 19 else { return .other }
        let scale = 2 + Swift.max(fraction, 0)
        guard scale <= 22 else { return .other }
        let q = Double(digits) / JSONScanner.powersOf10[scale]
        guard q > 0 && q < 1 else { return .other }
        return .percentile(q)
    }

    private static func readStats(_ s: inout JSONScanner, into stats: inout Stats, _ problem: inout LineError?) throws(JSONSyntaxError) {
        try s.readObject { (s, key) throws(JSONSyntaxError) in
            let which = withKey(s, key, stat)
            if case .other = which {
                try s.skipValue()
                return
            }
            guard try isNumberNext(&s) else {
                if case .percentile = which {
                    try s.skipValue()  // an extra statistic without a value is not worth a rejection
                } else {
                    note(&problem, .invalidField, "value.\(s.string(key)) is not a number")
                    try s.skipValue()
                }
                return
            }
            let v = try s.readNumber()
            switch which {
            case .min: stats.min = v
            case .max: stats.max = v
            case .sum: stats.sum = v
            case .count: stats.count = v
            case .percentile(let q):
                if stats.percentiles.count < DecodeLimits.quantilesPerPoint {
                    stats.percentiles.append(Quantile(q, v))
                } else {
                    note(&problem, .limitExceeded, DecodeLimits.tooManyQuantiles("percentile statistics"))
                }
            case .other: break
            }
        }
    }
}
