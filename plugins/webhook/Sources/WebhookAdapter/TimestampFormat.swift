import FireflyModel
import FireflyWire

/// How a timestamp field is written. Magnitudes are never guessed: `1700000000` read as
/// `unix_ms` is January 1970, by design — the mapping says what the sender means.
public enum TimestampFormat: String, Sendable, CaseIterable {
    /// `2023-11-14T22:13:20Z`, `2023-11-14T23:13:20.5+01:00` (RFC 3339; `t`/space separator and `z` accepted).
    case rfc3339
    /// Seconds since the epoch; a number or numeric string, fractions kept to the nanosecond.
    case unixSeconds = "unix_s"
    case unixMilliseconds = "unix_ms"
    case unixNanoseconds = "unix_ns"

    /// Nanoseconds since the epoch, or a reason the value does not fit this format.
    func parse(_ value: JSON) -> Result<UInt64, MappingProblem> {
        switch (self, value) {
        case (.rfc3339, .string(let s)):
            guard let ns = UTCCalendar.unixNano(rfc3339: s) else { return .failure(.invalid("not an RFC 3339 timestamp")) }
            return .success(ns)
        case (.rfc3339, _):
            return .failure(.wrongType("expected an RFC 3339 timestamp string, found \(value.typeName)"))
        case (_, .number(let literal)), (_, .string(let literal)):
            let power = self == .unixSeconds ? 9 : self == .unixMilliseconds ? 6 : 0
            guard let ns = Self.scaled(literal, power: power) else {
                return .failure(.invalid("not a non-negative \(rawValue) timestamp within range"))
            }
            return .success(ns)
        default:
            return .failure(.wrongType("expected a number (\(rawValue)), found \(value.typeName)"))
        }
    }

    /// `literal × 10^power` as an integer, computed on the decimal digits (no floating point, so
    /// `1700000000.123456789` seconds is exact). Digits below one nanosecond are truncated.
    static func scaled(_ literal: String, power: Int) -> UInt64? {
        var text = Substring(literal)
        var exponent = power
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let x = Int(text[text.index(after: e)...].drop { $0 == "+" }), abs(x) < 400 else { return nil }
            exponent += x
            text = text[..<e]
        }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !whole.isEmpty || !fraction.isEmpty,
            (whole + fraction).allSatisfy({ $0.isASCII && $0.isNumber })
        else { return nil }
        var digits = Array((whole + fraction).utf8)
        exponent -= fraction.count
        if exponent >= 0 {
            digits += Array(repeating: UInt8(ascii: "0"), count: exponent)
        } else {
            digits = Array(digits.dropLast(min(-exponent, digits.count)))
        }
        var value: UInt64 = 0
        for d in digits {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d - 0x30))
            if o1 || o2 { return nil }
            value = a
        }
        return value
    }
}
