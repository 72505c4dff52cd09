// Firefly Function: one function's metrics, cold starts, async and stream health, traces and service map.

enum FunctionDashboard {
    static let uid = "firefly-function"

    static var spec: DashboardSpec {
        DashboardSpec(
            uid: uid, title: "Firefly Function",
            description: "One function: invocations, errors, duration, throttles, concurrency, cold starts, async and stream health, traces.",
            tags: ["firefly", "lambda"],
            variables: VariableSpec.scopes + [
                VariableSpec(
                    name: "function", label: "Function",
                    kind: .query(
                        sql: """
                            SELECT DISTINCT p.function FROM \(LambdaSQL.lambdaPoints(["Invocations"], .all))
                            UNION SELECT DISTINCT sp.function FROM \(LambdaSQL.spans(.all)) WHERE sp.function <> ''
                            ORDER BY 1
                            """,
                        prom: "label_values(\(LambdaPromQL.name("Invocations", .sum)), \(LambdaPromQL.functionLabel))")),
                VariableSpec(name: "traceId", label: "Trace ID", kind: .textbox, postgresOnly: true),
                VariableSpec(name: "requestId", label: "Request ID", kind: .textbox, postgresOnly: true),
                VariableSpec(name: "level", label: "Log level", kind: .multiSelect(logLevels), postgresOnly: true),
                VariableSpec(name: "search", label: "Log search", kind: .textbox, postgresOnly: true),
            ],
            linkedDashboards: [("Firefly Overview", OverviewDashboard.uid)],
            items: [.row("Summary")] + stats.map { .panel($0) } + [.row("Invocations")] + series.map { .panel($0) }
                + [.row("Async invocations and streams")] + asyncAndStreams.map { .panel($0.whenEmpty(noAsync)) }
                + [.row("Invocations (Lambda's REPORT lines)")]
                + (invocationStats + invocationSeries + [invocationTable]).map { .panel($0.whenEmpty(noReports)) }
                + [.row("Logs")] + [.panel(logPanel.whenEmpty(noLogs))]
                + [.row("Traces")] + traces.map { .panel($0) })
    }

    /// What empty panels say: why they are empty and what would fill them.
    static let noAsync = "No data: Lambda publishes these only for functions invoked asynchronously or reading a stream"
    static let noReports = "No REPORT lines: ship the function's CloudWatch Logs to Firefly (subscription filter → Firehose) or platform.report over OTLP"
    static let noLogs = "No log records for these filters: ship the function's CloudWatch Logs (subscription filter → Firehose) or OTLP logs to Firefly"

    /// The `level` variable's words (OpenTelemetry's severity ranges; `unknown` for records with none).
    static let logLevels = ["trace", "debug", "info", "warn", "error", "fatal", "unknown"]

    // MARK: - Summary

    /// A stat from one SQL value and one instant PromQL value over the dashboard range.
    static func stat(_ title: String, unit: String = "short", decimals: Int? = nil, description: String, sql: String, prom: String?)
        -> PanelSpec
    {
        PanelSpec(
            title, .stat, width: 3, height: 4, unit: unit, decimals: decimals, description: description,
            sql: [SQLTarget("A", .table, sql)], prom: prom.map { [PromTarget("A", $0, instant: true)] })
    }

    static func lambdaTotal(_ metric: String, column: String = "sum") -> String {
        "SELECT sum(p.\(column)) AS \"value\" FROM \(LambdaSQL.lambdaPoints([metric], .selected))"
    }

