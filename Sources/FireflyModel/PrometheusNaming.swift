// The one Prometheus naming table: metric and label names for the remote-write exporter and the PromQL dashboards.

/// How Firefly's metric points look in Prometheus. The remote-write exporter and the Grafana
/// dashboard generator both call these functions, so a name in a dashboard's PromQL is by
/// construction the name that was written.
///
/// * CloudWatch data (a `.summary` point with a non-empty `namespace`) follows
///   yet-another-cloudwatch-exporter (YACE), which existing dashboards and alerts expect:
///   one gauge per statistic, `aws_lambda_duration_average{dimension_FunctionName, region, account_id}`.
/// * OpenTelemetry metrics follow the OpenTelemetry → Prometheus compatibility rules as
///   implemented by Prometheus' `otlptranslator` (unit suffixes, `_total`, `_ratio`,
///   `_bucket`/`_sum`/`_count`).
///
/// Every name produced is valid under the classic (pre-UTF-8) Prometheus rules, because
/// receivers other than Prometheus 3 still enforce them.
public enum PrometheusNaming {
    /// One Prometheus series value derived from a metric point. `labels` excludes `__name__`,
    /// is sorted byte-wise, has unique names and no empty values.
    public struct Series: Sendable, Hashable, CustomStringConvertible {
        public var name: String
        public var labels: [Label]
        public var value: Double

        public init(name: String, labels: [Label], value: Double) {
            self.name = name
            self.labels = labels
            self.value = value
        }

        public var description: String {
            "\(name){\(labels.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ","))} \(value)"
        }
    }

    /// A CloudWatch statistic as YACE names it.
    public enum CloudWatchStatistic: Sendable, Hashable {
        case sum, sampleCount, minimum, maximum, average
        /// A percentile given as a quantile in (0, 1): 0.99 is `p99`.
        case percentile(Double)

        /// The CloudWatch spelling: `Sum`, `SampleCount`, `Minimum`, `Maximum`, `Average`, `p99`, `p99.9`.
        public var cloudWatchName: String {
            switch self {
            case .sum: "Sum"
            case .sampleCount: "SampleCount"
            case .minimum: "Minimum"
            case .maximum: "Maximum"
            case .average: "Average"
            case .percentile(let q): "p" + PrometheusNaming.formatFloat(((q * 100) * 1e9).rounded() / 1e9)
            }
        }
    }

    /// Labels that carry the CloudWatch account and region; every other label of a CloudWatch
    /// point is a dimension.
    public static let accountLabel = "cloud.account.id"
    public static let regionLabel = "cloud.region"

    // MARK: - CloudWatch (YACE)

    /// `aws_<namespace>_<metric>_<statistic>` as YACE's `BuildMetricName` builds it:
    /// `("AWS/Lambda", "Duration", "p99.9")` → `aws_lambda_duration_p99_9`.
    /// `statistic` is the CloudWatch statistic name (`Sum`, `SampleCount`, `Average`, `p99`…);
    /// an empty statistic gives the name without a statistic suffix.
    public static func cloudWatchMetricName(namespace: String, metric: String, statistic: String) -> String {
        let base = cloudWatchBaseName(namespace: namespace, metric: metric)
        return statistic.isEmpty ? base : base + "_" + yaceSnake(statistic)
    }

    /// The name without the statistic: `aws_lambda_duration`.
    static func cloudWatchBaseName(namespace: String, metric: String) -> String {
        var promNamespace = yaceSnake(namespace.lowercased())
        if promNamespace.hasPrefix("_") { promNamespace.removeFirst() }
        var out = promNamespace.hasPrefix("aws") ? "" : "aws_"
        out += promNamespace
        out += "_"
        // A metric name that repeats a namespace part (Glue's `glue.driver…`) loses that prefix.
        let promMetric = Array(yaceSnake(metric).utf8)
        var skip = 0
        for part in promNamespace.split(separator: "_", omittingEmptySubsequences: false) {
            let partBytes = Array(part.utf8)
            if promMetric[skip...].starts(with: partBytes) { skip = partBytes.count }
        }
        var rest = promMetric[skip...]
        if rest.first == UInt8(ascii: "_") { rest = rest.dropFirst() }
        out += String(decoding: rest, as: UTF8.self)
        return out
    }

    public static func cloudWatchMetricName(namespace: String, metric: String, statistic: CloudWatchStatistic)
        -> String
    {
        cloudWatchMetricName(namespace: namespace, metric: metric, statistic: statistic.cloudWatchName)
    }

    static func statisticSuffix(_ statistic: CloudWatchStatistic) -> String {
        switch statistic {
        case .sum: "sum"
        case .sampleCount: "sample_count"
        case .minimum: "minimum"
        case .maximum: "maximum"
        case .average: "average"
        case .percentile: yaceSnake(statistic.cloudWatchName)
        }
    }

