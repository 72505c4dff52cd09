// Why a JSON text was refused, and where: the one error of the scanner and the tree parser.

/// A JSON text broke RFC 8259 (or a limit) at byte `offset`.
///
/// `description` is the short form ("unexpected character at byte 28"); `detail` says more about
/// what was expected ("expected ',' or '}' in an object"). Receivers pick the form their answers
/// have always used.
public struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was being read when the input ended.
    public enum Context: Equatable, Sendable {
        case value, object, array, string, literal
    }

    /// What the parser wanted where it found another byte.
    public enum Expectation: Equatable, Sendable {
        case value, key, colon, objectSeparator, arraySeparator, literal
    }

    /// Which part of a number is missing or wrong.
    public enum NumberProblem: Equatable, Sendable {
        case digits, leadingZero, fraction, exponent, outOfRange
    }

    public enum Reason: Equatable, Sendable {
        case unexpectedEnd(Context)
        case unexpectedByte(UInt8, expected: Expectation)
        case invalidEscape
        case invalidUnicodeEscape
        case unpairedSurrogate
        case invalidUTF8
        case controlCharacter
        case invalidNumber(NumberProblem)
        case tooDeep(limit: Int)
        /// Something other than whitespace follows the (single) value.
        case trailingData
        /// Two values of a newline-delimited sequence share a line.
        case valuesNotSeparated
    }

    public var reason: Reason
    /// Byte offset in the scanned buffer.
    public var offset: Int

    @inlinable
    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    /// The short wording, without the offset.
    public var summary: String {
        switch reason {
        case .unexpectedEnd: "unexpected end of input"
        case .unexpectedByte: "unexpected character"
        case .invalidEscape, .invalidUnicodeEscape: "invalid escape sequence"
        case .unpairedSurrogate, .invalidUTF8: "invalid unicode escape or UTF-8"
        case .controlCharacter: "unescaped control character in string"
        case .invalidNumber: "invalid number"
        case .tooDeep: "nesting too deep"
        case .trailingData, .valuesNotSeparated: "data after the JSON value"
        }
    }

    /// The precise wording, without the offset.
    public var detail: String {
        switch reason {
        case .unexpectedEnd(.value): "unexpected end of body"
        case .unexpectedEnd(.object): "unexpected end of body inside an object"
        case .unexpectedEnd(.array): "unexpected end of body inside an array"
        case .unexpectedEnd(.string): "unterminated string"
        case .unexpectedEnd(.literal), .unexpectedByte(_, .literal): "invalid literal"
        case .unexpectedByte(let b, .value): "unexpected character '\(Self.printable(b))'"
        case .unexpectedByte(_, .key): "expected a string key"
        case .unexpectedByte(_, .colon): "expected ':' after an object key"
        case .unexpectedByte(_, .objectSeparator): "expected ',' or '}' in an object"
        case .unexpectedByte(_, .arraySeparator): "expected ',' or ']' in an array"
        case .invalidEscape: "invalid escape in a string"
        case .invalidUnicodeEscape: "invalid \\u escape"
        case .unpairedSurrogate: "unpaired surrogate in a string"
        case .invalidUTF8: "invalid UTF-8 in a string"
        case .controlCharacter: "control character in a string"
        case .invalidNumber(.digits): "invalid number"
        case .invalidNumber(.leadingZero): "invalid number: leading zero"
        case .invalidNumber(.fraction): "invalid number: digits expected after '.'"
        case .invalidNumber(.exponent): "invalid number: digits expected in the exponent"
        case .invalidNumber(.outOfRange): "invalid number: out of range"
        case .tooDeep(let limit): "nesting deeper than \(limit) levels"
        case .trailingData: "unexpected data after the JSON value"
        case .valuesNotSeparated: "expected a newline or the end of the body after a value"
        }
    }

    public var description: String { "\(summary) at byte \(offset)" }

    static func printable(_ b: UInt8) -> String {
        (0x21...0x7E).contains(b) ? String(UnicodeScalar(b)) : "\\x" + String(b, radix: 16)
    }
}
