// SQL fragments over the postgres exporter's schema (plugins/postgres): the one file that knows its tables.

/// Subqueries that give the dashboards one stable shape over the exporter's tables
/// (`<schema>.metrics` — the view joining `series` and `points` — and `<schema>.spans`):
///
/// * `lambdaPoints` — CloudWatch `AWS/Lambda` summary points at function level. Series with a
///   `Resource` dimension (an alias or version) are left out so every invocation counts once, and
///   so are the account-level series (no `FunctionName`: their function is `''`).
///   Columns `time, function, account, region, metric, sum, count, min, max, p50, p95, p99`.
/// * `accountPoints` — the account-level `AWS/Lambda` series (no dimension at all: the account's
///   Invocations, Errors, Throttles, ConcurrentExecutions, UnreservedConcurrentExecutions…).
///   Same columns, `function` always `''`.
/// * `insightsPoints` — `LambdaInsights` points at function level (no `version` dimension); the
///   function comes from the `function_name` dimension. Same columns.
/// * `spans` — spans that started in the dashboard range, all columns of `<schema>.spans`.
/// * `invocations` — invocations (Lambda's `REPORT` lines / `platform.report` records) that
///   started in the dashboard range, all columns of `<schema>.invocations`.
/// * `logs` — log records of the dashboard range with their level word (`level`), all columns of
///   `<schema>.logs`.
///
/// Metric Stream values are one-minute deltas: dashboards `sum` them per time bucket.
/// Table names carry `schemaToken`, which the dashboard builder replaces with the exporter's
/// configured `schema` (default `firefly`).
enum LambdaSQL {
    static let schemaToken = "⟨schema⟩"

    static func table(_ name: String) -> String { "\(schemaToken).\(name)" }

    enum Scope {
        case all
        case selected
    }

    static func quoted(_ names: [String]) -> String {
        names.map { "'\($0)'" }.joined(separator: ", ")
    }

    static func quantile(_ q: String) -> String {
        "m.quantile_values[array_position(m.quantiles, \(q)::float8)]"
    }

    /// The SQL value of the `account` and `region` variables' "All".
    static let allScopes = "'__all'"

    /// The values of a scope variable (`cloud.account.id`, `cloud.region`): from the series table,
    /// which has a row per series, not per point.
    static func scopeValues(_ key: String) -> String {
        "SELECT DISTINCT s.labels->>'\(key)' FROM \(table("series")) s WHERE s.labels ? '\(key)' ORDER BY 1"
    }

    /// Rows whose attributes (`json`, a jsonb object) are in the selected accounts and regions; rows
    /// that do not say their account or region are in every one.
    static func inScope(_ json: String) -> String {
        [("cloud.account.id", "account"), ("cloud.region", "region")].map { key, variable in
            "(\(allScopes) IN ($\(variable)) OR \(json)->>'\(key)' IS NULL OR \(json)->>'\(key)' IN ($\(variable)))"
        }.joined(separator: " AND ")
    }

    /// `(SELECT …) AS p` over the dashboard range.
    static func lambdaPoints(_ metrics: [String], _ scope: Scope) -> String {
        let function = "m.function"
        return points(
            namespace: "AWS/Lambda", function: function, excluding: "Resource", metrics,
            level: functionLevel(function, scope))
    }

    /// Every function's series (never the account's) or the selected function's.
    private static func functionLevel(_ function: String, _ scope: Scope) -> String {
        scope == .all ? "\(function) <> ''" : "\(function) = '$function'"
    }

    /// `(SELECT …) AS p` over the dashboard range: the account-level series.
    static func accountPoints(_ metrics: [String]) -> String {
        points(namespace: "AWS/Lambda", function: "m.function", excluding: "Resource", metrics, level: "m.function = ''")
    }

    static func insightsPoints(_ metrics: [String], _ scope: Scope) -> String {
        let function = "COALESCE(NULLIF(m.function, ''), m.labels->>'function_name')"
        return points(
            namespace: "LambdaInsights", function: function, excluding: "version", metrics,
            level: functionLevel(function, scope))
    }

    /// `level` is the condition on the function that picks the series: one function, every
    /// function (never the account's), or the account's.
    private static func points(
        namespace: String, function: String, excluding dimension: String, _ metrics: [String], level: String
    ) -> String {
        """
            (SELECT m.time, \(function) AS function, m.labels->>'cloud.account.id' AS account, m.labels->>'cloud.region' AS region,
                    m.name AS metric, m.sum, m.count, m.min, m.max,
                    \(quantile("0.5")) AS p50, \(quantile("0.95")) AS p95, \(quantile("0.99")) AS p99
               FROM \(table("metrics")) m
              WHERE $__timeFilter(m.time) AND m.namespace = '\(namespace)' AND m.name IN (\(quoted(metrics)))
                AND NOT m.labels ? '\(dimension)' AND \(level) AND \(inScope("m.labels"))) AS p
            """
    }