    static var stats: [PanelSpec] {
        let r = "$__range"
        return [
            stat(
                "Invocations", decimals: 0, description: "Invocations in the range.", sql: lambdaTotal("Invocations"),
                prom: LambdaPromQL.total("Invocations", .selected, window: r)),
            stat(
                "Errors", decimals: 0, description: "Function errors in the range.", sql: lambdaTotal("Errors"),
                prom: LambdaPromQL.total("Errors", .selected, window: r)),
            stat(
                "Error rate", unit: "percentunit", decimals: 2, description: "Errors / invocations in the range.",
                sql: """
                    SELECT sum(p.sum) FILTER (WHERE p.metric = 'Errors')
                             / NULLIF(sum(p.sum) FILTER (WHERE p.metric = 'Invocations'), 0) AS "value"
                      FROM \(LambdaSQL.lambdaPoints(["Invocations", "Errors"], .selected))
                    """,
                prom: LambdaPromQL.errorRate(.selected, window: r)
            ).with { $0.thresholds = .rising(warning: 0.01, critical: 0.05) },
            stat(
                "Throttles", decimals: 0, description: "Throttled requests in the range.", sql: lambdaTotal("Throttles"),
                prom: LambdaPromQL.total("Throttles", .selected, window: r)
            ).with { $0.thresholds = PanelSpec.anyIsBad },
            stat(
                "Avg duration", unit: "ms", decimals: 1, description: "Average invocation duration in the range.",
                sql: """
                    SELECT sum(p.sum) / NULLIF(sum(p.count), 0) AS "value"
                      FROM \(LambdaSQL.lambdaPoints(["Duration"], .selected))
                    """,
                prom: LambdaPromQL.average("Duration", .selected, window: r)),
            stat(
                "Worst-minute p99", unit: "ms", decimals: 1,
                description: "The highest of the one-minute p99 durations CloudWatch reported in the range: the worst minute's percentile, not the range's (which Lambda does not report; see p95 duration (exact) from the invocations when logs are shipped).",
                sql: "SELECT max(p.p99) AS \"value\" FROM \(LambdaSQL.lambdaPoints(["Duration"], .selected))",
                prom: LambdaPromQL.maximum("Duration", .percentile(0.99), .selected, window: r)
            ).with { $0.noValue = PanelSpec.noPercentiles },
            stat(
                "Max concurrency", decimals: 0, description: "Highest ConcurrentExecutions in the range.",
                sql: lambdaTotal("ConcurrentExecutions", column: "max").replacingPrefix("SELECT sum(", "SELECT max("),
                prom: LambdaPromQL.maximum("ConcurrentExecutions", .maximum, .selected, window: r)),
            stat(
                "Cold starts", decimals: 0,
                description: "Cold starts in the range: Lambda Insights init_duration samples, or spans with faas.coldstart = true, whichever is higher.",
                sql: """
                    SELECT GREATEST(
                             (SELECT COALESCE(sum(p.count), 0) FROM \(LambdaSQL.insightsPoints(["init_duration"], .selected))),
                             (SELECT count(*) FROM \(LambdaSQL.spans(.selected)) WHERE sp.cold_start)) AS "value"
                    """,
                prom: LambdaPromQL.insightsColdStarts(.selected, window: r)),
        ]
    }

    // MARK: - Time series

    static func timeseries(
        _ title: String, width: Int = 12, unit: String = "short", bars: Bool = false, description: String, sql: String,
        prom: [PromTarget]?
    ) -> PanelSpec {
        PanelSpec(
            title, .timeseries, width: width, height: 8, unit: unit, description: description,
            sql: [SQLTarget("A", .timeSeries, sql)], prom: prom
        ).with { $0.bars = bars }
    }

