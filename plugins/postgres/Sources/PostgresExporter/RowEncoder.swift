// Writes rows in PostgreSQL's binary COPY format, and JSON, byte by byte, making every string storable.
import FireflyModel

/// Appends rows in `COPY … FROM STDIN (FORMAT binary)` form: per row the number of columns (int16),
/// then per column its length (int32, -1 for NULL) and its value in the type's binary form, big-endian.
/// The stream's header and trailer are `RowEncoder.copyHeader` and `copyTrailer`. PostgreSQL text
/// (and `jsonb`) cannot hold a NUL character, so each NUL becomes U+FFFD while the string is copied;
/// see `StorableText` for the other values PostgreSQL refuses. Without columns (only the `json*`
/// methods) it writes plain JSON text.
struct RowEncoder {
    var bytes: [UInt8] = []
    private var columnsInRow = 0
    /// Where the row's column count goes.
    private var rowStart = 0
    /// Where the length of the column being written goes (a JSON column grows until the next one), or -1.
    private var openColumn = -1
    /// While a COPY streams (`PQSession.copyBinary`): where whole rows go once `flushSize` bytes are
    /// pending, so the server stores rows while the next ones are encoded. `bytes` keeps every row.
    var sink: ((ArraySlice<UInt8>) -> Void)?
    /// How much of `bytes` went to the sink.
    var flushed = 0
    static let flushSize = 1 << 16

    /// The signature, flags (no OIDs) and an empty header extension.
    static let copyHeader: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + [0, 0, 0, 0] + [0, 0, 0, 0]
    /// A column count of -1.
    static let copyTrailer: [UInt8] = [0xFF, 0xFF]

    /// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 00:00:00 UTC).
    static let postgresEpochMicros: Int64 = 946_684_800_000_000

    /// Array element type ids (`pg_type.oid`).
    static let float8OID: UInt32 = 701
    static let int8OID: UInt32 = 20

    init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    // MARK: Columns

    /// Starts a column whose length is filled in when it ends.
    private mutating func beginColumn() {
        startColumn()
        openColumn = bytes.count
        bytes.append(contentsOf: [0, 0, 0, 0])
    }

    private mutating func closeColumn() {
        guard openColumn >= 0 else { return }
        let length = UInt32(truncatingIfNeeded: bytes.count - openColumn - 4)
        bytes[openColumn] = UInt8(truncatingIfNeeded: length >> 24)
        bytes[openColumn + 1] = UInt8(truncatingIfNeeded: length >> 16)
        bytes[openColumn + 2] = UInt8(truncatingIfNeeded: length >> 8)
        bytes[openColumn + 3] = UInt8(truncatingIfNeeded: length)
        openColumn = -1
    }

    /// A column of fixed size: its length, then the value (no patching).
    private mutating func beginFixedColumn(_ size: UInt32) {
        startColumn()
        appendBigEndian(size)
    }

    /// Ends the open column and counts a new one; the row's first reserves its field count.
    @inline(__always)
    private mutating func startColumn() {
        closeColumn()
        if columnsInRow == 0 {
            rowStart = bytes.count
            bytes.append(0)
            bytes.append(0)
        }
        columnsInRow += 1
    }

    mutating func endRow() {
        closeColumn()
        bytes[rowStart] = UInt8(truncatingIfNeeded: columnsInRow >> 8)
        bytes[rowStart + 1] = UInt8(truncatingIfNeeded: columnsInRow)
        columnsInRow = 0
        if sink != nil && bytes.count - flushed >= Self.flushSize { flush() }
    }

    /// Hands the rows not yet sent to the sink.
    mutating func flush() {
        if let sink, bytes.count > flushed { sink(bytes[flushed...]) }
        flushed = bytes.count
    }

    mutating func null() {
        beginFixedColumn(UInt32.max)  // -1
    }

    /// `text`: the UTF-8 bytes, each NUL as U+FFFD.
    mutating func text(_ s: String) {
        beginColumn()
        appendText(s)
    }

    /// A trace id as `text`: 32 lowercase hex digits (its `description`, without building a String).
    mutating func hex(_ id: TraceID) {
        beginFixedColumn(32)
        appendHex(id.high)
        appendHex(id.low)
    }

    /// A span id as `text`: 16 lowercase hex digits.
    mutating func hex(_ id: SpanID) {
        beginFixedColumn(16)
        appendHex(id.value)
    }

    /// A trace id as a JSON string of 32 lowercase hex digits.
    mutating func jsonHex(_ id: TraceID) {
        bytes.append(UInt8(ascii: "\""))
        appendHex(id.high)
        appendHex(id.low)
        bytes.append(UInt8(ascii: "\""))
    }

