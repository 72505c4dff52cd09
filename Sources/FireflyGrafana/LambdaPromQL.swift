// PromQL for Lambda's CloudWatch metrics, with every metric and label name taken from PrometheusNaming.
import FireflyCore
import FireflyModel
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Builds PromQL over the series the remote-write exporter writes for CloudWatch Metric Stream data.
///
/// Metric Stream values are one-minute deltas written as gauges, so totals are `sum_over_time`
/// (never `rate`/`increase`), maxima `max_over_time`. Series carrying a `Resource` dimension (alias
/// or version) are excluded so each invocation is counted once, under its `FunctionName` series.
/// Every range selector is `window(_:)`, so each sample falls in exactly one step of a range query.
enum LambdaPromQL {
    static let lambda = "AWS/Lambda"
    static let insights = "LambdaInsights"

    /// `dimension_FunctionName`.
    static let functionLabel = PrometheusNaming.cloudWatchDimensionLabel("FunctionName")
    static let resourceLabel = PrometheusNaming.cloudWatchDimensionLabel("Resource")
    /// Lambda Insights' dimensions: `function_name` (+ `version`).
    static let insightsFunctionLabel = PrometheusNaming.cloudWatchDimensionLabel("function_name")
    static let insightsVersionLabel = PrometheusNaming.cloudWatchDimensionLabel("version")

    /// `aws_lambda_<metric>_<statistic>`.
    static func name(_ metric: String, _ statistic: PrometheusNaming.CloudWatchStatistic) -> String {
        PrometheusNaming.cloudWatchMetricName(namespace: lambda, metric: metric, statistic: statistic)
    }

    static func insightsName(_ metric: String, _ statistic: PrometheusNaming.CloudWatchStatistic) -> String {
        PrometheusNaming.cloudWatchMetricName(namespace: insights, metric: metric, statistic: statistic)
    }

    /// Which functions a query covers.
    enum Scope {
        /// Every function, grouped by function.
        case all
        /// The dashboard's `$function`.
        case selected
    }

    /// The labels the remote-write exporter gives a metric stream's account and region.
    static let accountLabel = "account_id"
    static let regionLabel = "region"

    /// A function's identity: the same name in another account or region is another function.
    static let identityLabels = "\(accountLabel), \(regionLabel), \(functionLabel)"
    /// The label naming a per-function series on both backends: `function · region · account`.
    static let seriesLabel = "series"

    /// Adds `seriesLabel` to every series of `expr` (grouped by `identityLabels`).
    static func named(_ expr: String) -> String {
        "label_join(\(expr), \"\(seriesLabel)\", \" · \", \"\(functionLabel)\", \"\(regionLabel)\", \"\(accountLabel)\")"
    }

    /// The account and region variables as matchers (their "All" is `.*`).
    static let inScope = "\(accountLabel)=~\"$account\", \(regionLabel)=~\"$region\""

    static func scopeValues(_ label: String) -> String { "label_values(\(name("Invocations", .sum)), \(label))" }

    static func selector(_ metric: String, _ statistic: PrometheusNaming.CloudWatchStatistic, _ scope: Scope) -> String {
        let function = scope == .all ? "\(functionLabel)!=\"\"" : "\(functionLabel)=\"$function\""
        return "\(name(metric, statistic)){\(function), \(resourceLabel)=\"\", \(inScope)}"
    }

    static func insightsSelector(_ metric: String, _ statistic: PrometheusNaming.CloudWatchStatistic, _ scope: Scope)
        -> String
    {
        let function = scope == .all ? "\(insightsFunctionLabel)!=\"\"" : "\(insightsFunctionLabel)=\"$function\""
        return "\(insightsName(metric, statistic)){\(function), \(insightsVersionLabel)=\"\", \(inScope)}"
    }

    /// The account-level series: no `FunctionName` (nor `Resource`) dimension.
    static func accountSelector(_ metric: String, _ statistic: PrometheusNaming.CloudWatchStatistic) -> String {
        "\(name(metric, statistic)){\(functionLabel)=\"\", \(resourceLabel)=\"\", \(inScope)}"
    }

    /// The account's total of a per-minute delta over `window`.
    static func accountTotal(_ metric: String, window: String) -> String {
        "sum (sum_over_time(\(accountSelector(metric, .sum))\(Self.window(window))))"
    }

