@testable import FireflyGrafana
import FireflyModel
import FireflyPluginKit
import FireflyTestSupport
import Foundation
import RemoteWriteExporter
import Testing

/// Every PromQL query of every generated panel and variable, run against a real Prometheus fed by
/// the remote-write exporter, with Grafana's variables expanded as Grafana does for Prometheus.
/// Checks that each returns data for the seeded function and the values Seed makes easy to know.
@Suite struct PromQLPanelTests {
    /// The dashboard range the queries cover: the last 30 minutes (Seed writes the last 20).
    static let rangeSeconds = 1800.0
    /// `$__interval`: the panels' minimum interval (1m) wins over range / max data points.
    static let stepSeconds = 60.0
    /// The label per-function queries group by: `dimension_FunctionName`.
    static let functionLabel = PrometheusNaming.cloudWatchDimensionLabel("FunctionName")

    struct Run {
        var dashboard: String
        var panel: String
        var type: String
        var refId: String
        var expr: String
        /// The query selects the dashboard's `$function` (and aggregates its label away).
        var selectsFunction: Bool
        /// The query selects the account-level series (no `FunctionName`).
        var selectsAccount: Bool { expr.contains("\(PromQLPanelTests.functionLabel)=\"\"") }
        /// Instant queries: one value per series.
        var samples: [PrometheusServer.Sample] = []
        /// Range queries.
        var series: [PrometheusServer.Series] = []

        var isEmpty: Bool { samples.isEmpty && series.isEmpty }
        var labelSets: [[String: String]] { samples.map(\.metric) + series.map(\.metric) }
    }

