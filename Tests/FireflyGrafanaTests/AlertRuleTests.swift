@testable import FireflyGrafana
import FireflyCore
import FireflyModel
import FireflyPluginKit
import FireflyTestSupport
import Foundation
import PostgresExporter
import Testing

/// The generated alert rules: their file in Grafana's alerting provisioning format, and their
/// queries run on real PostgreSQL and Prometheus — each fires for the unhealthy function and not
/// for the healthy one.
@Suite struct AlertRuleTests {
    static let config = """
        exporters:
          postgres: {plugin: postgres, url: "postgres://firefly@127.0.0.1:5432/firefly", schema: alerts}
          remote_write: {plugin: remote-write, url: "http://127.0.0.1:9090/api/v1/write"}
        receivers:
          otlp: {plugin: otlp}
        pipelines:
          traces: {receivers: [otlp], exporters: [postgres]}
          metrics: {receivers: [otlp], exporters: [postgres, remote_write]}
        """

    /// The states Grafana's rule model accepts (`NoDataState`, `ExecutionErrorState` in
    /// pkg/services/ngalert/models/alert_rule.go) and the shape its file provisioning reads
    /// (pkg/services/provisioning/alerting/rules_types.go: groups of rules with uid, title,
    /// condition, data queries with refId / datasourceUid / model, for, annotations, labels).
    @Test func theRulesFileIsInGrafanasProvisioningFormatAndLinksEachRuleToItsPanel() throws {
        let generator = try Configs.generator(Self.config)
        let file = try #require(generator.files.first { $0.path == "provisioning/alerting/firefly.json" })
        let root = try #require(try JSONSerialization.jsonObject(with: Data(file.contents.utf8)) as? [String: Any])
        #expect(root["apiVersion"] as? Int == 1)
        let groups = try #require(root["groups"] as? [[String: Any]])
        #expect(groups.count == 1)
        let group = groups[0]
        #expect(group["orgId"] as? Int == 1 && group["folder"] as? String == "Firefly" && group["interval"] as? String == "1m")
        let rules = try #require(group["rules"] as? [[String: Any]])
        #expect(rules.count == AlertRules.lambda(AlertsConfig()).count + AlertRules.collector.count)
        let dashboards = Dictionary(uniqueKeysWithValues: try Configs.dashboards(generator).map { ($0.uid, $0.json) })
        let duration = try Regex("^[0-9]+[smhd]$")
        var uids: Set<String> = []
        for rule in rules {
            let uid = try #require(rule["uid"] as? String)
            #expect(uids.insert(uid).inserted, "uid \(uid) twice")
            #expect(uid.count <= 40 && uid.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            #expect(!(rule["title"] as? String ?? "").isEmpty)
            #expect(["NoData", "Alerting", "OK", "KeepLast"].contains(rule["noDataState"] as? String ?? ""))
            #expect(["Error", "Alerting", "OK", "KeepLast"].contains(rule["execErrState"] as? String ?? ""))
            #expect((rule["for"] as? String).map { $0.wholeMatch(of: duration) != nil } == true)
            let data = try #require(rule["data"] as? [[String: Any]])
            let refIds = data.compactMap { $0["refId"] as? String }
            #expect(refIds == ["A", "B", "C"] && rule["condition"] as? String == "C", "\(uid)")
            for query in data {
                let source = try #require(query["datasourceUid"] as? String)
                #expect(["firefly-postgres", "firefly-prometheus", "__expr__"].contains(source), "\(uid): \(source)")
                let model = try #require(query["model"] as? [String: Any])
                #expect(model["refId"] as? String == query["refId"] as? String)
                #expect((query["relativeTimeRange"] as? [String: Int]) != nil)
            }
            let annotations = try #require(rule["annotations"] as? [String: String])
            #expect(!(annotations["summary"] ?? "").isEmpty)
            if let dashboard = annotations["__dashboardUid__"] {
                let panelID = try #require(annotations["__panelId__"].flatMap { Int($0) })
                let panels = DashboardStructureTests.panels(try #require(dashboards[dashboard]))
                #expect(panels.contains { $0["id"] as? Int == panelID }, "\(uid): panel \(panelID) of \(dashboard)")
            }
        }
        // Every rule with a panel names one that exists.
        #expect(rules.filter { ($0["annotations"] as? [String: String])?["__panelId__"] != nil }.count
            == AlertRules.lambda(AlertsConfig()).filter { $0.panel != nil }.count)
    }

