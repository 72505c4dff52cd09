// What Lambda writes to a function's log group for each simulated invocation, and the CloudWatch
// Logs subscription records that carry it to Firehose.
import FireflyModel
public import FireflyWire

/// The log lines of invocations, as Lambda and the function's runtime write them to the function's
/// log group, in either log format:
/// - text (`LogFormat: Text`): `START`, the runtime's application lines (Node.js
///   `<time>\t<request id>\tINFO\t<message>`, Python `[INFO]\t<time>\t<request id>\t<message>`), a
///   multi-line error with its stack trace when the invocation failed, `END`, and `REPORT` with
///   `Init Duration` on a cold start and the `XRAY TraceId` line of a traced function;
/// - JSON (`LogFormat: JSON`): `platform.initStart` (cold starts), `platform.start`, the application's
///   JSON records, `platform.runtimeDone` and `platform.report`.
///
/// Request ids, trace ids and cold starts are the spans' (`faas.invocation_id`, the trace, and
/// `faas.coldstart`). Deterministic: the lines depend only on the invocation and the function.
public enum LambdaLogSimulator {
    /// One CloudWatch Logs event: its id, time in milliseconds, and message.
    public struct Event: Sendable, Hashable {
        public var id: String
        public var timestampMs: UInt64
        public var message: String
    }

    /// Functions at even positions log in the text format, the others in JSON.
    public static func usesJSON(function index: Int) -> Bool { index % 2 == 1 }

    /// `/aws/lambda/<name>`.
    public static func logGroup(_ fn: DemoFunction) -> String { "/aws/lambda/\(fn.name)" }

    /// What the platform measured besides the span: billed duration and memory used.
    static func billedMs(_ inv: SimulatedInvocation) -> Int { Int(inv.durationMs.rounded(.up)) }

    static func maxMemoryUsedMB(_ inv: SimulatedInvocation, _ fn: DemoFunction) -> Int {
        // 35–65 % of the configured memory, from the request id (no random state of its own).
        let h = inv.requestID.utf8.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
        return max(1, Int(Double(fn.memoryMB) * (0.35 + 0.3 * Double(h % 1000) / 1000)))
    }