    @Test func everyPanelQueryReturnsTheSeededFunctionFromPrometheus() async throws {
        let prometheus = try PrometheusServer()
        try await prometheus.start()
        defer { prometheus.stop() }
        let now = Date()
        let exporter = try RemoteWriteExporter(
            context: .standalone(instanceName: "remote_write"),
            config: PluginConfig(["url": .string(prometheus.writeURL), "timeout": .string("5s")]))
        let exported = await exporter.export(TelemetryBatch(points: Seed.points(now: now)))
        await exporter.shutdown()
        try #require(exported == .ok, "export: \(exported)\n\(prometheus.logText())")

        let generator = try Configs.generator(
            """
            exporters:
              remote_write: {plugin: remote-write, url: "\(prometheus.writeURL)"}
            receivers:
              firehose: {plugin: firehose}
            pipelines:
              metrics: {receivers: [firehose], exporters: [remote_write]}
            """)
        #expect(generator.backend == .prometheus)
        #expect(generator.datasources.prometheus?.url == "http://127.0.0.1:\(prometheus.port)")

        let to = now.timeIntervalSince1970
        let from = to - Self.rangeSeconds
        // Grafana aligns a range query's start and end to its step.
        let start = (from / Self.stepSeconds).rounded(.down) * Self.stepSeconds
        let end = (to / Self.stepSeconds).rounded(.down) * Self.stepSeconds
        func variables(function: String) -> GrafanaPromVariables {
            // The first account and region chosen: the other account's checkout is not added in.
            GrafanaPromVariables(
                rangeSeconds: Self.rangeSeconds, intervalSeconds: Self.stepSeconds,
                variables: ["function": function, "account": "123456789012", "region": "eu-west-1"])
        }
        let checkout = variables(function: "checkout")
        let nobody = variables(function: "no-such-function")

        var runs: [Run] = []
        var skipped: [String] = []
        var labelValues: [String: [String]] = [:]
        let specs = Dictionary(uniqueKeysWithValues: GrafanaGenerator.dashboards.map { ($0.uid, $0) })
        for d in try Configs.dashboards(generator) {
            let spec = try #require(specs[d.uid])
            for v in (d.json["templating"] as! [String: Any])["list"] as! [[String: Any]] where v["type"] as? String == "query" {
                let call = try #require(LabelValuesCall(v["query"] as! String), "variable \(v["name"]!): \(v["query"]!)")
                labelValues[v["name"] as! String, default: []] += try await prometheus.labelValues(call.label, match: call.metric, start: from, end: to)
            }
            // Panels without PromQL (traces, service map) are not on a Prometheus dashboard.
            let specPanels = spec.items.compactMap { item -> PanelSpec? in if case .panel(let p) = item { p } else { nil } }
            skipped += specPanels.filter { $0.prom == nil }.map { "\(d.uid) / \($0.title)" }
            let metricPanels = specPanels.filter { $0.prom != nil }
            let panels = DashboardStructureTests.panels(d.json).filter { $0["type"] as? String != "row" }
            #expect(panels.map { $0["title"] as! String } == metricPanels.map(\.title), "\(d.uid)")
            for (panel, panelSpec) in zip(panels, metricPanels) {
                let targets = panel["targets"] as! [[String: Any]]
                #expect(targets.map { $0["expr"] as! String } == panelSpec.prom!.map { Pricing.fill($0.expr, generator.pricing) })
                for target in targets {
                    let instant = target["instant"] as! Bool
                    let expr = target["expr"] as! String
                    var run = Run(
                        dashboard: d.uid, panel: panel["title"] as! String, type: panel["type"] as! String,
                        refId: target["refId"] as! String, expr: try checkout.expand(expr),
                        selectsFunction: expr.contains("$function"))
                    let what = "\(run.dashboard) / \(run.panel) \(run.refId)"
                    #expect(instant == (run.type != "timeseries"), "\(what): instant \(instant) on a \(run.type) panel")
                    do {
                        if instant {
                            run.samples = try await prometheus.query(run.expr, at: to)
                        } else {
                            run.series = try await prometheus.queryRange(run.expr, start: start, end: end, step: Self.stepSeconds)
                        }
                        // The function dashboard's queries select `$function`: another function has no data.
                        if run.selectsFunction {
                            let other = try nobody.expand(expr)
                            let none =
                                if instant {
                                    try await prometheus.query(other, at: to).count
                                } else {
                                    try await prometheus.queryRange(other, start: start, end: end, step: Self.stepSeconds).count
                                }
                            #expect(none == 0, "\(what) returns data for a function that does not exist")
                        }
                    } catch {
                        Issue.record("\(what): \(error)\n\(run.expr)")
                        continue
                    }
                    runs.append(run)
                }
            }
        }
        #expect(labelValues["function"] == ["checkout", "inventory"])
        // Both dashboards offer both accounts and regions.
        #expect(labelValues["account"] == ["123456789012", "210987654321", "123456789012", "210987654321"])
        #expect(labelValues["region"] == ["eu-west-1", "us-east-1", "eu-west-1", "us-east-1"])
        // Span duration percentiles, Recent traces, Trace, Service map; 8 invocation stats, 4 invocation series, the invocations
        // table, Logs; the Overview's invocations table.
        #expect(skipped.count == 19, "SQL-only panels: \(skipped)")
        // Overview: 10 table columns + 8 trend queries + 4 account stats + 2 account series; Function:
        // 8 stats + 16 series queries.
        #expect(runs.count == 48, "\(runs.count) queries ran")

        for run in runs {
            let what = "\(run.dashboard) / \(run.panel) \(run.refId): \(run.expr)"
            #expect(!run.isEmpty, "\(what) returned nothing")
            // Per-function queries name the function; `$function` queries aggregate it away (checked above).
            let named = run.labelSets.compactMap { $0[Self.functionLabel] }
            #expect(!named.contains(""), "\(what): a function named ''")
            if run.selectsAccount {
                #expect(named.isEmpty, "\(what): account-level queries name no function")
            } else if !run.selectsFunction {
                #expect(named.contains("checkout"), "\(what): no series for checkout in \(run.labelSets)")
            }
            for series in run.series {
                let times = series.values.map(\.time)
                #expect(times.allSatisfy { $0 >= start && $0 <= end }, "\(what): points outside the range")
            }
        }

        func run(_ dashboard: String, _ panel: String, _ refId: String = "A", type: String? = nil) throws -> Run {
            try #require(
                runs.first {
                    $0.dashboard == dashboard && $0.panel == panel && $0.refId == refId && (type == nil || $0.type == type)
                }, "\(dashboard) / \(panel) \(refId)")
        }
        func stat(_ panel: String) throws -> Double {
            let samples = try run("firefly-function", panel, type: "stat").samples
            try #require(samples.count == 1, "\(panel): \(samples)")
            return try #require(Double(samples[0].value))
        }
        func values(_ series: PrometheusServer.Series) -> [Double] { series.values.compactMap { Double($0.value) } }

