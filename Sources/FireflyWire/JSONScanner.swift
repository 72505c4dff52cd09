// A strict RFC 8259 pull scanner over borrowed bytes: the fast path of every JSON reader in Firefly.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A strict RFC 8259 reader over borrowed bytes that never builds a tree: callers pull exactly the
/// values they need (`readString`, `readNumber`) and skip the rest (`skipValue`). This is what makes
/// CloudWatch JSON decoding fast — no object graph per record line. `JSON.parse` builds a tree with it.
///
/// Valid only inside the `withUnsafeBufferPointer` scope that produced `bytes`. The small, hot
/// methods are `@inlinable` so that decoders in other modules get them inlined and specialised.
public struct JSONScanner {
    public let bytes: UnsafeBufferPointer<UInt8>
    public var index: Int
    public let end: Int
    public static var maxDepth: Int { 512 }

    @inlinable
    public init(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.index = start
        self.end = end ?? bytes.count
    }

    // MARK: Structure

    @inlinable @inline(__always)
    public mutating func skipWhitespace() {
        while index < end {
            let b = bytes[index]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            index += 1
        }
    }

    /// The next non-whitespace byte, without consuming it.
    @inlinable @inline(__always)
    public mutating func peek(_ context: JSONSyntaxError.Context = .value) throws(JSONSyntaxError) -> UInt8 {
        skipWhitespace()
        guard index < end else { throw JSONSyntaxError(.unexpectedEnd(context), at: index) }
        return bytes[index]
    }

    @inlinable @inline(__always)
    public mutating func expect(_ byte: UInt8) throws(JSONSyntaxError) {
        let b = try peek()
        guard b == byte else { throw JSONSyntaxError(.unexpectedByte(b, expected: .value), at: index) }
        index += 1
    }

    /// Consumes `byte` if it comes next.
    @inlinable @inline(__always)
    public mutating func consume(_ byte: UInt8) throws(JSONSyntaxError) -> Bool {
        guard try peek() == byte else { return false }
        index += 1
        return true
    }

    /// Fails unless only whitespace remains.
    @inlinable
    public mutating func expectEnd() throws(JSONSyntaxError) {
        skipWhitespace()
        guard index == end else { throw JSONSyntaxError(.trailingData, at: index) }
    }

    /// Iterates the members of an object: `body` gets each key and must consume its value.
    @inlinable
    public mutating func readObject(
        _ body: (inout JSONScanner, JSONKey) throws(JSONSyntaxError) -> Void
    ) throws(JSONSyntaxError) {
        try expect(UInt8(ascii: "{"))
        if try consume(UInt8(ascii: "}")) { return }
        while true {
            let q = try peek(.object)
            guard q == UInt8(ascii: "\"") else { throw JSONSyntaxError(.unexpectedByte(q, expected: .key), at: index) }
            let key = try readRawString()
            let colon = try peek(.object)
            guard colon == UInt8(ascii: ":") else { throw JSONSyntaxError(.unexpectedByte(colon, expected: .colon), at: index) }
            index += 1
            try body(&self, key)
            let next = try peek(.object)
            index += 1
            if next == UInt8(ascii: ",") { continue }
            if next == UInt8(ascii: "}") { return }
            index -= 1
            throw JSONSyntaxError(.unexpectedByte(next, expected: .objectSeparator), at: index)
        }
    }

    /// Iterates the elements of an array: `body` must consume each element.
    @inlinable
    public mutating func readArray(_ body: (inout JSONScanner, Int) throws(JSONSyntaxError) -> Void) throws(JSONSyntaxError) {
        try expect(UInt8(ascii: "["))
        if try consume(UInt8(ascii: "]")) { return }
        var i = 0
        while true {
            try body(&self, i)
            i += 1
            let next = try peek(.array)
            index += 1
            if next == UInt8(ascii: ",") { continue }
            if next == UInt8(ascii: "]") { return }
            index -= 1
            throw JSONSyntaxError(.unexpectedByte(next, expected: .arraySeparator), at: index)
        }
    }

