// Firefly Overview: every function at a glance, each row linking to the Function dashboard.

enum OverviewDashboard {
    static let uid = "firefly-overview"

    /// Link from a function (table cell or series) to its dashboard, keeping the time range.
    /// The Function dashboard of one function. `function` is a data-link expression (a table cell, a
    /// series label); `account` and `region` are query parameters (`var-account=…` from a row or a
    /// series, or the dashboard's own selection).
    static func functionLink(_ function: String, account: String, region: String) -> DataLink {
        DataLink(
            title: "Open function",
            url: "\(DashboardBuilder.path(uid: FunctionDashboard.uid))?var-function=\(function)&\(account)&\(region)&${__url_time_range}")
    }

    /// The link of a table row: its function, account and region columns.
    static let rowLink = functionLink(
        "${__value.raw}", account: "var-account=${__data.fields.account}", region: "var-region=${__data.fields.region}")

    /// The link of a per-function series: its identity labels (`LambdaSQL.identitySeries`, `LambdaPromQL.by`).
    static let seriesLink = functionLink(
        "${__field.labels.\(LambdaPromQL.functionLabel)}", account: "var-account=${__field.labels.\(LambdaPromQL.accountLabel)}",
        region: "var-region=${__field.labels.\(LambdaPromQL.regionLabel)}")

    static var spec: DashboardSpec {
        DashboardSpec(
            uid: uid, title: "Firefly Overview",
            description: "All functions: invocations, errors, throttles, duration, cold starts and estimated cost.",
            tags: ["firefly", "lambda"], variables: VariableSpec.scopes,
            linkedDashboards: [("Firefly Function", FunctionDashboard.uid)],
            items: [.panel(functionsTable), .panel(invocationsTable), .row("Trends")] + trends.map { .panel($0) }
                + [.row("Account")] + account.map { .panel($0) })
    }

    // MARK: - Account

    /// CloudWatch also streams Lambda metrics for the whole account and region, without a
    /// `FunctionName`: shown here, never as a function.
    static var account: [PanelSpec] {
        let r = "$__range"
        func stat(_ title: String, _ description: String, sql: String, prom: String, thresholds: PanelSpec.Thresholds? = nil)
            -> PanelSpec
        {
            PanelSpec(
                title, .stat, width: 6, height: 4, decimals: 0, description: description,
                sql: [SQLTarget("A", .table, sql)], prom: [PromTarget("A", prom, instant: true)]
            ).with { $0.thresholds = thresholds }
        }
        let concurrencyDescription =
            "The account's ConcurrentExecutions (highest in each interval) and UnreservedConcurrentExecutions (lowest): compare them with the account's concurrency limit in Service Quotas (1,000 by default), which CloudWatch does not stream. Functions with reserved concurrency draw from their reservation, not from the unreserved pool."
        return [
            stat(
                "Account invocations", "Invocations of every function in the account and region over the range (the account-level series, which includes functions Firefly has no other data for).",
                sql: "SELECT sum(p.sum) AS \"value\" FROM \(LambdaSQL.accountPoints(["Invocations"]))",
                prom: LambdaPromQL.accountTotal("Invocations", window: r)),
            stat(
                "Account throttles", "Throttled requests across the account and region over the range.",
                sql: "SELECT sum(p.sum) AS \"value\" FROM \(LambdaSQL.accountPoints(["Throttles"]))",
                prom: LambdaPromQL.accountTotal("Throttles", window: r), thresholds: PanelSpec.anyIsBad),
            stat(
                "Peak account concurrency", "The highest ConcurrentExecutions of the account and region over the range. " + concurrencyDescription,
                sql: "SELECT max(p.max) AS \"value\" FROM \(LambdaSQL.accountPoints(["ConcurrentExecutions"]))",
                prom: LambdaPromQL.accountExtreme("ConcurrentExecutions", window: r)),
            stat(
                "Lowest unreserved concurrency", "The fewest executions the unreserved pool had left over the range: at 0, functions without reserved concurrency are throttled.",
                sql: "SELECT min(p.min) AS \"value\" FROM \(LambdaSQL.accountPoints(["UnreservedConcurrentExecutions"]))",
                prom: LambdaPromQL.accountExtreme("UnreservedConcurrentExecutions", lowest: true, window: r),
                thresholds: .falling(critical: 10, warning: 100)),
            PanelSpec(
                "Account concurrency", .timeseries, width: 24, height: 8, description: concurrencyDescription,
                sql: [
                    SQLTarget(
                        "A", .timeSeries,
                        """
                        SELECT $__timeGroupAlias(p.time, $__interval),
                               max(p.max) FILTER (WHERE p.metric = 'ConcurrentExecutions') AS "concurrent executions",
                               min(p.min) FILTER (WHERE p.metric = 'UnreservedConcurrentExecutions') AS "unreserved concurrency"
                          FROM \(LambdaSQL.accountPoints(["ConcurrentExecutions", "UnreservedConcurrentExecutions"]))
                         GROUP BY 1
                         ORDER BY 1
                        """)
                ],
                prom: [
                    PromTarget("A", LambdaPromQL.accountExtreme("ConcurrentExecutions", window: "$__interval"), legend: "concurrent executions"),
                    PromTarget(
                        "B", LambdaPromQL.accountExtreme("UnreservedConcurrentExecutions", lowest: true, window: "$__interval"),
                        legend: "unreserved concurrency"),
                ]),
        ]
    }

