// Time partitioning on a real PostgreSQL: migrating a schema with rows, partitions made ahead and on demand, retention by partition.
import FireflyModel
import FireflyPluginKit
import Foundation
@testable import PostgresExporter
import Testing

@Suite(.enabled(if: TestDatabase.isConfigured, TestDatabase.skipReason))
struct PostgresPartitionTests {
    static let day: UInt64 = 86_400 * 1_000_000_000
    static let hour: UInt64 = 3_600 * 1_000_000_000

    /// Points, spans and logs at `times`, each of another series, span and record.
    static func batch(at times: [UInt64], tag: String = "") -> TelemetryBatch {
        var points: [MetricPoint] = []
        var spans: [Span] = []
        var logs: [LogRecord] = []
        for (i, t) in times.enumerated() {
            points.append(PostgresExporterTests.durationSummary(function: "f\(i % 3)", time: t))
            spans.append(
                Span(
                    traceID: TraceID(high: UInt64(i + 1), low: t), spanID: SpanID(UInt64(i + 1)), name: "s\(tag)",
                    startTimeUnixNano: t, endTimeUnixNano: t + 1_000_000, function: "f\(i % 3)"))
            logs.append(
                LogRecord(
                    timeUnixNano: t, body: .string("line \(i)\(tag)"), function: "f\(i % 3)", recordID: "r\(i)\(tag)"))
        }
        return TelemetryBatch(points: points, spans: spans, logs: logs)
    }

    static func now() -> UInt64 { UInt64(Date().timeIntervalSince1970) * 1_000_000_000 }
    static func dayNumber(_ t: UInt64) -> Int64 { PartitionMap.day(unixNano: t) }