    static var series: [PanelSpec] {
        let i = "$__interval"
        return [
            timeseries(
                "Invocations and errors", bars: true, description: "Invocations and function errors per interval.",
                sql: """
                    SELECT $__timeGroupAlias(p.time, $__interval),
                           sum(p.sum) FILTER (WHERE p.metric = 'Invocations') AS "invocations",
                           sum(p.sum) FILTER (WHERE p.metric = 'Errors') AS "errors"
                      FROM \(LambdaSQL.lambdaPoints(["Invocations", "Errors"], .selected))
                     GROUP BY 1
                     ORDER BY 1
                    """,
                prom: [
                    PromTarget("A", LambdaPromQL.total("Invocations", .selected, window: i), legend: "invocations"),
                    PromTarget("B", LambdaPromQL.total("Errors", .selected, window: i), legend: "errors"),
                ]),
            timeseries(
                "Error rate", unit: "percentunit", description: "Errors / invocations per interval.",
                sql: """
                    SELECT $__timeGroupAlias(p.time, $__interval),
                           sum(p.sum) FILTER (WHERE p.metric = 'Errors')
                             / NULLIF(sum(p.sum) FILTER (WHERE p.metric = 'Invocations'), 0) AS "error rate"
                      FROM \(LambdaSQL.lambdaPoints(["Invocations", "Errors"], .selected))
                     GROUP BY 1
                     ORDER BY 1
                    """,
                prom: [PromTarget("A", LambdaPromQL.errorRate(.selected, window: i), legend: "error rate")]),
            timeseries(
                "Duration", unit: "ms",
                description: "Average, p50, p95, p99 and maximum invocation duration. Percentiles are CloudWatch's one-minute statistics: over a longer interval, the worst minute's.",
                sql: """
                    SELECT $__timeGroupAlias(p.time, $__interval),
                           sum(p.sum) / NULLIF(sum(p.count), 0) AS "avg",
                           max(p.p50) AS "p50", max(p.p95) AS "p95", max(p.p99) AS "p99", max(p.max) AS "max"
                      FROM \(LambdaSQL.lambdaPoints(["Duration"], .selected))
                     GROUP BY 1
                     ORDER BY 1
                    """,
                prom: [
                    PromTarget("A", LambdaPromQL.average("Duration", .selected, window: i), legend: "avg"),
                    PromTarget("B", LambdaPromQL.maximum("Duration", .percentile(0.5), .selected, window: i), legend: "p50"),
                    PromTarget("C", LambdaPromQL.maximum("Duration", .percentile(0.95), .selected, window: i), legend: "p95"),
                    PromTarget("D", LambdaPromQL.maximum("Duration", .percentile(0.99), .selected, window: i), legend: "p99"),
                    PromTarget("E", LambdaPromQL.maximum("Duration", .maximum, .selected, window: i), legend: "max"),
                ]),
            timeseries(
                "Throttles", bars: true, description: "Throttled requests per interval.",
                sql: """
                    SELECT $__timeGroupAlias(p.time, $__interval), sum(p.sum) AS "throttles"
                      FROM \(LambdaSQL.lambdaPoints(["Throttles"], .selected))
                     GROUP BY 1
                     ORDER BY 1
                    """,
                prom: [PromTarget("A", LambdaPromQL.total("Throttles", .selected, window: i), legend: "throttles")]),
            timeseries(
                "Concurrent executions", description: "Highest ConcurrentExecutions in each interval.",
                sql: """
                    SELECT $__timeGroupAlias(p.time, $__interval), max(p.max) AS "concurrent executions"
                      FROM \(LambdaSQL.lambdaPoints(["ConcurrentExecutions"], .selected))
                     GROUP BY 1
                     ORDER BY 1
                    """,
                prom: [
                    PromTarget(
                        "A", LambdaPromQL.maximum("ConcurrentExecutions", .maximum, .selected, window: i),
                        legend: "concurrent executions")
                ]),
            timeseries(
                "Cold starts", bars: true,
                description: "Cold starts per interval: spans with faas.coldstart = true, and Lambda Insights init_duration samples when Insights is enabled.",
                sql: """
                    SELECT "time", sum(spans) AS "cold starts (spans)", sum(insights) AS "cold starts (Lambda Insights)"
                      FROM (SELECT $__timeGroupAlias(sp.start_time, $__interval), count(*) AS spans, NULL::float8 AS insights
                              FROM \(LambdaSQL.spans(.selected)) WHERE sp.cold_start GROUP BY 1
                            UNION ALL
                            SELECT $__timeGroupAlias(p.time, $__interval), NULL, sum(p.count)
                              FROM \(LambdaSQL.insightsPoints(["init_duration"], .selected)) GROUP BY 1) AS c
                     GROUP BY 1
                     ORDER BY 1
                    """,
                prom: [
                    PromTarget(
                        "A", LambdaPromQL.insightsColdStarts(.selected, window: i), legend: "cold starts (Lambda Insights)")
                ]),
        ]
    }

