public import FireflyModel
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The debug exporter's line format, written by hand: the same JSON that `JSONEncoder` makes of
/// `DebugRecord` with sorted keys (a test holds the two byte for byte), about ten times as fast, so
/// the debug exporter keeps up with ingest. Non-finite numbers, which JSON has no literal for,
/// are written as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.
public enum DebugLines {
    /// One line per point, then one per span, log record and invocation, each ending in `\n`.
    public static func encode(_ batch: TelemetryBatch) -> [UInt8] {
        var w = Writer()
        w.out.reserveCapacity(batch.points.count * 420 + batch.spans.count * 700)
        for p in batch.points {
            w.raw("{\"point\":")
            w.point(p)
            w.raw("}\n")
        }
        for s in batch.spans {
            w.raw("{\"span\":")
            w.span(s)
            w.raw("}\n")
        }
        if !batch.logs.isEmpty || !batch.invocations.isEmpty {
            // Far fewer than points and spans: Foundation's encoder, with the same sorted keys.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
            for l in batch.logs { w.encoded(DebugRecord(log: l), encoder) }
            for v in batch.invocations { w.encoded(DebugRecord(invocation: v), encoder) }
        }
        return w.out
    }

    struct Writer {
        var out: [UInt8] = []

        mutating func encoded(_ record: DebugRecord, _ encoder: JSONEncoder) {
            // Every field of a record encodes (non-finite numbers as strings).
            out += (try? encoder.encode(record)).map { Array($0) } ?? Array(#"{"error":"unencodable record"}"#.utf8)
            out.append(0x0A)
        }

        mutating func raw(_ s: StaticString) {
            s.withUTF8Buffer { out.append(contentsOf: $0) }
        }

        /// `"key":` after a comma unless it is the object's first key.
        mutating func key(_ s: StaticString, first: Bool = false) {
            if !first { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            raw(s)
            raw("\":")
        }

        mutating func string(_ s: String) {
            out.append(UInt8(ascii: "\""))
            for b in s.utf8 {
                switch b {
                case UInt8(ascii: "\""): raw("\\\"")
                case UInt8(ascii: "\\"): raw("\\\\")
                case 0x0A: raw("\\n")
                case 0x0D: raw("\\r")
                case 0x09: raw("\\t")
                case 0x08: raw("\\b")
                case 0x0C: raw("\\f")
                case 0..<0x20:
                    raw("\\u00")
                    out.append(hexDigit(b >> 4))
                    out.append(hexDigit(b & 0xF))
                default: out.append(b)
                }
            }
            out.append(UInt8(ascii: "\""))
        }

        private func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? UInt8(ascii: "0") + v : UInt8(ascii: "a") + v - 10 }

        mutating func unsigned(_ v: UInt64) {
            var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // 20 digits at most, 32 bytes of room
            withUnsafeMutableBytes(of: &digits) { buf in
                var n = v
                var i = buf.count
                repeat {
                    i -= 1
                    buf[i] = UInt8(ascii: "0") + UInt8(n % 10)
                    n /= 10
                } while n > 0
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[i...]))
            }
        }

        mutating func signed(_ v: Int64) {
            if v < 0 { out.append(UInt8(ascii: "-")) }
            unsigned(v.magnitude)
        }

        /// `JSONEncoder`'s form: the shortest round-tripping text, without a trailing `.0`.
        mutating func number(_ v: Double) {
            guard v.isFinite else {
                raw(v.isNaN ? "\"NaN\"" : v < 0 ? "\"-Infinity\"" : "\"Infinity\"")
                return
            }
            var text = v.description
            if text.hasSuffix(".0") { text.removeLast(2) }
            out.append(contentsOf: text.utf8)
        }

        mutating func bool(_ v: Bool) { v ? raw("true") : raw("false") }