    /// Per function, from the invocations Lambda reports in its logs (the logs pipeline; PostgreSQL).
    static var invocationsTable: PanelSpec {
        PanelSpec(
            "Invocations reported in logs", .table, width: 24, height: 8,
            description: "By function and account (Lambda's log records do not say their region), from every invocation's REPORT line (CloudWatch Logs through Firehose, or platform.report over OTLP): cold-start rate, exact p95 duration, timeouts, out-of-memory kills, memory headroom (1 − highest Max Memory Used / Memory Size) and cost from billed duration (init included where Lambda bills it). " + Pricing.assumptions,
            sql: [
                SQLTarget(
                    "A", .table,
                    """
                    SELECT i.function AS "function", i.attributes->>'cloud.account.id' AS "account", count(*) AS "invocations",
                           avg(CASE WHEN i.cold_start THEN 1.0 ELSE 0.0 END) AS "cold start rate",
                           percentile_cont(0.95) WITHIN GROUP (ORDER BY i.duration_ms) AS "exact p95",
                           count(*) FILTER (WHERE i.status = 'timeout') AS "timeouts",
                           count(*) FILTER (WHERE i.status = 'out_of_memory') AS "out of memory",
                           1 - max(i.max_memory_used_mb::float8 / NULLIF(i.memory_size_mb, 0)) AS "memory headroom",
                           \(Pricing.billedCostSQL) AS "cost"
                      FROM \(LambdaSQL.invocations(.all))
                     GROUP BY 1, 2
                     ORDER BY 3 DESC, 1, 2
                    """)
            ], prom: nil
        ).with {
            $0.columns = [
                // Lambda's log records say their account (the log group's owner) but not their region.
                ColumnSpec(
                    "function", link: functionLink("${__value.raw}", account: "var-account=${__data.fields.account}", region: "${region:queryparam}"),
                    width: 240),
                ColumnSpec("account"), ColumnSpec("invocations", decimals: 0), ColumnSpec("cold start rate", unit: "percentunit", decimals: 1),
                ColumnSpec("exact p95", unit: "ms", decimals: 1), ColumnSpec("timeouts", decimals: 0),
                ColumnSpec("out of memory", decimals: 0), ColumnSpec("memory headroom", unit: "percentunit", decimals: 0),
                ColumnSpec("cost", unit: "currencyUSD", decimals: 4),
            ]
            $0.sortBy = "invocations"
        }
    }

    // MARK: - Functions table

    static let tableColumns: [(name: String, unit: String?, decimals: Int?)] = [
        ("invocations", "short", 0), ("errors", "short", 0), ("error rate", "percentunit", 2),
        ("throttles", "short", 0), ("throttle rate", "percentunit", 2), ("avg duration", "ms", 1),
        ("worst-minute p95", "ms", 1), ("worst-minute p99", "ms", 1), ("cold starts", "short", 0),
        ("estimated cost", "currencyUSD", 4),
    ]