    static var asyncAndStreams: [PanelSpec] {
        let i = "$__interval"
        return [
            timeseries(
                "Async event age", width: 8, unit: "ms",
                description: "Time from queueing an asynchronous event to invoking the function: average and maximum.",
                sql: """
                    SELECT $__timeGroupAlias(p.time, $__interval),
                           sum(p.sum) / NULLIF(sum(p.count), 0) AS "avg", max(p.max) AS "max"
                      FROM \(LambdaSQL.lambdaPoints(["AsyncEventAge"], .selected))
                     GROUP BY 1
                     ORDER BY 1
                    """,
                prom: [
                    PromTarget("A", LambdaPromQL.average("AsyncEventAge", .selected, window: i), legend: "avg"),
                    PromTarget("B", LambdaPromQL.maximum("AsyncEventAge", .maximum, .selected, window: i), legend: "max"),
                ]),
            timeseries(
                "Async events dropped", width: 8, bars: true,
                description: "Asynchronous events dropped without a successful invocation.",
                sql: """
                    SELECT $__timeGroupAlias(p.time, $__interval), sum(p.sum) AS "dropped"
                      FROM \(LambdaSQL.lambdaPoints(["AsyncEventsDropped"], .selected))
                     GROUP BY 1
                     ORDER BY 1
                    """,
                prom: [PromTarget("A", LambdaPromQL.total("AsyncEventsDropped", .selected, window: i), legend: "dropped")]),
            timeseries(
                "Iterator age", width: 8, unit: "ms",
                description: "Stream event sources (Kinesis, DynamoDB): age of the last record in each batch, average and maximum.",
                sql: """
                    SELECT $__timeGroupAlias(p.time, $__interval),
                           sum(p.sum) / NULLIF(sum(p.count), 0) AS "avg", max(p.max) AS "max"
                      FROM \(LambdaSQL.lambdaPoints(["IteratorAge"], .selected))
                     GROUP BY 1
                     ORDER BY 1
                    """,
                prom: [
                    PromTarget("A", LambdaPromQL.average("IteratorAge", .selected, window: i), legend: "avg"),
                    PromTarget("B", LambdaPromQL.maximum("IteratorAge", .maximum, .selected, window: i), legend: "max"),
                ]),
        ]
    }

    // MARK: - Invocations and logs (PostgreSQL: the logs pipeline's tables)

    static var invocationStats: [PanelSpec] {
        let from = "FROM \(LambdaSQL.invocations(.selected))"
        func sqlStat(_ title: String, unit: String = "short", decimals: Int? = nil, _ description: String, _ sql: String) -> PanelSpec {
            stat(title, unit: unit, decimals: decimals, description: description, sql: sql, prom: nil)
        }
        return [
            sqlStat("Reported invocations", decimals: 0, "Invocations whose REPORT line (or platform.report record) arrived through the logs pipeline.",
                    "SELECT count(*) AS \"value\" \(from)"),
            sqlStat("Cold start rate", unit: "percentunit", decimals: 1, "Share of reported invocations that ran an init phase (an Init Duration in their REPORT).",
                    "SELECT avg(CASE WHEN i.cold_start THEN 1.0 ELSE 0.0 END) AS \"value\" \(from)"
            ).with { $0.thresholds = .rising(warning: 0.05, critical: 0.2) },
            sqlStat("Avg init duration", unit: "ms", decimals: 1, "Average Init Duration of the cold starts in the range.",
                    "SELECT avg(i.init_duration_ms) AS \"value\" \(from) WHERE i.cold_start"),
            sqlStat("p95 duration (exact)", unit: "ms", decimals: 1, "The 95th percentile of every reported invocation's duration in the range — exact, unlike CloudWatch's per-minute p95.",
                    "SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY i.duration_ms) AS \"value\" \(from)"),
            sqlStat("Timeouts", decimals: 0, "Invocations that ran out of time (Status: timeout).",
                    "SELECT count(*) FILTER (WHERE i.status = 'timeout') AS \"value\" \(from)"
            ).with { $0.thresholds = PanelSpec.anyIsBad },
            sqlStat("Out of memory", decimals: 0, "Invocations killed for exceeding their memory (Runtime.OutOfMemory).",
                    "SELECT count(*) FILTER (WHERE i.status = 'out_of_memory') AS \"value\" \(from)"
            ).with { $0.thresholds = PanelSpec.anyIsBad },
            sqlStat("Peak memory used", unit: "percentunit", decimals: 1, "Highest Max Memory Used / Memory Size in the range: far below 100 % hints that less memory would do.",
                    "SELECT max(i.max_memory_used_mb::float8 / NULLIF(i.memory_size_mb, 0)) AS \"value\" \(from)"
            ).with { $0.thresholds = .rising(warning: 0.8, critical: 0.95) },
            sqlStat("Cost (billed)", unit: "currencyUSD", decimals: 4, "Billed duration (init included where Lambda bills it) × configured memory of the reported invocations. \(Pricing.assumptions)",
                    "SELECT \(Pricing.billedCostSQL) AS \"value\" \(from)"),
        ]
    }

