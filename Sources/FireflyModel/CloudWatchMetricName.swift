/// How a CloudWatch metric is named in OpenTelemetry: `amazonaws.com/<namespace>/<metric>`, as
/// CloudWatch Metric Streams name it in their OpenTelemetry format. Firehose's decoder reads it, the
/// OTLP exporter writes it and the OTLP receiver reads it back, so a CloudWatch point keeps its
/// namespace across an OTLP hop (edge → gateway) and nothing else carries one.
public enum CloudWatchMetricName {
    static let prefix = "amazonaws.com/"

    /// `amazonaws.com/AWS/Lambda/Duration` → (`AWS/Lambda`, `Duration`): the metric name is the last
    /// path component. Names without the prefix keep no namespace.
    public static func split(_ name: String) -> (namespace: String, name: String) {
        guard name.hasPrefix(prefix) else { return ("", name) }
        let rest = name.dropFirst(prefix.count)
        guard let slash = rest.lastIndex(of: "/") else { return ("", String(rest)) }
        return (String(rest[..<slash]), String(rest[rest.index(after: slash)...]))
    }

    /// The OpenTelemetry name of a point: the name itself without a namespace.
    public static func join(namespace: String, name: String) -> String {
        namespace.isEmpty ? name : "\(prefix)\(namespace)/\(name)"
    }
}
