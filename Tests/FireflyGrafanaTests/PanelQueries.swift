import FireflyGrafana
import Foundation
import Testing

/// Runs a generated dashboard's SQL — every query template variable and every panel target — against
/// PostgreSQL the way Grafana would (macros expanded by `SQLMacroExpander`), and checks what came back.
enum PanelQueries {
    static let numeric: Set<String> = ["numeric", "double precision", "bigint", "integer", "smallint", "real"]

    /// A query variable's values.
    struct Variable {
        var dashboard: String
        var name: String
        var sql: String
        var values: [String]
    }

    /// One panel target's result.
    struct Run {
        var dashboard: String
        var panel: String
        var type: String
        var refId: String
        var format: String
        /// The query as PostgreSQL ran it (macros expanded).
        var sql: String
        var result: PostgresQueryRunner.Result

        /// Names the target uniquely (titles repeat: a `Cold starts` stat and time series).
        var what: String { "\(dashboard) / \(panel) (\(type)) \(refId)" }

        /// The columns that carry values: all of a table's; a time series' numeric ones after `time`
        /// (Grafana makes its text columns labels).
        var valueColumns: [Int] {
            guard type == "timeseries" else { return Array(result.columns.indices) }
            return result.columns.indices.dropFirst().filter { PanelQueries.numeric.contains(result.columns[$0].type) }
        }

        /// Grafana would draw something: rows, and in each value column a value that is not NULL.
        var emptyColumns: [String] {
            valueColumns.filter { i in result.rows.allSatisfy { $0[i] == "NULL" } }.map { result.columns[$0].name }
        }

        var hasData: Bool { !result.rows.isEmpty && emptyColumns.isEmpty }
    }

    /// Runs the query variables and panel targets of `dashboard`; a query PostgreSQL rejects is an issue.
    static func run(
        _ dashboard: (uid: String, json: [String: Any], text: String), expander: SQLMacroExpander,
        runner: PostgresQueryRunner
    ) async throws -> (variables: [Variable], runs: [Run]) {
        var variables: [Variable] = []
        var runs: [Run] = []
        let templating = (dashboard.json["templating"] as! [String: Any])["list"] as! [[String: Any]]
        for v in templating where v["type"] as? String == "query" {
            let sql = try expander.expand(v["query"] as! String)
            let result = try await runner.query(sql)
            #expect(result.columns.count == 1, "variable \(v["name"]!): \(result.columns)")
            variables.append(
                Variable(dashboard: dashboard.uid, name: v["name"] as! String, sql: sql, values: result.rows.map { $0[0] }))
        }
        for panel in DashboardStructureTests.panels(dashboard.json) where panel["type"] as? String != "row" {
            for target in panel["targets"] as! [[String: Any]] {
                let sql = try expander.expand(target["rawSql"] as! String)
                let result: PostgresQueryRunner.Result
                do {
                    result = try await runner.query(sql)
                } catch {
                    Issue.record("\(dashboard.uid) / \(panel["title"]!) \(target["refId"]!): \(error)\n\(sql)")
                    continue
                }
                runs.append(
                    Run(
                        dashboard: dashboard.uid, panel: panel["title"] as! String, type: panel["type"] as! String,
                        refId: target["refId"] as! String, format: target["format"] as! String, sql: sql, result: result))
            }
        }
        return (variables, runs)
    }

    /// The shape each panel type needs from Grafana's PostgreSQL data source.
    static func checkShape(_ run: Run) {
        let r = run.result
        switch run.type {
        case "timeseries":
            #expect(run.format == "time_series", "\(run.what)")
            #expect(r.columns.first?.name == "time", "\(run.what): \(r.columns.map(\.name))")
            #expect(r.columns.dropFirst().contains { numeric.contains($0.type) }, "\(run.what): no value column")
            let times = r.values("time").compactMap(Double.init)
            #expect(times == times.sorted(), "\(run.what): rows not ordered by time")
        case "stat":
            #expect(r.rows.count == 1 && r.columns.count == 1 && numeric.contains(r.columns[0].type), "\(run.what)")
        case "table", "traces", "nodeGraph":
            #expect(run.format == "table", "\(run.what)")
        case "logs":
            // Grafana's logs panel: a time field, the message as the first text field, a `level` field.
            #expect(run.format == "table", "\(run.what)")
            #expect(r.columns.map(\.name).prefix(3) == ["time", "body", "level"], "\(run.what): \(r.columns.map(\.name))")
            #expect(r.columns.first?.type.hasPrefix("timestamp") == true && r.columns[1].type == "text", "\(run.what)")
        default:
            Issue.record("\(run.what): unexpected panel type \(run.type)")
        }
    }
}