    static var invocationSeries: [PanelSpec] {
        func group(_ columns: String, where condition: String = "") -> String {
            """
            SELECT $__timeGroupAlias(i.start_time, $__interval),
                   \(columns)
              FROM \(LambdaSQL.invocations(.selected))\(condition)
             GROUP BY 1
             ORDER BY 1
            """
        }
        return [
            timeseries(
                "Duration percentiles (exact)", unit: "ms",
                description: "p50, p95 and p99 of the reported invocations' durations in each interval, computed from every invocation.",
                sql: group("""
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY i.duration_ms) AS "p50",
                           percentile_cont(0.95) WITHIN GROUP (ORDER BY i.duration_ms) AS "p95",
                           percentile_cont(0.99) WITHIN GROUP (ORDER BY i.duration_ms) AS "p99"
                    """),
                prom: nil),
            timeseries(
                "Cold and warm duration", unit: "ms",
                description: "Average duration of cold and of warm invocations, and the cold starts' init duration.",
                sql: group("""
                    avg(i.duration_ms) FILTER (WHERE i.cold_start) AS "cold",
                           avg(i.duration_ms) FILTER (WHERE NOT i.cold_start) AS "warm",
                           avg(i.init_duration_ms) AS "init"
                    """),
                prom: nil),
            timeseries(
                "Memory used", unit: "decmbytes",
                description: "Highest Max Memory Used against the configured Memory Size: the right-sizing view.",
                sql: group("""
                    max(i.max_memory_used_mb) AS "max memory used",
                           max(i.memory_size_mb) AS "memory size"
                    """),
                prom: nil),
            timeseries(
                "Outcomes", bars: true,
                description: "Reported invocations by status: success, error, timeout, out of memory.",
                sql: group("""
                    count(*) FILTER (WHERE i.status = 'success') AS "success",
                           count(*) FILTER (WHERE i.status = 'error') AS "error",
                           count(*) FILTER (WHERE i.status = 'timeout') AS "timeout",
                           count(*) FILTER (WHERE i.status = 'out_of_memory') AS "out of memory"
                    """),
                prom: nil),
        ]
    }

