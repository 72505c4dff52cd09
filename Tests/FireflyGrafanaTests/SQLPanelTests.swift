@testable import FireflyGrafana
import FireflyModel
import FireflyPluginKit
import Foundation
import PostgresExporter
import Testing

/// Every SQL query of every generated panel and variable, run against a real PostgreSQL holding
/// data the postgres exporter wrote, with Grafana's macros expanded by `SQLMacroExpander`.
/// Checks the columns each panel type needs and the values for the seeded function.
@Suite struct SQLPanelTests {
    static var url: String? { ProcessInfo.processInfo.environment["FIREFLY_TEST_POSTGRES_URL"] }

    @Test(
        .enabled(
            if: url != nil,
            "FIREFLY_TEST_POSTGRES_URL is unset: `bash scripts/postgres.sh start` and export FIREFLY_TEST_POSTGRES_URL=$(bash scripts/postgres.sh url) (make test does both)"
        ))
    func everyPanelQueryRunsOnExportedData() async throws {
        let url = try #require(Self.url)
        let runner = PostgresQueryRunner(url: url)
        let now = Date()
        let schema = try await runner.exportToNewSchema("grafana_test_", TelemetryBatch(
            points: Seed.points(now: now), spans: Seed.spans(now: now), logs: Seed.logs(now: now),
            invocations: Seed.invocations(now: now)))
        defer { try? runner.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE") }

        let generatorConfig = """
            exporters:
              postgres: {plugin: postgres, url: "\(url)", schema: \(schema)}
            receivers:
              otlp: {plugin: otlp}
            pipelines:
              traces: {receivers: [otlp], exporters: [postgres]}
            """
        let generator = try Configs.generator(generatorConfig)
        #expect(generator.datasources.postgres?.schema == schema)
        // The first account and region chosen (Grafana writes a multi-value selection as a quoted list).
        func expander(account: String = "'123456789012'", region: String = "'eu-west-1'") -> SQLMacroExpander {
            SQLMacroExpander(
                from: now.addingTimeInterval(-3600), to: now.addingTimeInterval(60), intervalSeconds: 60,
                variables: [
                    "function": "checkout", "traceId": Seed.coldTrace.description, "requestId": "", "search": "",
                    "level": FunctionDashboard.logLevels.map { "'\($0)'" }.joined(separator: ","),
                    "account": account, "region": region,
                ])
        }

        var runs: [PanelQueries.Run] = []
        var variables: [PanelQueries.Variable] = []
        for d in try Configs.dashboards(generator) {
            let ran = try await PanelQueries.run(d, expander: expander(), runner: runner)
            variables += ran.variables
            runs += ran.runs
        }
        #expect(variables.map(\.name) == ["account", "region", "account", "region", "function"])
        #expect(variables[0].values == ["123456789012", "210987654321"] && variables[1].values == ["eu-west-1", "us-east-1"])
        #expect(variables.last?.values == ["checkout", "frontend", "inventory"])
        // Overview: table + 6 series + invocations table + 4 account stats + account concurrency; Function: 8 stats, 9 series, 8 invocation
        // stats, 4 invocation series, recent invocations, logs, span percentiles, recent traces, trace, nodes + edges.
        #expect(runs.count == 49, "\(runs.count) queries ran")

        for run in runs {
            PanelQueries.checkShape(run)
            #expect(!run.result.rows.isEmpty, "\(run.what) returned no rows")
            #expect(run.emptyColumns.isEmpty, "\(run.what): only NULL in \(run.emptyColumns) for the seeded function")
            // The account-level series (no FunctionName) never show up as a function named ''.
            for column in ["function", "metric"] where run.result.columns.contains(where: { $0.name == column }) {
                #expect(!run.result.values(column).contains(""), "\(run.what): a function named ''")
            }
        }

        // No query reads a whole table: each is bounded by the dashboard range through an index
        // (a query's cost then grows with the range, not with retention).
        for query in runs.map({ ($0.what, $0.sql) }) + variables.map({ ("\($0.dashboard) variable \($0.name)", $0.sql) }) {
            let reads = try await runner.unboundedReads(query.1)
            #expect(reads.isEmpty, "\(query.0) reads beyond the range: \(reads)")
        }

        func run(_ dashboard: String, _ panel: String, _ refId: String = "A", type: String? = nil) throws
            -> PostgresQueryRunner.Result
        {
            try #require(
                runs.first {
                    $0.dashboard == dashboard && $0.panel == panel && $0.refId == refId && (type == nil || $0.type == type)
                }
            ).result
        }
        func stat(_ panel: String) throws -> Double {
            try #require(Double(run("firefly-function", panel).rows[0][0]))
        }

        for (panel, value) in Seed.checkoutStats { #expect(try stat(panel) == value, "\(panel)") }
        for (panel, value) in Seed.accountStats {
            #expect(try Double(#require(run("firefly-overview", panel).rows.first?.first)) == value, "\(panel)")
        }
        let accountConcurrency = try run("firefly-overview", "Account concurrency")
        #expect(accountConcurrency.columns.map(\.name) == ["time", "concurrent executions", "unreserved concurrency"])
        #expect(accountConcurrency.values("concurrent executions").compactMap(Double.init).max() == 46)

        // From the invocations (see Seed.invocations): exact values, not per-minute statistics.
        let invocationStats: [(String, Double)] = [
            ("Reported invocations", 10), ("Cold start rate", 0.1), ("Avg init duration", 250),
            ("p95 duration (exact)", 955), ("Timeouts", 1), ("Out of memory", 1), ("Peak memory used", 400.0 / 512),
        ]
        for (panel, value) in invocationStats { #expect(abs(try stat(panel) - value) < 1e-9, "\(panel)") }
        // 5510 billed ms × 0.5 GB at $0.0000166667/GB-s + 10 requests at $0.20/M.
        #expect(abs(try stat("Cost (billed)") - (5.51 * 0.5 * 0.0000166667 + 10 * 0.0000002)) < 1e-12)
        let recentInvocations = try run("firefly-function", "Recent invocations")
        #expect(recentInvocations.columns.map(\.name) == [
            "start", "request id", "duration", "billed", "memory used", "memory size", "cold start", "init", "status",
            "error type", "trace id",
        ])
        #expect(recentInvocations.values("request id") == (1...10).reversed().map(Seed.requestID))
        #expect(recentInvocations.values("status").reversed() == [
            "success", "success", "success", "timeout", "success", "success", "out_of_memory", "success", "error", "success",
        ])
        #expect(recentInvocations.values("trace id").last == Seed.coldTrace.description)
        let outcomes = try run("firefly-function", "Outcomes")
        #expect(outcomes.columns.map(\.name) == ["time", "success", "error", "timeout", "out of memory"])
        #expect(outcomes.values("timeout").compactMap(Double.init).reduce(0, +) == 1)
        // Logs, narrowed to the trace in Trace ID: the cold invocation's three lines, newest first.
        let logs = try run("firefly-function", "Logs")
        #expect(logs.columns.map(\.name) == ["time", "body", "level", "request_id", "trace_id", "span_id"])
        #expect(logs.values("body").map { String($0.prefix(6)) } == ["REPORT", "handli", "START "])
        #expect(Set(logs.values("level")) == ["info"] && Set(logs.values("request_id")) == [Seed.requestID(1)])
        let byFunction = try run("firefly-overview", "Invocations reported in logs")
        #expect(byFunction.values("exact p95").count == 2)
        #expect(byFunction.values("function") == ["checkout", "inventory"])
        #expect(byFunction.values("timeouts") == ["1", "0"])
        #expect(abs(Double(byFunction.values("memory headroom")[0])! - (1 - 400.0 / 512)) < 1e-9)

        // The overview table, one row per function, in the column order the panel shows.
        let table = try run("firefly-overview", "Functions")
        #expect(
            table.columns.map(\.name) == [
                "function", "account", "region", "invocations", "errors", "error rate", "throttles", "throttle rate",
                "avg duration", "worst-minute p95", "worst-minute p99", "cold starts", "estimated cost",
            ])
        #expect(table.values("function") == ["checkout", "inventory", "frontend"])
        #expect(table.values("account") == ["123456789012", "123456789012", "NULL"])  // frontend: only its spans know it
        // Every account and region: checkout is two functions, one per account and region, never summed.
        let overview = try #require(try Configs.dashboards(generator).first { $0.uid == "firefly-overview" })
        let everywhere = try await PanelQueries.run(overview, expander: expander(account: "'__all'", region: "'__all'"), runner: runner)
        let allTable = try #require(everywhere.runs.first { $0.panel == "Functions" }).result
        let checkouts = allTable.rows.filter { $0[0] == "checkout" }.map { "\($0[1]) \($0[2]) \($0[3])" }
        #expect(checkouts == ["123456789012 eu-west-1 200", "210987654321 us-east-1 140"])
        // And in every per-function series: one series per (account, region, function), named with its
        // region and account where the name alone is ambiguous, labelled for the links.
        for panel in ["Invocations", "Errors", "Error rate", "Duration percentiles", "Throttles", "Max concurrent executions"] {
            let series = try #require(everywhere.runs.first { $0.panel == panel }).result
            #expect(
                Array(series.columns.map(\.name).prefix(5)) == ["time", "series", "dimension_FunctionName", "account_id", "region"],
                "\(panel): \(series.columns.map(\.name))")
            let identities = Set(series.rows.map { "\($0[1])|\($0[2])|\($0[3])|\($0[4])" })
            #expect(!series.values("dimension_FunctionName").contains(""), "\(panel): a function named ''")
            // The other account's checkout reports only invocations.
            guard panel == "Invocations" else { continue }
            #expect(identities.isSuperset(of: [
                "checkout · eu-west-1 · 123456789012|checkout|123456789012|eu-west-1",
                "checkout · us-east-1 · 210987654321|checkout|210987654321|us-east-1",
            ]), "\(panel): \(identities.sorted())")
        }
        let invocations = try #require(everywhere.runs.first { $0.panel == "Invocations" }).result
        let perCheckout = Dictionary(grouping: invocations.rows.filter { $0[2] == "checkout" }, by: { $0[3] })
            .mapValues { $0.compactMap { Double($0[5]) }.reduce(0, +) }
        #expect(perCheckout == ["123456789012": 200, "210987654321": 140])
        // The row without its account and region columns, in the order the checks below read it.
        let checkout = try #require(table.rows.first).enumerated().filter { ![1, 2].contains($0.offset) }.map(\.element)
        let checkoutValues: [Double] = checkout.dropFirst().prefix(9).map { Double($0) ?? -1 }
        let expectedValues: [Double] = [200, 4, 0.02, 4, 4.0 / 204, 120, 200, 250, 2]
        #expect(checkoutValues == expectedValues)
        // 200 requests at $0.20/M + 24 s × 0.5 GB (Lambda Insights total_memory 512 MB) at $0.0000166667/GB-s.
        let requestCost: Double = 200 * 0.0000002
        let computeCost: Double = 24 * 0.5 * 0.0000166667
        let cost = try #require(Double(checkout[10]))
        #expect(abs(cost - (requestCost + computeCost)) < 1e-12)
        // Prices from `pricing:`: checkout on arm64 at its price, the rest at the x86_64 price given.
        let priced = try Configs.generator(generatorConfig + """

            pricing:
              request: 0.0000004
              gb_second: 0.00002
              arm64_gb_second: 0.00001
              functions: {checkout: arm64}
            """)
        let pricedOverview = try #require(try Configs.dashboards(priced).first { $0.uid == "firefly-overview" })
        let pricedRuns = try await PanelQueries.run(pricedOverview, expander: expander(), runner: runner).runs
        let pricedTable = try #require(pricedRuns.first { $0.panel == "Functions" }).result
        let pricedCost = { (function: String) in pricedTable.rows.first { $0[0] == function }.flatMap { Double($0[12]) } ?? -1 }
        #expect(abs(pricedCost("checkout") - (200 * 0.0000004 + 24 * 0.5 * 0.00001)) < 1e-12)
        #expect(abs(pricedCost("inventory") - (100 * 0.0000004 + 4 * 0.25 * 0.00002)) < 1e-12)
        // inventory: 100 requests + 4 s × 256 MB (its spans' faas.max_memory, written in MiB).
        let inventoryCost = try #require(table.rows.first { $0[0] == "inventory" }.flatMap { Double($0[12]) })
        #expect(abs(inventoryCost - (100 * 0.0000002 + 4 * 0.25 * 0.0000166667)) < 1e-12)

        // Duration time series: one row per minute, avg/p50/p95/p99/max.
        let duration = try run("firefly-function", "Duration")
        #expect(duration.columns.map(\.name) == ["time", "avg", "p50", "p95", "p99", "max"])
        #expect(duration.rows.count == Seed.minutes)
        #expect(duration.rows[0].dropFirst().map { Double($0)! } == [120, 110, 200, 250, 300])
        let cold = try run("firefly-function", "Cold starts", type: "timeseries")
        #expect(cold.columns.map(\.name) == ["time", "cold starts (spans)", "cold starts (Lambda Insights)"])
        #expect(cold.values("cold starts (spans)").compactMap(Double.init).reduce(0, +) == 1)
        #expect(cold.values("cold starts (Lambda Insights)").compactMap(Double.init).reduce(0, +) == 2)
        let perFunction = try run("firefly-overview", "Invocations")
        #expect(perFunction.columns.map(\.name) == ["time", "series", "dimension_FunctionName", "account_id", "region", "value"])
        #expect(Set(perFunction.values("series")) == ["checkout", "inventory"])  // one account and region: plain names

        // Exact percentiles from checkout's server spans (260 ms in both traces, see Seed.spans): its
        // client and producer spans are not invocations and stay out.
        let spanPercentiles = try run("firefly-function", "Duration percentiles (exact, from spans)")
        #expect(spanPercentiles.columns.map(\.name) == ["time", "p50", "p95", "p99"])
        #expect(Set(spanPercentiles.rows.flatMap { $0.dropFirst().map { Double($0) } }) == [260])

        // Recent traces: the two traces checkout took part in, newest first.
        let recent = try run("firefly-function", "Recent traces")
        #expect(recent.columns.map(\.name) == ["trace id", "root operation", "start", "duration", "spans", "error"])
        #expect(recent.values("trace id") == [Seed.errorTrace.description, Seed.coldTrace.description])
        #expect(recent.values("root operation") == ["GET /checkout", "GET /checkout"])
        #expect(recent.values("duration").map { Double($0)! } == [300, 300])
        #expect(recent.values("spans") == ["7", "7"])
        #expect(recent.values("error") == ["t", "f"])

        // The trace waterfall: the names and types Grafana's traces panel reads.
        let trace = try run("firefly-function", "Trace")
        let expected: [(String, String)] = [
            ("traceID", "text"), ("spanID", "text"), ("parentSpanID", "text"), ("operationName", "text"),
            ("serviceName", "text"), ("serviceTags", "jsonb"), ("startTime", "numeric"), ("duration", "double precision"),
            ("tags", "jsonb"), ("kind", "text"), ("statusCode", "smallint"), ("statusMessage", "text"), ("logs", "jsonb"),
            ("references", "jsonb"),
        ]
        #expect(trace.columns.map(\.name) == expected.map(\.0))
        #expect(trace.columns.map(\.type) == expected.map(\.1))
        #expect(trace.rows.count == 7)
        #expect(Set(trace.values("traceID")) == [Seed.coldTrace.description])
        #expect(trace.values("parentSpanID")[0] == "NULL")
        #expect(trace.values("serviceName") == ["frontend", "frontend", "checkout", "checkout", "inventory", "inventory", "checkout"])
        #expect(trace.values("duration").map { Double($0)! } == [300, 280, 260, 100, 80, 50, 10])
        // The same trace typed as an X-Ray trace id.
        let traceSQL = try #require(runs.first { $0.dashboard == "firefly-function" && $0.panel == "Trace" }).sql
        let xray = try await runner.query(traceSQL.replacingOccurrences(of: Seed.coldTrace.description, with: Seed.coldTrace.xray))
        #expect(Seed.coldTrace.xray.hasPrefix("1-") && xray.values("spanID") == trace.values("spanID"))
        // Span events as the span's logs (milliseconds, fields), links as its references.
        let events = try JSONSerialization.jsonObject(with: Data(trace.values("logs")[2].utf8)) as! [[String: Any]]
        #expect(events.count == 1 && events[0]["name"] as? String == "cart loaded")
        // 200 ms after the trace's first span (both in epoch milliseconds).
        #expect((events[0]["timestamp"] as? Double).map { abs($0 - Double(trace.values("startTime")[0])! - 200) < 0.01 } == true)
        let fields = events[0]["fields"] as? [[String: Any]]
        #expect(fields?.map { "\($0["key"] ?? "?")=\($0["value"] ?? "?")" } == ["items=3"])
        let references = try JSONSerialization.jsonObject(with: Data(trace.values("references")[2].utf8)) as! [[String: Any]]
        #expect(references.map { $0["traceID"] as? String } == [Seed.inventoryTrace.description])
        #expect(trace.values("logs")[0] == "[]" && trace.values("references")[0] == "[]")
        let tags = try JSONSerialization.jsonObject(with: Data(trace.values("tags")[2].utf8)) as! [[String: Any]]
        #expect(tags.contains { $0["key"] as? String == "faas.coldstart" && $0["value"] as? Bool == true })

        // Service map: nodes and edges frames from parent/child spans across services.
        // Service map: instrumented services, the queue and the database nobody instrumented; calls
        // per second over the range, error ratio, p95.
        let nodes = try run("firefly-function", "Service map", "nodes")
        #expect(nodes.columns.map(\.name) == [
            "id", "title", "subtitle", "mainstat", "secondarystat", "detail__p95 duration (ms)", "arc__ok", "arc__failed",
        ])
        #expect(nodes.values("id") == ["checkout", "dynamodb", "frontend", "inventory", "orders"])
        #expect(nodes.values("subtitle") == ["service", "database", "service", "service", "queue / topic"])
        #expect(nodes.values("arc__failed").map { Double($0)! } == [0.5, 0.5, 0, 0, 0])  // checkout fails once in two
        let edges = try run("firefly-function", "Service map", "edges")
        #expect(edges.columns.map(\.name) == ["id", "source", "target", "mainstat", "secondarystat", "detail__p95 duration (ms)"])
        #expect(edges.values("id") == ["checkout->inventory", "checkout->orders", "frontend->checkout", "inventory->dynamodb"])
        let seconds = 3660.0  // the expander's range: an hour back, a minute ahead
        #expect(edges.values("mainstat").map { Double($0)! * seconds } == [2, 2, 2, 2])
        #expect(edges.values("secondarystat").map { Double($0)! } == [0, 0, 0.5, 0.5])
        // From the consumer's side the queue hop comes from its link to the send.
        let edgesSQL = try #require(runs.first { $0.panel == "Service map" && $0.refId == "edges" }).sql
        let inventoryEdges = try await runner.query(edgesSQL.replacingOccurrences(of: "'checkout'", with: "'inventory'"))
        #expect(inventoryEdges.values("id").contains("orders->inventory"), "\(inventoryEdges.values("id"))")
    }

    @Test func expanderMatchesGrafanasPostgresMacros() throws {
        let from = Date(timeIntervalSince1970: 1_700_000_000)
        let expander = SQLMacroExpander(
            from: from, to: from.addingTimeInterval(3600), intervalSeconds: 300, variables: ["function": "checkout"])
        #expect(
            try expander.expand("SELECT $__timeGroupAlias(p.time, $__interval), x FROM t WHERE $__timeFilter(p.time) AND f = '$function'")
                == "SELECT floor(extract(epoch from p.time)/300)*300 AS \"time\", x FROM t WHERE p.time BETWEEN '2023-11-14T22:13:20.000Z' AND '2023-11-14T23:13:20.000Z' AND f = 'checkout'")
        #expect(try expander.expand("$__timeFrom() $__timeTo() ${function} [[function]] $__range $__interval_ms")
            == "'2023-11-14T22:13:20.000Z' '2023-11-14T23:13:20.000Z' checkout checkout 3600s 300000")
        #expect(try expander.expand("$__timeGroup(t, '1h')") == "floor(extract(epoch from t)/3600)*3600")
        #expect(throws: SQLMacroExpander.MacroError.self) { try expander.expand("$__timeGroup(t)") }
        #expect(throws: SQLMacroExpander.MacroError.self) { try expander.expand("$__nope(t)") }
    }
}
