// The date spellings the demo writes, from Unix time.
import FireflyModel

enum UTCTime {
    /// (year, month, day, hour, minute, second) of a Unix time in nanoseconds, UTC.
    static func components(_ unixNano: UInt64) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let f = UTCCalendar.fields(unixSeconds: Int64(unixNano / 1_000_000_000))
        return (Int(f.year), Int(f.month), Int(f.day), Int(f.hour), Int(f.minute), Int(f.second))
    }

    /// `2026/05/01`, as Lambda names log streams and `faas.instance`.
    static func slashDate(_ unixNano: UInt64) -> String {
        let c = components(unixNano)
        return "\(c.year)/\(pad(c.month))/\(pad(c.day))"
    }

    /// RFC 3339 in UTC with a `Z`, e.g. `2026-05-01T12:05:00Z`.
    static func rfc3339(_ unixNano: UInt64) -> String {
        let c = components(unixNano)
        return "\(c.year)-\(pad(c.month))-\(pad(c.day))T\(pad(c.hour)):\(pad(c.minute)):\(pad(c.second))Z"
    }

    /// RFC 3339 in UTC with milliseconds, as Lambda's runtimes and JSON logs write times:
    /// `2026-05-01T12:05:00.123Z`.
    static func rfc3339Millis(_ unixNano: UInt64) -> String {
        let ms = Int(unixNano / 1_000_000 % 1000)
        return String(rfc3339(unixNano).dropLast()) + "." + (ms < 10 ? "00" : ms < 100 ? "0" : "") + "\(ms)Z"
    }

    private static func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
}