    static var invocationTable: PanelSpec {
        let here = DashboardBuilder.path(uid: uid)
        let showLogs = DataLink(title: "Show its logs", url: "\(here)?var-function=${function}&${account:queryparam}&${region:queryparam}&var-requestId=${__value.raw}&${__url_time_range}")
        let showTrace = DataLink(title: "Show trace", url: "\(here)?var-function=${function}&${account:queryparam}&${region:queryparam}&var-traceId=${__value.raw}&${__url_time_range}")
        return PanelSpec(
            "Recent invocations", .table, width: 24, height: 10,
            description: "The latest reported invocations. Click a request id for its logs, a trace id for its trace.",
            sql: [
                SQLTarget(
                    "A", .table,
                    """
                    SELECT i.start_time AS "start", i.request_id AS "request id", i.duration_ms AS "duration",
                           i.billed_duration_ms AS "billed", i.max_memory_used_mb AS "memory used",
                           i.memory_size_mb AS "memory size", i.cold_start AS "cold start", i.init_duration_ms AS "init",
                           i.status AS "status", i.error_type AS "error type", i.trace_id AS "trace id"
                      FROM \(LambdaSQL.invocations(.selected))
                     ORDER BY i.start_time DESC
                     LIMIT 200
                    """)
            ], prom: nil
        ).with {
            $0.columns = [
                ColumnSpec("start", unit: "dateTimeAsIso"), ColumnSpec("request id", link: showLogs, width: 300),
                ColumnSpec("duration", unit: "ms", decimals: 2), ColumnSpec("billed", unit: "ms", decimals: 0),
                ColumnSpec("memory used", unit: "decmbytes"), ColumnSpec("memory size", unit: "decmbytes"),
                ColumnSpec("init", unit: "ms", decimals: 2), ColumnSpec("trace id", link: showTrace, width: 300),
            ]
        }
    }

    static var logPanel: PanelSpec {
        let showTrace = DataLink(
            title: "Show trace",
            url: "\(DashboardBuilder.path(uid: uid))?var-function=${function}&${account:queryparam}&${region:queryparam}&var-traceId=${__value.raw}&${__url_time_range}")
        return PanelSpec(
            "Logs", .logs, width: 24, height: 14,
            description: "The function's log records, newest first: narrowed by Log level and Log search, and to one invocation (Request ID) or one trace (Trace ID) when those are set. A record's trace id links to its trace.",
            sql: [
                SQLTarget(
                    "A", .table,
                    """
                    SELECT l.time AS "time", l.body AS "body", COALESCE(l.level, 'unknown') AS "level",
                           l.request_id AS "request_id", l.trace_id AS "trace_id", l.span_id AS "span_id"
                      FROM \(LambdaSQL.logs)
                     ORDER BY l.time DESC
                     LIMIT 1000
                    """)
            ], prom: nil
        ).with { $0.columns = [ColumnSpec("trace_id", link: showTrace)] }
    }

    // MARK: - Traces

