// SQL fragments over the postgres exporter's schema: the only file that knows its table and column names.

/// Subqueries that give the dashboards one stable shape whatever the storage layout:
///
/// * `lambdaPoints` — CloudWatch `AWS/Lambda` points at function level (series with a `Resource`
///   dimension — aliases, versions — are left out so every invocation counts once), columns
///   `time, function, metric, sum, count, max, p50, p95, p99`.
/// * `insightsPoints` — `LambdaInsights` points at function level, same columns.
/// * `spans` — spans, columns `trace_id, span_id, parent_span_id, name, kind, status, start_time,
///   end_time, duration_ms, function, service, cold_start, attributes, resource`.
///
/// Metric Stream values are one-minute deltas: dashboards `sum` them per time bucket.
enum LambdaSQL {
    enum Scope {
        case all
        case selected
    }

    static func functionFilter(_ scope: Scope, column: String) -> String {
        scope == .all ? "" : " AND \(column) = '$function'"
    }

    static func quoted(_ names: [String]) -> String {
        names.map { "'\($0)'" }.joined(separator: ", ")
    }

    /// `(SELECT …) AS p` over the dashboard range.
    static func lambdaPoints(_ metrics: [String], _ scope: Scope) -> String {
        points(namespace: "AWS/Lambda", dimension: "Resource", metrics, scope)
    }

    static func insightsPoints(_ metrics: [String], _ scope: Scope) -> String {
        points(namespace: "LambdaInsights", dimension: "version", metrics, scope)
    }

    private static func points(namespace: String, dimension: String, _ metrics: [String], _ scope: Scope) -> String {
        """
        (SELECT pt.time, s.function, s.name AS metric, pt.sum, pt.count, pt.max,
                (pt.quantiles->>'0.5')::float8 AS p50, (pt.quantiles->>'0.95')::float8 AS p95,
                (pt.quantiles->>'0.99')::float8 AS p99
           FROM firefly_metric_points pt JOIN firefly_metric_series s ON s.id = pt.series_id
          WHERE $__timeFilter(pt.time) AND s.namespace = '\(namespace)' AND s.name IN (\(quoted(metrics)))
            AND NOT s.labels ? '\(dimension)'\(functionFilter(scope, column: "s.function"))) AS p
        """
    }

    /// `(SELECT …) AS sp` — spans that started in the dashboard range.
    static func spans(_ scope: Scope) -> String {
        """
        (SELECT trace_id, span_id, parent_span_id, name, kind, status_code AS status, start_time, end_time,
                extract(epoch FROM end_time - start_time) * 1000 AS duration_ms, function, service,
                COALESCE((attributes->>'faas.coldstart')::boolean, false) AS cold_start, attributes, resource
           FROM firefly_spans
          WHERE $__timeFilter(start_time)\(functionFilter(scope, column: "function"))) AS sp
        """
    }
}