    /// A function's identity in series: the same name in another account or region is another
    /// function. Per-function time series select `time, account, region, function` and their values
    /// (`inner`, ordered or not); this names each series and labels it with the names the PromQL
    /// series carry (`LambdaPromQL.identityLabels`), so a panel's links and display name work on
    /// either backend. The name is the function's, with its region and account when another series
    /// in the result has the same function name.
    static func identitySeries(_ inner: String, values: [String]) -> String {
        """
        SELECT s.time,
               CASE WHEN count(*) OVER (PARTITION BY s.function) > count(*) OVER (PARTITION BY s.function, s.account, s.region)
                    THEN s.function || ' · ' || s.region || ' · ' || s.account ELSE s.function END AS "\(LambdaPromQL.seriesLabel)",
               s.function AS "\(LambdaPromQL.functionLabel)", s.account AS "\(LambdaPromQL.accountLabel)", s.region AS "\(LambdaPromQL.regionLabel)",
               \(values.map { "s.\"\($0)\"" }.joined(separator: ", "))
          FROM (\(inner)) s
         ORDER BY 1
        """
    }

    /// `(SELECT …) AS i` — invocations that started in the dashboard range.
    static func invocations(_ scope: Scope) -> String {
        let filter = scope == .all ? "" : " AND v.function = '$function'"
        return "(SELECT v.* FROM \(table("invocations")) v WHERE $__timeFilter(v.start_time) AND v.function <> ''\(filter) AND \(inScope("v.attributes"))) AS i"
    }

    /// OpenTelemetry's severity ranges as the words the `level` variable offers (Grafana's logs panel
    /// colours a `level` field by them); records without a severity number keep their text.
    static let levelWord = """
        CASE WHEN x.severity_number BETWEEN 1 AND 4 THEN 'trace' WHEN x.severity_number BETWEEN 5 AND 8 THEN 'debug'
             WHEN x.severity_number BETWEEN 9 AND 12 THEN 'info' WHEN x.severity_number BETWEEN 13 AND 16 THEN 'warn'
             WHEN x.severity_number BETWEEN 17 AND 20 THEN 'error' WHEN x.severity_number >= 21 THEN 'fatal'
             ELSE lower(NULLIF(x.severity_text, '')) END
        """

    /// `(SELECT …) AS l` — the selected function's log records in the dashboard range, narrowed by
    /// the `level`, `search`, `requestId` and `traceId` variables (an empty one narrows nothing).
    static var logs: String {
        """
        (SELECT x.*, \(levelWord) AS level
           FROM \(table("logs")) x
          WHERE $__timeFilter(x.time) AND x.function = '$function' AND \(inScope("x.resource_attributes"))
            AND COALESCE(\(levelWord), 'unknown') IN ($level)
            AND ('$search' = '' OR x.body ILIKE '%' || '$search' || '%')
            AND ('$requestId' = '' OR x.request_id = '$requestId')
            AND ('$traceId' = '' OR x.trace_id = \(typedTraceID))) AS l
        """
    }

    /// How far before or after the dashboard range the spans of a trace that took part in it are
    /// looked for: queries that follow traces read the range and this margin, never all spans.
    static let traceMargin = "1 hour"

    /// `column` (a `start_time`) within the dashboard range widened by `traceMargin`.
    static func nearRange(_ column: String) -> String {
        "\(column) BETWEEN $__timeFrom()::timestamptz - interval '\(traceMargin)' AND $__timeTo()::timestamptz + interval '\(traceMargin)'"
    }

    /// The trace id typed into the `traceId` variable, in the spans' form: 32 lower-case hex
    /// digits, also when it was typed as an X-Ray trace id (`1-5759e988-bd862e3fe1be46a994272793`).
    static let typedTraceID = """
        (CASE WHEN '$traceId' ~ '^1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24}$'
              THEN lower(substr('$traceId', 3, 8) || substr('$traceId', 12)) ELSE lower('$traceId') END)
        """

    /// `(SELECT …) AS sp` — spans that started in the dashboard range.
    static func spans(_ scope: Scope) -> String {
        let filter = scope == .all ? "" : " AND s.function = '$function'"
        return "(SELECT s.* FROM \(table("spans")) s WHERE $__timeFilter(s.start_time)\(filter) AND \(inScope("s.resource_attributes"))) AS sp"
    }
}