    static var traces: [PanelSpec] {
        let openTrace = DataLink(
            title: "Show trace",
            url: "\(DashboardBuilder.path(uid: uid))?var-function=${function}&${account:queryparam}&${region:queryparam}&var-traceId=${__value.raw}&${__url_time_range}")
        let recent = PanelSpec(
            "Recent traces", .table, width: 24, height: 9,
            description: "The latest traces the function took part in. Click a trace id to show its waterfall below.",
            sql: [
                SQLTarget(
                    "A", .table,
                    """
                    WITH ids AS (
                      SELECT sp.trace_id FROM \(LambdaSQL.spans(.selected))
                       GROUP BY sp.trace_id
                       ORDER BY min(sp.start_time) DESC
                       LIMIT 50)
                    SELECT s.trace_id AS "trace id",
                           COALESCE((array_agg(s.name ORDER BY s.start_time) FILTER (WHERE s.parent_span_id IS NULL))[1],
                                    (array_agg(s.name ORDER BY s.start_time))[1]) AS "root operation",
                           min(s.start_time) AS "start",
                           extract(epoch FROM max(s.end_time) - min(s.start_time)) * 1000 AS "duration",
                           count(*) AS "spans",
                           bool_or(s.status_code = 2) AS "error"
                      FROM \(LambdaSQL.table("spans")) s JOIN ids ON ids.trace_id = s.trace_id
                     WHERE \(LambdaSQL.nearRange("s.start_time"))
                     GROUP BY s.trace_id
                     ORDER BY 3 DESC
                    """)
            ], prom: nil
        ).with {
            $0.columns = [
                ColumnSpec("trace id", link: openTrace, width: 300), ColumnSpec("duration", unit: "ms", decimals: 1),
                ColumnSpec("start", unit: "dateTimeAsIso"),
            ]
        }
        let waterfall = PanelSpec(
            "Trace", .traces, width: 24, height: 14,
            description: "The spans of the trace chosen in Recent traces (or typed into Trace ID, also as an X-Ray trace id), within the range and an hour either side. Span events (exceptions among them) show as the span's logs, links as its references.",
            sql: [
                SQLTarget(
                    "A", .table,
                    """
                    SELECT s.trace_id AS "traceID",
                           s.span_id AS "spanID",
                           s.parent_span_id AS "parentSpanID",
                           s.name AS "operationName",
                           s.service AS "serviceName",
                           COALESCE((SELECT jsonb_agg(jsonb_build_object('key', k, 'value', v) ORDER BY k)
                                       FROM jsonb_each(s.resource_attributes) AS r(k, v)), '[]'::jsonb) AS "serviceTags",
                           extract(epoch FROM s.start_time) * 1000 AS "startTime",
                           s.duration_ms AS "duration",
                           COALESCE((SELECT jsonb_agg(jsonb_build_object('key', k, 'value', v) ORDER BY k)
                                       FROM jsonb_each(s.attributes) AS a(k, v)), '[]'::jsonb) AS "tags",
                           s.kind AS "kind",
                           s.status_code AS "statusCode",
                           s.status_message AS "statusMessage",
                           COALESCE((SELECT jsonb_agg(jsonb_build_object(
                                              'timestamp', (e->>'time_unix_nano')::numeric / 1000000, 'name', e->>'name',
                                              'fields', COALESCE((SELECT jsonb_agg(jsonb_build_object('key', k, 'value', v) ORDER BY k)
                                                                    FROM jsonb_each(e->'attributes') AS f(k, v)), '[]'::jsonb))
                                            ORDER BY (e->>'time_unix_nano')::numeric)
                                       FROM jsonb_array_elements(s.events) AS e), '[]'::jsonb) AS "logs",
                           COALESCE((SELECT jsonb_agg(jsonb_build_object(
                                              'traceID', l->>'trace_id', 'spanID', l->>'span_id',
                                              'tags', COALESCE((SELECT jsonb_agg(jsonb_build_object('key', k, 'value', v) ORDER BY k)
                                                                  FROM jsonb_each(l->'attributes') AS a(k, v)), '[]'::jsonb)))
                                       FROM jsonb_array_elements(s.links) AS l), '[]'::jsonb) AS "references"
                      FROM \(LambdaSQL.table("spans")) s
                     WHERE s.trace_id = \(LambdaSQL.typedTraceID) AND \(LambdaSQL.nearRange("s.start_time"))
                     ORDER BY s.start_time
                    """)
            ], prom: nil)
        let serviceMap = PanelSpec(
            "Service map", .nodeGraph, width: 24, height: 12,
            description: "Who calls whom around the function, in the latest \(serviceMapTraces) traces it took part in during the range: instrumented services from parent/child spans across services; databases, queues, topics and other services without instrumentation from client and producer spans nothing answered; queue and topic hops from consumer spans linked to the message's send. Nodes and edges: calls per second, error ratio (red arc), p95 duration.",
            sql: [
                SQLTarget(
                    "nodes", .table,
                    """
                    \(serviceMapCalls),
                    received AS (
                      SELECT target AS id, min(kind) AS kind, count(*) AS calls, avg(failed::int)::float8 AS error_ratio,
                             percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95
                        FROM calls GROUP BY target)
                    SELECT n.id, n.id AS title, COALESCE(r.kind, 'service') AS subtitle,
                           r.calls / $__range_s::float8 AS mainstat, r.error_ratio AS secondarystat,
                           r.p95 AS "detail__p95 duration (ms)",
                           1 - COALESCE(r.error_ratio, 0) AS arc__ok, COALESCE(r.error_ratio, 0) AS arc__failed
                      FROM (SELECT source AS id FROM calls UNION SELECT target FROM calls) n
                      LEFT JOIN received r ON r.id = n.id
                     ORDER BY 1
                    """),
                SQLTarget(
                    "edges", .table,
                    """
                    \(serviceMapCalls)
                    SELECT source || '->' || target AS id, source, target, count(*) / $__range_s::float8 AS mainstat,
                           avg(failed::int)::float8 AS secondarystat,
                           percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS "detail__p95 duration (ms)"
                      FROM calls
                     GROUP BY source, target
                     ORDER BY 1
                    """),
            ], prom: nil)
        let percentiles = timeseries(
            "Duration percentiles (exact, from spans)", width: 24, unit: "ms",
            description: "p50, p95 and p99 of the function's server and consumer spans (where its invocations start) in each interval, computed from every span — exact, unlike CloudWatch's per-minute percentiles. Empty when the function is not instrumented with OpenTelemetry.",
            sql: """
                SELECT $__timeGroupAlias(sp.start_time, $__interval),
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY sp.duration_ms) AS "p50",
                       percentile_cont(0.95) WITHIN GROUP (ORDER BY sp.duration_ms) AS "p95",
                       percentile_cont(0.99) WITHIN GROUP (ORDER BY sp.duration_ms) AS "p99"
                  FROM \(LambdaSQL.spans(.selected))
                 WHERE sp.kind IN ('server', 'consumer')
                 GROUP BY 1
                 ORDER BY 1
                """,
            prom: nil)
        return [percentiles, recent, waterfall, serviceMap]
    }

