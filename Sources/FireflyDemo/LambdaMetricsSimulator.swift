// The AWS/Lambda (and Lambda Insights) CloudWatch metrics a metric stream would deliver for the simulated functions.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Produces one data point per function, metric and minute: Invocations, Errors, Throttles,
/// Duration (with p50/p90/p95/p99), ConcurrentExecutions, and — where Lambda publishes them —
/// AsyncEventAge and AsyncEventsDropped (SNS-triggered functions) and IteratorAge (stream consumers).
/// Functions with Lambda Insights enabled also get its `LambdaInsights` metrics (`insightsPoints`).
///
/// The volumes follow the trace simulation's expected invocation rates and the same latency
/// model, so the metrics and the traces tell one story. A minute's values depend only on the
/// seed, the function and the minute, not on what was generated before.
public struct LambdaMetricsSimulator: Sendable {
    public let topology: DemoTopology
    public let tracesPerSecond: Double
    public let seed: UInt64
    private let rates: [Double]

    public init(topology: DemoTopology, tracesPerSecond: Double, seed: UInt64) {
        self.topology = topology
        self.tracesPerSecond = tracesPerSecond
        self.seed = seed
        rates = topology.expectedRates(tracesPerSecond: tracesPerSecond)
    }

    /// The `AWS/Lambda` data points of function `index` for the minute starting at `minuteStartMs`, written
    /// as by the metric stream `streamName`. Empty when the function had no invocations.
    public func points(function index: Int, minuteStartMs: UInt64, streamName: String) -> [CloudWatchDatapoint] {
        minute(function: index, minuteStartMs: minuteStartMs, streamName: streamName).lambda
    }

    /// The `LambdaInsights` data points of function `index` for that minute, as the Insights
    /// extension reports them (dimension `function_name`): `init_duration` (one sample per cold
    /// start, only in minutes with cold starts), `total_memory`, `used_memory_max`,
    /// `memory_utilization` and `cpu_total_time`. Empty without Insights or invocations.
    public func insightsPoints(function index: Int, minuteStartMs: UInt64, streamName: String) -> [CloudWatchDatapoint] {
        minute(function: index, minuteStartMs: minuteStartMs, streamName: streamName).insights
    }

    /// Lambda's concurrency limit for the simulated account (the default quota).
    public static let accountConcurrencyLimit = 1000.0

    /// The account-level `AWS/Lambda` points of one minute (no dimensions), which a metric stream
    /// delivers beside the functions' own: the totals of every function's `lambda` points of that
    /// minute, and `UnreservedConcurrentExecutions` — the limit less reserved concurrency less what
    /// functions without a reservation use. Account-level Duration carries no percentiles here.
    public func accountPoints(_ functions: [[CloudWatchDatapoint]], minuteStartMs: UInt64, streamName: String)
        -> [CloudWatchDatapoint]
    {
        var byMetric: [String: (point: CloudWatchDatapoint, unreservedMin: Double, unreservedMax: Double)] = [:]
        var order: [String] = []
        for (index, points) in functions.enumerated() {
            let reserved = topology.functions[index].reservedConcurrency != nil
            for p in points where ["Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions"].contains(p.metricName) {
                guard var total = byMetric[p.metricName] else {
                    var first = p
                    first.dimensions = []
                    first.percentiles = []
                    byMetric[p.metricName] = (first, reserved ? 0 : p.min, reserved ? 0 : p.max)
                    order.append(p.metricName)
                    continue
                }
                total.point.sum += p.sum
                total.point.count += p.count
                if p.metricName == "Duration" {
                    total.point.min = Swift.min(total.point.min, p.min)
                    total.point.max = Swift.max(total.point.max, p.max)
                } else {
                    // Counts and concurrency add up across functions.
                    total.point.min += p.min
                    total.point.max += p.max
                }
                if !reserved {
                    total.unreservedMin += p.min
                    total.unreservedMax += p.max
                }
                byMetric[p.metricName] = total
            }
        }
        var out = order.compactMap { byMetric[$0]?.point }
        if let concurrency = byMetric["ConcurrentExecutions"] {
            let pool = Self.accountConcurrencyLimit - Double(topology.functions.compactMap(\.reservedConcurrency).reduce(0, +))
            var unreserved = concurrency.point
            unreserved.metricName = "UnreservedConcurrentExecutions"
            unreserved.min = pool - concurrency.unreservedMax
            unreserved.max = pool - concurrency.unreservedMin
            unreserved.sum = (unreserved.min + unreserved.max) / 2 * unreserved.count
            out.append(unreserved)
        }
        return out.map {
            var p = $0
            p.metricStreamName = streamName
            p.timestampMs = minuteStartMs
            return p
        }
    }

