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
                // The same link in the rule's own fields (AlertRuleV1's dashboardUid and panelId).
                #expect(rule["dashboardUid"] as? String == dashboard && rule["panelId"] as? Int == panelID, "\(uid)")
            } else {
                #expect(rule["dashboardUid"] == nil && rule["panelId"] == nil && annotations["__panelId__"] == nil, "\(uid)")
            }
            // Without alerts.contact_point, Grafana's notification policies route the rules.
            #expect(rule["notification_settings"] == nil, "\(uid)")
        }
        #expect(root["contactPoints"] == nil)
        // Every rule with a panel names one that exists.
        #expect(rules.filter { ($0["annotations"] as? [String: String])?["__panelId__"] != nil }.count
            == AlertRules.lambda(AlertsConfig()).filter { $0.panel != nil }.count)
    }

    /// With `alerts.contact_point`, the file provisions contact point `Firefly` (Grafana's
    /// ContactPointV1 / ReceiverV1 in pkg/services/provisioning/alerting/contact_point_types.go: a
    /// name, receivers with uid, type and non-empty settings) and every rule routes to it
    /// (NotificationSettingsV1: a non-empty receiver); the timeouts of `alerts:` give one
    /// near-timeout rule per distinct timeout, linked to the Function dashboard's Duration panel.
    @Test func aContactPointAndTimeoutsAddTheirProvisioningAndRules() throws {
        let generator = try Configs.generator(Self.config + """

            alerts:
              timeout: 30s
              functions:
                report: {timeout: 15m}
                export: {timeout: 15m}
                api: {timeout: 30s}
                ingest: {timeout: 2500ms}
              contact_point:
                type: webhook
                settings:
                  url: $FIREFLY_ALERT_WEBHOOK
                  httpMethod: POST
                  maxAlerts: 10
                  headers: {X-Team: lambda}
            """)
        let file = try #require(generator.files.first { $0.path == "provisioning/alerting/firefly.json" })
        let root = try #require(try JSONSerialization.jsonObject(with: Data(file.contents.utf8)) as? [String: Any])
        let contactPoints = try #require(root["contactPoints"] as? [[String: Any]])
        #expect(contactPoints.count == 1)
        #expect(contactPoints[0]["orgId"] as? Int == 1 && contactPoints[0]["name"] as? String == "Firefly")
        let receivers = try #require(contactPoints[0]["receivers"] as? [[String: Any]])
        #expect(receivers.count == 1 && receivers[0]["uid"] as? String == "firefly" && receivers[0]["type"] as? String == "webhook")
        let settings = try #require(receivers[0]["settings"] as? [String: Any])
        #expect(settings["url"] as? String == "$FIREFLY_ALERT_WEBHOOK" && settings["httpMethod"] as? String == "POST")
        #expect(settings["maxAlerts"] as? Int == 10 && (settings["headers"] as? [String: String]) == ["X-Team": "lambda"])
        // The settings in the order firefly.yaml has them, so the file diffs cleanly.
        #expect(file.contents.range(of: #""url": "\$FIREFLY_ALERT_WEBHOOK",\s+"httpMethod""#, options: .regularExpression) != nil)

        let rules = try #require((root["groups"] as? [[String: Any]])?.first?["rules"] as? [[String: Any]])
        #expect(rules.count == generator.alertRules.count)
        for rule in rules {
            let routing = try #require(rule["notification_settings"] as? [String: Any], "\(rule["uid"] ?? "")")
            #expect(routing.count == 1 && routing["receiver"] as? String == contactPoints[0]["name"] as? String)
        }

        // 30 s for every function but report and export (15 min, one rule) and ingest (2.5 s); api's
        // 30 s is the general one's.
        let nearTimeout = rules.filter { ($0["uid"] as? String ?? "").hasPrefix("firefly-duration-near-timeout") }
        #expect(nearTimeout.map { $0["uid"] as? String } == [
            "firefly-duration-near-timeout", "firefly-duration-near-timeout-2500ms", "firefly-duration-near-timeout-900000ms",
        ])
        #expect(nearTimeout.map { $0["title"] as? String } == [
            "Lambda p99 duration above 90 % of its 30 s timeout", "Lambda p99 duration above 90 % of its 2500 ms timeout",
            "Lambda p99 duration above 90 % of its 900 s timeout",
        ])
        let specs = generator.alertRules.filter { $0.uid.hasPrefix("firefly-duration-near-timeout") }
        #expect(specs.map(\.above) == [27_000, 2_250, 810_000])
        let sql = specs.map { spec -> String in
            guard case .sql(let sql) = spec.query else { return "" }
            return sql
        }
        #expect(sql[0].contains("p.function NOT IN ('export', 'ingest', 'report')"))
        #expect(sql[1].contains("p.function IN ('ingest')") && sql[2].contains("p.function IN ('export', 'report')"))
        let dashboards = Dictionary(uniqueKeysWithValues: try Configs.dashboards(generator).map { ($0.uid, $0.json) })
        let function = try #require(dashboards["firefly-function"])
        let duration = try #require(DashboardStructureTests.panels(function).first { $0["title"] as? String == "Duration" })
        for rule in nearTimeout {
            #expect(rule["dashboardUid"] as? String == "firefly-function" && rule["panelId"] as? Int == duration["id"] as? Int)
        }

        // No timeout configured, no rule.
        #expect(try Configs.generator(Self.config).alertRules.allSatisfy { !$0.uid.hasPrefix("firefly-duration-near-timeout") })
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
                // p99 2.8 s for `sick` in its worst minute (2.4 s in the others), 0.5 s for `well`.
                let p99: Double = sick ? (m == 3 ? 2800 : 2400) : 500
                points.append(Seed.lambda(
                    "Duration", function: fn, at: t, count: 100, sum: 100 * 300, min: 50, max: p99 + 100,
                    quantiles: [Quantile(0.5, 300), Quantile(0.99, p99)], unit: "Milliseconds"))
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

        // p99 near the timeout: `sick`'s worst minute (2.8 s) passes 90 % of 3 s but not 90 % of 5 s
        // (its own timeout below); `well` (0.5 s) passes neither.
        let cases: [(alerts: String, firing: [String: [String]])] = [
            ("{timeout: 3s}", ["firefly-duration-near-timeout": ["sick"]]),
            ("{timeout: 3s, functions: {sick: {timeout: 5s}}}", ["firefly-duration-near-timeout": [], "firefly-duration-near-timeout-5000ms": []]),
            ("{functions: {sick: {timeout: 3s}, well: {timeout: 1s}}}",
             ["firefly-duration-near-timeout-1000ms": [], "firefly-duration-near-timeout-3000ms": ["sick"]]),
            ("{timeout: 3s, duration_near_timeout: 0.95}", ["firefly-duration-near-timeout": []]),
        ]
        for (alerts, firing) in cases {
            let timed = try Configs.generator(
                Self.config.replacingOccurrences(of: "schema: alerts", with: "schema: \(schema)") + "\nalerts: \(alerts)\n")
            var fired: [String: [String]] = [:]
            for rule in timed.alertRules where rule.uid.hasPrefix("firefly-duration-near-timeout") {
                guard case .sql(let sql) = rule.query else { continue }
                let expander = SQLMacroExpander(
                    from: now.addingTimeInterval(-Double(rule.lookbackSeconds)), to: now, intervalSeconds: 60, variables: [:])
                let result = try await runner.query(try expander.expand(builder.sql(sql)))
                fired[rule.uid] = result.rows.filter { (Double($0[1]) ?? -.infinity) > rule.above }.map { $0[0] }
                let seen = Set(result.rows.map { $0[0] })
                #expect(!seen.isEmpty, "\(alerts) \(rule.uid) sees no function")
            }
            #expect(fired == firing, "\(alerts)")
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
