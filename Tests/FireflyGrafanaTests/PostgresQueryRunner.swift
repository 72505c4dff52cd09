import FireflyModel
import FireflyPluginKit
import FireflyTestSupport
import Foundation
import PostgresExporter
import Testing

/// Runs SQL through `psql` (UTC session) and returns column names, PostgreSQL types and rows.
struct PostgresQueryRunner {
    var url: String

    struct Result {
        var columns: [(name: String, type: String)]
        var rows: [[String]]

        func column(_ name: String) -> Int? { columns.firstIndex { $0.name == name } }
        func values(_ name: String) -> [String] {
            guard let i = column(name) else { return [] }
            return rows.map { $0[i] }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private func psql(_ arguments: [String], _ input: String) throws -> String {
        let result = try run(
            "/usr/bin/env",
            ["PGTZ=UTC", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url] + arguments + ["-f", "-"], stdin: input)
        if result.status != 0 { throw Failure(description: result.stderr) }
        return result.stdout
    }

    func execute(_ sql: String) throws {
        _ = try psql([], sql)
    }

    /// The time column of each table that grows with retention.
    static let timeColumns = ["points": "time", "spans": "start_time", "logs": "time", "invocations": "start_time"]

    /// The table a scanned relation belongs to when it grows with retention: the table itself, or
    /// one of its partitions (`points_p20261203`, `points_legacy`: see the postgres exporter's README).
    static func timeTable(_ relation: String) -> String? {
        timeColumns.keys.first { relation == $0 || relation.hasPrefix($0 + "_p") || relation == $0 + "_legacy" }
    }

    /// The scans of `sql`'s plan (`EXPLAIN (FORMAT JSON)`, planner told to avoid sequential scans) of
    /// the tables that grow with retention or their partitions: node type, relation and conditions.
    func timeTableScans(_ sql: String) async throws -> [(type: String, relation: String, table: String, conditions: String)] {
        let body = sql.trimmingCharacters(in: .whitespacesAndNewlines)
        let input = "SET enable_seqscan = off;\nEXPLAIN (FORMAT JSON) " + body + ";\n"
        let runner = self
        let output = try await offThePool { try runner.psql(["-A", "-t"], input) }
        guard let plan = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] else {
            throw Failure(description: "EXPLAIN printed no plan:\n\(output)")
        }
        var scans: [(type: String, relation: String, table: String, conditions: String)] = []
        func visit(_ node: [String: Any]) {
            if let relation = node["Relation Name"] as? String, let table = Self.timeTable(relation) {
                let conditions = ["Index Cond", "Recheck Cond", "Filter"].compactMap { node[$0] as? String }.joined(separator: " ")
                scans.append((node["Node Type"] as? String ?? "", relation, table, conditions))
            }
            for child in node["Plans"] as? [[String: Any]] ?? [] { visit(child) }
        }
        for statement in plan { (statement["Plan"] as? [String: Any]).map(visit) }
        return scans
    }

    /// The reads of `sql`'s plan that are not bounded by time: with the planner told to avoid
    /// sequential scans (`enable_seqscan = off`), every scan of a table that grows with retention
    /// (or of one of its partitions) must be an index or bitmap scan whose conditions include the
    /// table's time column, or it reads more rows the longer data is kept, however narrow the
    /// dashboard range.
    func unboundedReads(_ sql: String) async throws -> [String] {
        try await timeTableScans(sql).compactMap { scan in
            guard scan.type == "Seq Scan" || !scan.conditions.contains(Self.timeColumns[scan.table]!) else { return nil }
            return "\(scan.type) on \(scan.relation) (\(scan.conditions.isEmpty ? "no condition" : scan.conditions))"
        }
    }

    /// Describes (`\gdesc`) then runs `sql`, in one psql session; fields are separated by U+001F,
    /// records by U+001E (values may hold newlines: log bodies, stack traces).
    func query(_ sql: String) async throws -> Result {
        let body = sql.trimmingCharacters(in: .whitespacesAndNewlines)
        let marker = "-- firefly: rows follow --"
        let input = body + "\n\\gdesc\n\\echo '" + marker + "'\n" + body + ";\n"
        let runner = self
        let output = try await offThePool { try runner.psql(["-A", "-t", "-F", "\u{1F}", "-R", "\u{1E}", "-P", "null=NULL"], input) }
        guard let split = output.range(of: marker + "\n") ?? output.range(of: marker) else {
            throw Failure(description: "psql printed no row marker:\n\(output)")
        }
        func records(_ text: Substring) -> [[String]] {
            var text = text
            while text.last == "\n" { text.removeLast() }  // the newline after the last record
            return text.split(separator: "\u{1E}", omittingEmptySubsequences: true).map {
                $0.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
            }
        }
        let columns = records(output[..<split.lowerBound]).map { parts in
            (name: parts[0].trimmingCharacters(in: .newlines), type: parts.count > 1 ? parts[1] : "")
        }
        let rows = records(output[split.upperBound...])
        return Result(columns: columns, rows: rows)
    }
}

extension PostgresQueryRunner {
    /// Writes `batch` with the postgres exporter into a new schema named `prefix` + a random suffix,
    /// as the collector would; returns the schema (drop it when done).
    func exportToNewSchema(_ prefix: String, _ batch: TelemetryBatch) async throws -> String {
        let schema = prefix + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let exporter = try PostgresExporter(
            context: .standalone(instanceName: "postgres"),
            config: PluginConfig(["url": .string(url), "schema": .string(schema), "tls": .string("disable")]))
        let exported = await exporter.export(batch)
        await exporter.shutdown()
        try #require(exported == .ok, "export: \(exported)")
        return schema
    }
}
