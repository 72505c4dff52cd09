// A Lambda log event in the JSON log format: an application record or a platform record.
import FireflyWire
import FireflyModel

/// The fields Firefly reads from a JSON-format Lambda log event:
/// application records `{"timestamp","level","message","requestId", …}` (the message may be any JSON
/// value; `errorType`/`errorMessage`/`stackTrace` of an exception become `exception.*` attributes)
/// and platform records `{"time","type":"platform.…","record":{…}}` (`platform.start`,
/// `platform.runtimeDone` and `platform.report` with `requestId`, `metrics`, `status`, `errorType`
/// and `tracing`).
struct LambdaJSONRecord {
    enum Message {
        case string(JSONKey)
        case json(JSONKey)
    }

    var requestID = ""
    var level: Severity?
    var trace = XRayTrace()
    var platformType: String?
    var report = LambdaReport()
    var message: Message?
    var exceptionType: String?
    var exceptionMessage: String?
    var exceptionStacktrace: String?

    /// `exception.type`, `exception.message`, `exception.stacktrace` (OpenTelemetry semantic
    /// conventions) for the fields present; a repeated key keeps its last value.
    var exceptionAttributes: [Attribute] {
        var out: [Attribute] = []
        if let exceptionType { out.append(Attribute("exception.type", .string(exceptionType))) }
        if let exceptionMessage { out.append(Attribute("exception.message", .string(exceptionMessage))) }
        if let exceptionStacktrace { out.append(Attribute("exception.stacktrace", .string(exceptionStacktrace))) }
        return out
    }

    private enum Field {
        case type, record, level, message, requestID, xrayTraceID, errorType, errorMessage, stackTrace, other
    }

    private static func field(_ k: UnsafeBufferPointer<UInt8>) -> Field {
        switch k.count {
        case 4: return CloudWatchJSONDecoder.equals(k, "type") ? .type : .other
        case 5: return CloudWatchJSONDecoder.equals(k, "level") ? .level : .other
        case 6: return CloudWatchJSONDecoder.equals(k, "record") ? .record : .other
        case 7: return CloudWatchJSONDecoder.equals(k, "message") ? .message : .other
        case 9:
            if CloudWatchJSONDecoder.equals(k, "requestId") { return .requestID }
            return CloudWatchJSONDecoder.equals(k, "errorType") ? .errorType : .other
        case 10: return CloudWatchJSONDecoder.equals(k, "stackTrace") ? .stackTrace : .other
        case 11: return CloudWatchJSONDecoder.equals(k, "xrayTraceId") ? .xrayTraceID : .other
        case 12: return CloudWatchJSONDecoder.equals(k, "errorMessage") ? .errorMessage : .other
        default: return .other
        }
    }

    /// The record, or nil when `message` is not one JSON object (then it is read as text).
    static func parse(_ message: UnsafeBufferPointer<UInt8>) -> LambdaJSONRecord? {
        var r = LambdaJSONRecord()
        var s = JSONScanner(message)
        var recordRange: JSONKey?
        var type: String?
        do throws(JSONSyntaxError) {
            try s.readObject { (s, key) throws(JSONSyntaxError) in
                let f = CloudWatchJSONDecoder.withKey(s, key, Self.field)
                let next = try s.peek()
                let isString = next == UInt8(ascii: "\"")
                switch f {
                case .type where isString: type = try s.readString()
                case .level where isString:
                    let token = try s.readRawString()
                    r.level = token.escaped ? nil : Severity(level: UnsafeBufferPointer(rebasing: message[token.start..<token.end]))
                case .requestID where isString: r.requestID = try s.readString()
                case .xrayTraceID where isString:
                    let token = try s.readRawString()
                    let v = UnsafeBufferPointer(rebasing: message[token.start..<token.end])
                    if let id = TraceID(xray: v) { r.trace.traceID = id } else { r.trace = XRayTrace.parseHeader(v) }
                case .message:
                    if isString {
                        r.message = .string(try s.readRawString())
                    } else {
                        let start = s.index
                        try s.skipValue()
                        r.message = .json(JSONKey(start: start, end: s.index, escaped: false))
                    }
                case .record where next == UInt8(ascii: "{"):
                    let start = s.index
                    try s.skipValue()
                    recordRange = JSONKey(start: start, end: s.index, escaped: false)
                case .errorType where isString: r.exceptionType = try s.readString()
                case .errorMessage where isString: r.exceptionMessage = try s.readString()
                case .stackTrace:
                    if let trace = try Self.stackTrace(&s) { r.exceptionStacktrace = trace }
                default:
                    try s.skipValue()
                }
            }
            try s.expectEnd()
        } catch {
            return nil
        }
        if let type, type.hasPrefix("platform."), let recordRange {
            r.platformType = type
            readPlatformRecord(UnsafeBufferPointer(rebasing: message[recordRange.start..<recordRange.end]), into: &r)
        }
        return r
    }