    /// YACE's label for a CloudWatch dimension: `dimension_` + the name with invalid characters
    /// replaced by `_` (case kept: `dimension_FunctionName`).
    public static func cloudWatchDimensionLabel(_ dimension: String) -> String {
        var bytes: [UInt8] = Array("dimension_".utf8)
        for b in dimension.utf8 { bytes.append(isLabelChar(b) ? b : UInt8(ascii: "_")) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// YACE's `PromString`: `_` before an uppercase letter that follows a lowercase letter or
    /// digit, separators to `_`, `%` to `_percent`, everything lowercased.
    /// `HTTPCode_Backend_4XX` → `httpcode_backend_4_xx`.
    public static func yaceSnake(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 4)
        var previous: UInt8 = 0
        for b in text.utf8 {
            if b >= 0x80 {
                // Non-ASCII: take the general (Unicode-aware) path; CloudWatch names are ASCII.
                return yaceSnakeUnicode(text)
            }
            let isUpper = b >= 0x41 && b <= 0x5A
            if isUpper, (previous >= 0x61 && previous <= 0x7A) || (previous >= 0x30 && previous <= 0x39) {
                out.append(UInt8(ascii: "_"))
            }
            previous = b
            switch b {
            case UInt8(ascii: " "), UInt8(ascii: ","), UInt8(ascii: "\t"), UInt8(ascii: "/"), UInt8(ascii: "\\"),
                UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "="), UInt8(ascii: "@"),
                UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "("), UInt8(ascii: ")"):
                out.append(UInt8(ascii: "_"))
            case UInt8(ascii: "%"): out += Array("_percent".utf8)
            default: out.append(isUpper ? b + 0x20 : b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func yaceSnakeUnicode(_ text: String) -> String {
        var out = ""
        var previous: Character? = nil
        for ch in text {
            if ch.isASCII, ch.isUppercase, let p = previous, p.isASCII, p.isLowercase || p.isNumber {
                out.append("_")
            }
            previous = ch
            switch ch {
            case " ", ",", "\t", "/", "\\", ".", "-", ":", "=", "\u{201C}", "@", "<", ">", "(", ")": out.append("_")
            case "%": out += "_percent"
            default: out += ch.lowercased()
            }
        }
        return out
    }

    // MARK: - OpenTelemetry

    /// The Prometheus name of an OpenTelemetry metric (otlptranslator's
    /// "UnderscoreEscapingWithSuffixes"): `("http.server.request.duration", "s", .histogram)` →
    /// `http_server_request_duration_seconds`; `("requests.count", "1", .cumulativeSum, monotonic)`
    /// → `requests_count_total`; `("cpu.utilization", "1", .gauge)` → `cpu_utilization_ratio`.
    /// Type suffixes (`_bucket`, `_sum`, `_count`) are not included. Delta sums are named like
    /// gauges: Firefly writes their per-interval value, which is not a Prometheus counter.
    public static func otelMetricName(name: String, unit: String, kind: MetricKind, monotonic: Bool) -> String {
        var tokens = name.split { !isMetricChar($0) }.map(String.init)
        let (mainUnit, perUnit) = unitSuffixes(unit)
        var main = mainUnit
        var per = perUnit
        if tokens.contains(main) { main = "" }
        if per == "per_" {
            per = ""
        } else {
            while per.hasSuffix("_") { per.removeLast() }
            if tokens.contains(per) { per = "" }
        }
        if !per.isEmpty { while main.hasSuffix("_") { main.removeLast() } }
        if !main.isEmpty { tokens.append(main) }
        if !per.isEmpty { tokens.append(per) }
        if kind == .cumulativeSum && monotonic {
            tokens.removeAll { $0 == "total" }
            tokens.append("total")
        }
        if unit == "1" && kind == .gauge {
            tokens.removeAll { $0 == "ratio" }
            tokens.append("ratio")
        }
        var result = tokens.joined(separator: "_")
        if let first = result.utf8.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") {
            result = "_" + result
        }
        return result
    }

    private static let unitNames: [String: String] = [
        "d": "days", "h": "hours", "min": "minutes", "s": "seconds", "ms": "milliseconds",
        "us": "microseconds", "ns": "nanoseconds", "By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes",
        "GiBy": "gibibytes", "TiBy": "tibibytes", "KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes",
        "TBy": "terabytes", "m": "meters", "V": "volts", "A": "amperes", "J": "joules", "W": "watts",
        "g": "grams", "Cel": "celsius", "Hz": "hertz", "1": "", "%": "percent",
    ]
    private static let perUnitNames: [String: String] = [
        "s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year",
    ]

    /// The unit's name suffix and "per" suffix (`By/s` → `bytes`, `per_second`); annotations
    /// (`{Count}`) give nothing, unknown units pass through sanitized.
    static func unitSuffixes(_ unit: String) -> (String, String) {
        let parts = unit.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        var main = ""
        var per = ""
        if let first = parts.first {
            let text = first.trimmingSpaces
            if !text.isEmpty, !text.contains("{"), !text.contains("}") {
                main = cleanUnit(unitNames[text] ?? text)
            }
        }
        if parts.count > 1 {
            let text = parts[1].trimmingSpaces
            if !text.isEmpty, !text.contains("{"), !text.contains("}") {
                per = "per_" + cleanUnit(perUnitNames[text] ?? text)
            }
        }
        return (main, per)
    }

    /// Invalid characters to `_`, runs collapsed, leading and trailing `_` removed.
    private static func cleanUnit(_ unit: String) -> String {
        unit.split { !isMetricChar($0) }.joined(separator: "_")
    }

    // MARK: - Labels

    /// An OpenTelemetry attribute key as a Prometheus label name: characters outside
    /// `[a-zA-Z0-9_]` become `_`, runs of `_` collapse to one, a leading digit gets `key_`.
    /// `http.request.method` → `http_request_method`, `2xx` → `key_2xx`. Returns "" for a key
    /// with nothing usable (such a label is dropped). Reserved `__x__` keys come out as `_x_`,
    /// so user data can never overwrite `__name__`.
    public static func sanitizeLabelName(_ key: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(key.utf8.count)
        var lastWasUnderscore = false
        for b in key.utf8 {
            if isLabelChar(b) && b != UInt8(ascii: "_") {
                bytes.append(b)
                lastWasUnderscore = false
            } else if !lastWasUnderscore {
                bytes.append(UInt8(ascii: "_"))
                lastWasUnderscore = true
            }
        }
        if bytes.allSatisfy({ $0 == UInt8(ascii: "_") }) { return "" }
        if bytes[0] >= UInt8(ascii: "0") && bytes[0] <= UInt8(ascii: "9") { bytes.insert(contentsOf: Array("key_".utf8), at: 0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A metric name made valid for `[a-zA-Z_:][a-zA-Z0-9_:]*` (invalid characters to `_`, a
    /// leading digit prefixed with `_`).
    public static func sanitizeMetricName(_ name: String) -> String {
        var bytes = name.utf8.map { isMetricChar($0) || $0 == UInt8(ascii: "_") ? $0 : UInt8(ascii: "_") }
        if let first = bytes.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") { bytes.insert(UInt8(ascii: "_"), at: 0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Makes a label set valid for remote-write: empty names and values dropped, names that
    /// became equal joined as `v1;v2` (in the order of the labels given), sorted byte-wise.
    public static func canonicalLabels(_ labels: [Label]) -> [Label] {
        var out: [Label] = []
        out.reserveCapacity(labels.count)
        for label in labels where !label.key.isEmpty && !label.value.isEmpty {
            if let i = out.firstIndex(where: { $0.key == label.key }) {
                out[i].value += ";" + label.value
            } else {
                out.append(label)
            }
        }
        out.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        return out
    }

    /// The complete remote-write label set of a series: `__name__` plus its labels, sorted
    /// byte-wise (so `FunctionName` < `__name__` < `dimension_FunctionName`).
    public static func labelSet(name: String, labels: [Label]) -> [Label] {
        var all = labels.filter { $0.key != "__name__" }
        all.append(Label("__name__", name))
        all.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        return all
    }

    // MARK: - Series

    /// Every Prometheus series value a point becomes (timestamp = the point's time). A delta
    /// histogram gives none: Prometheus histograms are cumulative and Firefly does not
    /// accumulate deltas.
    public static func series(for point: MetricPoint) -> [Series] {
        if !point.namespace.isEmpty && point.kind == .summary { return cloudWatchSeries(point) }
        return otelSeries(point)
    }

    static func cloudWatchSeries(_ point: MetricPoint) -> [Series] {
        var labels: [Label] = []
        labels.reserveCapacity(point.labels.count)
        for label in point.labels {
            switch label.key {
            case accountLabel: labels.append(Label("account_id", label.value))
            case regionLabel: labels.append(Label("region", label.value))
            default: labels.append(Label(cloudWatchDimensionLabel(label.key), label.value))
            }
        }
        labels = canonicalLabels(labels)
        var stats: [(CloudWatchStatistic, Double)] = [(.sum, point.sum), (.sampleCount, point.count)]
        let minimum = point.quantiles.first { $0.quantile == 0 }?.value ?? (point.hasMinMax ? point.min : nil)
        let maximum = point.quantiles.first { $0.quantile == 1 }?.value ?? (point.hasMinMax ? point.max : nil)
        if let minimum { stats.append((.minimum, minimum)) }
        if let maximum { stats.append((.maximum, maximum)) }
        if point.count > 0 { stats.append((.average, point.sum / point.count)) }
        for q in point.quantiles.sorted(by: { $0.quantile < $1.quantile }) where q.quantile > 0 && q.quantile < 1 {
            stats.append((.percentile(q.quantile), q.value))
        }
        let base = cloudWatchBaseName(namespace: point.namespace, metric: point.name)
        return stats.map { stat, value in
            Series(name: base + "_" + statisticSuffix(stat), labels: labels, value: value)
        }
    }

    static func otelSeries(_ point: MetricPoint) -> [Series] {
        var labels = point.labels.map { Label(sanitizeLabelName($0.key), $0.value) }
        if point.label("job") == nil, let service = point.label("service.name"), !service.isEmpty {
            let ns = point.label("service.namespace") ?? ""
            labels.append(Label("job", ns.isEmpty ? service : ns + "/" + service))
        }
        if point.label("instance") == nil, let instance = point.label("service.instance.id") {
            labels.append(Label("instance", instance))
        }
        labels = canonicalLabels(labels)
        let base = otelMetricName(name: point.name, unit: point.unit, kind: point.kind, monotonic: point.isMonotonic)
        if base.isEmpty { return [] }
        switch point.kind {
        case .gauge, .cumulativeSum, .deltaSum:
            return [Series(name: base, labels: labels, value: point.value)]
        case .summary:
            var out: [Series] = []
            for q in point.quantiles.sorted(by: { $0.quantile < $1.quantile }) {
                out.append(Series(name: base, labels: with(labels, "quantile", formatFloat(q.quantile)), value: q.value))
            }
            out.append(Series(name: base + "_sum", labels: labels, value: point.sum))
            out.append(Series(name: base + "_count", labels: labels, value: point.count))
            return out
        case .histogram:
            if point.isDelta { return [] }
            var out: [Series] = []
            var cumulative: UInt64 = 0
            for (i, count) in point.bucketCounts.enumerated() {
                cumulative &+= count
                let le = i < point.bounds.count ? formatFloat(point.bounds[i]) : "+Inf"
                out.append(Series(name: base + "_bucket", labels: with(labels, "le", le), value: Double(cumulative)))
            }
            if point.bucketCounts.count <= point.bounds.count {
                // Malformed (no overflow bucket): still give the mandatory +Inf bucket.
                out.append(Series(name: base + "_bucket", labels: with(labels, "le", "+Inf"), value: point.count))
            }
            out.append(Series(name: base + "_sum", labels: labels, value: point.sum))
            out.append(Series(name: base + "_count", labels: labels, value: point.count))
            return out
        }
    }

    private static func with(_ labels: [Label], _ key: String, _ value: String) -> [Label] {
        var out = labels.filter { $0.key != key }
        let i = out.firstIndex { !$0.key.utf8.lexicographicallyPrecedes(key.utf8) } ?? out.count
        out.insert(Label(key, value), at: i)
        return out
    }

    // MARK: - Numbers

    /// A float as Go's `strconv.FormatFloat(v, 'f', -1, 64)` writes it, which is how Prometheus
    /// spells `le` and `quantile` values: `0.99`, `1`, `0.000015`, `+Inf`, `-Inf`, `NaN`.
    public static func formatFloat(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        // Swift's description is the shortest round-trip form; only its exponent notation differs.
        var text = "\(value)"
        var negative = false
        if text.hasPrefix("-") {
            negative = true
            text.removeFirst()
        }
        var mantissa = text
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = String(text[..<e])
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var digits = mantissa.replacingAll(".", with: "")
        var point = mantissa.firstIndex(of: ".").map { mantissa.distance(from: mantissa.startIndex, to: $0) } ?? mantissa.count
        point += exponent
        if point <= 0 {
            digits = String(repeating: "0", count: -point + 1) + digits
            point = 1
        } else if point > digits.count {
            digits += String(repeating: "0", count: point - digits.count)
        }
        var integer = String(digits.prefix(point))
        var fraction = String(digits.dropFirst(point))
        while fraction.hasSuffix("0") { fraction.removeLast() }
        while integer.count > 1 && integer.hasPrefix("0") { integer.removeFirst() }
        let body = fraction.isEmpty ? integer : integer + "." + fraction
        return negative ? "-" + body : body
    }

    // MARK: - Characters

    @inline(__always) static func isLabelChar(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x5F
    }

    @inline(__always) static func isMetricChar(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x3A
    }

    static func isMetricChar(_ c: Character) -> Bool {
        guard let a = c.asciiValue else { return false }
        return isMetricChar(a)
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

extension String {
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
