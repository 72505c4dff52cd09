import CFireflyPlugin
import FireflyModel
import Testing

@testable import FireflyPluginKit

@Suite struct BatchBridgeTests {
    @Test func batchesRoundTripThroughTheCABIUnchanged() throws {
        let point = MetricPoint(
            name: "Duration", namespace: "AWS/Lambda", unit: "Milliseconds", function: "checkout", kind: .summary,
            hasMinMax: true, isDelta: true, labels: [Label("FunctionName", "checkout"), Label("cloud.region", "eu-west-1")],
            startTimeUnixNano: 1, timeUnixNano: 2, count: 12, sum: 1530, min: 3.2, max: 812.5,
            quantiles: [Quantile(0, 3.2), Quantile(0.99, 790.1), Quantile(1, 812.5)])
        let histogram = MetricPoint(name: "h", kind: .histogram, isMonotonic: true, timeUnixNano: 3, count: 3, sum: 6,
                                    bounds: [1, 2], bucketCounts: [1, 1, 1])
        let span = Span(
            traceID: TraceID(hex: "0af7651916cd43dd8448eb211c80319c")!, spanID: SpanID(hex: "b7ad6b7169203331")!,
            parentSpanID: SpanID(7), traceState: "k=v", name: "handler", kind: .consumer, statusCode: .error,
            statusMessage: "boom", startTimeUnixNano: 100, endTimeUnixNano: 250, function: "pay", service: "pay-svc",
            scopeName: "scope", scopeVersion: "1", attributes: [
                Attribute("s", .string("ünïcode ✓")), Attribute("b", .bool(true)), Attribute("i", .int(-9)),
                Attribute("d", .double(2.5)), Attribute("y", .bytes([0, 1, 2])), Attribute("j", .json(#"{"a":1}"#)),
            ],
            resourceAttributes: [Attribute("service.name", .string("pay-svc"))],
            events: [SpanEvent(timeUnixNano: 150, name: "exception", attributes: [Attribute("m", .string("x"))])],
            links: [SpanLink(traceID: TraceID(high: 9, low: 9), spanID: SpanID(9), traceState: "a=b", attributes: [Attribute("l", .int(1))])])
        let batch = TelemetryBatch(points: [point, histogram], spans: [span])
        let arena = CArena(chunkSize: 128)  // small chunks exercise chunk growth
        let c = BatchBridge.cBatch(batch, in: arena)
        #expect(try BatchBridge.telemetry(from: c) == batch)
    }

    @Test func rejectsBatchesFromAnotherABIOrWithShortStrides() {
        var header = firefly_batch()
        header.abi_version = 2 << 16
        header.struct_size = UInt32(MemoryLayout<firefly_batch>.size)
        #expect(throws: BatchBridge.InvalidBatch.self) { try BatchBridge.telemetry(from: &header) }
        header.abi_version = firefly_abi_version
        var point = firefly_metric_point()
        withUnsafePointer(to: &point) { p in
            header.points = p
            header.point_count = 1
            header.point_size = 8
            #expect(throws: BatchBridge.InvalidBatch.self) { try BatchBridge.telemetry(from: &header) }
        }
    }
}

@Suite struct PluginConfigTests {
    @Test func readsTypedValuesWithDefaults() throws {
        let c = try PluginConfig(json: #"{"path":"/x","n":5,"on":true,"keys":["a","b"],"wait":"1.5s","m":{"k":"v"}}"#)
        #expect(c.string("path", default: "/") == "/x")
        #expect(c.int("n", default: 0) == 5)
        #expect(c.bool("on", default: false))
        #expect(c.stringList("keys", default: []) == ["a", "b"])
        #expect(c.duration("wait", default: nil) == .milliseconds(1500))
        #expect(c.stringMap("m").map { "\($0.0)=\($0.1)" } == ["k=v"])
        #expect(c.string("absent", default: "d") == "d")
        try c.finish()
    }

    @Test func readsDurationsInOneLanguage() {
        #expect(PluginConfig.parseDuration("500ms") == .milliseconds(500))
        #expect(PluginConfig.parseDuration("1.5s") == .milliseconds(1500))
        #expect(PluginConfig.parseDuration("5m") == .seconds(300))
        #expect(PluginConfig.parseDuration("12h") == .seconds(43_200))
        #expect(PluginConfig.parseDuration("30d") == .seconds(2_592_000))
        #expect(PluginConfig.parseDuration("90") == .seconds(90))
        for bad in ["", "s", "-5s", "1e3s", "inf", "infs", "5 m", "5w", "٣s", "99999999999999999999d"] {
            #expect(PluginConfig.parseDuration(bad) == nil, "\(bad)")
        }
    }

    @Test func reportsEveryProblemAndUnknownKeysWithSuggestions() throws {
        let c = try PluginConfig(json: #"{"pth":"/x","n":"five","on":1,"keys":[1],"nested":{"deep":2,"extra":true}}"#)
        _ = c.string("path", default: "/")
        _ = c.int("n", default: 0)
        _ = c.bool("on", default: false)
        _ = c.stringList("keys", default: [])
        let nested = c.object("nested")
        _ = nested?.int("deep", default: 0)
        #expect(throws: PluginConfigError.self) { try c.finish() }
        do {
            try c.finish()
        } catch {
            #expect(error.problems == [
                "n: expected an integer",
                "on: expected true or false",
                "keys[0]: expected a string",
                "pth: unknown key 'pth' (did you mean 'path'?)",
                "nested.extra: unknown key 'extra'",
            ])
        }
    }

    @Test func emptyConfigIsAnEmptyObjectAndNonObjectsAreRefused() throws {
        try PluginConfig(json: "").finish()
        #expect(throws: PluginConfigError.self) { try PluginConfig(json: "[1]") }
    }
}