    /// A span id as a JSON string of 16 lowercase hex digits.
    mutating func jsonHex(_ id: SpanID) {
        bytes.append(UInt8(ascii: "\""))
        appendHex(id.value)
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendHex(_ v: UInt64) {
        for shift in stride(from: 60, through: 0, by: -4) {
            bytes.append(Self.hexDigits[Int(truncatingIfNeeded: v >> UInt64(shift)) & 0xF])
        }
    }

    /// `bigint`.
    mutating func int(_ v: Int64) {
        beginFixedColumn(8)
        appendBigEndian(UInt64(bitPattern: v))
    }

    /// `bigint`; values above `Int64.max` are clamped.
    mutating func uint(_ v: UInt64) {
        int(Int64(clamping: v))
    }

    /// `integer`.
    mutating func int32(_ v: Int32) {
        beginFixedColumn(4)
        appendBigEndian(UInt32(bitPattern: v))
    }

    /// `smallint`.
    mutating func int16(_ v: Int16) {
        beginFixedColumn(2)
        let u = UInt16(bitPattern: v)
        bytes.append(UInt8(truncatingIfNeeded: u >> 8))
        bytes.append(UInt8(truncatingIfNeeded: u))
    }

    /// `float8`: the IEEE 754 bits (NaN and infinities included).
    mutating func double(_ v: Double) {
        beginFixedColumn(8)
        appendBigEndian(v.bitPattern)
    }

    /// A `timestamptz` at microsecond resolution: nanoseconds since the Unix epoch, clamped to `Int64`
    /// like the `bigint` column beside it and truncated to microseconds, as microseconds since 2000.
    mutating func timestamp(unixNano: UInt64) {
        beginFixedColumn(8)
        appendBigEndian(UInt64(bitPattern: Self.postgresMicros(unixNano: unixNano)))
    }

    static func postgresMicros(unixNano: UInt64) -> Int64 {
        Int64(clamping: unixNano) / 1000 - postgresEpochMicros
    }

    /// `timestamp(unixNano:)`, or NULL for 0 (an unknown start time).
    mutating func optionalTimestamp(unixNano: UInt64) {
        if unixNano == 0 { null() } else { timestamp(unixNano: unixNano) }
    }

    mutating func optionalDouble(_ v: Double?) {
        if let v { double(v) } else { null() }
    }

    mutating func bool(_ v: Bool) {
        beginFixedColumn(1)
        bytes.append(v ? 1 : 0)
    }

    /// A one-dimensional `float8[]` (empty: no dimensions).
    mutating func doubleArray(_ values: [Double]) {
        beginArray(count: values.count, elementType: Self.float8OID)
        for v in values {
            appendBigEndian(UInt32(8))
            appendBigEndian(v.bitPattern)
        }
    }

    /// A one-dimensional `bigint[]`; values above `Int64.max` are clamped.
    mutating func uintArray(_ values: [UInt64]) {
        beginArray(count: values.count, elementType: Self.int8OID)
        for v in values {
            appendBigEndian(UInt32(8))
            appendBigEndian(UInt64(bitPattern: Int64(clamping: v)))
        }
    }

    /// Array header: dimensions, no NULLs, element type, then size and lower bound 1.
    private mutating func beginArray(count: Int, elementType: UInt32) {
        beginColumn()
        appendBigEndian(UInt32(count == 0 ? 0 : 1))
        appendBigEndian(UInt32(0))
        appendBigEndian(elementType)
        if count > 0 {
            appendBigEndian(UInt32(truncatingIfNeeded: count))
            appendBigEndian(UInt32(1))
        }
    }

    /// Starts a JSON column; write the value with the `json*` methods.
    /// A `jsonb` column: its format version (1), then the JSON text.
    mutating func beginJSONColumn() {
        beginColumn()
        bytes.append(1)
    }

    // MARK: JSON

    mutating func jsonString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            // Runs of bytes that need no escape are copied at once.
            var start = 0
            for i in utf8.indices {
                let b = utf8[i]
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i]))
                start = i + 1
                switch b {
                case 0: bytes.append(contentsOf: StorableText.replacementCharacter)
                case UInt8(ascii: "\""): appendBackslash(); bytes.append(b)
                case UInt8(ascii: "\\"): appendBackslash(); appendBackslash()
                case 0x0A: appendBackslash(); bytes.append(UInt8(ascii: "n"))
                case 0x0D: appendBackslash(); bytes.append(UInt8(ascii: "r"))
                case 0x09: appendBackslash(); bytes.append(UInt8(ascii: "t"))
                default:
                    appendBackslash()
                    appendASCII("u00")
                    bytes.append(Self.hexDigits[Int(b >> 4)])
                    bytes.append(Self.hexDigits[Int(b & 0xF)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
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
        appendText(StorableText.jsonbSafe(s))
    }

    /// Attributes as one JSON object. A repeated key keeps its first value (as `[Attribute][key:]` does).
    mutating func jsonAttributes(_ attributes: [Attribute]) {
        bytes.append(UInt8(ascii: "{"))
        // Few attributes (the usual case): compare with the earlier keys instead of hashing into a set.
        let small = attributes.count <= 16
        var seen: Set<String> = []
        var first = true
        for (i, attribute) in attributes.enumerated() {
            if small {
                if i > 0 && attributes[..<i].contains(where: { $0.key == attribute.key }) { continue }
            } else if !seen.insert(attribute.key).inserted {
                continue
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
    }

    private mutating func appendBigEndian(_ v: UInt64) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func appendBigEndian(_ v: UInt32) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
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

    /// The string's UTF-8 bytes, each NUL as U+FFFD.
    private mutating func appendText(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            guard utf8.contains(0) else {
                bytes.append(contentsOf: utf8)
                return
            }
            for b in utf8 {
                if b == 0 { bytes.append(contentsOf: StorableText.replacementCharacter) } else { bytes.append(b) }
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