        for (panel, value) in Seed.checkoutStats { #expect(try stat(panel) == value, "\(panel)") }
        for (panel, value) in Seed.accountStats {
            let samples = try run("firefly-overview", panel).samples
            #expect(samples.count == 1 && Double(samples[0].value) == value, "\(panel): \(samples)")
        }
        let accountConcurrency = try run("firefly-overview", "Account concurrency").series
        #expect(accountConcurrency.count == 1 && accountConcurrency.first.map(values)?.max() == 46)

        // The overview table's columns, one instant query each, by function.
        func column(_ refId: String) throws -> [String: Double] {
            Dictionary(
                uniqueKeysWithValues: try run("firefly-overview", "Functions", refId).samples.map {
                    ($0.metric[Self.functionLabel] ?? "?", Double($0.value) ?? .nan)
                })
        }
        #expect(try column("A") == ["checkout": 200, "inventory": 100])
        #expect(try column("B") == ["checkout": 4])
        #expect(try column("C") == ["checkout": 0.02])
        #expect(try column("D") == ["checkout": 4])
        #expect(try column("E") == ["checkout": 4.0 / 204])
        #expect(try column("F") == ["checkout": 120, "inventory": 40])
        #expect(try column("G") == ["checkout": 200, "inventory": 70])
        #expect(try column("H") == ["checkout": 250, "inventory": 78])
        #expect(try column("I") == ["checkout": 2])
        // Requests at $0.20/M plus GB-seconds: checkout 24 s × 512 MB (Lambda Insights), inventory 4 s × 128 MB (default).
        let cost = try column("J")
        #expect(Set(cost.keys) == ["checkout", "inventory"])
        #expect(abs((cost["checkout"] ?? 0) - (200 * 0.0000002 + 24 * 0.5 * 0.0000166667)) < 1e-12)
        #expect(abs((cost["inventory"] ?? 0) - (100 * 0.0000002 + 4 * 0.125 * 0.0000166667)) < 1e-12)

        // Per-interval series: each seeded minute lands in exactly one step, its own.
        let invocations = try #require(run("firefly-function", "Invocations and errors").series.first)
        #expect(values(invocations) == Array(repeating: 10, count: Seed.minutes))
        #expect(invocations.values.map(\.time) == Seed.times(now: now).map { Double($0 / 1_000_000_000) }, "steps at the seeded minutes")
        let errors = try #require(run("firefly-function", "Invocations and errors", "B").series.first)
        #expect(values(errors).reduce(0, +) == 4)
        for (refId, expected) in [("A", 120.0), ("B", 110), ("C", 200), ("D", 250), ("E", 300)] {
            let duration = try #require(run("firefly-function", "Duration", refId).series.first)
            #expect(values(duration) == Array(repeating: expected, count: Seed.minutes), "Duration \(refId)")
        }
        #expect(try run("firefly-function", "Cold starts", type: "timeseries").series.map { values($0).reduce(0, +) } == [2])
        let perFunction = try run("firefly-overview", "Invocations").series
        #expect(perFunction.map { $0.metric[Self.functionLabel] ?? "?" } == ["checkout", "inventory"])
        #expect(perFunction.map { values($0).reduce(0, +) } == [200, 100])
        #expect(perFunction.map { $0.metric[LambdaPromQL.seriesLabel] ?? "?" } == ["checkout · eu-west-1 · 123456789012", "inventory · eu-west-1 · 123456789012"])

        // Every account and region (Grafana's "All" is `.*`): checkout is two series, one per account
        // and region, never summed, each labelled with its identity for the links.
        let everywhere = GrafanaPromVariables(
            rangeSeconds: Self.rangeSeconds, intervalSeconds: Self.stepSeconds,
            variables: ["function": "checkout", "account": ".*", "region": ".*"])
        let allInvocations = try await prometheus.queryRange(
            try everywhere.expand(LambdaPromQL.named(LambdaPromQL.total("Invocations", .all, window: "$__interval"))),
            start: start, end: end, step: Self.stepSeconds)
        let checkouts = allInvocations.filter { $0.metric[Self.functionLabel] == "checkout" }
        #expect(checkouts.map { "\($0.metric[LambdaPromQL.accountLabel] ?? "?") \($0.metric[LambdaPromQL.regionLabel] ?? "?") \(values($0).reduce(0, +))" }
            == ["123456789012 eu-west-1 200.0", "210987654321 us-east-1 140.0"])
        #expect(checkouts.map { $0.metric[LambdaPromQL.seriesLabel] ?? "?" } == ["checkout · eu-west-1 · 123456789012", "checkout · us-east-1 · 210987654321"])
        let allTable = try await prometheus.query(
            try everywhere.expand(LambdaPromQL.total("Invocations", .all, window: "$__range")), at: to)
        #expect(allTable.filter { $0.metric[Self.functionLabel] == "checkout" }.count == 2)
    }

    @Test func variablesExpandAsGrafanaExpandsThemForPrometheus() throws {
        let v = GrafanaPromVariables(rangeSeconds: 3600, intervalSeconds: 300, variables: ["function": "checkout"])
        #expect(
            try v.expand(#"sum(x{f="$function"}[$__interval]) / sum(y{f="${function}"}[$__range]) + [[function]] $__range_s"#)
                == #"sum(x{f="checkout"}[5m]) / sum(y{f="checkout"}[3600s]) + checkout 3600"#)
        #expect(try v.expand("$__range_ms $__interval_ms $__rate_interval") == "3600000 300000 6m")
        // Regex capture references are label_replace's, not Grafana's.
        #expect(try v.expand(#"label_replace(x, "a", "$1", "b", "(.*)")"#) == #"label_replace(x, "a", "$1", "b", "(.*)")"#)
        #expect(throws: GrafanaPromVariables.Unexpanded.self) { try v.expand("x[$__nope]") }
        #expect(throws: GrafanaPromVariables.Unexpanded.self) { try v.expand("x{f=\"$\"}") }
        #expect(LabelValuesCall("label_values(aws_lambda_invocations_sum, dimension_FunctionName)")
            .map { [$0.metric, $0.label] } == ["aws_lambda_invocations_sum", "dimension_FunctionName"])
        #expect(LabelValuesCall("sum(x)") == nil)
    }
}

