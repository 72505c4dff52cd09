// The storable form of text PostgreSQL would refuse: NUL, escapes jsonb refuses, values too long for an index.

/// What the exporter writes instead of a value PostgreSQL refuses, so that one bad value never
/// costs the rows around it (the rules are listed in the plugin's README):
/// - a NUL character (U+0000) anywhere, in text or JSON, becomes U+FFFD (see `RowEncoder`);
/// - in JSON text taken as it is (OpenTelemetry array and map attributes) the escapes `jsonb` refuses,
///   `\u0000` and a surrogate without its pair, become `\ufffd`;
/// - a value of an indexed column longer than `maximumIndexedBytes` is cut at a UTF-8 boundary and
///   ends with `…` and 16 hex digits of a hash of the whole value, so distinct long values stay
///   distinct. PostgreSQL's btree index holds at most 2 704 bytes per row.
/// Invalid UTF-8 never reaches an exporter: receivers decode text into Swift strings, which replace
/// every invalid sequence with U+FFFD.
enum StorableText {
    /// U+FFFD in UTF-8.
    static let replacementCharacter: [UInt8] = [0xEF, 0xBF, 0xBD]

    /// The most bytes of one indexed text column. Two such columns share one index (`series_name`:
    /// name and namespace), and 2 × 1 024 bytes plus the row's overhead stay under 2 704.
    static let maximumIndexedBytes = 1024

    /// `text` if it fits an index, else its first bytes (whole characters) + `…` + a 64-bit FNV-1a
    /// hash of all of it in hex, `maximumIndexedBytes` at most.
    static func indexed(_ text: String, maximumBytes: Int = maximumIndexedBytes) -> String {
        let text = withoutNUL(text)
        let utf8 = text.utf8
        guard utf8.count > maximumBytes else { return text }
        let suffix = "…" + hex(fnv1a(utf8))
        var end = utf8.index(utf8.startIndex, offsetBy: maximumBytes - suffix.utf8.count)
        // Back up to the start of a character: continuation bytes are 0b10xxxxxx.
        while end > utf8.startIndex, utf8[end] & 0xC0 == 0x80 { end = utf8.index(before: end) }
        return String(decoding: utf8[..<end], as: UTF8.self) + suffix
    }

    /// `text` with each NUL replaced by U+FFFD: for values sent as bind parameters rather than
    /// through `RowEncoder`.
    static func withoutNUL(_ text: String) -> String {
        guard text.utf8.contains(0) else { return text }
        return String(decoding: text.utf8.flatMap { $0 == 0 ? replacementCharacter : [$0] }, as: UTF8.self)
    }

    /// JSON text with every `\u0000` escape and every unpaired surrogate escape replaced by `\ufffd`;
    /// everything else, valid or not, unchanged.
    static func jsonbSafe(_ json: String) -> String {
        let bytes = Array(json.utf8)
        guard bytes.contains(UInt8(ascii: "\\")) else { return json }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            guard b == UInt8(ascii: "\\"), i + 1 < bytes.count else {
                out.append(b)
                i += 1
                continue
            }
            guard bytes[i + 1] == UInt8(ascii: "u"), let unit = codeUnit(bytes, at: i + 2) else {
                out.append(b)  // another escape: copy both bytes, so `\\u0000` stays the text it is
                out.append(bytes[i + 1])
                i += 2
                continue
            }
            switch unit {
            case 0xD800...0xDBFF:
                if i + 12 <= bytes.count, bytes[i + 6] == UInt8(ascii: "\\"), bytes[i + 7] == UInt8(ascii: "u"),
                   let low = codeUnit(bytes, at: i + 8), (0xDC00...0xDFFF).contains(low) {
                    out.append(contentsOf: bytes[i..<i + 12])
                    i += 12
                } else {
                    out.append(contentsOf: Array("\\ufffd".utf8))
                    i += 6
                }
            case 0, 0xDC00...0xDFFF:
                out.append(contentsOf: Array("\\ufffd".utf8))
                i += 6
            default:
                out.append(contentsOf: bytes[i..<i + 6])
                i += 6
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The four hex digits at `offset` as a UTF-16 code unit, nil when they are not there.
    private static func codeUnit(_ bytes: [UInt8], at offset: Int) -> UInt16? {
        guard offset + 4 <= bytes.count else { return nil }
        var value: UInt16 = 0
        for b in bytes[offset..<offset + 4] {
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    private static func fnv1a(_ bytes: String.UTF8View) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            hash ^= UInt64(b)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