    /// The account's highest per-minute maximum (or lowest minimum) over `window`.
    static func accountExtreme(_ metric: String, lowest: Bool = false, window: String) -> String {
        let (f, statistic): (String, PrometheusNaming.CloudWatchStatistic) = lowest ? ("min", .minimum) : ("max", .maximum)
        return "\(f) (\(f)_over_time(\(accountSelector(metric, statistic))\(Self.window(window))))"
    }

    /// A range selector over `duration` ending 1 ms after the evaluation time. Grafana aligns steps to
    /// the interval and Metric Stream samples sit on whole minutes, so a sample is on the boundary of two
    /// windows: Prometheus 2 (closed ranges) would count it in both, Prometheus 3 and VictoriaMetrics
    /// (left-open) in the later one. Shifted by 1 ms, both count it once, in the step at its own time.
    static func window(_ duration: String) -> String { "[\(duration)] offset -1ms" }

    static func by(_ scope: Scope) -> String { scope == .all ? " by (\(identityLabels))" : "" }

    /// Total of a per-minute delta over `window` (`$__interval` for series, `$__range` for totals).
    static func total(
        _ metric: String, _ scope: Scope, statistic: PrometheusNaming.CloudWatchStatistic = .sum, window: String
    ) -> String {
        "sum\(by(scope)) (sum_over_time(\(selector(metric, statistic, scope))\(Self.window(window))))"
    }

    /// Largest per-minute value over `window`.
    static func maximum(_ metric: String, _ statistic: PrometheusNaming.CloudWatchStatistic, _ scope: Scope, window: String)
        -> String
    {
        "max\(by(scope)) (max_over_time(\(selector(metric, statistic, scope))\(Self.window(window))))"
    }

    /// Sum / SampleCount over `window`: the average per invocation (or per record).
    static func average(_ metric: String, _ scope: Scope, window: String) -> String {
        "\(total(metric, scope, window: window)) / \(total(metric, scope, statistic: .sampleCount, window: window))"
    }

    static func errorRate(_ scope: Scope, window: String) -> String {
        "\(total("Errors", scope, window: window)) / \(total("Invocations", scope, window: window))"
    }

    /// Share of requests throttled: Throttles / (Invocations + Throttles), which stays within 0–1.
    static func throttleRate(_ scope: Scope, window: String) -> String {
        let throttles = total("Throttles", scope, window: window)
        return "\(throttles) / (\(total("Invocations", scope, window: window)) + \(throttles))"
    }

    /// Cold starts from Lambda Insights: `init_duration` is only emitted on a cold start, so its
    /// sample count counts them. Relabelled to the Lambda function label for joins and tables.
    static func insightsColdStarts(_ scope: Scope, window: String) -> String {
        let inner = "sum_over_time(\(insightsSelector("init_duration", .sampleCount, scope))\(Self.window(window)))"
        switch scope {
        case .selected: return "sum (\(inner))"
        case .all:
            return "sum by (\(identityLabels)) (label_replace(\(inner), \"\(functionLabel)\", \"$1\", \"\(insightsFunctionLabel)\", \"(.*)\"))"
        }
    }

    /// Estimated cost: requests plus GB-seconds at the configured memory. Memory comes from Lambda
    /// Insights' `total_memory` when present, else `Pricing.defaultMemoryMB` is assumed.
    static func estimatedCost(_ scope: Scope, window: String) -> String {
        let memory =
            "label_replace(max by (\(accountLabel), \(regionLabel), \(insightsFunctionLabel)) (max_over_time(\(insightsSelector("total_memory", .maximum, scope))\(Self.window(window)))), \"\(functionLabel)\", \"$1\", \"\(insightsFunctionLabel)\", \"(.*)\")"
        let durationSum = total("Duration", .all, window: window)
        let scoped = scope == .all ? durationSum : durationSum.replacingFunction()
        let memoryOrDefault =
            "(max by (\(identityLabels)) (\(memory)) or on (\(identityLabels)) (\(scoped) * 0 + \(Pricing.defaultMemoryMB)))"
        let gbSeconds = "\(scoped) / 1000 * on (\(identityLabels)) \(memoryOrDefault) / 1024"
        let requests = scope == .all ? total("Invocations", .all, window: window) : total("Invocations", .all, window: window).replacingFunction()
        let cost = "\(requests) * \(Pricing.perRequest) + \(gbSeconds) * \(Pricing.perGBSecond)"
        return scope == .all ? cost : "sum (\(cost))"
    }
}

