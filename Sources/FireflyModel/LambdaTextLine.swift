// What a Lambda log line in the plain-text format says: platform lines and the runtimes' prefixes.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The fields of a `REPORT` line or a `platform.report` record.
package struct LambdaReport: Equatable {
    package var requestID = ""
    package var durationMs: Double = 0
    package var billedDurationMs: Double = 0
    package var memorySizeMB: UInt32 = 0
    package var maxMemoryUsedMB: UInt32 = 0
    package var initDurationMs: Double?
    /// `Status:` / `record.status` as written ("" when absent: success).
    package var status = ""
    package var errorType = ""
    package var trace = XRayTrace()

    package init() {}

    /// Out of memory when the error type says so; also a `Runtime.ExitError` (the process was
    /// killed) that used all of its memory, which is how older runtimes report an OOM kill.
    package var invocationStatus: InvocationStatus {
        if errorType.contains("OutOfMemory") { return .outOfMemory }
        switch status {
        case "", "success": return .success
        case "timeout": return .timeout
        default:
            if errorType == "Runtime.ExitError", memorySizeMB > 0, maxMemoryUsedMB >= memorySizeMB { return .outOfMemory }
            return .error
        }
    }
}

/// An X-Ray trace context: `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`
/// or the REPORT line's `XRAY TraceId` / `SegmentId` / `Sampled`.
package struct XRayTrace: Equatable {
    package var traceID = TraceID.zero
    package var spanID = SpanID.zero
    package var sampled = false

    package var flags: UInt32 { sampled ? 1 : 0 }

    package init() {}

    @inlinable package static func spanID(hex b: UnsafeBufferPointer<UInt8>) -> SpanID? {
        guard b.count == 16 else { return nil }
        var v: UInt64 = 0
        for c in b {
            guard let n = hexValue(c) else { return nil }
            v = v << 4 | UInt64(n)
        }
        return v == 0 ? nil : SpanID(v)
    }

    /// The `X-Amzn-Trace-Id` header format; unknown parts are ignored.
    @inlinable package static func parseHeader(_ b: UnsafeBufferPointer<UInt8>) -> XRayTrace {
        var trace = XRayTrace()
        for part in TextScan.split(b, on: UInt8(ascii: ";")) {
            let p = TextScan.trimmed(part)
            if let v = TextScan.after(p, "Root=") {
                trace.traceID = TraceID(xray: v) ?? .zero
            } else if let v = TextScan.after(p, "Parent=") {
                trace.spanID = spanID(hex: v) ?? .zero
            } else if let v = TextScan.after(p, "Sampled=") {
                trace.sampled = v.count == 1 && v[0] == UInt8(ascii: "1")
            }
        }
        return trace
    }

    @inline(__always)
    @inlinable package static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A Lambda log line in the plain-text format, classified.
package enum LambdaTextLine: Equatable {
    /// `START RequestId: <id> Version: <v>`
    case start(requestID: String, version: String)
    /// `END RequestId: <id>`
    case end(requestID: String)
    /// `REPORT RequestId: <id>\tDuration: … ms\t…`
    case report(LambdaReport)
    /// `<time> <id> Task timed out after 3.00 seconds`
    case timedOut(requestID: String)
    /// `RequestId: <id> Error: Runtime exited with error: signal: killed` and the like.
    case platformError(requestID: String)
    /// A runtime's line: Node.js `<time>\t<id>\t<LEVEL>\t<message>` or Python
    /// `[LEVEL]\t<time>\t<id>\t<message>`; `message` is where the message starts in the line.
    case runtime(requestID: String, level: Severity, message: Int)
    /// Anything else (a bare `print`, a library writing to stdout).
    case other

    /// Classifies one CloudWatch event's message (the line without changes).
    @inlinable package static func classify(_ b: UnsafeBufferPointer<UInt8>) -> LambdaTextLine {
        guard b.count >= 6 else { return .other }
        switch b[0] {
        case UInt8(ascii: "S"):
            if let rest = TextScan.after(b, "START RequestId: ") {
                let fields = TextScan.trimmedEnd(rest)
                guard let space = TextScan.firstIndex(fields, of: UInt8(ascii: " ")) else {
                    return .start(requestID: TextScan.string(fields), version: "")
                }
                let id = UnsafeBufferPointer(rebasing: fields[0..<space])
                let after = TextScan.trimmed(UnsafeBufferPointer(rebasing: fields[space...]))
                let version = TextScan.after(after, "Version: ").map(TextScan.string) ?? ""
                return .start(requestID: TextScan.string(id), version: version)
            }
        case UInt8(ascii: "E"):
            if let rest = TextScan.after(b, "END RequestId: ") {
                return .end(requestID: TextScan.string(TextScan.firstField(rest)))
            }
        case UInt8(ascii: "R"):
            if let rest = TextScan.after(b, "REPORT RequestId: ") { return .report(report(rest)) }
            if let rest = TextScan.after(b, "RequestId: ") {
                return .platformError(requestID: TextScan.string(TextScan.firstField(rest)))
            }
        case UInt8(ascii: "["):
            return python(b)
        default:
            break
        }
        return runtime(b)
    }

    /// The fields after `REPORT RequestId: `, tab-separated `Name: value [unit]`.
    @inlinable package static func report(_ rest: UnsafeBufferPointer<UInt8>) -> LambdaReport {
        var r = LambdaReport()
        var first = true
        for field in TextScan.split(rest, on: 0x09) {
            let f = TextScan.trimmed(field)
            if first {
                r.requestID = TextScan.string(TextScan.firstField(f))
                first = false
                continue
            }
            guard let colon = TextScan.firstIndex(f, of: UInt8(ascii: ":")) else { continue }
            let name = UnsafeBufferPointer(rebasing: f[0..<colon])
            let value = TextScan.trimmed(UnsafeBufferPointer(rebasing: f[(colon + 1)...]))
            switch name.count {
            case 6 where TextScan.equals(name, "Status"): r.status = TextScan.string(value)
            case 8 where TextScan.equals(name, "Duration"): r.durationMs = TextScan.leadingNumber(value) ?? 0
            case 7 where TextScan.equals(name, "Sampled"): r.trace.sampled = TextScan.equals(value, "true")
            case 9 where TextScan.equals(name, "SegmentId"): r.trace.spanID = XRayTrace.spanID(hex: value) ?? .zero
            case 10 where TextScan.equals(name, "Error Type"): r.errorType = TextScan.string(value)
            case 11 where TextScan.equals(name, "Memory Size"):
                r.memorySizeMB = TextScan.leadingNumber(value).map { UInt32(clamping: Int64($0)) } ?? 0
            case 12 where TextScan.equals(name, "XRAY TraceId"): r.trace.traceID = TraceID(xray: value) ?? .zero
            case 13 where TextScan.equals(name, "Init Duration"): r.initDurationMs = TextScan.leadingNumber(value)
            case 15 where TextScan.equals(name, "Billed Duration"): r.billedDurationMs = TextScan.leadingNumber(value) ?? 0
            case 15 where TextScan.equals(name, "Max Memory Used"):
                r.maxMemoryUsedMB = TextScan.leadingNumber(value).map { UInt32(clamping: Int64($0)) } ?? 0
            default: break
            }
        }
        return r
    }

    /// Python's default format: `[LEVEL]\t<time>\t<request id>\t<message>`.
    @inlinable package static func python(_ b: UnsafeBufferPointer<UInt8>) -> LambdaTextLine {
        guard let (first, second, third, message) = TextScan.fourTabFields(b), first.count >= 3,
            first[first.count - 1] == UInt8(ascii: "]"), TextScan.looksLikeTimestamp(second),
            let level = Severity(level: UnsafeBufferPointer(rebasing: first[1..<(first.count - 1)]))
        else { return .other }
        return .runtime(requestID: TextScan.string(third), level: level, message: message)
    }

    /// Node.js's default format `<time>\t<request id>\t<LEVEL>\t<message>`, and the platform's
    /// `<time> <request id> Task timed out after 3.00 seconds`.
    @inlinable package static func runtime(_ b: UnsafeBufferPointer<UInt8>) -> LambdaTextLine {
        guard b.count > 24, b[0] >= UInt8(ascii: "0"), b[0] <= UInt8(ascii: "9") else { return .other }
        if let (time, id, levelWord, message) = TextScan.fourTabFields(b), TextScan.looksLikeTimestamp(time),
            let level = Severity(level: levelWord)
        {
            return .runtime(requestID: TextScan.string(id), level: level, message: message)
        }
        // The timeout line separates its fields with spaces (some runtimes use tabs).
        let words = TextScan.splitWhitespace(b, maxSplits: 2)
        if words.count == 3, TextScan.looksLikeTimestamp(words[0]), TextScan.after(words[2], "Task timed out after") != nil {
            return .timedOut(requestID: TextScan.string(words[1]))
        }
        return .other
    }
}

/// OpenTelemetry severity from a level word.
package struct Severity: Equatable {
    package var number: UInt8
    package var text: String

    package static let info = Severity(number: 9, text: "INFO")
    package static let error = Severity(number: 17, text: "ERROR")

    package init(number: UInt8, text: String) {
        self.number = number
        self.text = text
    }

    /// TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21 (Python's WARNING and CRITICAL too);
    /// nil for another word. The text keeps the spelling of the source.
    @inlinable package init?(level b: UnsafeBufferPointer<UInt8>) {
        guard b.count >= 4, b.count <= 8 else { return nil }
        var upper: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &upper) { u in
            for i in 0..<b.count { u[i] = b[i] >= 0x61 && b[i] <= 0x7A ? b[i] - 0x20 : b[i] }
        }
        let word = withUnsafeBytes(of: &upper) { String(decoding: $0.prefix(b.count), as: UTF8.self) }
        let n: UInt8
        switch word {
        case "TRACE": n = 1
        case "DEBUG": n = 5
        case "INFO": n = 9
        case "WARN", "WARNING": n = 13
        case "ERROR": n = 17
        case "FATAL", "CRITICAL": n = 21
        default: return nil
        }
        self.init(number: n, text: TextScan.string(b))
    }
}