/// Grafana's template variables in a Prometheus query: `$name`, `${name}`, `${name:format}`, `[[name]]`,
/// with the built-ins the Prometheus datasource fills in (`$__interval`, `$__range`…).
struct GrafanaPromVariables {
    struct Unexpanded: Error, CustomStringConvertible {
        var description: String
    }

    var values: [String: String]

    init(rangeSeconds: Double, intervalSeconds: Double, variables: [String: String]) {
        let range = Int(rangeSeconds.rounded())
        let interval = Int(intervalSeconds)
        // Grafana's `$__rate_interval`: max($__interval + scrape interval, 4 × scrape interval), scrape interval 1m.
        let rateInterval = max(interval + 60, 4 * 60)
        values = variables.merging([
            "__interval": Self.duration(interval), "__interval_ms": String(interval * 1000),
            "__rate_interval": Self.duration(rateInterval), "__range": "\(range)s", "__range_s": String(range),
            "__range_ms": String(range * 1000),
        ]) { $1 }
    }

    /// Grafana's interval text: the largest whole unit (`300` → `5m`, `90` → `90s`).
    static func duration(_ seconds: Int) -> String {
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60)] where seconds % size == 0 { return "\(seconds / size)\(unit)" }
        return "\(seconds)s"
    }

    static let reference = try! NSRegularExpression(
        pattern: #"\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z0-9_]+)\]\]"#)
    /// A `$` Grafana would leave alone is only a regex capture reference (`$1`).
    static let leftover = try! NSRegularExpression(pattern: #"\$(?![0-9])"#)

    func expand(_ text: String) throws -> String {
        var out = ""
        var last = text.startIndex
        for m in Self.reference.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let whole = Range(m.range, in: text)!
            let name = (1...3).compactMap { m.range(at: $0).location == NSNotFound ? nil : Range(m.range(at: $0), in: text) }
                .map { String(text[$0]) }[0]
            guard let value = values[name] else { throw Unexpanded(description: "unknown variable \(name) in \(text)") }
            out += text[last..<whole.lowerBound] + value
            last = whole.upperBound
        }
        out += text[last...]
        if Self.leftover.firstMatch(in: out, range: NSRange(out.startIndex..., in: out)) != nil {
            throw Unexpanded(description: "unexpanded $ in \(out)")
        }
        return out
    }
}

/// A Grafana Prometheus variable query `label_values(metric, label)`: Grafana asks
/// `/api/v1/label/<label>/values?match[]=<metric>` over the dashboard range.
struct LabelValuesCall: Equatable {
    var metric: String
    var label: String

    init?(_ query: String) {
        let regex = try! NSRegularExpression(pattern: #"^label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\)$"#)
        guard let m = regex.firstMatch(in: query, range: NSRange(query.startIndex..., in: query)) else { return nil }
        metric = String(query[Range(m.range(at: 1), in: query)!]).trimmingCharacters(in: .whitespaces)
        label = String(query[Range(m.range(at: 2), in: query)!])
    }
}
