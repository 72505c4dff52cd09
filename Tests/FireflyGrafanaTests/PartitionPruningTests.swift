@testable import FireflyGrafana
import FireflyModel
import Foundation
import Testing

/// The dashboards' queries on a database partitioned by day (as the postgres exporter keeps it on
/// plain PostgreSQL) holding several days of data: each plan scans only the partitions of the days
/// the dashboard range touches, so a query costs the same whatever the retention.
@Suite struct PartitionPruningTests {
    /// `points_p20261203`: the postgres exporter's name for a day's partition (UTC).
    static func partition(_ table: String, _ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd"
        return "\(table)_p\(formatter.string(from: date))"
    }

    @Test(
        .enabled(
            if: SQLPanelTests.url != nil,
            "FIREFLY_TEST_POSTGRES_URL is unset: `bash scripts/postgres.sh start` and export FIREFLY_TEST_POSTGRES_URL=$(bash scripts/postgres.sh url) (make test does both)"
        ))
    func dashboardQueriesScanOnlyThePartitionsOfTheirRange() async throws {
        let url = try #require(SQLPanelTests.url)
        let runner = PostgresQueryRunner(url: url)
        let now = Date()
        // The seed three times: ending now, two days ago and four days ago.
        var batch = TelemetryBatch()
        for daysBack in [0.0, 2, 4] {
            let then = now.addingTimeInterval(-daysBack * 86_400)
            batch.points += Seed.points(now: then)
            batch.spans += Seed.spans(now: then)
            batch.logs += Seed.logs(now: then)
            batch.invocations += Seed.invocations(now: then)
        }
        let schema = try await runner.exportToNewSchema("grafana_prune_", batch)
        defer { try? runner.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE") }

        let from = now.addingTimeInterval(-3600)
        let to = now.addingTimeInterval(60)
        let partitioned = ["points", "spans", "logs"]
        var inRange: Set<String> = []
        for table in partitioned {
            // The days the range touches (two when it spans midnight UTC).
            for date in [from, to] { inRange.insert(Self.partition(table, date)) }
            // Days 2 and 4 back hold rows, days ahead were made empty: all there, none to be read.
            let partitions = try await runner.query(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '\(schema).\(table)'::regclass"
            ).values("relname")
            for daysBack in [2.0, 4] {
                #expect(partitions.contains(Self.partition(table, now.addingTimeInterval(-daysBack * 86_400))), "\(partitions)")
            }
            // Today, the two seeded days before and the 7 days ahead the exporter makes by default.
            #expect(partitions.count >= 10, "\(table): \(partitions)")
        }

        let generator = try Configs.generator(
            """
            exporters:
              postgres: {plugin: postgres, url: "\(url)", schema: \(schema)}
            receivers:
              otlp: {plugin: otlp}
            pipelines:
              traces: {receivers: [otlp], exporters: [postgres]}
            """)
        let expander = SQLMacroExpander(
            from: from, to: to, intervalSeconds: 60,
            variables: [
                "function": "checkout", "traceId": Seed.coldTrace.description, "requestId": "", "search": "",
                "level": FunctionDashboard.logLevels.map { "'\($0)'" }.joined(separator: ","),
                "account": "'123456789012'", "region": "'eu-west-1'",
            ])
        var queries: [(what: String, sql: String)] = []
        for d in try Configs.dashboards(generator) {
            let ran = try await PanelQueries.run(d, expander: expander, runner: runner)
            queries += ran.runs.map { ($0.what, $0.sql) } + ran.variables.map { ("\($0.dashboard) variable \($0.name)", $0.sql) }
        }
        #expect(queries.count > 40)
        var scannedPartitions: Set<String> = []
        for query in queries {
            let scans = try await runner.timeTableScans(query.sql)
            for scan in scans where partitioned.contains(scan.table) {
                scannedPartitions.insert(scan.relation)
                #expect(inRange.contains(scan.relation), "\(query.what) scans \(scan.relation), outside the range")
            }
        }
        // Pruning left something to scan: the queries do read the partitions of the range.
        #expect(scannedPartitions.isSuperset(of: partitioned.map { Self.partition($0, now) }), "\(scannedPartitions)")
    }
}
