// Decode throughput of the firehose receiver, for `make bench` (no timed unit tests).
import FireflyDemo
import FireflyWire
import FireflyModel
import FirehoseAdapter
import Foundation

/// Measures decoding of Firehose requests carrying CloudWatch JSON records (envelope, base64,
/// JSON lines → points) and CloudWatch Logs records (envelope, base64, gzip, JSON → log records
/// and invocations), for the `make bench` driver. Never called from unit tests: timing
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
        let (iterations, seconds) = repeatedFor(minimumDuration) {
            produced &+= (try? decoder.decode(body: body))?.points.count ?? 0
        }
        return Result(
            recordsPerSecond: Double(records * iterations) / seconds, records: records, iterations: iterations,
            seconds: seconds, bodyBytes: body.count)
    }

    /// Runs `work` until `minimum` has passed; how many runs, in how many seconds.
    static func repeatedFor(_ minimum: Duration, _ work: () -> Void) -> (iterations: Int, seconds: Double) {
        let clock = ContinuousClock()
        var iterations = 0
        let start = clock.now
        var elapsed = Duration.zero
        repeat {
            work()
            iterations += 1
            elapsed = clock.now - start
        } while elapsed < minimum
        return (iterations, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
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

    static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// The CloudWatch Logs figure: log events decoded per second on this thread, gzip included.
    public struct LogsResult: Sendable, CustomStringConvertible {
        public var eventsPerSecond: Double
        public var events: Int
        public var invocations: Int
        public var iterations: Int
        public var seconds: Double
        public var bodyBytes: Int

        public var description: String {
            let rate = Int(eventsPerSecond.rounded())
            return "\(rate) CloudWatch Logs events/s (\(events) events, \(invocations) invocations × \(iterations) runs "
                + "in \(seconds) s, body \(bodyBytes) bytes)"
        }
    }

    /// Decodes a body of `records` gzip'd CloudWatch Logs records, each `invocationsPerRecord` Node.js
    /// invocations in the text format (START, three application lines, END, REPORT: six events
    /// each), repeatedly for at least `minimumDuration`, and reports the rate of log events.
    public static func runCloudWatchLogs(
        records: Int = 500, invocationsPerRecord: Int = 20, minimumDuration: Duration = .milliseconds(500)
    ) -> LogsResult {
        let body = makeLogsBody(records: records, invocationsPerRecord: invocationsPerRecord)
        let decoder = FirehoseRequestDecoder(observedTimeUnixNano: 1_796_292_100_000_000_000)
        let warm = try? decoder.decode(body: body)
        let events = warm?.logs.count ?? 0
        let invocations = warm?.invocations.count ?? 0
        precondition(
            events == records * invocationsPerRecord * 6 && invocations == records * invocationsPerRecord
                && warm?.rejections.isEmpty == true,
            "benchmark body decoded to \(events) log events, \(invocations) invocations")
        var produced = 0
        let (iterations, seconds) = repeatedFor(minimumDuration) {
            produced &+= (try? decoder.decode(body: body))?.logs.count ?? 0
        }
        return LogsResult(
            eventsPerSecond: Double(produced) / seconds, events: events, invocations: invocations, iterations: iterations,
            seconds: seconds, bodyBytes: body.count)
    }

    /// The CloudWatch Logs benchmark's request body (also handy for load generators).
    public static func makeLogsBody(records: Int, invocationsPerRecord: Int) -> [UInt8] {
        var body = "{\"requestId\":\"ed4acda5-034f-9f42-bba1-f29aea6d7d8f\",\"timestamp\":1796292065123,\"records\":["
        var eventNumber = 0
        for r in 0..<records {
            let function = "function-\(r % 100)"
            var events: [String] = []
            var ms = 1_796_292_000_000 + r * 60_000
            for i in 0..<invocationsPerRecord {
                let id = "\(String(format8: UInt32(truncatingIfNeeded: r)))-0000-4000-8000-\(String(format12: i))"
                let iso = "2026-12-03T10:00:00.\(String(100 + i % 900).suffix(3))Z"
                let messages = [
                    "START RequestId: \(id) Version: $LATEST\n",
                    "\(iso)\t\(id)\tINFO\tloaded 12 items from the table orders-\(i % 7)\n",
                    "\(iso)\t\(id)\tINFO\tcharging customer \(1000 + i) for order \(50_000 + i)\n",
                    "\(iso)\t\(id)\tWARN\tpayment provider answered in 812 ms (slow)\n",
                    "END RequestId: \(id)\n",
                    "REPORT RequestId: \(id)\tDuration: \(10 + i % 90).25 ms\tBilled Duration: \(11 + i % 90) ms\t"
                        + "Memory Size: 128 MB\tMax Memory Used: \(60 + i % 60) MB\t\n",
                ]
                for m in messages {
                    eventNumber += 1
                    ms += 1
                    events.append(
                        "{\"id\":\"\(37_190_000_000_000_000 + eventNumber)0000000000000000000000000000000000000\",\"timestamp\":\(ms),"
                            + "\"message\":\(JSONText.quote(m))}")
                }
            }
            let document =
                "{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"123456789012\",\"logGroup\":\"/aws/lambda/\(function)\","
                + "\"logStream\":\"2026/12/03/[$LATEST]0123456789abcdef0123456789abcdef\",\"subscriptionFilters\":[\"firefly\"],"
                + "\"logEvents\":[\(events.joined(separator: ","))]}"
            body += (r == 0 ? "" : ",") + "{\"data\":\"" + base64(try! Gzip.compress(Array(document.utf8))) + "\"}"
        }
        body += "]}"
        return Array(body.utf8)
    }
}

extension String {
    fileprivate init(format8 v: UInt32) {
        let hex = String(v, radix: 16)
        self = String(repeating: "0", count: Swift.max(0, 8 - hex.count)) + hex
    }

    fileprivate init(format12 v: Int) {
        let hex = String(v, radix: 16)
        self = String(repeating: "0", count: Swift.max(0, 12 - hex.count)) + hex
    }
}
