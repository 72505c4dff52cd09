// Grafana alert rules for the generated dashboards: the same data sources and semantics as their panels.
import FireflyCore
import FireflyWire

/// One Grafana-managed alert rule: a query whose rows are one value per series (a function, the
/// account, the collector), and a threshold each series' value is compared with.
public struct AlertRuleSpec: Sendable {
    public enum Query: Sendable {
        /// PostgreSQL, table format: a text column (the series' label) and a numeric `value`.
        case sql(String)
        /// PromQL, instant: one sample per series.
        case promQL(String)
    }

    public var uid: String
    public var title: String
    /// What it means and what to look at, for the notification.
    public var summary: String
    public var query: Query
    /// The rule fires for every series whose value is above this.
    public var above: Double
    /// How long the condition must hold before the rule fires.
    public var pending: String = "5m"
    /// How far back the query looks, in seconds.
    public var lookbackSeconds: Int = 600
    public var severity: String = "warning"
    /// The panel the rule watches: dashboard uid and panel title.
    public var panel: (dashboard: String, title: String)?
}

/// The rules Firefly provisions. SQL rules look at the last ten minutes of what the exporters wrote,
/// per function; the collector's own health comes from Prometheus scraping its /metrics.
public enum AlertRules {
    public static let folder = "Firefly"
    public static let group = "firefly"

    /// Only functions with at least this many invocations in the window are judged on a ratio.
    static let minimumInvocations = 10

    /// A rule's SQL over every account and region: alert rules have no dashboard variables, and a
    /// rule's series carry the function (account and region are for the dashboards to narrow).
    static func everywhere(_ sql: String) -> AlertRuleSpec.Query {
        .sql(["$account", "$region"].reduce(sql) { $0.replacing($1, with: LambdaSQL.allScopes) })
    }

    /// A share as the rule titles write it: `0.05` → `5 %`.
    static func percent(_ share: Double) -> String {
        let p = share * 100
        return (p == p.rounded() ? String(Int(p)) : String(p)) + " %"
    }

    /// The contact point `alerts.contact_point` provisions; every rule names it as its receiver.
    public static let contactPoint = "Firefly"

    /// A function name as an SQL string literal.
    static func quoted(_ name: String) -> String { "'" + name.replacing("'", with: "''") + "'" }

    /// A duration as rule titles write it: `3 s`, `2500 ms`.
    static func shown(_ d: Duration) -> String {
        let ms = milliseconds(d)
        return ms.truncatingRemainder(dividingBy: 1000) == 0 ? "\(Int(ms / 1000)) s" : "\(GrafanaJSON.number(ms)) ms"
    }