    /// Ten minutes of a healthy and an unhealthy function (and a busy account), as the exporter
    /// writes them.
    static func seed(now: Date) -> TelemetryBatch {
        let minute = UInt64(now.timeIntervalSince1970 / 60) * 60
        var points: [MetricPoint] = []
        var invocations: [Invocation] = []
        for m in 1...8 {
            let t = (minute - UInt64(m) * 60) * 1_000_000_000
            for (fn, sick) in [("sick", true), ("well", false)] {
                points.append(Seed.lambda("Invocations", function: fn, at: t, count: 100, sum: 100, min: 1, max: 1))
                points.append(Seed.lambda("Errors", function: fn, at: t, count: 100, sum: sick ? 20 : 1, min: 0, max: 1))
                points.append(Seed.lambda("Throttles", function: fn, at: t, count: 5, sum: sick ? 5 : 0, min: 0, max: sick ? 1 : 0))
                points.append(Seed.lambda(
                    "IteratorAge", function: fn, at: t, count: 10, sum: 1000, min: 10, max: sick ? 120_000 : 800, unit: "Milliseconds"))
                points.append(Seed.lambda("AsyncEventsDropped", function: fn, at: t, count: 10, sum: sick ? 2 : 0, min: 0, max: 1))
                points.append(Seed.lambda("DeadLetterErrors", function: fn, at: t, count: 10, sum: sick ? 1 : 0, min: 0, max: 1))
                for n in 0..<3 {
                    let cold = sick ? n < 2 : (m == 1 && n == 0)
                    let status: InvocationStatus = sick && n == 2 ? .timeout : .success
                    invocations.append(Invocation(
                        function: fn, requestID: "\(fn)-\(m)-\(n)", startTimeUnixNano: t + UInt64(n) * 1_000_000_000, durationMs: 100,
                        billedDurationMs: 101, memorySizeMB: 128, maxMemoryUsedMB: 64, initDurationMs: cold ? 300 : nil, status: status))
                }
            }
            points.append(Seed.lambda("ConcurrentExecutions", function: "", at: t, count: 1, sum: 900, min: 900, max: 900))
        }
        return TelemetryBatch(points: points, invocations: invocations)
    }

    @Test(.enabled(if: SQLPanelTests.url != nil, "FIREFLY_TEST_POSTGRES_URL is unset (make test sets it)"))
    func eachRuleFiresForTheUnhealthyFunctionAndNotTheHealthyOne() async throws {
        let url = try #require(SQLPanelTests.url)
        let runner = PostgresQueryRunner(url: url)
        let now = Date()
        let schema = try await runner.exportToNewSchema("alerts_test_", Self.seed(now: now))
        defer { try? runner.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE") }

        let generator = try Configs.generator(Self.config.replacingOccurrences(of: "schema: alerts", with: "schema: \(schema)"))
        let builder = DashboardBuilder(backend: generator.backend, schema: schema)
        let sqlRules = generator.alertRules.filter { if case .sql = $0.query { true } else { false } }
        #expect(sqlRules.count == AlertRules.lambda(AlertsConfig()).count)
        for rule in sqlRules {
            guard case .sql(let sql) = rule.query else { continue }
            // What Grafana runs: the rule's window ending now.
            let expander = SQLMacroExpander(
                from: now.addingTimeInterval(-Double(rule.lookbackSeconds)), to: now, intervalSeconds: 60, variables: [:])
            let result = try await runner.query(try expander.expand(builder.sql(sql)))
            #expect(result.columns.count == 2 && result.columns[1].name == "value", "\(rule.uid): \(result.columns)")
            let firing = result.rows.filter { (Double($0[1]) ?? -.infinity) > rule.above }.map { $0[0] }
            let expected = rule.uid == "firefly-account-concurrency" ? ["account"] : ["sick"]
            #expect(firing == expected, "\(rule.uid): \(result.rows)")
            if rule.uid != "firefly-account-concurrency" {
                #expect(result.rows.contains { $0[0] == "well" }, "\(rule.uid) does not see the healthy function: \(result.rows)")
            }
        }

        // Thresholds from `alerts:`: a looser error rate for every function, and for `sick` one above
        // its 20 %: no error-rate rule fires; `well` may have 60 % cold starts, `sick` still fires.
        let tuned = try Configs.generator(
            Self.config.replacingOccurrences(of: "schema: alerts", with: "schema: \(schema)") + """

                alerts:
                  error_rate: 0.1
                  functions:
                    sick: {error_rate: 0.5}
                    well: {cold_start_rate: 0.6}
                """)
        #expect(tuned.alertRules.map(\.uid).filter { $0.hasPrefix("firefly-error-rate") || $0.hasPrefix("firefly-cold") } == [
            "firefly-error-rate", "firefly-error-rate-sick", "firefly-cold-start-rate", "firefly-cold-start-rate-well",
        ])
        for rule in tuned.alertRules where rule.uid.hasPrefix("firefly-error-rate") || rule.uid.hasPrefix("firefly-cold") {
            guard case .sql(let sql) = rule.query else { continue }
            let expander = SQLMacroExpander(
                from: now.addingTimeInterval(-Double(rule.lookbackSeconds)), to: now, intervalSeconds: 60, variables: [:])
            let result = try await runner.query(try expander.expand(builder.sql(sql)))
            let firing = result.rows.filter { (Double($0[1]) ?? -.infinity) > rule.above }.map { $0[0] }
            #expect(firing == (rule.uid == "firefly-cold-start-rate" ? ["sick"] : []), "\(rule.uid) (\(rule.above)): \(result.rows)")
        }

        // The collector's rules are valid PromQL and quiet on a Prometheus without trouble.
        let prometheus = try PrometheusServer()
        try await prometheus.start()
        defer { prometheus.stop() }
        for rule in generator.alertRules {
            guard case .promQL(let expr) = rule.query else { continue }
            let samples = try await prometheus.query(expr, at: now.timeIntervalSince1970)
            #expect(samples.allSatisfy { (Double($0.value) ?? 0) <= rule.above }, "\(rule.uid): \(samples)")
        }
    }
}