    /// Whether the next value is `null`; consumes it if so.
    @inlinable
    public mutating func consumeNull() throws(JSONSyntaxError) -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    /// Skips one value of any type, validating it.
    public mutating func skipValue(depth: Int = 0) throws(JSONSyntaxError) {
        guard depth < Self.maxDepth else { throw JSONSyntaxError(.tooDeep(limit: Self.maxDepth), at: index) }
        switch try peek() {
        case UInt8(ascii: "\""): _ = try readRawString()
        case UInt8(ascii: "{"): try readObject { (s, _) throws(JSONSyntaxError) in try s.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["): try readArray { (s, _) throws(JSONSyntaxError) in try s.skipValue(depth: depth + 1) }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try readNumber()
        }
    }

    /// Consumes `word` (`true`, `false`, `null`) at the current index.
    @usableFromInline
    mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let n = word.utf8CodeUnitCount
        for k in 0..<n {
            guard index + k < end else { throw JSONSyntaxError(.unexpectedEnd(.literal), at: index) }
            let b = bytes[index + k]
            guard b == word.utf8Start[k] else { throw JSONSyntaxError(.unexpectedByte(b, expected: .literal), at: index) }
        }
        index += n
    }

    // MARK: Strings

    /// Reads a string token and returns where its content lies, validating escapes, control
    /// characters and UTF-8 on the way.
    @inlinable
    public mutating func readRawString() throws(JSONSyntaxError) -> JSONKey {
        try expect(UInt8(ascii: "\""))
        let start = index
        var escaped = false
        var nonASCII = false
        while true {
            // Eight bytes at a time (base64 and names are long runs of plain ASCII): jump straight
            // to the first quote, backslash, control character or non-ASCII byte, which the byte
            // checks below handle.
            let raw = UnsafeRawPointer(bytes.baseAddress!)
            while end - index >= 8 {
                let m = Self.attention(raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                if m != 0 {
                    index += m.trailingZeroBitCount >> 3
                    break
                }
                index += 8
            }
            guard index < end else { throw JSONSyntaxError(.unexpectedEnd(.string), at: index) }
            let b = bytes[index]
            if b == UInt8(ascii: "\"") { break }
            if b == UInt8(ascii: "\\") {
                escaped = true
                try validateEscape()
                continue
            }
            if b < 0x20 { throw JSONSyntaxError(.controlCharacter, at: index) }
            if b >= 0x80 { nonASCII = true }
            index += 1
        }
        let stringEnd = index
        index += 1
        if nonASCII, !Self.isValidUTF8(UnsafeBufferPointer(rebasing: bytes[start..<stringEnd])) {
            throw JSONSyntaxError(.invalidUTF8, at: start)
        }
        return JSONKey(start: start, end: stringEnd, escaped: escaped)
    }

    /// The high bit of each byte of `x` (little-endian) that is `"`, `\`, below 0x20 or above
    /// 0x7F. SWAR: (v - 0x01…) & ~v & 0x80… flags zero bytes of v exactly up to the first one (a
    /// borrow only runs upwards from a true hit), so the lowest flag is always a real hit.
    @inlinable @inline(__always)
    public static func attention(_ x: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let q = x ^ (ones &* 0x22)
        let quote = (q &- ones) & ~q & highs
        let s = x ^ (ones &* 0x5C)
        let backslash = (s &- ones) & ~s & highs
        let control = (x &- ones &* 0x20) & ~x & highs
        return (x & highs) | quote | backslash | control
    }

    /// Reads a string token expected to be long and escape-free (base64 record data): `memchr` to
    /// the closing quote, then one to make sure no backslash precedes it, else the full
    /// `readRawString`. Control and non-ASCII bytes are not checked here: the caller decodes the
    /// content as base64, whose alphabet excludes them, and refuses the request either way.
    public mutating func readOpaqueString() throws(JSONSyntaxError) -> JSONKey {
        try expect(UInt8(ascii: "\""))
        let start = index
        let base = bytes.baseAddress!
        guard let quote = memchr(base + start, 0x22, end - start) else {
            throw JSONSyntaxError(.unexpectedEnd(.string), at: end)
        }
        let stringEnd = base.distance(to: quote.assumingMemoryBound(to: UInt8.self))
        if memchr(base + start, 0x5C, stringEnd - start) != nil {
            index = start - 1
            return try readRawString()
        }
        index = stringEnd + 1
        return JSONKey(start: start, end: stringEnd, escaped: false)
    }

    /// Checks the escape at `index` (which holds the backslash) and moves past it.
    @usableFromInline
    mutating func validateEscape() throws(JSONSyntaxError) {
        guard index + 1 < end else { throw JSONSyntaxError(.unexpectedEnd(.string), at: index) }
        switch bytes[index + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 2
        case UInt8(ascii: "u"):
            let unit = try hex4(at: index + 2)
            index += 6
            if unit >= 0xDC00 && unit <= 0xDFFF { throw JSONSyntaxError(.unpairedSurrogate, at: index) }
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard index + 1 < end, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw JSONSyntaxError(.unpairedSurrogate, at: index)
                }
                let low = try hex4(at: index + 2)
                guard low >= 0xDC00 && low <= 0xDFFF else { throw JSONSyntaxError(.unpairedSurrogate, at: index + 6) }
                index += 6
            }
        default:
            throw JSONSyntaxError(.invalidEscape, at: index)
        }
    }