/// The prices every cost panel takes, as tokens `DashboardBuilder` fills in from `pricing:` in
/// firefly.yaml (`PricingConfig`; on-demand list prices in us-east-1 by default).
enum Pricing {
    /// USD per request.
    static let perRequest = "⟨price.request⟩"
    /// USD per GB-second of the default architecture (`pricing.architecture`).
    static let perGBSecond = "⟨price.gb_second⟩"
    /// USD per GB-second of x86_64 and arm64 compute.
    static let x86GBSecond = "⟨price.x86_64⟩"
    static let arm64GBSecond = "⟨price.arm64⟩"
    /// The functions `pricing.functions` puts on each architecture, as SQL lists.
    static let x86Functions = "⟨functions.x86_64⟩"
    static let arm64Functions = "⟨functions.arm64⟩"
    /// Memory assumed when no Lambda Insights or span data says otherwise.
    static let defaultMemoryMB = "⟨memory.default⟩"
    static let architecture = "⟨architecture⟩"

    /// The GB-second price of the function in `column`: its architecture's, from `pricing.functions`
    /// or else `pricing.architecture`.
    static func gbSecond(_ column: String) -> String {
        "(CASE WHEN \(column) IN (\(arm64Functions)) THEN \(arm64GBSecond) WHEN \(column) IN (\(x86Functions)) THEN \(x86GBSecond) ELSE \(perGBSecond) END)"
    }

    /// What every cost figure counts and leaves out.
    static let assumptions =
        "Requests at $\(perRequest) each plus GB-seconds at $\(x86GBSecond) (x86_64) or $\(arm64GBSecond) (arm64), from pricing: in firefly.yaml (functions it does not name: \(architecture)). Not counted: the free tier, Savings Plans, provisioned concurrency, ephemeral storage above 512 MB, data transfer."

    /// The cost of the invocations `i` (rows of `LambdaSQL.invocations`) from their billed duration,
    /// which includes the init phase where Lambda bills it.
    static let billedCostSQL =
        "sum(i.billed_duration_ms / 1000.0 * i.memory_size_mb / 1024.0 * \(gbSecond("i.function"))) + count(*) * \(perRequest)"

    /// A span's `faas.max_memory` resource attribute in MiB: bytes in current OpenTelemetry semantic
    /// conventions, MiB in older ones (Lambda sizes are at most 10 240 MiB, never that few bytes).
    static func maxMemoryMB(_ resourceAttributes: String) -> String {
        let value = "(\(resourceAttributes)->>'faas.max_memory')::float8"
        return "CASE WHEN \(value) > 10240 THEN \(value) / 1048576 ELSE \(value) END"
    }

    /// `text` with the tokens above replaced by `pricing`'s values.
    static func fill(_ text: String, _ pricing: PricingConfig) -> String {
        guard text.contains("⟨") else { return text }
        // Plain decimals (0.0000002, not 2e-07): they are read in descriptions too.
        func number(_ v: Double) -> String {
            var text = cFormat("%.12f", v)
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
            return text
        }
        func list(_ a: LambdaArchitecture) -> String {
            let names = pricing.functions.filter { $0.value == a }.keys.sorted()
            return names.isEmpty ? "NULL" : names.map { "'" + $0.replacing("'", with: "''") + "'" }.joined(separator: ", ")
        }
        let values: [(String, String)] = [
            (perRequest, number(pricing.request)),
            (perGBSecond, number(pricing.architecture == .arm64 ? pricing.arm64GBSecond : pricing.x86GBSecond)),
            (x86GBSecond, number(pricing.x86GBSecond)), (arm64GBSecond, number(pricing.arm64GBSecond)),
            (x86Functions, list(.x86_64)), (arm64Functions, list(.arm64)),
            (defaultMemoryMB, String(pricing.defaultMemoryMB)), (architecture, pricing.architecture.rawValue),
        ]
        return values.reduce(text) { $0.replacing($1.0, with: $1.1) }
    }
}

extension String {
    /// Narrows an all-functions selector to the dashboard's `$function`, keeping the `by` grouping
    /// the joins need.
    fileprivate func replacingFunction() -> String {
        let all = "\(LambdaPromQL.functionLabel)!=\"\""
        let one = "\(LambdaPromQL.functionLabel)=\"$function\""
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: all) {
            out += rest[..<r.lowerBound]
            out += one
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
