// The partitions of the time-partitioned tables as the catalog lists them: which days a batch needs, which are due ahead, which are past retention.
import FireflyModel

/// The partitions of each natively partitioned table (`points`, `spans`, `logs` after migration 3),
/// read from the catalog. Pure: deciding what to create or drop does no I/O.
///
/// Firefly creates one partition per UTC day, `<table>_pYYYYMMDD`, covering `[day, day + 1)`. A table
/// migrated with rows in it also has `<table>_legacy`, from MINVALUE to the end of the day it was
/// migrated. There is no DEFAULT partition: rows of a day PostgreSQL has no partition for are not
/// parked in one (where they would stop that day's partition from ever being created, and make every
/// new partition scan it), the exporter creates the day's partition before it copies them.
struct PartitionMap: Sendable, Equatable {
    struct Partition: Sendable, Equatable {
        var name: String
        /// Lower bound in seconds since the Unix epoch; nil for MINVALUE.
        var from: Int64?
        /// Upper bound (exclusive); nil for MAXVALUE or a DEFAULT partition.
        var to: Int64?
    }

    /// Every partitioned table, with its partitions (none yet, possibly).
    var tables: [String: [Partition]] = [:]

    static let secondsPerDay: Int64 = 86_400

    var isEmpty: Bool { tables.isEmpty }

    /// Whether some partition of `table` holds any of the day's rows.
    func covers(_ table: String, day: Int64) -> Bool {
        let start = day * Self.secondsPerDay
        let end = start + Self.secondsPerDay
        return (tables[table] ?? []).contains { ($0.from ?? .min) < end && ($0.to ?? .max) > start }
    }

    /// The days (since the Unix epoch, UTC) of `unixNanos` that no partition of `table` covers, in order.
    func missingDays(_ table: String, unixNanos: some Sequence<UInt64>) -> [Int64] {
        guard tables[table] != nil else { return [] }
        var seen: Set<Int64> = []
        var last: Int64 = -1
        var missing: [Int64] = []
        for nano in unixNanos {
            let day = Self.day(unixNano: nano)
            if day == last { continue }
            last = day
            if seen.insert(day).inserted && !covers(table, day: day) { missing.append(day) }
        }
        return missing.sorted()
    }

    /// The UTC day of a time as PostgreSQL stores it (microseconds, the way `RowEncoder` writes it).
    static func day(unixNano: UInt64) -> Int64 {
        Int64(clamping: unixNano) / 1_000_000_000 / secondsPerDay
    }

    /// The days from `today` to `today + ahead` that each table has no partition for, by table.
    func dueAhead(today: Int64, ahead: Int) -> [(table: String, day: Int64)] {
        tables.keys.sorted().flatMap { table in
            (today...today + Int64(ahead)).filter { !covers(table, day: $0) }.map { (table, $0) }
        }
    }

    /// Partitions whose every row is older than `cutoff` (seconds), to drop whole; and partitions
    /// reaching back to MINVALUE that straddle it (the legacy partition), to trim with DELETE.
    func expired(cutoff: Int64) -> (drop: [(table: String, partition: String)], trim: [(table: String, partition: String)]) {
        var drop: [(table: String, partition: String)] = []
        var trim: [(table: String, partition: String)] = []
        for table in tables.keys.sorted() {
            for partition in tables[table]! {
                if let to = partition.to, to <= cutoff {
                    drop.append((table, partition.name))
                } else if partition.from == nil {
                    trim.append((table, partition.name))
                }
            }
        }
        return (drop, trim)
    }

    /// `<table>_pYYYYMMDD`.
    static func name(_ table: String, day: Int64) -> String {
        let (y, m, d) = civil(day: day)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(table)_p\(y)\(two(m))\(two(d))"
    }

    /// `YYYY-MM-DD 00:00:00+00`: the day's start as PostgreSQL reads a `timestamptz` whatever the session's settings.
    static func bound(day: Int64) -> String {
        let (y, m, d) = civil(day: day)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let year = String(y)
        return String(repeating: "0", count: max(0, 4 - year.count)) + year + "-\(two(m))-\(two(d)) 00:00:00+00"
    }

    /// Year, month and day of a day count since 1970-01-01 (proleptic Gregorian; Howard Hinnant's `civil_from_days`).
    static func civil(day: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = day + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

extension TelemetryBatch {
    /// The time of each row of a partitioned table, as the row encoders write its partition key.
    func partitionTimes(_ table: String) -> [UInt64] {
        switch table {
        case "points": points.map(\.timeUnixNano)
        case "spans": spans.map(\.startTimeUnixNano)
        case "logs": logs.map { $0.timeUnixNano != 0 ? $0.timeUnixNano : $0.observedTimeUnixNano }
        default: []
        }
    }
}