    /// The partitions of `table`, by name.
    static func partitions(_ table: String, schema: String) async throws -> Set<String> {
        Set(try await TestDatabase.psql(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '\(schema).\(table)'::regclass"))
    }

    /// Which partition holds the row of `table` with this time.
    static func home(_ table: String, _ column: String, _ t: UInt64, schema: String) async throws -> [String] {
        try await TestDatabase.psql(
            "SELECT DISTINCT tableoid::regclass::text FROM \(schema).\(table) WHERE \(column)_unix_nano = \(t)")
    }

    static let tables = [("points", "time"), ("spans", "start_time"), ("logs", "time")]

    @Test func aSchemaWithRowsIsPartitionedWithoutLosingOrDuplicatingAny() async throws {
        let now = Self.now()
        // Rows every 7 hours from 10 days ago to 3 days ahead (a clock running fast), written by this
        // exporter into a schema of its own, then copied into a schema as the previous release left it.
        let times = stride(from: now - 10 * Self.day, through: now + 3 * Self.day, by: Int(7 * Self.hour)).map { $0 }
        let old = Self.batch(at: times)
        try await TestDatabase.withExporter { (exporter: PostgresExporter, source: String) async throws in
            #expect(await exporter.export(old) == .ok)
            let schema = TestDatabase.newSchemaName()
            try await TestDatabase.createSchema(schema, atVersion: 2)
            try await TestDatabase.copyRows(from: source, to: schema, tables: ["series", "points", "spans", "logs"])
            var before: [String: String] = [:]
            for (table, _) in Self.tables { before[table] = try await TestDatabase.digest(table, schema: schema) }
            #expect(before["points"]?.hasPrefix("\(times.count):") == true)

            // The upgraded collector's first batch is the old one again (a replay after the upgrade): nothing added.
            let upgraded = try TestDatabase.exporter(schema: schema)
            #expect(await upgraded.export(old) == .ok)
            for (table, _) in Self.tables {
                #expect(try await TestDatabase.digest(table, schema: schema) == before[table], "\(table)")
                #expect(try await TestDatabase.psql("SELECT relkind FROM pg_class WHERE oid = '\(schema).\(table)'::regclass") == ["p"])
            }
            #expect(try await TestDatabase.psql("SELECT relkind FROM pg_class WHERE oid = '\(schema).invocations'::regclass") == ["r"])
            #expect(try await TestDatabase.psql("SELECT max(version) FROM \(schema).firefly_schema_migrations") == ["3"])

            // The old table is the first partition, up to the end of the day of its newest row (3 days ahead).
            let bound = PartitionMap.bound(day: Self.dayNumber(times.last!) + 1)
            for (table, _) in Self.tables {
                #expect(
                    try await TestDatabase.psql(
                        "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE oid = '\(schema).\(table)_legacy'::regclass")
                        == ["FOR VALUES FROM (MINVALUE) TO ('\(bound)')"], "\(table)")
            }
            // Same index names as before, on the parent; the legacy table's were renamed and adopted.
            let indexes = try await TestDatabase.psql(
                "SELECT indexname FROM pg_indexes WHERE schemaname = '\(schema)' AND tablename IN ('points', 'spans', 'logs')")
            #expect(indexes.sorted() == [
                "logs_function_time", "logs_record_id_time_function_key", "logs_request", "logs_time", "logs_trace",
                "points_series_id_time_key", "spans_function_start", "spans_start", "spans_trace_id_span_id_start_time_key",
            ])
            #expect(try await TestDatabase.psql("SELECT count(*) FROM \(schema).metrics") == [String(times.count)])

            // Days ahead exist from where the legacy partition ends to 7 days from today.
            let today = Self.dayNumber(now)
            for (table, _) in Self.tables {
                let expected = Set((Self.dayNumber(times.last!) + 1...today + 7).map { PartitionMap.name(table, day: $0) })
                #expect(try await Self.partitions(table, schema: schema) == expected.union(["\(table)_legacy"]), "\(table)")
            }

            // New rows: one far in the past (into the legacy partition), one 5 days ahead (a day made
            // ahead), one 400 days ahead (a day made for it); replays of old rows among them are skipped.
            let past = UInt64(946_684_800) * 1_000_000_000  // 2000-01-01
            let fresh = Self.batch(at: [past, now + 5 * Self.day, now + 400 * Self.day], tag: "new")
            var mixed = fresh
            mixed.points += old.points.prefix(5)
            mixed.spans += old.spans.prefix(5)
            mixed.logs += old.logs.prefix(5)
            #expect(await upgraded.export(mixed) == .ok)
            #expect(await upgraded.export(mixed) == .ok)
            await upgraded.shutdown()
            for (table, column) in Self.tables {
                #expect(try await TestDatabase.count(table, schema: schema) == times.count + 3, "\(table)")
                #expect(try await Self.home(table, column, past, schema: schema) == ["\(schema).\(table)_legacy"])
                #expect(
                    try await Self.home(table, column, now + 5 * Self.day, schema: schema)
                        == ["\(schema).\(PartitionMap.name(table, day: Self.dayNumber(now + 5 * Self.day)))"])
                #expect(
                    try await Self.home(table, column, now + 400 * Self.day, schema: schema)
                        == ["\(schema).\(PartitionMap.name(table, day: Self.dayNumber(now + 400 * Self.day)))"])
            }
            try await TestDatabase.psql("DROP SCHEMA \(schema) CASCADE")
        }
    }

    @Test func aNewSchemaHasDailyPartitionsOnlyAndCreatesTheDaysItsRowsNeed() async throws {
        try await TestDatabase.withExporter(extra: ["partitions_ahead": .number(2)]) { (exporter: PostgresExporter, schema: String) async throws in
            let now = Self.now()
            let times = [now - 40 * Self.day, now, now + 30 * Self.day]
            #expect(await exporter.export(Self.batch(at: times)) == .ok)
            let today = Self.dayNumber(now)
            for (table, column) in Self.tables {
                let days = Set([today - 40, today + 30] + (today...today + 2))
                #expect(try await Self.partitions(table, schema: schema) == Set(days.map { PartitionMap.name(table, day: $0) }))
                for t in times {
                    #expect(try await Self.home(table, column, t, schema: schema) == ["\(schema).\(PartitionMap.name(table, day: Self.dayNumber(t)))"])
                }
            }
        }
    }

    @Test func collectorsCreatingTheSameDaysTogetherAllSucceed() async throws {
        let schema = TestDatabase.newSchemaName()
        let first = try TestDatabase.exporter(schema: schema)
        #expect(await first.export(Self.batch(at: [Self.now()])) == .ok)
        await first.shutdown()
        // Four collectors, each a batch reaching days nobody has a partition for yet.
        let exporters = try (0..<4).map { _ in try TestDatabase.exporter(schema: schema) }
        let start = Self.now() + 100 * Self.day
        let results = await withTaskGroup(of: ExportResult.self) { group in
            for (i, exporter) in exporters.enumerated() {
                group.addTask {
                    await exporter.export(Self.batch(at: (0..<5).map { start + UInt64($0) * Self.day }, tag: "\(i)"))
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        for exporter in exporters { await exporter.shutdown() }
        #expect(results == Array(repeating: .ok, count: 4))
        #expect(try await TestDatabase.count("logs", schema: schema) == 21)
        let partitions = try await Self.partitions("logs", schema: schema)
        for d in 0..<5 { #expect(partitions.contains(PartitionMap.name("logs", day: Self.dayNumber(start) + Int64(d)))) }
        try await TestDatabase.psql("DROP SCHEMA \(schema) CASCADE")
    }

    @Test func retentionDropsWholeDaysAndTrimsTheLegacyPartition() async throws {
        let now = Self.now()
        // A new schema: the day 5 days back is dropped whole, today stays.
        try await TestDatabase.withExporter(extra: ["retention": .string("3d")]) { (exporter: PostgresExporter, schema: String) async throws in
            let oldDay = PartitionMap.name("points", day: Self.dayNumber(now - 5 * Self.day))
            #expect(await exporter.export(Self.batch(at: [now - 5 * Self.day, now - Self.hour])) == .ok)
            let partitions = try await Self.partitions("points", schema: schema)
            #expect(!partitions.contains(oldDay))
            #expect(partitions.contains(PartitionMap.name("points", day: Self.dayNumber(now))))
            for (table, column) in Self.tables {
                #expect(try await TestDatabase.psql("SELECT \(column)_unix_nano FROM \(schema).\(table)") == [String(now - Self.hour)])
            }
        }
        // A migrated schema: the legacy partition (up to tomorrow) keeps only its rows of the last 3 days.
        try await TestDatabase.withExporter { (exporter: PostgresExporter, source: String) async throws in
            let times = [now - 6 * Self.day, now - 4 * Self.day, now - 2 * Self.day, now - Self.hour]
            #expect(await exporter.export(Self.batch(at: times)) == .ok)
            let schema = TestDatabase.newSchemaName()
            try await TestDatabase.createSchema(schema, atVersion: 2)
            try await TestDatabase.copyRows(from: source, to: schema, tables: ["series", "points", "spans", "logs"])
            let upgraded = try TestDatabase.exporter(schema: schema, extra: ["retention": .string("3d")])
            #expect(await upgraded.export(Self.batch(at: [now], tag: "new")) == .ok)
            await upgraded.shutdown()
            for (table, column) in Self.tables {
                #expect(try await Self.partitions(table, schema: schema).contains("\(table)_legacy"))
                #expect(
                    try await TestDatabase.psql("SELECT \(column)_unix_nano FROM \(schema).\(table) ORDER BY 1")
                        == [now - 2 * Self.day, now - Self.hour, now].map(String.init), "\(table)")
            }
            try await TestDatabase.psql("DROP SCHEMA \(schema) CASCADE")
        }
    }
}

/// The partition arithmetic, without a database.
struct PartitionMapTests {
    @Test func daysAreNamedAndBoundedInUTC() {
        #expect(PartitionMap.name("points", day: 0) == "points_p19700101")
        #expect(PartitionMap.bound(day: 0) == "1970-01-01 00:00:00+00")
        // 2024-02-29 (a leap day) is day 19 782; 2000-03-01 is day 11 017.
        #expect(PartitionMap.name("spans", day: 19_782) == "spans_p20240229")
        #expect(PartitionMap.bound(day: 11_017) == "2000-03-01 00:00:00+00")
        #expect(PartitionMap.day(unixNano: 1_700_000_000_123_456_789) == 19_675)
        #expect(PartitionMap.name("logs", day: 19_675) == "logs_p20231114")
    }

    @Test func missingDaysAreTheOnesNoPartitionOverlaps() {
        let d = PartitionMap.secondsPerDay
        let map = PartitionMap(tables: [
            "points": [.init(name: "points_legacy", from: nil, to: 100 * d), .init(name: "points_p19700411", from: 100 * d, to: 101 * d)],
            "spans": [],
        ])
        let nano = { (day: Int64, second: Int64) in UInt64(day * d + second) * 1_000_000_000 }
        #expect(map.missingDays("points", unixNanos: [nano(3, 5), nano(100, 0), nano(102, 7), nano(101, 86_399), nano(102, 1)]) == [101, 102])
        #expect(map.missingDays("spans", unixNanos: [nano(5, 0), nano(4, 0), nano(5, 1)]) == [4, 5])
        #expect(map.missingDays("logs", unixNanos: [nano(5, 0)]) == [], "not a partitioned table")
        #expect(map.dueAhead(today: 100, ahead: 2).map { "\($0.table) \($0.day)" } == [
            "points 101", "points 102", "spans 100", "spans 101", "spans 102",
        ])
        let expired = map.expired(cutoff: 100 * d + 10)
        #expect(expired.drop.map(\.partition) == ["points_legacy"])
        #expect(expired.trim.isEmpty)
        #expect(map.expired(cutoff: 50 * d).trim.map(\.partition) == ["points_legacy"])
        #expect(map.expired(cutoff: 101 * d).drop.map(\.partition) == ["points_legacy", "points_p19700411"])
    }
}
