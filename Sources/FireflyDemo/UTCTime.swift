// Calendar dates from Unix time without a locale or time zone database (deterministic everywhere).

enum UTCTime {
    /// (year, month, day, hour, minute, second) of a Unix time in nanoseconds, UTC.
    static func components(_ unixNano: UInt64) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let seconds = Int(unixNano / 1_000_000_000)
        let days = seconds / 86_400
        let rest = seconds % 86_400
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = z / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day, rest / 3600, rest % 3600 / 60, rest % 60)
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

    private static func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
}