    static var functionsTable: PanelSpec {
        let m = { (metric: String) in "p.metric = '\(metric)'" }
        let sql = """
            WITH metrics AS (
              SELECT p.account, p.region, p.function,
                     sum(p.sum) FILTER (WHERE \(m("Invocations"))) AS invocations,
                     sum(p.sum) FILTER (WHERE \(m("Errors"))) AS errors,
                     sum(p.sum) FILTER (WHERE \(m("Throttles"))) AS throttles,
                     sum(p.sum) FILTER (WHERE \(m("Duration"))) AS duration_sum,
                     sum(p.count) FILTER (WHERE \(m("Duration"))) AS duration_count,
                     max(p.p95) FILTER (WHERE \(m("Duration"))) AS p95,
                     max(p.p99) FILTER (WHERE \(m("Duration"))) AS p99
                FROM \(LambdaSQL.lambdaPoints(["Invocations", "Errors", "Throttles", "Duration"], .all))
               GROUP BY p.account, p.region, p.function),
            insights AS (
              SELECT p.account, p.region, p.function,
                     sum(p.count) FILTER (WHERE \(m("init_duration"))) AS cold_starts,
                     max(p.max) FILTER (WHERE \(m("total_memory"))) AS memory_mb
                FROM \(LambdaSQL.insightsPoints(["init_duration", "total_memory"], .all))
               GROUP BY p.account, p.region, p.function),
            traced AS (
              SELECT sp.function,
                     count(*) FILTER (WHERE sp.cold_start) AS cold_starts,
                     max(\(Pricing.maxMemoryMB("sp.resource_attributes"))) AS memory_mb
                FROM \(LambdaSQL.spans(.all))
               WHERE sp.function <> ''
               GROUP BY sp.function)
            SELECT f.function AS "function", f.account AS "account", f.region AS "region",
                   COALESCE(m.invocations, 0) AS "invocations",
                   COALESCE(m.errors, 0) AS "errors",
                   m.errors / NULLIF(m.invocations, 0) AS "error rate",
                   COALESCE(m.throttles, 0) AS "throttles",
                   m.throttles / NULLIF(m.invocations + m.throttles, 0) AS "throttle rate",
                   m.duration_sum / NULLIF(m.duration_count, 0) AS "avg duration",
                   m.p95 AS "worst-minute p95",
                   m.p99 AS "worst-minute p99",
                   GREATEST(COALESCE(i.cold_starts, 0), COALESCE(t.cold_starts, 0)) AS "cold starts",
                   COALESCE(m.invocations, 0) * \(Pricing.perRequest)
                     + COALESCE(m.duration_sum, 0) / 1000
                       * COALESCE(i.memory_mb, t.memory_mb, \(Pricing.defaultMemoryMB)) / 1024 * \(Pricing.gbSecond("f.function"))
                     AS "estimated cost"
              -- (account, region, function) is a function's identity; functions only spans know of
              -- have no account or region.
              FROM (SELECT account, region, function FROM metrics
                    UNION SELECT NULL, NULL, function FROM traced WHERE function NOT IN (SELECT function FROM metrics)) f
              LEFT JOIN metrics m ON m.function = f.function AND m.account IS NOT DISTINCT FROM f.account
                                 AND m.region IS NOT DISTINCT FROM f.region
              LEFT JOIN insights i ON i.function = f.function AND i.account IS NOT DISTINCT FROM f.account
                                  AND i.region IS NOT DISTINCT FROM f.region
              LEFT JOIN traced t ON t.function = f.function
             ORDER BY 4 DESC, 1, 2, 3
            """
        let r = "$__range"
        let prom: [PromTarget] = [
            PromTarget("A", LambdaPromQL.total("Invocations", .all, window: r), instant: true),
            PromTarget("B", LambdaPromQL.total("Errors", .all, window: r), instant: true),
            PromTarget("C", LambdaPromQL.errorRate(.all, window: r), instant: true),
            PromTarget("D", LambdaPromQL.total("Throttles", .all, window: r), instant: true),
            PromTarget("E", LambdaPromQL.throttleRate(.all, window: r), instant: true),
            PromTarget("F", LambdaPromQL.average("Duration", .all, window: r), instant: true),
            PromTarget("G", LambdaPromQL.maximum("Duration", .percentile(0.95), .all, window: r), instant: true),
            PromTarget("H", LambdaPromQL.maximum("Duration", .percentile(0.99), .all, window: r), instant: true),
            PromTarget("I", LambdaPromQL.insightsColdStarts(.all, window: r), instant: true),
            PromTarget("J", LambdaPromQL.estimatedCost(.all, window: r), instant: true),
        ]
        var renames: [(String, GrafanaJSON)] = [
            (LambdaPromQL.functionLabel, "function"), (LambdaPromQL.accountLabel, "account"), (LambdaPromQL.regionLabel, "region"),
        ]
        var order: [(String, GrafanaJSON)] = [(LambdaPromQL.functionLabel, 0), (LambdaPromQL.accountLabel, 1), (LambdaPromQL.regionLabel, 2)]
        for (i, column) in tableColumns.enumerated() {
            let refId = String(UnicodeScalar(UInt8(ascii: "A") + UInt8(i)))
            renames.append(("Value #\(refId)", .string(column.name)))
            order.append(("Value #\(refId)", .int(i + 3)))
        }
        return PanelSpec(
            "Functions", .table, width: 24, height: 10,
            description:
                "Totals over the selected range. Worst-minute p95/p99: the highest of CloudWatch's one-minute percentiles, not the range's (empty when the metric stream sends no p95/p99 for Duration: add them to its additional statistics). Cold starts: Lambda Insights init_duration samples or spans with faas.coldstart, whichever is higher. Estimated cost: CloudWatch's Duration sum (billed duration and init are not in it) × memory from Lambda Insights or the faas.max_memory resource attribute, else \(Pricing.defaultMemoryMB) MB. " + Pricing.assumptions,
            sql: [SQLTarget("A", .table, sql)], prom: prom
        ).with {
            $0.columns =
                [ColumnSpec("function", link: rowLink, width: 240), ColumnSpec("account"), ColumnSpec("region")]
                + tableColumns.map { ColumnSpec($0.name, unit: $0.unit, decimals: $0.decimals) }
            $0.sortBy = "invocations"
            $0.promTransformations = [
                ["id": "merge", "options": [:]],
                [
                    "id": "organize",
                    "options": [
                        "excludeByName": ["Time": true], "indexByName": .object(order),
                        "renameByName": .object(renames),
                    ],
                ],
            ]
        }
    }