    /// The invocation's events, in time order. `sequence` numbers the events of a delivery so
    /// their ids are unique, as CloudWatch Logs' are.
    public static func events(of inv: SimulatedInvocation, function fn: DemoFunction, json: Bool, sequence: inout Int) -> [Event] {
        var out: [Event] = []
        func add(_ ns: UInt64, _ message: String) {
            sequence += 1
            let ms = ns / 1_000_000
            // CloudWatch event ids are 56 decimal digits that sort by time.
            let id = "\(ms)".padded(to: 16, with: "0") + pad40(sequence)
            out.append(Event(id: id, timestampMs: ms, message: message))
        }
        let handlerStart = inv.start + UInt64((inv.initMs ?? 0) * 1e6)
        let reportTime = inv.end
        let memory = maxMemoryUsedMB(inv, fn)
        let python = fn.runtime.hasPrefix("python")
        let xray = "Root=\(inv.traceID.xray);Parent=\(inv.spanID);Sampled=1"
        if json {
            if let initMs = inv.initMs {
                add(inv.start, #"{"time":"\#(UTCTime.rfc3339Millis(inv.start))","type":"platform.initStart","record":{"initializationType":"on-demand","phase":"init","runtimeVersion":"\#(fn.runtime)","functionName":\#(JSONText.quote(fn.name)),"functionVersion":"$LATEST"}}"#)
                add(inv.start + UInt64(initMs * 1e6), #"{"time":"\#(UTCTime.rfc3339Millis(inv.start + UInt64(initMs * 1e6)))","type":"platform.initReport","record":{"initializationType":"on-demand","phase":"init","status":"success","metrics":{"durationMs":\#(fixed(initMs, 3))}}}"#)
            }
            add(handlerStart, #"{"time":"\#(UTCTime.rfc3339Millis(handlerStart))","type":"platform.start","record":{"requestId":"\#(inv.requestID)","version":"$LATEST","tracing":{"spanId":"\#(inv.spanID)","type":"X-Amzn-Trace-Id","value":"\#(xray)"}}}"#)
            add(handlerStart + 1_000_000, #"{"timestamp":"\#(UTCTime.rfc3339Millis(handlerStart + 1_000_000))","level":"INFO","requestId":"\#(inv.requestID)","message":"handling event for \#(fn.name)"}"#)
            if let type = inv.errorType {
                let message = #"{"errorType":\#(JSONText.quote(type)),"errorMessage":\#(JSONText.quote(inv.errorMessage ?? "")),"stackTrace":[\#(stack(type, inv.errorMessage ?? "", python: python).map(JSONText.quote).joined(separator: ","))]}"#
                add(reportTime - 1_000_000, #"{"timestamp":"\#(UTCTime.rfc3339Millis(reportTime - 1_000_000))","level":"ERROR","requestId":"\#(inv.requestID)","message":\#(message)}"#)
            }
            let status = inv.failed ? "error" : "success"
            let errorType = inv.errorType.map { #","errorType":\#(JSONText.quote($0))"# } ?? ""
            add(reportTime, #"{"time":"\#(UTCTime.rfc3339Millis(reportTime))","type":"platform.runtimeDone","record":{"requestId":"\#(inv.requestID)","status":"\#(status)"\#(errorType),"metrics":{"durationMs":\#(fixed(inv.durationMs, 3)),"producedBytes":0}}}"#)
            let initField = inv.initMs.map { #","initDurationMs":\#(fixed($0, 3))"# } ?? ""
            add(reportTime, #"{"time":"\#(UTCTime.rfc3339Millis(reportTime))","type":"platform.report","record":{"requestId":"\#(inv.requestID)","metrics":{"durationMs":\#(fixed(inv.durationMs, 3)),"billedDurationMs":\#(billedMs(inv)),"memorySizeMB":\#(fn.memoryMB),"maxMemoryUsedMB":\#(memory)\#(initField)},"tracing":{"spanId":"\#(inv.spanID)","type":"X-Amzn-Trace-Id","value":"\#(xray)"},"status":"\#(status)"\#(errorType)}}"#)
        } else {
            add(handlerStart, "START RequestId: \(inv.requestID) Version: $LATEST\n")
            add(handlerStart + 1_000_000, line(python, "INFO", handlerStart + 1_000_000, inv.requestID, "handling event for \(fn.name)"))
            if let type = inv.errorType {
                let trace = stack(type, inv.errorMessage ?? "", python: python).joined(separator: "\n")
                add(reportTime - 1_000_000, line(python, "ERROR", reportTime - 1_000_000, inv.requestID, trace))
            }
            add(reportTime, "END RequestId: \(inv.requestID)\n")
            var report = "REPORT RequestId: \(inv.requestID)\tDuration: \(fixed(inv.durationMs, 2)) ms\tBilled Duration: \(billedMs(inv)) ms\t"
            report += "Memory Size: \(fn.memoryMB) MB\tMax Memory Used: \(memory) MB\t"
            if let initMs = inv.initMs { report += "Init Duration: \(fixed(initMs, 2)) ms\t" }
            report += "\nXRAY TraceId: \(inv.traceID.xray)\tSegmentId: \(inv.spanID)\tSampled: true\t\n"
            add(reportTime, report)
        }
        return out
    }

    /// A runtime's default text line: Node.js `<time>\t<id>\t<LEVEL>\t<message>`, Python
    /// `[<LEVEL>]\t<time>\t<id>\t<message>`.
    static func line(_ python: Bool, _ level: String, _ ns: UInt64, _ requestID: String, _ message: String) -> String {
        let time = UTCTime.rfc3339Millis(ns)
        return python ? "[\(level)]\t\(time)\t\(requestID)\t\(message)\n" : "\(time)\t\(requestID)\t\(level)\t\(message)\n"
    }

    /// An error and its stack trace in the runtime's idiom, one element a line.
    static func stack(_ type: String, _ message: String, python: Bool) -> [String] {
        python
            ? ["Traceback (most recent call last):", "  File \"/var/task/app.py\", line 42, in handler", "    process(event)",
               "\(type): \(message)"]
            : ["\(type): \(message)", "    at handler (/var/task/index.mjs:42:11)",
               "    at Runtime.handleOnce (file:///var/runtime/index.mjs:1173:29)"]
    }

    /// One subscription record's data (before Firehose base64-encodes it): the gzip-compressed
    /// `DATA_MESSAGE` CloudWatch Logs sends for one log stream.
    public static func record(owner: String, logGroup: String, logStream: String, events: [Event]) throws(Gzip.Failure) -> [UInt8] {
        var json = "{\"messageType\":\"DATA_MESSAGE\",\"owner\":\(JSONText.quote(owner)),\"logGroup\":\(JSONText.quote(logGroup)),"
        json += "\"logStream\":\(JSONText.quote(logStream)),\"subscriptionFilters\":[\"firefly\"],\"logEvents\":["
        json += events.map { "{\"id\":\"\($0.id)\",\"timestamp\":\($0.timestampMs),\"message\":\(JSONText.quote($0.message))}" }
            .joined(separator: ",")
        json += "]}"
        return try Gzip.compress(Array(json.utf8))
    }

    static func fixed(_ v: Double, _ digits: Int) -> String {
        let scale = digits == 3 ? 1000.0 : 100.0
        let n = Int64((v * scale).rounded())
        let whole = n / Int64(scale), frac = n % Int64(scale)
        let fracText = "\(frac)"
        return "\(whole)." + String(repeating: "0", count: digits - fracText.count) + fracText
    }

    static func pad40(_ n: Int) -> String {
        let s = "\(n)"
        return String(repeating: "0", count: max(0, 40 - s.count)) + s
    }
}
