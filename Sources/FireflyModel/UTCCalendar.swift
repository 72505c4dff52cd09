// Calendar dates from Unix time without a locale or time zone database (deterministic everywhere).

/// The proleptic Gregorian date and time of day of a Unix time, in UTC.
public enum UTCCalendar {
    public struct Fields: Sendable, Equatable {
        public var year: Int64
        public var month: Int64
        public var day: Int64
        public var hour: Int64
        public var minute: Int64
        public var second: Int64
    }

    /// The fields of `unixSeconds` (not before 1970).
    public static func fields(unixSeconds: Int64) -> Fields {
        let days = unixSeconds / 86_400
        let rest = unixSeconds % 86_400
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
        return Fields(year: year, month: month, day: day, hour: rest / 3600, minute: rest % 3600 / 60, second: rest % 60)
    }
}