    // MARK: - Trends

    /// How many functions the stacked per-function series show on their own; the rest add up to `others`.
    static let topFunctions = 10

    /// A per-function series of one metric's per-interval total, stacked: the `topFunctions` functions
    /// with the most in the range on their own, the rest as `others`.
    static func perFunction(_ title: String, metric: String, unit: String = "short", description: String) -> PanelSpec {
        PanelSpec(
            title, .timeseries, width: 12, height: 8, unit: unit,
            description: description + " Stacked: the \(topFunctions) functions with the most in the range, the rest as others." + identityNote,
            sql: [
                SQLTarget(
                    "A", .timeSeries,
                    LambdaSQL.identitySeries(
                        """
                        WITH per AS (
                          SELECT $__timeGroupAlias(p.time, $__interval), p.account, p.region, p.function, sum(p.sum) AS value
                            FROM \(LambdaSQL.lambdaPoints([metric], .all))
                           GROUP BY 1, 2, 3, 4),
                        top AS (SELECT account, region, function FROM per GROUP BY 1, 2, 3 ORDER BY sum(value) DESC, 3, 1, 2 LIMIT \(topFunctions))
                        SELECT per.time,
                               CASE WHEN t.function IS NULL THEN NULL ELSE per.account END AS account,
                               CASE WHEN t.function IS NULL THEN NULL ELSE per.region END AS region,
                               COALESCE(t.function, 'others') AS function, sum(per.value) AS "value"
                          FROM per LEFT JOIN top t
                            ON t.function = per.function AND t.account IS NOT DISTINCT FROM per.account AND t.region IS NOT DISTINCT FROM per.region
                         GROUP BY 1, 2, 3, 4
                        """, values: ["value"]))
            ],
            prom: [
                PromTarget("A", LambdaPromQL.named(LambdaPromQL.total(metric, .all, window: "$__interval")), legend: seriesLegend)
            ]
        ).with {
            $0.bars = true
            $0.stacked = true
            $0.links = [seriesLink]
            $0.sqlDisplayName = sqlSeriesName
        }
    }

