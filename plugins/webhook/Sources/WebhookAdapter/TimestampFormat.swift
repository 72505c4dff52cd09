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
            guard let ns = Self.rfc3339(s) else { return .failure(.invalid("not an RFC 3339 timestamp")) }
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

    /// Parses RFC 3339 date-time to nanoseconds since the epoch (years 1970–9999).
    static func rfc3339(_ s: String) -> UInt64? {
        let b = Array(s.utf8)
        func num(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var v = 0
            for k in from..<from + count {
                guard (0x30...0x39).contains(b[k]) else { return nil }
                v = v * 10 + Int(b[k] - 0x30)
            }
            return v
        }
        guard b.count >= 20, let year = num(0, 4), b[4] == UInt8(ascii: "-"), let month = num(5, 2),
            b[7] == UInt8(ascii: "-"), let day = num(8, 2),
            [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(b[10]),
            let hour = num(11, 2), b[13] == UInt8(ascii: ":"), let minute = num(14, 2),
            b[16] == UInt8(ascii: ":"), let second = num(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year),
            hour < 24, minute < 60, second <= 60, year >= 1970
        else { return nil }
        var k = 19
        var nanos = 0
        if k < b.count, b[k] == UInt8(ascii: ".") {
            k += 1
            var scale = 100_000_000
            let start = k
            while k < b.count, (0x30...0x39).contains(b[k]) {
                nanos += Int(b[k] - 0x30) * scale
                scale /= 10
                k += 1
            }
            guard k > start else { return nil }
        }
        guard k < b.count else { return nil }
        var offset = 0
        if b[k] == UInt8(ascii: "Z") || b[k] == UInt8(ascii: "z") {
            k += 1
        } else if b[k] == UInt8(ascii: "+") || b[k] == UInt8(ascii: "-") {
            guard let oh = num(k + 1, 2), b.count > k + 3, b[k + 3] == UInt8(ascii: ":"), let om = num(k + 4, 2),
                oh < 24, om < 60
            else { return nil }
            offset = (oh * 60 + om) * 60 * (b[k] == UInt8(ascii: "+") ? 1 : -1)
            k += 6
        } else {
            return nil
        }
        guard k == b.count else { return nil }
        let days = Self.daysSinceEpoch(year: year, month: month, day: day)
        // A leap second (:60) is read as the first second of the next minute.
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        guard seconds >= 0 else { return nil }
        return UInt64(seconds) * 1_000_000_000 + UInt64(nanos)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