    static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }

    /// "Lambda p99 duration near its timeout": a function's worst one-minute p99 Duration in the
    /// window above `durationNearTimeout` × its timeout. Lambda's metrics do not carry the configured
    /// timeout, so it comes from `alerts.timeout` and `alerts.functions.<name>.timeout`: one rule for
    /// the functions without a timeout of their own (when `alerts.timeout` is set), and one for each
    /// other timeout, over the functions that have it. No timeout configured, no rule.
    static func durationNearTimeout(_ alerts: AlertsConfig) -> [AlertRuleSpec] {
        let uid = "firefly-duration-near-timeout"
        var groups: [(timeout: Duration, functions: [String])] = []
        for (name, t) in alerts.functions.sorted(by: { $0.key < $1.key }) {
            guard let timeout = t.timeout, timeout != alerts.timeout else { continue }
            if let i = groups.firstIndex(where: { $0.timeout == timeout }) { groups[i].functions.append(name) } else { groups.append((timeout, [name])) }
        }
        groups.sort { $0.timeout < $1.timeout }
        func rule(_ uid: String, _ timeout: Duration, where condition: String) -> AlertRuleSpec {
            let share = percent(alerts.durationNearTimeout)
            return AlertRuleSpec(
                uid: uid, title: "Lambda p99 duration above \(share) of its \(shown(timeout)) timeout",
                summary: "{{ $labels.function }}: its worst one-minute p99 duration in the last 10 minutes passed \(share) of its \(shown(timeout)) timeout (firefly.yaml, alerts): its slowest invocations are close to being cut off.",
                query: everywhere(
                    """
                    SELECT p.function AS function, max(p.p99) AS value
                      FROM \(LambdaSQL.lambdaPoints(["Duration"], .all))
                     WHERE \(condition)
                     GROUP BY p.function
                    HAVING count(p.p99) > 0
                    """),
                above: alerts.durationNearTimeout * milliseconds(timeout), panel: (FunctionDashboard.uid, "Duration"))
        }
        let own = groups.flatMap(\.functions).sorted()
        let general = alerts.timeout.map {
            rule(uid, $0, where: own.isEmpty ? "true" : "p.function NOT IN (\(own.map(quoted).joined(separator: ", ")))")
        }
        return (general.map { [$0] } ?? []) + groups.map { g in
            rule("\(uid)-\(Int(milliseconds(g.timeout)))ms", g.timeout, where: "p.function IN (\(g.functions.map(quoted).joined(separator: ", ")))")
        }
    }

    /// A rule whose threshold `alerts.functions` can change per function: one rule for every function
    /// without its own threshold, and one for each function with one. `sql` gets the condition that
    /// picks the rule's functions (on `column`).
    static func perFunctionThreshold(
        uid: String, title: (String) -> String, summary: (String) -> String, default threshold: Double,
        overrides: [(function: String, threshold: Double)], column: String, sql: (String) -> String,
        shown: (Double) -> String, severity: String = "warning", panel: (dashboard: String, title: String)?
    ) -> [AlertRuleSpec] {
        let others = overrides.isEmpty ? "true" : "\(column) NOT IN (\(overrides.map { quoted($0.function) }.joined(separator: ", ")))"
        return [
            AlertRuleSpec(
                uid: uid, title: title(shown(threshold)), summary: summary(shown(threshold)), query: everywhere(sql(others)),
                above: threshold, severity: severity, panel: panel)
        ] + overrides.map { o in
            AlertRuleSpec(
                uid: "\(uid)-\(AlertRules.uidPart(o.function))", title: title(shown(o.threshold)) + " (\(o.function))",
                summary: summary(shown(o.threshold)), query: everywhere(sql("\(column) = \(quoted(o.function))")),
                above: o.threshold, severity: severity, panel: panel)
        }
    }

    /// A function name as part of a rule uid (Grafana allows letters, digits, `-` and `_`).
    static func uidPart(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    /// Per-function rules over the postgres exporter's tables (a `function` column and a `value`),
    /// with the thresholds of `alerts`.
    static func lambda(_ alerts: AlertsConfig) -> [AlertRuleSpec] {
        func perFunction(_ metric: String, _ aggregate: String, where condition: String = "true") -> String {
            """
            SELECT p.function AS function, \(aggregate) AS value
              FROM \(LambdaSQL.lambdaPoints([metric], .all))
             WHERE \(condition)
             GROUP BY p.function
            """
        }
        func overrides(_ pick: (AlertsConfig.Thresholds) -> Double?) -> [(function: String, threshold: Double)] {
            alerts.functions.sorted { $0.key < $1.key }.compactMap { name, t in pick(t).map { (name, $0) } }
        }
        let seconds = { (d: Duration) in Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        let errorRate = perFunctionThreshold(
            uid: "firefly-error-rate", title: { "Lambda error rate above \($0)" },
            summary: { "{{ $labels.function }}: more than \($0) of its invocations failed in the last 10 minutes." },
            default: alerts.errorRate, overrides: overrides(\.errorRate), column: "p.function",
            sql: { condition in
                """
                SELECT p.function AS function,
                       sum(p.sum) FILTER (WHERE p.metric = 'Errors') / NULLIF(sum(p.sum) FILTER (WHERE p.metric = 'Invocations'), 0) AS value
                  FROM \(LambdaSQL.lambdaPoints(["Invocations", "Errors"], .all))
                 WHERE \(condition)
                 GROUP BY p.function
                HAVING sum(p.sum) FILTER (WHERE p.metric = 'Invocations') >= \(minimumInvocations)
                """
            }, shown: percent, severity: "critical", panel: (FunctionDashboard.uid, "Error rate"))
        let iteratorAge = perFunctionThreshold(
            uid: "firefly-iterator-age", title: { "Lambda iterator age above \($0)" },
            summary: { "{{ $labels.function }} is falling behind its stream: records wait over \($0) before it reads them." },
            default: seconds(alerts.iteratorAge) * 1000, overrides: overrides { $0.iteratorAge.map { seconds($0) * 1000 } },
            column: "p.function", sql: { perFunction("IteratorAge", "max(p.max)", where: $0) },
            shown: { "\(Int($0 / 1000)) s" }, panel: (FunctionDashboard.uid, "Iterator age"))
        let coldStarts = perFunctionThreshold(
            uid: "firefly-cold-start-rate", title: { "Lambda cold-start rate above \($0)" },
            summary: { "{{ $labels.function }}: more than \($0) of its invocations started cold." },
            default: alerts.coldStartRate, overrides: overrides(\.coldStartRate), column: "i.function",
            sql: {
                "SELECT i.function AS function, avg(CASE WHEN i.cold_start THEN 1.0 ELSE 0.0 END)::float8 AS value FROM \(LambdaSQL.invocations(.all)) WHERE \($0) GROUP BY i.function HAVING count(*) >= \(minimumInvocations)"
            }, shown: percent, panel: (FunctionDashboard.uid, "Cold start rate"))
        return errorRate + [
            AlertRuleSpec(
                uid: "firefly-throttles", title: "Lambda throttles",
                summary: "{{ $labels.function }} was throttled: requests were refused for lack of concurrency.",
                query: everywhere(perFunction("Throttles", "sum(p.sum)")), above: 0, panel: (FunctionDashboard.uid, "Throttles")),
            AlertRuleSpec(
                uid: "firefly-timeouts", title: "Lambda timeouts",
                summary: "{{ $labels.function }}: invocations ran out of time (their REPORT says Status: timeout).",
                query: everywhere("SELECT i.function AS function, count(*) FILTER (WHERE i.status = 'timeout')::float8 AS value FROM \(LambdaSQL.invocations(.all)) GROUP BY i.function"),
                above: 0, severity: "critical", panel: (FunctionDashboard.uid, "Timeouts")),
        ] + durationNearTimeout(alerts) + iteratorAge + [
            AlertRuleSpec(
                uid: "firefly-async-dropped", title: "Lambda asynchronous events dropped",
                summary: "{{ $labels.function }}: asynchronous events were dropped (expired or out of retries) without reaching the function.",
                query: everywhere(perFunction("AsyncEventsDropped", "sum(p.sum)")), above: 0, severity: "critical",
                panel: (FunctionDashboard.uid, "Async events dropped")),
            AlertRuleSpec(
                uid: "firefly-dead-letter-errors", title: "Lambda dead-letter errors",
                summary: "{{ $labels.function }} could not send failed events to its dead-letter queue: they are lost.",
                query: everywhere(perFunction("DeadLetterErrors", "sum(p.sum)")), above: 0, severity: "critical", panel: nil),
        ] + coldStarts + [
            AlertRuleSpec(
                uid: "firefly-account-concurrency", title: "Account concurrency above \(alerts.accountConcurrency)",
                summary: "The account's concurrent executions passed \(alerts.accountConcurrency) (alerts.account_concurrency; Lambda's default quota is 1,000): functions without reserved concurrency will soon be throttled.",
                query: everywhere("SELECT 'account' AS scope, max(p.max) AS value FROM \(LambdaSQL.accountPoints(["ConcurrentExecutions"])) HAVING count(*) > 0"),
                above: Double(alerts.accountConcurrency), severity: "critical", panel: (OverviewDashboard.uid, "Peak account concurrency")),
        ]
    }

    /// The collector's own health, from its /metrics as Prometheus scrapes them.
    static var collector: [AlertRuleSpec] {
        [
            AlertRuleSpec(
                uid: "firefly-collector-dead-letters", title: "Firefly wrote dead letters",
                summary: "An exporter rejected items permanently; they are in its dead-letter file (`firefly dead-letters` lists and replays them).",
                query: .promQL("sum by (exporter) (increase(firefly_dead_lettered_items_total[10m]))"), above: 0, pending: "0s",
                severity: "critical"),
            AlertRuleSpec(
                uid: "firefly-collector-queue-full", title: "Firefly queue over its budget",
                summary: "The collector refused data because its queue was over queue.max_bytes: senders were asked to retry; an exporter is behind or down.",
                query: .promQL("sum by (receiver) (increase(firefly_queue_rejected_batches_total[10m]))"), above: 0, pending: "0s",
                severity: "critical"),
        ]
    }

    /// The rules for the data sources a configuration provisions, with its thresholds.
    static func rules(_ datasources: GrafanaDatasources, _ alerts: AlertsConfig) -> [AlertRuleSpec] {
        (datasources.postgres != nil ? lambda(alerts) : []) + (datasources.prometheus != nil ? collector : [])
    }
}

extension GrafanaGenerator {
    /// The alert rules for this configuration's data sources.
    public var alertRules: [AlertRuleSpec] { AlertRules.rules(datasources, alerts) }

    /// `provisioning/alerting/firefly.json`: the rules as Grafana's alerting file provisioning reads
    /// them (JSON, which its YAML reader also accepts), in folder `Firefly`, evaluated every minute;
    /// each rule links to the panel it watches (`dashboardUid` / `panelId` and the `__dashboardUid__` /
    /// `__panelId__` annotations). With `alerts.contact_point`, the file also provisions contact
    /// point `Firefly` and every rule sends its notifications there (`notification_settings`).
    public var alertingJSON: GrafanaJSON { alertingJSON(dashboards: dashboardJSON()) }

    /// The rules file, with the panel ids read from `dashboards` (as `dashboardJSON()` built them).
    func alertingJSON(dashboards: [(spec: DashboardSpec, json: GrafanaJSON)]) -> GrafanaJSON {
        let builder = DashboardBuilder(
            backend: backend, schema: datasources.postgres?.schema ?? PostgresDatasource.defaultSchema, pricing: pricing)
        func panelID(_ dashboard: String, _ title: String) -> Int? {
            guard let json = dashboards.first(where: { $0.spec.uid == dashboard })?.json,
                case .array(let panels)? = json["panels"]
            else { return nil }
            for panel in panels {
                if panel["title"] == .string(title), case .int(let id)? = panel["id"] { return id }
            }
            return nil
        }
        func expression(_ refId: String, _ model: GrafanaJSON) -> GrafanaJSON {
            [
                "refId": .string(refId), "relativeTimeRange": ["from": 0, "to": 0], "datasourceUid": "__expr__",
                "model": model.setting("refId", .string(refId)).setting("datasource", ["type": "__expr__", "uid": "__expr__"]),
            ]
        }
        let rules: [GrafanaJSON] = alertRules.map { rule in
            let (uid, type, model): (String, String, GrafanaJSON) =
                switch rule.query {
                case .sql(let sql):
                    (PostgresDatasource.uid, PostgresDatasource.type,
                     ["format": "table", "rawQuery": true, "editorMode": "code", "rawSql": .string(builder.sql(sql))])
                case .promQL(let expr):
                    (PrometheusDatasource.uid, PrometheusDatasource.type, ["expr": .string(expr), "instant": true, "range": false])
                }
            var annotations: [(String, GrafanaJSON)] = [("summary", .string(rule.summary))]
            // The panel the rule watches, in the rule's fields (as Grafana exports them) and in the
            // annotations its notifications and the panel's alert list read.
            var link: [(String, GrafanaJSON)] = []
            if let panel = rule.panel, let id = panelID(panel.dashboard, panel.title) {
                annotations += [("__dashboardUid__", .string(panel.dashboard)), ("__panelId__", .string(String(id)))]
                link = [("dashboardUid", .string(panel.dashboard)), ("panelId", .int(id))]
            }
            let query: GrafanaJSON = [
                "refId": "A", "relativeTimeRange": ["from": .int(rule.lookbackSeconds), "to": 0], "datasourceUid": .string(uid),
                "model": model.setting("refId", "A").setting("datasource", ["type": .string(type), "uid": .string(uid)])
                    .setting("intervalMs", 60000).setting("maxDataPoints", 43200),
            ]
            let data: GrafanaJSON = [
                query,
                expression("B", ["type": "reduce", "expression": "A", "reducer": "last", "settings": ["mode": "dropNN"]]),
                expression(
                    "C", ["type": "threshold", "expression": "B", "conditions": [["evaluator": ["type": "gt", "params": [.double(rule.above)]]]]]),
            ]
            // With a contact point, Grafana's simplified routing sends the rule's notifications to it
            // directly; without one, its notification policies route them.
            var fields: [(String, GrafanaJSON)] = [("uid", .string(rule.uid)), ("title", .string(rule.title)), ("condition", "C"), ("data", data)]
            fields += link
            fields += [
                ("noDataState", "OK"), ("execErrState", "Error"), ("for", .string(rule.pending)), ("annotations", .object(annotations)),
                ("labels", ["severity": .string(rule.severity), "source": "firefly"]), ("isPaused", false),
            ]
            if alerts.contactPoint != nil { fields.append(("notification_settings", ["receiver": .string(AlertRules.contactPoint)])) }
            return .object(fields)
        }
        var file: GrafanaJSON = [
            "apiVersion": 1,
            "groups": [["orgId": 1, "name": .string(AlertRules.group), "folder": .string(AlertRules.folder), "interval": "1m", "rules": .array(rules)]],
        ]
        if let contactPoint = alerts.contactPoint {
            file = file.setting(
                "contactPoints",
                [["orgId": 1, "name": .string(AlertRules.contactPoint),
                  "receivers": [["uid": "firefly", "type": .string(contactPoint.type), "settings": GrafanaJSON(contactPoint.settings)]]]])
        }
        return file
    }
}

extension GrafanaJSON {
    /// A configuration subtree (a contact point's settings) as written to Grafana: numbers as
    /// integers where they are whole, members in the order the file had them.
    init(_ json: JSON) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .number(let text): self = Int(text).map { .int($0) } ?? Double(text).map { .double($0) } ?? .string(text)
        case .string(let s): self = .string(s)
        case .array(let items): self = .array(items.map(GrafanaJSON.init))
        case .object(let members): self = .object(members.map { ($0.key, GrafanaJSON($0.value)) })
        }
    }
}
