// Parses the Retry-After header: delay-seconds or an HTTP-date (shared by the HTTP exporters).
import FireflyModel

/// What an HTTP receiver asks for when it answers 429 or 503: every HTTP exporter reads it the same way.
public enum RetryAfter {
    /// The delay a `Retry-After` value asks for, relative to `nowUnixNano`; nil when absent or unreadable.
    public static func parse(_ value: String?, nowUnixNano: UInt64) -> Duration? {
        guard let text = value?.trimmed(keepingNewlines: true), !text.isEmpty else { return nil }
        if let seconds = Int64(text) { return .seconds(max(0, seconds)) }
        guard let unixSeconds = httpDate(text) else { return nil }
        let deltaMs = unixSeconds * 1000 - Int64(nowUnixNano / 1_000_000)
        return .milliseconds(max(0, deltaMs))
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Seconds since 1970 of an HTTP-date (RFC 9110 §5.6.7) in any of its three forms:
    /// `Sun, 06 Nov 1994 08:49:37 GMT`, `Sunday, 06-Nov-94 08:49:37 GMT`, `Sun Nov  6 08:49:37 1994`.
    static func httpDate(_ text: String) -> Int64? {
        let tokens = text.split { $0 == " " || $0 == "," || $0 == "-" || $0 == ":" }.map(String.init)
        func month(_ name: String) -> Int? { months.firstIndex(of: name.lowercased()).map { $0 + 1 } }
        var fields: (day: Int, month: Int, year: Int, h: Int, m: Int, s: Int)
        if tokens.count == 8, tokens[7] == "GMT", let d = Int(tokens[1]), let mo = month(tokens[2]), let y = Int(tokens[3]),
            let h = Int(tokens[4]), let mi = Int(tokens[5]), let s = Int(tokens[6])
        {
            // IMF-fixdate has a four-digit year; RFC 850's two digits are taken as 1970–2069.
            let year = tokens[3].count == 2 ? (y < 70 ? 2000 + y : 1900 + y) : y
            fields = (d, mo, year, h, mi, s)
        } else if tokens.count == 7, let mo = month(tokens[1]), let d = Int(tokens[2]), let h = Int(tokens[3]),
            let mi = Int(tokens[4]), let s = Int(tokens[5]), let y = Int(tokens[6])
        {
            fields = (d, mo, y, h, mi, s)
        } else {
            return nil
        }
        guard (1...31).contains(fields.day), (0...23).contains(fields.h), (0...59).contains(fields.m), (0...60).contains(fields.s),
            (1970...9999).contains(fields.year)
        else { return nil }
        let days = UTCCalendar.daysSinceEpoch(year: fields.year, month: fields.month, day: fields.day)
        return Int64(days) * 86_400 + Int64(fields.h * 3600 + fields.m * 60 + fields.s)
    }
}
