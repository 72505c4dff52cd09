/// Measures decoding of Firehose requests carrying CloudWatch JSON records (envelope, base64,
/// JSON lines → points), for the `make bench` driver. Never called from unit tests: timing
/// belongs in benchmarks, not in pass/fail tests.
public enum FirehoseDecodeBenchmark {
    public struct Result: Sendable, CustomStringConvertible {
        /// CloudWatch JSON lines (one data point each) decoded per second on this thread.
        public var recordsPerSecond: Double
        public var records: Int
        public var iterations: Int
        public var seconds: Double
        public var bodyBytes: Int

        public var description: String {
            let rate = Int(recordsPerSecond.rounded())
            return "\(rate) CloudWatch JSON records/s (\(records) records × \(iterations) runs in \(seconds) s, body \(bodyBytes) bytes)"
        }
    }

    /// Decodes a body of `records` realistic CloudWatch JSON lines (Lambda metrics over 100
    /// functions, percentiles on Duration), `linesPerRecord` lines per Firehose record, repeatedly
    /// for at least `minimumDuration`, and reports the rate.
    public static func run(records: Int, linesPerRecord: Int = 1, minimumDuration: Duration = .milliseconds(500)) -> Result {
        let body = makeBody(records: records, linesPerRecord: linesPerRecord)
        let decoder = FirehoseRequestDecoder()
        var produced = (try? decoder.decode(body: body))?.points.count ?? 0  // warm up
        precondition(produced == records, "benchmark body decoded to \(produced) points, expected \(records)")
        let clock = ContinuousClock()
        var iterations = 0
        let start = clock.now
        var elapsed = Duration.zero
        repeat {
            produced &+= (try? decoder.decode(body: body))?.points.count ?? 0
            iterations += 1
            elapsed = clock.now - start
        } while elapsed < minimumDuration
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Result(
            recordsPerSecond: Double(records * iterations) / seconds, records: records, iterations: iterations,
            seconds: seconds, bodyBytes: body.count)
    }

    /// The benchmark's request body (also handy for load generators).
    public static func makeBody(records: Int, linesPerRecord: Int = 1) -> [UInt8] {
        let metrics: [(name: String, unit: String, extra: String)] = [
            ("Duration", "Milliseconds", ",\"p50\":101.25,\"p99\":790.1,\"p99.9\":811.0"),
            ("Invocations", "Count", ""), ("Errors", "Count", ""), ("Throttles", "Count", ""),
            ("ConcurrentExecutions", "Count", ""),
        ]
        var lines: [String] = []
        lines.reserveCapacity(records)
        for i in 0..<records {
            let m = metrics[i % metrics.count]
            lines.append(
                "{\"metric_stream_name\":\"firefly\",\"account_id\":\"123456789012\",\"region\":\"us-east-1\","
                    + "\"namespace\":\"AWS/Lambda\",\"metric_name\":\"\(m.name)\",\"dimensions\":{\"FunctionName\":\"function-\(i % 100)\"},"
                    + "\"timestamp\":\(1_700_000_000_000 + (i / 500) * 60_000),"
                    + "\"value\":{\"max\":812.5,\"min\":3.2,\"sum\":\(1530 + i % 7).0,\"count\":12.0\(m.extra)},\"unit\":\"\(m.unit)\"}")
        }
        var body = "{\"requestId\":\"ed4acda5-034f-9f42-bba1-f29aea6d7d8f\",\"timestamp\":1700000065123,\"records\":["
        var first = true
        var i = 0
        while i < lines.count {
            let record = lines[i..<min(i + linesPerRecord, lines.count)].joined(separator: "\n") + "\n"
            body += (first ? "" : ",") + "{\"data\":\"" + base64(Array(record.utf8)) + "\"}"
            first = false
            i += linesPerRecord
        }
        body += "]}"
        return Array(body.utf8)
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            for shift in [18, 12, 6, 0] { out.append(alphabet[Int(v >> UInt32(shift) & 63)]) }
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            let v = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
            out.append(alphabet[Int(v >> 18 & 63)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(rest == 2 ? alphabet[Int(v >> 6 & 63)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }
}
