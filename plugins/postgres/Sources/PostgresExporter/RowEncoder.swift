// Writes values in PostgreSQL's COPY text format and JSON, byte by byte, making every string storable.
import FireflyModel

/// Appends rows in `COPY … FROM STDIN (FORMAT text)` form: columns separated by tabs, rows ended by
/// newlines, `\N` for NULL; backslash, tab, newline and carriage return escaped. JSON written into a
/// row has its backslashes doubled by the same rule. PostgreSQL text (and `jsonb`) cannot hold a NUL
/// character, so each NUL becomes U+FFFD while the string is copied (that scan is the escaping pass
/// itself, so it is free); see `StorableText` for the other values PostgreSQL refuses.
struct RowEncoder {
    var bytes: [UInt8] = []
    private var columnsInRow = 0
    /// While true, output goes through COPY escaping; false for JSON sent as a bind parameter.
    var copyEscaping: Bool

    init(copyEscaping: Bool = true, capacity: Int = 0) {
        self.copyEscaping = copyEscaping
        bytes.reserveCapacity(capacity)
    }

    // MARK: Columns

    private mutating func beginColumn() {
        if columnsInRow > 0 { bytes.append(0x09) }
        columnsInRow += 1
    }

    mutating func endRow() {
        bytes.append(0x0A)
        columnsInRow = 0
    }

    mutating func null() {
        beginColumn()
        bytes.append(0x5C)
        bytes.append(UInt8(ascii: "N"))
    }

    mutating func text(_ s: String) {
        beginColumn()
        appendEscaped(s)
    }

    mutating func int(_ v: Int64) {
        beginColumn()
        appendASCII(String(v))
    }

    mutating func uint(_ v: UInt64) {
        int(Int64(clamping: v))
    }

    mutating func double(_ v: Double) {
        beginColumn()
        appendDouble(v)
    }

    /// A `timestamptz` in UTC at microsecond resolution: nanoseconds since the epoch, clamped to
    /// `Int64` like the `bigint` column beside it and truncated to microseconds.
    mutating func timestamp(unixNano: UInt64) {
        beginColumn()
        let micros = Int64(clamping: unixNano) / 1000
        let t = UTCCalendar.fields(unixSeconds: micros / 1_000_000)
        appendDigits(t.year, 4)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(t.month, 2)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(t.day, 2)
        bytes.append(UInt8(ascii: " "))
        appendDigits(t.hour, 2)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(t.minute, 2)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(t.second, 2)
        bytes.append(UInt8(ascii: "."))
        appendDigits(micros % 1_000_000, 6)
        appendASCII("+00")
    }

    /// `timestamp(unixNano:)`, or NULL for 0 (an unknown start time).
    mutating func optionalTimestamp(unixNano: UInt64) {
        if unixNano == 0 { null() } else { timestamp(unixNano: unixNano) }
    }

    mutating func optionalDouble(_ v: Double?) {
        if let v { double(v) } else { null() }
    }

    mutating func bool(_ v: Bool) {
        beginColumn()
        bytes.append(v ? UInt8(ascii: "t") : UInt8(ascii: "f"))
    }