    /// Both namespaces' points of one function and minute, from one run of the minute's simulation.
    public func minute(function index: Int, minuteStartMs: UInt64, streamName: String)
        -> (lambda: [CloudWatchDatapoint], insights: [CloudWatchDatapoint])
    {
        let fn = topology.functions[index]
        let model = LatencyModel(fn)
        var rng = SeededGenerator(seed: seed ^ (minuteStartMs &* 0x9E37_79B9) ^ (UInt64(index) &* 0xC2B2_AE3D_27D4_EB4F))
        let t = minuteStartMs * 1_000_000 + 30_000_000_000  // mid-minute
        let volumeWave = 1 + 0.25 * sin(2 * Double.pi * Double(minuteStartMs / 1000) / (fn.driftPeriodSeconds * 2.3) + fn.driftPhase)
        let demand = Int((rates[index] * 60 * volumeWave * (1 + 0.05 * rng.gaussian())).rounded())
        guard demand > 0 else { return ([], []) }

        // Durations: a sample of the minute's invocations from the latency model.
        let n = min(demand, 600)
        let coldShare = 0.02
        var durations: [Double] = []
        var initDurations: [Double] = []  // the init phases of the sample's cold starts
        for _ in 0..<n {
            let own = model.sample(at: t, &rng)
            if rng.chance(coldShare) {
                let initMs = model.coldStart(&rng)
                initDurations.append(initMs)
                durations.append(own + initMs)
            } else {
                durations.append(own)
            }
        }
        durations.sort()
        let meanMs = durations.reduce(0, +) / Double(n)

        // Concurrency: per-second samples around rate × duration, bursty; reserved concurrency caps it.
        let average = Double(demand) / 60 * meanMs / 1000
        var perSecond = (0..<60).map { _ in max(0, (average * (1 + 0.6 * rng.gaussian())).rounded(.up)) }
        var throttles = 0
        if let reserved = fn.reservedConcurrency {
            let peak = perSecond.max() ?? 0
            if peak > Double(reserved) {
                throttles = Int((Double(demand) * (peak - Double(reserved)) / peak * 0.5).rounded())
                perSecond = perSecond.map { min($0, Double(reserved)) }
            }
        }
        let invocations = max(0, demand - throttles)
        guard invocations > 0 else { return ([], []) }
        let errors = min(
            invocations,
            max(0, Int((Double(invocations) * model.errorProbability(at: t) + rng.gaussian()).rounded())))

        let name = fn.name
        func point(
            _ metric: String, _ unit: String, min: Double, max: Double, sum: Double, count: Double, p: [(String, Double)] = [],
            namespace: String = "AWS/Lambda", dimension: String = "FunctionName"
        ) -> CloudWatchDatapoint {
            CloudWatchDatapoint(
                metricStreamName: streamName, accountID: topology.accountID, region: topology.region, namespace: namespace,
                metricName: metric, dimensions: [(dimension, name)], timestampMs: minuteStartMs,
                min: min, max: max, sum: sum, count: count, percentiles: p.map { (name: $0.0, value: $0.1) }, unit: unit)
        }
        let inv = Double(invocations)
        func percentile(_ q: Double) -> Double {
            Self.round(durations[Swift.min(n - 1, Int((q * Double(n)).rounded(.up)) - 1)])
        }
        var out: [CloudWatchDatapoint] = [
            point("Invocations", "Count", min: 1, max: 1, sum: inv, count: inv),
            point("Errors", "Count", min: 0, max: errors > 0 ? 1 : 0, sum: Double(errors), count: inv),
            point("Throttles", "Count", min: 0, max: throttles > 0 ? 1 : 0, sum: Double(throttles), count: inv + Double(throttles)),
            point(
                "Duration", "Milliseconds", min: Self.round(durations[0]), max: Self.round(durations[n - 1]),
                sum: Self.round(meanMs * inv), count: inv,
                p: [("p50", percentile(0.5)), ("p90", percentile(0.9)), ("p95", percentile(0.95)), ("p99", percentile(0.99))]),
            point(
                "ConcurrentExecutions", "Count", min: perSecond.min() ?? 0, max: perSecond.max() ?? 0,
                sum: perSecond.reduce(0, +), count: 60),
        ]
        if fn.trigger.isAsync {
            // Time events wait in Lambda's internal queue; retries after errors make it grow.
            let ages = (0..<Swift.min(invocations, 200)).map { _ in
                Self.round(15 * exp(0.5 * rng.gaussian()) + (rng.chance(Double(errors) / inv) ? 60_000 * rng.unit() : 0))
            }
            let dropped = errors > 0 && rng.chance(0.3) ? 1 + Int(rng.next() % UInt64(Swift.min(errors, 3))) : 0
            out.append(
                point(
                    "AsyncEventAge", "Milliseconds", min: ages.min() ?? 0, max: ages.max() ?? 0,
                    sum: Self.round(ages.reduce(0, +) / Double(ages.count) * inv), count: inv))
            out.append(point("AsyncEventsDropped", "Count", min: 0, max: dropped > 0 ? 1 : 0, sum: Double(dropped), count: inv))
        }
        if case .kinesis = fn.trigger {
            // Age of the last record of each batch; drifts with the function's latency.
            let ages = (0..<Swift.min(invocations, 200)).map { _ in
                Self.round(250 * model.drift(at: t) * model.drift(at: t) * exp(0.4 * rng.gaussian()))
            }
            out.append(
                point(
                    "IteratorAge", "Milliseconds", min: ages.min() ?? 0, max: ages.max() ?? 0,
                    sum: Self.round(ages.reduce(0, +) / Double(ages.count) * inv), count: inv))
        }
        guard fn.lambdaInsights else { return (out, []) }

        // Lambda Insights: one sample per invocation, aggregated per minute by CloudWatch.
        func insights(_ metric: String, _ unit: String, min: Double, max: Double, sum: Double, count: Double) -> CloudWatchDatapoint {
            point(metric, unit, min: min, max: max, sum: sum, count: count, namespace: "LambdaInsights", dimension: "function_name")
        }
        var extra: [CloudWatchDatapoint] = []
        // The sample's cold starts, scaled to the minute's invocations.
        let coldStarts = (Double(initDurations.count) * inv / Double(n)).rounded()
        if coldStarts > 0 {
            let meanInit = initDurations.reduce(0, +) / Double(initDurations.count)
            extra.append(
                insights(
                    "init_duration", "Milliseconds", min: Self.round(initDurations.min() ?? 0),
                    max: Self.round(initDurations.max() ?? 0), sum: Self.round(meanInit * coldStarts), count: coldStarts))
        }
        let total = Double(fn.memoryMB)
        // Memory in use: a runtime-typical share of the configured size, varying between invocations.
        let share = fn.runtime.hasPrefix("java") ? 0.55 : fn.runtime.hasPrefix("provided") ? 0.2 : 0.35
        let used = (0..<Swift.min(invocations, 50)).map { _ in
            Swift.min(total, Swift.max(1, (total * share * (1 + 0.15 * rng.gaussian())).rounded()))
        }
        let usedMean = used.reduce(0, +) / Double(used.count)
        extra.append(insights("total_memory", "Megabytes", min: total, max: total, sum: total * inv, count: inv))
        extra.append(
            insights(
                "used_memory_max", "Megabytes", min: used.min() ?? 0, max: used.max() ?? 0, sum: Self.round(usedMean * inv),
                count: inv))
        extra.append(
            insights(
                "memory_utilization", "Percent", min: Self.round(100 * (used.min() ?? 0) / total),
                max: Self.round(100 * (used.max() ?? 0) / total), sum: Self.round(100 * usedMean / total * inv), count: inv))
        // CPU time: most of the invocation's own time (downstream waits are not CPU).
        extra.append(
            insights(
                "cpu_total_time", "Milliseconds", min: Self.round(durations[0] * 0.6), max: Self.round(durations[n - 1] * 0.6),
                sum: Self.round(meanMs * 0.6 * inv), count: inv))
        return (out, extra)
    }

    /// CloudWatch reports durations with two decimals.
    static func round(_ v: Double) -> Double { (v * 100).rounded() / 100 }
}
