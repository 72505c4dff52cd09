import Testing
@testable import FireflyDemo

@Suite struct LambdaMetricsSimulatorTests {
    static let minute: UInt64 = 1_700_000_040_000

    @Test func everyFunctionGetsTheDashboardMetricsOncePerMinute() throws {
        let topology = DemoTopology(functions: 10, seed: 3)
        let sim = LambdaMetricsSimulator(topology: topology, tracesPerSecond: 50, seed: 3)
        for (i, fn) in topology.functions.enumerated() {
            let points = sim.points(function: i, minuteStartMs: Self.minute, streamName: "s")
            var expected = ["Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions"]
            if case .sns = fn.trigger { expected += ["AsyncEventAge", "AsyncEventsDropped"] }
            if case .kinesis = fn.trigger { expected += ["IteratorAge"] }
            #expect(points.map(\.metricName) == expected, "\(fn.name)")
            for p in points {
                #expect(p.timestampMs == Self.minute)
                #expect(p.dimensions.map(\.value) == [fn.name])
                #expect(p.min <= p.max)
                #expect(p.count > 0)
            }
            let invocations = try #require(points.first { $0.metricName == "Invocations" })
            let errors = try #require(points.first { $0.metricName == "Errors" })
            #expect(errors.sum <= invocations.sum)
            let duration = try #require(points.first { $0.metricName == "Duration" })
            #expect(duration.count == invocations.sum)
            #expect(duration.percentiles.map(\.name) == ["p50", "p90", "p95", "p99"])
            let values = [duration.min] + duration.percentiles.map(\.value) + [duration.max]
            #expect(values == values.sorted(), "\(fn.name): min ≤ p50 ≤ p90 ≤ p95 ≤ p99 ≤ max")
            let average = duration.sum / duration.count
            #expect(average >= duration.min && average <= duration.max)
        }
    }

    @Test func theAccountLevelSeriesAreTheFunctionsTotalsWithoutDimensions() throws {
        let topology = DemoTopology(functions: 10, seed: 3)
        let sim = LambdaMetricsSimulator(topology: topology, tracesPerSecond: 50, seed: 3)
        let functions = topology.functions.indices.map { sim.points(function: $0, minuteStartMs: Self.minute, streamName: "s") }
        let account = sim.accountPoints(functions, minuteStartMs: Self.minute, streamName: "s")
        #expect(account.map(\.metricName) == [
            "Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions", "UnreservedConcurrentExecutions",
        ])
        #expect(account.allSatisfy { $0.dimensions.isEmpty && $0.percentiles.isEmpty && $0.timestampMs == Self.minute })
        func total(_ metric: String) -> Double { functions.joined().filter { $0.metricName == metric }.map(\.sum).reduce(0, +) }
        for metric in ["Invocations", "Errors", "Throttles", "Duration"] {
            #expect(account.first { $0.metricName == metric }?.sum == total(metric), "\(metric)")
        }
        let concurrency = try #require(account.first { $0.metricName == "ConcurrentExecutions" })
        let unreserved = try #require(account.first { $0.metricName == "UnreservedConcurrentExecutions" })
        let reserved = Double(topology.functions.compactMap(\.reservedConcurrency).reduce(0, +))
        #expect(reserved > 0, "the topology reserves concurrency for some functions")
        // What functions without a reservation use comes out of the pool the reservations leave.
        let pool = LambdaMetricsSimulator.accountConcurrencyLimit - reserved
        #expect(unreserved.max <= pool && unreserved.min >= pool - concurrency.max && unreserved.min <= unreserved.max)
    }

    @Test func functionsWithLambdaInsightsGetItsMetricsBesideTheLambdaOnes() throws {
        let topology = DemoTopology(functions: 10, seed: 3)
        let sim = LambdaMetricsSimulator(topology: topology, tracesPerSecond: 50, seed: 3)
        #expect(topology.functions.contains { $0.lambdaInsights } && topology.functions.contains { !$0.lambdaInsights })
        var coldStarts = 0.0
        for minute in 0..<5 {
            let start = Self.minute + UInt64(minute) * 60_000
            for (i, fn) in topology.functions.enumerated() {
                let both = sim.minute(function: i, minuteStartMs: start, streamName: "s")
                #expect(both.lambda == sim.points(function: i, minuteStartMs: start, streamName: "s"))
                #expect(both.insights == sim.insightsPoints(function: i, minuteStartMs: start, streamName: "s"))
                guard fn.lambdaInsights else {
                    #expect(both.insights.isEmpty, "\(fn.name)")
                    continue
                }
                let names = both.insights.map(\.metricName).filter { $0 != "init_duration" }
                #expect(names == ["total_memory", "used_memory_max", "memory_utilization", "cpu_total_time"], "\(fn.name)")
                let invocations = try #require(both.lambda.first { $0.metricName == "Invocations" })
                for p in both.insights {
                    #expect(p.namespace == "LambdaInsights")
                    #expect(p.dimensions.map(\.name) == ["function_name"] && p.dimensions.map(\.value) == [fn.name])
                    #expect(p.timestampMs == start)
                    #expect(p.min <= p.max && p.count > 0)
                }
                let memory = try #require(both.insights.first { $0.metricName == "total_memory" })
                #expect(memory.max == Double(fn.memoryMB) && memory.count == invocations.sum)
                let used = try #require(both.insights.first { $0.metricName == "used_memory_max" })
                #expect(used.max <= memory.max)
                if let cold = both.insights.first(where: { $0.metricName == "init_duration" }) {
                    #expect(both.insights.first?.metricName == "init_duration")
                    #expect(cold.count <= invocations.sum)
                    #expect(cold.max <= fn.coldStartMs * 1.3 && cold.min >= fn.coldStartMs * 0.7)
                    coldStarts += cold.count
                }
            }
        }
        #expect(coldStarts > 0, "init_duration: cold starts in five busy minutes")
    }

    @Test func aMinutesPointsDependOnlyOnSeedFunctionAndMinute() {
        let topology = DemoTopology(functions: 4, seed: 5)
        let sim = LambdaMetricsSimulator(topology: topology, tracesPerSecond: 10, seed: 5)
        let a = sim.points(function: 2, minuteStartMs: Self.minute, streamName: "s")
        _ = sim.points(function: 1, minuteStartMs: Self.minute + 60_000, streamName: "s")
        #expect(sim.points(function: 2, minuteStartMs: Self.minute, streamName: "s") == a)
        #expect(sim.points(function: 2, minuteStartMs: Self.minute + 60_000, streamName: "s") != a)
    }

    @Test func expectedRatesFollowTheCallGraph() {
        let topology = DemoTopology(functions: 10, seed: 1)
        let rates = topology.expectedRates(tracesPerSecond: 15.1)
        // Entry weights 5, 6, 3, 0.1 of 14.1 … scaled to 15.1 traces/s.
        #expect(abs(rates[0] - 15.1 * 5 / 14.1) < 1e-9)
        #expect(abs(rates[1] - rates[0]) < 1e-9)  // payment-service: invoked on every checkout
        #expect(abs(rates[2] - rates[0] * 0.9) < 1e-9)  // order-processor: 90 % of checkouts
        #expect(abs(rates[4] - (rates[2] + rates[9])) < 1e-9)  // email-notifier: SNS + nightly-report
    }
}
