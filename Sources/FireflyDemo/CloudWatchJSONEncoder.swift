// Writes data points in the metric streams `json` output format (newline-delimited objects).

import FireflyModel

/// The `json` format: one object per data point, the way CloudWatch writes them (field order,
/// `count` as a float such as `12.0`, percentiles beside max/min/sum/count in `value`).
public enum CloudWatchJSONEncoder {
    /// One line, without the trailing newline.
    public static func line(_ p: CloudWatchDatapoint) -> String {
        var s = "{\"metric_stream_name\":\(quoted(p.metricStreamName)),\"account_id\":\(quoted(p.accountID)),"
        s += "\"region\":\(quoted(p.region)),\"namespace\":\(quoted(p.namespace)),\"metric_name\":\(quoted(p.metricName)),"
        s += "\"dimensions\":{"
        s += p.dimensions.map { "\(quoted($0.name)):\(quoted($0.value))" }.joined(separator: ",")
        s += "},\"timestamp\":\(p.timestampMs),\"value\":{\"max\":\(number(p.max)),\"min\":\(number(p.min)),"
        s += "\"sum\":\(number(p.sum)),\"count\":\(number(p.count))"
        for (name, value) in p.percentiles { s += ",\(quoted(name)):\(number(value))" }
        s += "},\"unit\":\(quoted(p.unit))}"
        return s
    }

    /// A Firehose record's content: the lines, each ending in `\n`.
    public static func record(_ points: [CloudWatchDatapoint]) -> [UInt8] {
        var out: [UInt8] = []
        for p in points {
            out.append(contentsOf: line(p).utf8)
            out.append(0x0A)
        }
        return out
    }

    /// A JSON number; integral values keep a `.0` as CloudWatch writes them.
    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "0.0" }
        if v == v.rounded(), abs(v) < 1e15 { return "\(Int64(v)).0" }
        return "\(v)"
    }

    static func quoted(_ s: String) -> String { JSONText.quote(s) }
}