    /// The most traces the service map follows (the latest of the range).
    static let serviceMapTraces = 1000

    /// What a client or producer span calls when nothing instrumented answered it: the queue or
    /// topic, else the database system, the RPC service or the server's address.
    static func downstream(_ span: String) -> String {
        let keys = ["messaging.destination.name", "db.system", "rpc.service", "server.address", "net.peer.name"]
        return "COALESCE(" + keys.map { "NULLIF(\(span).attributes->>'\($0)', '')" }.joined(separator: ", ") + ")"
    }

    /// `WITH traces, spans, calls` — the spans of the latest traces the function took part in, and
    /// every call among them: `source`, `target`, the target's `kind`, `duration_ms`, `failed`.
    static var serviceMapCalls: String {
        """
        WITH traces AS (
          SELECT sp.trace_id FROM \(LambdaSQL.spans(.selected))
           GROUP BY sp.trace_id
           ORDER BY max(sp.start_time) DESC
           LIMIT \(serviceMapTraces)),
        spans AS (
          SELECT s.* FROM \(LambdaSQL.table("spans")) s JOIN traces t ON t.trace_id = s.trace_id
           WHERE \(LambdaSQL.nearRange("s.start_time"))),
        calls AS (
          SELECT parent.service AS source, child.service AS target, 'service' AS kind, child.duration_ms,
                 child.status_code = 2 AS failed
            FROM spans child JOIN spans parent ON parent.trace_id = child.trace_id AND parent.span_id = child.parent_span_id
           WHERE parent.service <> child.service
          UNION ALL
          SELECT c.service, \(downstream("c")),
                 CASE WHEN c.attributes ? 'messaging.destination.name' THEN 'queue / topic'
                      WHEN c.attributes ? 'db.system' THEN 'database' ELSE 'not instrumented' END,
                 c.duration_ms, c.status_code = 2
            FROM spans c
           WHERE c.kind IN ('client', 'producer') AND \(downstream("c")) IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM spans x WHERE x.trace_id = c.trace_id AND x.parent_span_id = c.span_id)
          UNION ALL
          SELECT \(downstream("p")), s.service, 'service', s.duration_ms, s.status_code = 2
            FROM spans s CROSS JOIN LATERAL jsonb_array_elements(s.links) AS l
            JOIN \(LambdaSQL.table("spans")) p
              ON p.trace_id = l->>'trace_id' AND p.span_id = l->>'span_id' AND \(LambdaSQL.nearRange("p.start_time"))
           WHERE p.kind = 'producer' AND \(downstream("p")) IS NOT NULL)
        """
    }
}

extension String {
    fileprivate func replacingPrefix(_ prefix: String, _ replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