        /// Lowercase hex in quotes (ids, bytes values), as `Codable+Model` writes them.
        mutating func hex(_ bytes: [UInt8]) {
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: Hex.encode(bytes).utf8)
            out.append(UInt8(ascii: "\""))
        }

        /// `[a,b,…]`, each element written by `element`.
        mutating func list<S: Sequence>(_ items: S, _ element: (inout Writer, S.Element) -> Void) {
            out.append(UInt8(ascii: "["))
            var first = true
            for item in items {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                element(&self, item)
            }
            out.append(UInt8(ascii: "]"))
        }

        /// Keys in `JSONEncoder`'s sorted order (byte order of the property names).
        mutating func point(_ p: MetricPoint) {
            raw("{")
            key("bounds", first: true); list(p.bounds) { $0.number($1) }
            key("bucketCounts"); list(p.bucketCounts) { $0.unsigned($1) }
            key("count"); number(p.count)
            key("function"); string(p.function)
            key("hasMinMax"); bool(p.hasMinMax)
            key("isDelta"); bool(p.isDelta)
            key("isMonotonic"); bool(p.isMonotonic)
            key("kind"); unsigned(UInt64(p.kind.rawValue))
            key("labels")
            list(p.labels) { w, l in w.raw("{\"key\":"); w.string(l.key); w.raw(",\"value\":"); w.string(l.value); w.raw("}") }
            key("max"); number(p.max)
            key("min"); number(p.min)
            key("name"); string(p.name)
            key("namespace"); string(p.namespace)
            key("quantiles")
            list(p.quantiles) { w, q in w.raw("{\"quantile\":"); w.number(q.quantile); w.raw(",\"value\":"); w.number(q.value); w.raw("}") }
            key("startTimeUnixNano"); unsigned(p.startTimeUnixNano)
            key("sum"); number(p.sum)
            key("timeUnixNano"); unsigned(p.timeUnixNano)
            key("unit"); string(p.unit)
            key("value"); number(p.value)
            raw("}")
        }

        mutating func attributes(_ attrs: [Attribute]) {
            list(attrs) { w, a in
                w.raw("{\"key\":"); w.string(a.key); w.raw(",\"value\":{")
                switch a.value {
                case .string(let s): w.raw("\"string\":"); w.string(s)
                case .bool(let b): w.raw("\"bool\":"); w.bool(b)
                case .int(let v): w.raw("\"int\":"); w.signed(v)
                case .double(let d): w.raw("\"double\":"); w.number(d)
                case .bytes(let b): w.raw("\"bytes\":"); w.hex(b)
                case .json(let s): w.raw("\"json\":"); w.string(s)
                }
                w.raw("}}")
            }
        }

        mutating func span(_ s: Span) {
            raw("{")
            key("attributes", first: true); attributes(s.attributes)
            key("endTimeUnixNano"); unsigned(s.endTimeUnixNano)
            key("events")
            list(s.events) { w, e in
                w.raw("{"); w.key("attributes", first: true); w.attributes(e.attributes)
                w.key("name"); w.string(e.name)
                w.key("timeUnixNano"); w.unsigned(e.timeUnixNano); w.raw("}")
            }
            key("function"); string(s.function)
            key("kind"); unsigned(UInt64(s.kind.rawValue))
            key("links")
            list(s.links) { w, l in
                w.raw("{"); w.key("attributes", first: true); w.attributes(l.attributes)
                w.key("spanID"); w.hex(l.spanID.bytes)
                w.key("traceID"); w.hex(l.traceID.bytes)
                w.key("traceState"); w.string(l.traceState); w.raw("}")
            }
            key("name"); string(s.name)
            key("parentSpanID"); hex(s.parentSpanID.bytes)
            key("resourceAttributes"); attributes(s.resourceAttributes)
            key("scopeName"); string(s.scopeName)
            key("scopeVersion"); string(s.scopeVersion)
            key("service"); string(s.service)
            key("spanID"); hex(s.spanID.bytes)
            key("startTimeUnixNano"); unsigned(s.startTimeUnixNano)
            key("statusCode"); unsigned(UInt64(s.statusCode.rawValue))
            key("statusMessage"); string(s.statusMessage)
            key("traceID"); hex(s.traceID.bytes)
            key("traceState"); string(s.traceState)
            raw("}")
        }
    }
}
