@testable import FireflyGrafana
import FireflyTestSupport
import Foundation
import Testing

/// `make demo` against `make run`, for real: the built `firefly demo` sends its synthetic Lambda
/// telemetry to a built `firefly serve` (firehose + otlp receivers, postgres exporter: the default
/// `firefly.yaml`'s shape) and every SQL panel of both generated dashboards then has data.
///
/// The Function dashboard is run for each function the Overview table lists (as its links do):
/// some panels only have data for some kinds of function — async event age and dropped events
/// for SNS-triggered ones, iterator age for stream consumers — so each panel must have data for
/// at least one of the demo's functions.
@Suite(.serialized, .enabled(if: TestPostgres.available, "needs FIREFLY_TEST_POSTGRES_URL (make test sets it)"))
struct DemoDashboardTests {
    /// `make demo`'s defaults, for a few seconds.
    static let functions = 10
    static let demoArguments = ["--duration", "8s", "--rate", "5", "--functions", "\(functions)", "--seed", "1"]

    struct Summary {
        var requests = 0, accepted = 0, refused = 0, unanswered = 0, points = 0, spans = 0, logEvents = 0, reports = 0
    }

    /// Reads the counters out of `firefly demo`'s summary.
    static func summary(_ text: String) throws -> Summary {
        func numbers(_ pattern: String) throws -> [Int] {
            let regex = try NSRegularExpression(pattern: pattern)
            guard let m = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else { return [] }
            return (1..<m.numberOfRanges).compactMap { Int(text[Range(m.range(at: $0), in: text)!]) }
        }
        let requests = try numbers(#"requests\s+(\d+) \((\d+) accepted, (\d+) refused, (\d+) unanswered\)"#)
        let points = try numbers(#"metrics\s+(\d+) data points accepted"#)
        let spans = try numbers(#"traces\s+\d+ traces, (\d+) spans accepted"#)
        let logs = try numbers(#"logs\s+(\d+) CloudWatch Logs events accepted, (\d+) of them invocation reports"#)
        guard requests.count == 4, points.count == 1, spans.count == 1, logs.count == 2 else {
            throw FireflyServer.ServerError(message: "unexpected demo summary:\n\(text)")
        }
        return Summary(
            requests: requests[0], accepted: requests[1], refused: requests[2], unanswered: requests[3], points: points[0],
            spans: spans[0], logEvents: logs[0], reports: logs[1])
    }

    @Test func demoTelemetryGivesEveryPanelOfBothDashboardsData() async throws {
        let url = try #require(TestPostgres.url)
        let schema = TestPostgres.freshSchema("demo")
        defer { TestPostgres.drop(schema: schema) }
        let config = TestPostgres.collectorConfig(schema: schema)
        let ws = try Workspace(plugins: TestPostgres.collectorPlugins)
        let server = try FireflyServer(workspace: ws, config: config)
        defer { server.stop() }

        let started = Date()
        let arguments = ["demo", "--target", server.baseURL] + Self.demoArguments, directory = ws.path
        let demo = try await offThePool { try runFirefly(arguments, in: directory) }
        let ended = Date()
        try #require(demo.status == 0, "firefly demo exited \(demo.status):\n\(demo.stdout)\(demo.stderr)")
        let sent = try Self.summary(demo.stdout)
        #expect(sent.requests > 0 && sent.accepted == sent.requests, "\(demo.stdout)")
        #expect(sent.refused == 0 && sent.unanswered == 0, "\(demo.stdout)")
        try #require(sent.points > 0 && sent.spans > 0 && sent.logEvents > 0 && sent.reports > 0, "\(demo.stdout)")

        // The exporter writes asynchronously: wait until every accepted point, span, log event and
        // invocation report is stored.
        func stored() -> [Int]? {
            let sql = "SELECT (SELECT count(*) FROM \(schema).points), (SELECT count(*) FROM \(schema).spans), (SELECT count(*) FROM \(schema).logs), (SELECT count(*) FROM \(schema).invocations)"
            guard let row = try? TestPostgres.query(sql).first, row.count == 4 else { return nil }
            return row.compactMap { Int($0) }
        }
        let expected = [sent.points, sent.spans, sent.logEvents, sent.reports]
        let written = await eventually(60) { stored().map { zip($0, expected).allSatisfy { $0 >= $1 } } ?? false }
        let counts = stored()
        try #require(written, "stored \(String(describing: counts)) of \(expected) points, spans, log events, invocations\n\(server.logText)")
        #expect(counts == expected, "each accepted point, span, log event and invocation stored once")

        // The dashboards `firefly grafana` generates for the collector's own configuration.
        let generator = try Configs.generator(config)
        #expect(generator.datasources.postgres?.schema == schema)
        let dashboards = try Configs.dashboards(generator)
        #expect(Set(dashboards.map(\.uid)) == ["firefly-overview", "firefly-function"])
        let runner = PostgresQueryRunner(url: url)
        // A range around the demo: metric stream points are stamped with their minute's start (JSON) or end (OpenTelemetry).
        func expander(_ variables: [String: String]) -> SQLMacroExpander {
            SQLMacroExpander(
                from: started.addingTimeInterval(-300), to: ended.addingTimeInterval(300), intervalSeconds: 60,
                variables: ["account": "'__all'", "region": "'__all'"].merging(variables) { $1 })
        }

        let overview = try #require(dashboards.first { $0.uid == "firefly-overview" })
        let overviewRuns = try await PanelQueries.run(overview, expander: expander([:]), runner: runner).runs
        for run in overviewRuns {
            PanelQueries.checkShape(run)
            #expect(!run.result.rows.isEmpty, "\(run.what) has no rows")
            #expect(run.emptyColumns.isEmpty, "\(run.what): only NULL in \(run.emptyColumns)")
        }
        let functions = try #require(overviewRuns.first { $0.panel == "Functions" }).result.values("function")
        #expect(functions.count == Self.functions, "the overview lists \(functions)")

        // The Function dashboard of each function, with the newest of its traces shown in the waterfall.
        let function = try #require(dashboards.first { $0.uid == "firefly-function" })
        var withData: [String: [String]] = [:]  // panel target → functions for which it has data
        var targets: [String] = []
        for name in functions {
            let trace = try TestPostgres.query(
                "SELECT trace_id FROM \(schema).spans WHERE function = '\(name)' ORDER BY start_time DESC LIMIT 1")
            let variables = [
                "function": name, "traceId": trace.first?.first ?? "", "requestId": "", "search": "",
                "level": FunctionDashboard.logLevels.map { "'\($0)'" }.joined(separator: ","),
            ]
            let ran = try await PanelQueries.run(function, expander: expander(variables), runner: runner)
            #expect(ran.variables.map(\.name) == ["account", "region", "function"])
            #expect(ran.variables.prefix(2).map(\.values) == [["123456789012"], ["us-east-1"]], "the demo's one account and region")
            #expect(Set(ran.variables.last?.values ?? []) == Set(functions), "$function offers the overview's functions")
            if targets.isEmpty { targets = ran.runs.map(\.what) }
            #expect(ran.runs.map(\.what) == targets)
            for run in ran.runs {
                PanelQueries.checkShape(run)
                if run.hasData { withData[run.what, default: []].append(name) }
            }
        }
        // 8 stats, 9 time series, 8 invocation stats, 4 invocation series, recent invocations, logs,
        // span duration percentiles, recent traces, trace, service map nodes + edges.
        #expect(targets.count == 36, "\(targets)")
        #expect(Set(targets).count == targets.count, "\(targets)")
        for target in targets {
            #expect(withData[target] != nil, "\(target): no data (rows with a value in every column) for any of \(functions)")
        }
    }
}