    private func hex4(at i: Int) throws(JSONSyntaxError) -> UInt32 {
        guard i + 4 <= end else { throw JSONSyntaxError(.unexpectedEnd(.string), at: i) }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = bytes[i + k]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw JSONSyntaxError(.invalidUnicodeEscape, at: i + k)
            }
            v = v << 4 | d
        }
        return v
    }

    /// Reads a string value.
    @inlinable
    public mutating func readString() throws(JSONSyntaxError) -> String {
        string(try readRawString())
    }

    /// The text of a string token read earlier (already validated).
    @inlinable
    public func string(_ token: JSONKey) -> String {
        let raw = UnsafeBufferPointer(rebasing: bytes[token.start..<token.end])
        if !token.escaped { return String(decoding: raw, as: UTF8.self) }
        return String(decoding: Self.unescape(raw), as: UTF8.self)
    }

    /// The bytes of a validated string body with its escapes resolved.
    public static func unescape(_ raw: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        unescape(raw, into: &out)
        return out
    }

    /// `unescape` into a buffer the caller reuses (emptied first, capacity kept).
    public static func unescape(_ raw: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        out.reserveCapacity(raw.count)
        var i = 0
        func hex(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for k in 0..<4 {
                let c = raw[at + k]
                v = v << 4 | UInt32(c <= UInt8(ascii: "9") ? c - 48 : (c | 0x20) - 87)
            }
            return v
        }
        while i < raw.count {
            let b = raw[i]
            guard b == UInt8(ascii: "\\") else {
                // Copy the run up to the next escape at once (log messages are long runs of text).
                let base = raw.baseAddress!
                let runEnd = memchr(base + i, 0x5C, raw.count - i).map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? raw.count
                out.append(contentsOf: UnsafeBufferPointer(rebasing: raw[i..<runEnd]))
                i = runEnd
                continue
            }
            let e = raw[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex(i)
                i += 4
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    let low = hex(i + 2)
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                appendUTF8(scalar, to: &out)
            default: out.append(e)  // " \ /
            }
        }
    }

    private static func appendUTF8(_ s: UInt32, to out: inout [UInt8]) {
        switch s {
        case 0..<0x80: out.append(UInt8(s))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | s >> 6))
            out.append(UInt8(0x80 | s & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | s >> 12))
            out.append(UInt8(0x80 | s >> 6 & 0x3F))
            out.append(UInt8(0x80 | s & 0x3F))
        default:
            out.append(UInt8(0xF0 | s >> 18))
            out.append(UInt8(0x80 | s >> 12 & 0x3F))
            out.append(UInt8(0x80 | s >> 6 & 0x3F))
            out.append(UInt8(0x80 | s & 0x3F))
        }
    }

    /// Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
    public static func isValidUTF8(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            if c < 0x80 {
                i += 1
                continue
            }
            let need: Int
            var lo: UInt8 = 0x80
            var hi: UInt8 = 0xBF
            switch c {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: need = 2
            case 0xED: need = 2; hi = 0x9F
            case 0xF0: need = 3; lo = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; hi = 0x8F
            default: return false
            }
            guard i + need < n else { return false }
            let c1 = b[i + 1]
            guard c1 >= lo && c1 <= hi else { return false }
            var k = 2
            while k <= need {
                guard b[i + k] & 0xC0 == 0x80 else { return false }
                k += 1
            }
            i += need + 1
        }
        return true
    }

    // MARK: Numbers

    /// 10⁰ … 10²², every one exactly representable as a double.
    public static let powersOf10: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// The parts of a number token, as `scanNumber` read them.
    @usableFromInline
    struct NumberParts {
        @usableFromInline var start: Int
        @usableFromInline var negative: Bool
        @usableFromInline var mantissa: UInt64
        @usableFromInline var exponent: Int
        /// Whether `mantissa` holds every significant digit.
        @usableFromInline var exact: Bool

        @inlinable
        init(start: Int, negative: Bool, mantissa: UInt64, exponent: Int, exact: Bool) {
            self.start = start
            self.negative = negative
            self.mantissa = mantissa
            self.exponent = exponent
            self.exact = exact
        }
    }

    /// Reads a number token against the RFC 8259 grammar, collecting up to 19 significant digits.
    @inlinable @inline(__always)
    mutating func scanNumber() throws(JSONSyntaxError) -> NumberParts {
        skipWhitespace()
        let start = index
        var negative = false
        if index < end && bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        var mantissa: UInt64 = 0
        var digits = 0  // significant digits kept in `mantissa`
        var dropped = 0  // integer digits that did not fit (scale up)
        var exponent = 0
        var exact = true
        guard index < end else { throw JSONSyntaxError(.unexpectedEnd(.value), at: index) }
        let first = bytes[index]
        if first == UInt8(ascii: "0") {
            index += 1
            if index < end && bytes[index] &- UInt8(ascii: "0") < 10 {
                throw JSONSyntaxError(.invalidNumber(.leadingZero), at: index)
            }
        } else if first >= UInt8(ascii: "1") && first <= UInt8(ascii: "9") {
            while index < end {
                let d = bytes[index] &- UInt8(ascii: "0")
                guard d < 10 else { break }
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    digits += 1
                } else {
                    dropped += 1
                    exact = false
                }
                index += 1
            }
        } else {
            throw JSONSyntaxError(.invalidNumber(.digits), at: index)
        }
        exponent = dropped
        if index < end && bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < end {
                let d = bytes[index] &- UInt8(ascii: "0")
                guard d < 10 else { break }
                if digits < 19 {
                    if mantissa != 0 || d != 0 { digits += 1 }  // leading zeros are not significant
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    exponent -= 1
                } else if d != 0 {
                    exact = false
                }
                index += 1
            }
            guard index > fractionStart else { throw JSONSyntaxError(.invalidNumber(.fraction), at: index) }
        }
        if index < end && (bytes[index] | 0x20) == UInt8(ascii: "e") {
            index += 1
            var expNegative = false
            if index < end && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
                expNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            let expStart = index
            var e = 0
            while index < end {
                let d = bytes[index] &- UInt8(ascii: "0")
                guard d < 10 else { break }
                if e < 100_000 { e = e * 10 + Int(d) }
                index += 1
            }
            guard index > expStart else { throw JSONSyntaxError(.invalidNumber(.exponent), at: index) }
            exponent += expNegative ? -e : e
        }
        return NumberParts(start: start, negative: negative, mantissa: mantissa, exponent: exponent, exact: exact)
    }

    /// Reads a number. Up to 19 significant digits and a small exponent take the exact fast path
    /// (an exactly representable integer mantissa times or divided by an exact power of ten is
    /// correctly rounded); anything else goes to `Double(String)`, which rounds correctly too.
    @inlinable
    public mutating func readNumber() throws(JSONSyntaxError) -> Double {
        let p = try scanNumber()
        if p.exact && p.mantissa <= 1 << 53 && p.exponent >= -22 && p.exponent <= 22 {
            var v = Double(p.mantissa)
            if p.exponent < 0 { v /= Self.powersOf10[-p.exponent] } else if p.exponent > 0 { v *= Self.powersOf10[p.exponent] }
            return p.negative ? -v : v
        }
        if p.mantissa == 0 && p.exact { return p.negative ? -0.0 : 0.0 }
        return try slowNumber(from: p.start)
    }

    /// Reads a number token and returns its text as written (64-bit integers stay exact).
    /// A number beyond the range of a double is refused, as `readNumber` refuses it.
    public mutating func readNumberText() throws(JSONSyntaxError) -> String {
        let p = try scanNumber()
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[p.start..<index]), as: UTF8.self)
        if p.mantissa != 0 && p.exponent > 280 {
            guard let v = Double(text), v.isFinite else { throw JSONSyntaxError(.invalidNumber(.outOfRange), at: p.start) }
        }
        return text
    }

    /// The standard library's parser: correctly rounded and, unlike `strtod`, independent of the
    /// C locale's decimal separator. The text was already checked against the JSON grammar.
    @usableFromInline
    func slowNumber(from start: Int) throws(JSONSyntaxError) -> Double {
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let v = Double(text), v.isFinite else { throw JSONSyntaxError(.invalidNumber(.outOfRange), at: start) }
        return v
    }
}

/// Where a string token's content lies in the scanned bytes (quotes excluded).
public struct JSONKey: Sendable {
    public var start: Int
    public var end: Int
    /// Whether the content holds backslash escapes (then compare or decode via `unescape`).
    public var escaped: Bool

    @inlinable
    public init(start: Int, end: Int, escaped: Bool) {
        self.start = start
        self.end = end
        self.escaped = escaped
    }
}