/// Byte helpers for log lines (no Foundation, no copies until a value is kept).
package enum TextScan {
    @inlinable package static func equals(_ b: UnsafeBufferPointer<UInt8>, _ s: StaticString) -> Bool {
        b.count == s.utf8CodeUnitCount && (b.count == 0 || memcmp(b.baseAddress!, s.utf8Start, b.count) == 0)
    }

    /// The bytes after `prefix`, or nil when `b` does not start with it.
    @inlinable package static func after(_ b: UnsafeBufferPointer<UInt8>, _ prefix: StaticString) -> UnsafeBufferPointer<UInt8>? {
        let n = prefix.utf8CodeUnitCount
        guard b.count >= n, n == 0 || memcmp(b.baseAddress!, prefix.utf8Start, n) == 0 else { return nil }
        return UnsafeBufferPointer(rebasing: b[n...])
    }

    @inlinable package static func string(_ b: UnsafeBufferPointer<UInt8>) -> String { String(decoding: b, as: UTF8.self) }

    @inlinable package static func firstIndex(_ b: UnsafeBufferPointer<UInt8>, of c: UInt8) -> Int? {
        guard let base = b.baseAddress, let p = memchr(base, Int32(c), b.count) else { return nil }
        return base.distance(to: p.assumingMemoryBound(to: UInt8.self))
    }

    @inline(__always)
    @inlinable package static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }

    @inlinable package static func trimmed(_ b: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var s = 0
        while s < b.count && isSpace(b[s]) { s += 1 }
        return trimmedEnd(UnsafeBufferPointer(rebasing: b[s...]))
    }

    @inlinable package static func trimmedEnd(_ b: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var e = b.count
        while e > 0 && isSpace(b[e - 1]) { e -= 1 }
        return UnsafeBufferPointer(rebasing: b[0..<e])
    }

    /// Up to the first whitespace.
    @inlinable package static func firstField(_ b: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var e = 0
        while e < b.count && !isSpace(b[e]) { e += 1 }
        return UnsafeBufferPointer(rebasing: b[0..<e])
    }

    /// Splits on `separator`; the last part holds the rest once `maxSplits` is reached.
    @inlinable package static func split(
        _ b: UnsafeBufferPointer<UInt8>, on separator: UInt8, maxSplits: Int = .max
    ) -> [UnsafeBufferPointer<UInt8>] {
        var parts: [UnsafeBufferPointer<UInt8>] = []
        var start = 0
        while parts.count < maxSplits, let i = firstIndex(UnsafeBufferPointer(rebasing: b[start...]), of: separator) {
            parts.append(UnsafeBufferPointer(rebasing: b[start..<(start + i)]))
            start += i + 1
        }
        parts.append(UnsafeBufferPointer(rebasing: b[start...]))
        return parts
    }

    /// The first three tab-separated fields and where the fourth (the rest) starts, or nil when
    /// the line has fewer than three tabs. No array: this runs for nearly every runtime line.
    @inlinable package static func fourTabFields(
        _ b: UnsafeBufferPointer<UInt8>
    ) -> (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>, Int)? {
        guard let t1 = firstIndex(b, of: 0x09) else { return nil }
        let afterFirst = UnsafeBufferPointer(rebasing: b[(t1 + 1)...])
        guard let d2 = firstIndex(afterFirst, of: 0x09) else { return nil }
        let t2 = t1 + 1 + d2
        let afterSecond = UnsafeBufferPointer(rebasing: b[(t2 + 1)...])
        guard let d3 = firstIndex(afterSecond, of: 0x09) else { return nil }
        let t3 = t2 + 1 + d3
        return (
            UnsafeBufferPointer(rebasing: b[0..<t1]), UnsafeBufferPointer(rebasing: b[(t1 + 1)..<t2]),
            UnsafeBufferPointer(rebasing: b[(t2 + 1)..<t3]), t3 + 1
        )
    }

    /// Splits on runs of spaces or tabs.
    @inlinable package static func splitWhitespace(_ b: UnsafeBufferPointer<UInt8>, maxSplits: Int) -> [UnsafeBufferPointer<UInt8>] {
        var parts: [UnsafeBufferPointer<UInt8>] = []
        var i = 0
        while i < b.count {
            while i < b.count && (b[i] == 0x20 || b[i] == 0x09) { i += 1 }
            guard i < b.count else { break }
            if parts.count == maxSplits {
                parts.append(UnsafeBufferPointer(rebasing: b[i...]))
                break
            }
            let start = i
            while i < b.count && b[i] != 0x20 && b[i] != 0x09 { i += 1 }
            parts.append(UnsafeBufferPointer(rebasing: b[start..<i]))
        }
        return parts
    }

    /// `2026-12-03T10:00:00.000Z`-like: starts with a date and holds a `T`.
    @inlinable package static func looksLikeTimestamp(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        b.count >= 19 && b.count <= 40 && b[4] == UInt8(ascii: "-") && b[7] == UInt8(ascii: "-") && b[10] == UInt8(ascii: "T")
    }

    /// The number a value starts with (`12.34 ms` → 12.34), or nil.
    @inlinable package static func leadingNumber(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        var e = 0
        while e < b.count, (b[e] >= UInt8(ascii: "0") && b[e] <= UInt8(ascii: "9")) || b[e] == UInt8(ascii: ".") { e += 1 }
        guard e > 0 else { return nil }
        guard let v = Double(string(UnsafeBufferPointer(rebasing: b[0..<e]))), v.isFinite else { return nil }
        return v
    }
}