    /// The legend of a per-function PromQL series, and the display name of a per-function SQL series.
    static let seriesLegend = "{{\(LambdaPromQL.seriesLabel)}}"
    static let sqlSeriesName = "${__field.labels.\(LambdaPromQL.seriesLabel)}"
    static let identityNote = " A function is its name in one account and region: a name found in several is shown as function · region · account."

    /// A per-function series panel over `LambdaSQL.lambdaPoints`: `select` computes the `values`
    /// columns from `p` per time bucket and function.
    static func perFunctionSeries(
        _ title: String, unit: String = "short", description: String, metrics: [String], select: String, values: [String],
        prom: [PromTarget]
    ) -> PanelSpec {
        PanelSpec(
            title, .timeseries, width: 12, height: 8, unit: unit, description: description + identityNote,
            sql: [
                SQLTarget(
                    "A", .timeSeries,
                    LambdaSQL.identitySeries(
                        """
                        SELECT $__timeGroupAlias(p.time, $__interval), p.account, p.region, p.function,
                               \(select)
                          FROM \(LambdaSQL.lambdaPoints(metrics, .all))
                         GROUP BY 1, 2, 3, 4
                        """, values: values))
            ],
            prom: prom
        ).with {
            $0.links = [seriesLink]
            $0.sqlDisplayName = values.count == 1 ? sqlSeriesName : "\(sqlSeriesName) ${__field.name}"
        }
    }

    static var trends: [PanelSpec] {
        let i = "$__interval"
        let named = LambdaPromQL.named
        return [
            perFunction("Invocations", metric: "Invocations", description: "Invocations per interval, by function."),
            perFunction("Errors", metric: "Errors", description: "Function errors (including timeouts) per interval, by function."),
            perFunctionSeries(
                "Error rate", unit: "percentunit", description: "Errors / invocations per interval, by function.",
                metrics: ["Invocations", "Errors"],
                select: """
                    sum(p.sum) FILTER (WHERE p.metric = 'Errors')
                                 / NULLIF(sum(p.sum) FILTER (WHERE p.metric = 'Invocations'), 0) AS "value"
                    """, values: ["value"],
                prom: [PromTarget("A", named(LambdaPromQL.errorRate(.all, window: i)), legend: seriesLegend)]),
            perFunctionSeries(
                "Duration percentiles", unit: "ms",
                description: "p50 / p95 / p99 of invocation duration per function (highest one-minute value in each interval).",
                metrics: ["Duration"], select: "max(p.p50) AS \"p50\", max(p.p95) AS \"p95\", max(p.p99) AS \"p99\"",
                values: ["p50", "p95", "p99"],
                prom: [
                    PromTarget("A", named(LambdaPromQL.maximum("Duration", .percentile(0.5), .all, window: i)), legend: "\(seriesLegend) p50"),
                    PromTarget("B", named(LambdaPromQL.maximum("Duration", .percentile(0.95), .all, window: i)), legend: "\(seriesLegend) p95"),
                    PromTarget("C", named(LambdaPromQL.maximum("Duration", .percentile(0.99), .all, window: i)), legend: "\(seriesLegend) p99"),
                ]),
            perFunction("Throttles", metric: "Throttles", description: "Throttled requests per interval, by function."),
            perFunctionSeries(
                "Max concurrent executions", description: "Highest ConcurrentExecutions in each interval, by function.",
                metrics: ["ConcurrentExecutions"], select: "max(p.max) AS \"value\"", values: ["value"],
                prom: [PromTarget("A", named(LambdaPromQL.maximum("ConcurrentExecutions", .maximum, .all, window: i)), legend: seriesLegend)]),
        ]
    }
}