    /// A `float8[]` literal: `{1.5,NaN,-Infinity}`.
    mutating func doubleArray(_ values: [Double]) {
        beginColumn()
        bytes.append(UInt8(ascii: "{"))
        for (i, v) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            appendDouble(v)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// A `bigint[]` literal; values above `Int64.max` are clamped.
    mutating func uintArray(_ values: [UInt64]) {
        beginColumn()
        bytes.append(UInt8(ascii: "{"))
        for (i, v) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            appendASCII(String(Int64(clamping: v)))
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// Starts a JSON column; write the value with the `json*` methods.
    mutating func beginJSONColumn() {
        beginColumn()
    }

    // MARK: JSON

    mutating func jsonString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            for b in utf8 {
                switch b {
                case 0: bytes.append(contentsOf: StorableText.replacementCharacter)
                case UInt8(ascii: "\""): appendBackslash(); bytes.append(b)
                case UInt8(ascii: "\\"): appendBackslash(); appendBackslash()
                case 0x0A: appendBackslash(); bytes.append(UInt8(ascii: "n"))
                case 0x0D: appendBackslash(); bytes.append(UInt8(ascii: "r"))
                case 0x09: appendBackslash(); bytes.append(UInt8(ascii: "t"))
                case 0x01..<0x20:
                    appendBackslash()
                    appendASCII("u00")
                    bytes.append(Self.hexDigits[Int(b >> 4)])
                    bytes.append(Self.hexDigits[Int(b & 0xF)])
                default: bytes.append(b)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// JSON has no NaN or infinities: those become the strings "NaN", "Infinity", "-Infinity".
    mutating func jsonNumber(_ v: Double) {
        if v.isFinite {
            appendDouble(v)
        } else {
            bytes.append(UInt8(ascii: "\""))
            appendDouble(v)
            bytes.append(UInt8(ascii: "\""))
        }
    }

    mutating func jsonInt(_ v: Int64) { appendASCII(String(v)) }
    mutating func jsonUInt(_ v: UInt64) { appendASCII(String(v)) }
    mutating func jsonBool(_ v: Bool) { appendASCII(v ? "true" : "false") }
    mutating func jsonNull() { appendASCII("null") }
    mutating func jsonPunct(_ c: Unicode.Scalar) { bytes.append(UInt8(ascii: c)) }

    /// JSON text from elsewhere (an OpenTelemetry array or map attribute), inserted as it is but for
    /// the escapes `jsonb` refuses (`\u0000`, lone surrogates), which become `\ufffd`.
    mutating func jsonRaw(_ s: String) {
        appendEscaped(StorableText.jsonbSafe(s))
    }

    /// Attributes as one JSON object. A repeated key keeps its first value (as `[Attribute][key:]` does).
    mutating func jsonAttributes(_ attributes: [Attribute]) {
        bytes.append(UInt8(ascii: "{"))
        var seen: Set<String> = []
        var first = true
        for attribute in attributes {
            if attributes.count > 1 {
                guard seen.insert(attribute.key).inserted else { continue }
            }
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            jsonString(attribute.key)
            bytes.append(UInt8(ascii: ":"))
            jsonAttributeValue(attribute.value)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    mutating func jsonAttributeValue(_ value: AttributeValue) {
        switch value {
        case .string(let s): jsonString(s)
        case .bool(let b): jsonBool(b)
        case .int(let i): jsonInt(i)
        case .double(let d): jsonNumber(d)
        case .bytes(let b): jsonString(Base64.encode(b))
        case .json(let text): jsonRaw(text.isEmpty ? "null" : text)
        }
    }

    // MARK: Bytes

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func appendBackslash() {
        bytes.append(0x5C)
        if copyEscaping { bytes.append(0x5C) }
    }

    /// `value` (non-negative) in decimal, zero-padded to `width` digits.
    private mutating func appendDigits(_ value: Int64, _ width: Int) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0)
        var v = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            for i in stride(from: width - 1, through: 0, by: -1) {
                buffer[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            }
        }
        withUnsafeBytes(of: &digits) { bytes.append(contentsOf: $0.prefix(width)) }
    }

    private mutating func appendASCII(_ s: String) {
        var s = s
        s.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// Shortest text that reads back as the same Double; PostgreSQL's spelling of NaN and infinities.
    private mutating func appendDouble(_ v: Double) {
        if v.isNaN {
            appendASCII("NaN")
        } else if v.isInfinite {
            appendASCII(v < 0 ? "-Infinity" : "Infinity")
        } else {
            appendASCII(v.description)
        }
    }

    private mutating func appendEscaped(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            guard copyEscaping else {
                for b in utf8 {
                    if b == 0 { bytes.append(contentsOf: StorableText.replacementCharacter) } else { bytes.append(b) }
                }
                return
            }
            for b in utf8 {
                switch b {
                case 0: bytes.append(contentsOf: StorableText.replacementCharacter)
                case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
                case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
                default: bytes.append(b)
                }
            }
        }
    }
}

/// Standard base64 with padding: how OpenTelemetry's JSON forms write bytes values.
enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ data: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((data.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < data.count {
            let n = UInt32(data[i]) << 16 | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2])
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = data.count - i
        if rest == 1 {
            let n = UInt32(data[i]) << 16
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let n = UInt32(data[i]) << 16 | UInt32(data[i + 1]) << 8
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
