// Writes data points in the metric streams `opentelemetry1.0` output format.
import FireflyOTLP
import FireflyWire

/// The OpenTelemetry 1.0 format (wire-formats.md B.2): each data point is a Summary in an
/// `ExportMetricsServiceRequest`; a Firehose record holds several requests, each preceded by its
/// length as a varint.
public enum MetricStreamOTelEncoder {
    /// One `ExportMetricsServiceRequest` holding `points` (which share stream, account and region).
    public static func request(_ points: [CloudWatchDatapoint]) -> [UInt8] {
        guard let first = points.first else { return [] }
        var w = ProtobufWriter()
        w.message(1) { rm in  // ResourceMetrics
            rm.message(1) { resource in
                OTLPRequestEncoder.keyValue(&resource, 1, "cloud.provider", .string("aws"))
                OTLPRequestEncoder.keyValue(&resource, 1, "cloud.account.id", .string(first.accountID))
                OTLPRequestEncoder.keyValue(&resource, 1, "cloud.region", .string(first.region))
                OTLPRequestEncoder.keyValue(
                    &resource, 1, "aws.exporter.arn",
                    .string("arn:aws:cloudwatch:\(first.region):\(first.accountID):metric-stream/\(first.metricStreamName)"))
            }
            rm.message(2) { sm in  // ScopeMetrics
                for p in points {
                    sm.message(2) { metric in
                        metric.stringField(1, "amazonaws.com/\(p.namespace)/\(p.metricName)")
                        metric.stringField(3, unit(p.unit))
                        metric.message(11) { summary in
                            summary.message(1) { dp in dataPoint(&dp, p) }
                        }
                    }
                }
            }
        }
        return w.bytes
    }

    /// A Firehose record's content: the requests, length-delimited.
    public static func record(_ requests: [[UInt8]]) -> [UInt8] {
        var w = ProtobufWriter()
        for r in requests { w.delimited(r) }
        return w.bytes
    }

    static func dataPoint(_ dp: inout ProtobufWriter, _ p: CloudWatchDatapoint) {
        dp.fixed64Field(2, p.timestampMs * 1_000_000)
        dp.fixed64Field(3, (p.timestampMs + 60_000) * 1_000_000)
        dp.fixed64Field(4, UInt64(max(0, p.count)))
        dp.doubleField(5, p.sum)
        var quantiles: [(Double, Double)] = [(0, p.min)]
        for (name, value) in p.percentiles {
            if let q = CloudWatchDatapoint.quantile(ofPercentile: name) { quantiles.append((q, value)) }
        }
        quantiles.append((1, p.max))
        for (q, v) in quantiles {
            dp.message(6) { qv in
                qv.doubleField(1, q)
                qv.doubleField(2, v)
            }
        }
        OTLPRequestEncoder.keyValue(&dp, 7, "Namespace", .string(p.namespace))
        OTLPRequestEncoder.keyValue(&dp, 7, "MetricName", .string(p.metricName))
        dp.message(7) { kv in
            kv.stringField(1, "Dimensions")
            kv.message(2) { any in
                any.message(6) { list in
                    for d in p.dimensions { OTLPRequestEncoder.keyValue(&list, 1, d.name, .string(d.value)) }
                }
            }
        }
    }

    /// CloudWatch unit → the UCUM-style unit AWS writes in the OpenTelemetry formats.
    public static func unit(_ cloudWatch: String) -> String {
        if let slash = cloudWatch.firstIndex(of: "/") {
            return unit(String(cloudWatch[..<slash])) + "/" + unit(String(cloudWatch[cloudWatch.index(after: slash)...]))
        }
        switch cloudWatch {
        case "Second", "Seconds": return "s"
        case "Microseconds": return "us"
        case "Milliseconds": return "ms"
        case "Bytes": return "By"
        case "Kilobytes": return "kBy"
        case "Megabytes": return "MBy"
        case "Gigabytes": return "GBy"
        case "Terabytes": return "TBy"
        case "Bits": return "bit"
        case "Kilobits": return "kbit"
        case "Megabits": return "MBit"
        case "Gigabits": return "GBit"
        case "Terabits": return "Tbit"
        case "Percent": return "%"
        case "Count": return "{Count}"
        case "None": return "1"
        default: return cloudWatch
        }
    }
}