    /// A string, or an array of strings (one frame each, joined by newlines).
    private static func stackTrace(_ s: inout JSONScanner) throws(JSONSyntaxError) -> String? {
        let b = try s.peek()
        if b == UInt8(ascii: "\"") { return try s.readString() }
        guard b == UInt8(ascii: "[") else {
            try s.skipValue()
            return nil
        }
        var frames: [String] = []
        try s.readArray { (s, _) throws(JSONSyntaxError) in
            if try s.peek() == UInt8(ascii: "\"") { frames.append(try s.readString()) } else { try s.skipValue() }
        }
        return frames.joined(separator: "\n")
    }

    private enum RecordField { case requestID, version, status, errorType, metrics, tracing, other }

    private static func recordField(_ k: UnsafeBufferPointer<UInt8>) -> RecordField {
        switch k.count {
        case 6: return CloudWatchJSONDecoder.equals(k, "status") ? .status : .other
        case 7:
            if CloudWatchJSONDecoder.equals(k, "version") { return .version }
            if CloudWatchJSONDecoder.equals(k, "metrics") { return .metrics }
            return CloudWatchJSONDecoder.equals(k, "tracing") ? .tracing : .other
        case 9:
            if CloudWatchJSONDecoder.equals(k, "requestId") { return .requestID }
            return CloudWatchJSONDecoder.equals(k, "errorType") ? .errorType : .other
        default: return .other
        }
    }

    /// `record` of a platform event (validated already by the outer scan). Mistyped fields are ignored.
    private static func readPlatformRecord(_ bytes: UnsafeBufferPointer<UInt8>, into r: inout LambdaJSONRecord) {
        var s = JSONScanner(bytes)
        try? s.readObject { (s, key) throws(JSONSyntaxError) in
            let f = CloudWatchJSONDecoder.withKey(s, key, Self.recordField)
            let next = try s.peek()
            let isString = next == UInt8(ascii: "\"")
            switch f {
            case .requestID where isString:
                r.requestID = try s.readString()
                r.report.requestID = r.requestID
            case .status where isString: r.report.status = try s.readString()
            case .errorType where isString: r.report.errorType = try s.readString()
            case .metrics where next == UInt8(ascii: "{"): try readMetrics(&s, into: &r.report)
            case .tracing where next == UInt8(ascii: "{"):
                try s.readObject { (s, key) throws(JSONSyntaxError) in
                    guard CloudWatchJSONDecoder.withKey(s, key, { CloudWatchJSONDecoder.equals($0, "value") }),
                        try s.peek() == UInt8(ascii: "\"")
                    else {
                        try s.skipValue()
                        return
                    }
                    let token = try s.readRawString()
                    r.trace = XRayTrace.parseHeader(UnsafeBufferPointer(rebasing: s.bytes[token.start..<token.end]))
                }
                r.report.trace = r.trace
            default: try s.skipValue()
            }
        }
    }

    private enum Metric { case duration, billed, memorySize, maxMemoryUsed, initDuration, other }

    private static func metric(_ k: UnsafeBufferPointer<UInt8>) -> Metric {
        if CloudWatchJSONDecoder.equals(k, "durationMs") { return .duration }
        if CloudWatchJSONDecoder.equals(k, "billedDurationMs") { return .billed }
        if CloudWatchJSONDecoder.equals(k, "memorySizeMB") { return .memorySize }
        if CloudWatchJSONDecoder.equals(k, "maxMemoryUsedMB") { return .maxMemoryUsed }
        if CloudWatchJSONDecoder.equals(k, "initDurationMs") { return .initDuration }
        return .other
    }

    private static func readMetrics(_ s: inout JSONScanner, into report: inout LambdaReport) throws(JSONSyntaxError) {
        try s.readObject { (s, key) throws(JSONSyntaxError) in
            let m = CloudWatchJSONDecoder.withKey(s, key, Self.metric)
            let b = try s.peek()
            guard m != .other, b == UInt8(ascii: "-") || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) else {
                try s.skipValue()
                return
            }
            let v = try s.readNumber()
            let mb = v >= 0 && v < 4e9 ? UInt32(v.rounded()) : 0
            switch m {
            case .duration: report.durationMs = v
            case .billed: report.billedDurationMs = v
            case .memorySize: report.memorySizeMB = mb
            case .maxMemoryUsed: report.maxMemoryUsedMB = mb
            case .initDuration: report.initDurationMs = v
            case .other: break
            }
        }
    }
}

extension JSONKey {
    /// The text of a string token of `bytes`.
    func text(in bytes: UnsafeBufferPointer<UInt8>) -> String {
        let raw = UnsafeBufferPointer(rebasing: bytes[start..<end])
        return escaped ? String(decoding: JSONScanner.unescape(raw), as: UTF8.self) : String(decoding: raw, as: UTF8.self)
    }
}
