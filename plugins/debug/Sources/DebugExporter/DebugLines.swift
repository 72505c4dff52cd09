public import FireflyModel

/// The debug exporter's line format, written by hand: the same JSON that `JSONEncoder` makes of
/// `DebugRecord` with sorted keys (a test holds the two byte for byte), at ~30× the speed, so
/// the debug exporter keeps up with ingest. Non-finite numbers, which JSON has no literal for,
/// are written as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.
public enum DebugLines {
    /// One line per point, then one per span, each ending in `\n`.
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
        return w.out
    }

    struct Writer {
        var out: [UInt8] = []

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

        mutating func hex(_ bytes: [UInt8]) {
            out.append(UInt8(ascii: "\""))
            for b in bytes {
                out.append(hexDigit(b >> 4))
                out.append(hexDigit(b & 0xF))
            }
            out.append(UInt8(ascii: "\""))
        }

        mutating func numbers(_ values: [Double]) {
            out.append(UInt8(ascii: "["))
            for (i, v) in values.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                number(v)
            }
            out.append(UInt8(ascii: "]"))
        }

        /// Keys in `JSONEncoder`'s sorted order (byte order of the property names).
        mutating func point(_ p: MetricPoint) {
            raw("{")
            key("bounds", first: true); numbers(p.bounds)
            key("bucketCounts"); raw("[")
            for (i, c) in p.bucketCounts.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                unsigned(c)
            }
            raw("]")
            key("count"); number(p.count)
            key("function"); string(p.function)
            key("hasMinMax"); bool(p.hasMinMax)
            key("isDelta"); bool(p.isDelta)
            key("isMonotonic"); bool(p.isMonotonic)
            key("kind"); unsigned(UInt64(p.kind.rawValue))
            key("labels"); raw("[")
            for (i, l) in p.labels.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                raw("{\"key\":"); string(l.key); raw(",\"value\":"); string(l.value); raw("}")
            }
            raw("]")
            key("max"); number(p.max)
            key("min"); number(p.min)
            key("name"); string(p.name)
            key("namespace"); string(p.namespace)
            key("quantiles"); raw("[")
            for (i, q) in p.quantiles.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                raw("{\"quantile\":"); number(q.quantile); raw(",\"value\":"); number(q.value); raw("}")
            }
            raw("]")
            key("startTimeUnixNano"); unsigned(p.startTimeUnixNano)
            key("sum"); number(p.sum)
            key("timeUnixNano"); unsigned(p.timeUnixNano)
            key("unit"); string(p.unit)
            key("value"); number(p.value)
            raw("}")
        }

        mutating func attributes(_ attrs: [Attribute]) {
            raw("[")
            for (i, a) in attrs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                raw("{\"key\":"); string(a.key); raw(",\"value\":{")
                switch a.value {
                case .string(let s): raw("\"string\":"); string(s)
                case .bool(let b): raw("\"bool\":"); bool(b)
                case .int(let v): raw("\"int\":"); signed(v)
                case .double(let d): raw("\"double\":"); number(d)
                case .bytes(let b): raw("\"bytes\":"); hex(b)
                case .json(let s): raw("\"json\":"); string(s)
                }
                raw("}}")
            }
            raw("]")
        }

        mutating func span(_ s: Span) {
            raw("{")
            key("attributes", first: true); attributes(s.attributes)
            key("endTimeUnixNano"); unsigned(s.endTimeUnixNano)
            key("events"); raw("[")
            for (i, e) in s.events.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                raw("{"); key("attributes", first: true); attributes(e.attributes)
                key("name"); string(e.name)
                key("timeUnixNano"); unsigned(e.timeUnixNano); raw("}")
            }
            raw("]")
            key("function"); string(s.function)
            key("kind"); unsigned(UInt64(s.kind.rawValue))
            key("links"); raw("[")
            for (i, l) in s.links.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                raw("{"); key("attributes", first: true); attributes(l.attributes)
                key("spanID"); hex(l.spanID.bytes)
                key("traceID"); hex(l.traceID.bytes)
                key("traceState"); string(l.traceState); raw("}")
            }
            raw("]")
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
