import FireflyAWS
import Foundation
import Testing

@Suite struct InstrumentationTests {
    static let endpoint = "https://firefly.example.com:4318"
    static func node(_ layers: [String] = [], _ env: [String: String] = [:], runtime: String? = "nodejs20.x", arch: String = "arm64") -> LambdaFunction {
        LambdaFunction(name: "checkout", arn: "arn:aws:lambda:eu-west-1:123456789012:function:checkout", runtime: runtime, architectures: [arch], layers: layers, environment: env)
    }

    @Test func tableLayerMatchesRuntimeAndRegion() throws {
        let change = try Instrumentation.instrument(Self.node(["arn:aws:lambda:eu-west-1:1:layer:a:1"]), tags: [:], endpoint: Self.endpoint, layer: nil, region: "eu-west-1")
        #expect(change.layers == ["arn:aws:lambda:eu-west-1:1:layer:a:1", "arn:aws:lambda:eu-west-1:184161586896:layer:opentelemetry-nodejs-0_15_0:1"])
        #expect(change.environment["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/otel-handler")
        var python = Self.node()
        python.runtime = "python3.12"
        let p = try Instrumentation.instrument(python, tags: [:], endpoint: Self.endpoint, layer: nil, region: "us-east-1")
        #expect(p.layers == ["arn:aws:lambda:us-east-1:184161586896:layer:opentelemetry-python-0_17_0:1"])
        #expect(p.environment["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/otel-instrument")
    }

    @Test func recordRoundTripsThroughTagsAndRestoresOverwrittenValues() throws {
        let original = Self.node(["arn:aws:lambda:eu-west-1:1:layer:a:1"], ["OTEL_PROPAGATORS": "tracecontext", "DB": "postgres://u:p@h/db"])
        let change = try Instrumentation.instrument(original, tags: ["team": "payments"], endpoint: Self.endpoint, layer: nil, region: "eu-west-1")
        #expect(change.environment["OTEL_PROPAGATORS"] == "tracecontext,baggage,xray")
        #expect(change.environment["DB"] == "postgres://u:p@h/db")
        #expect(change.tagsToAdd.values.allSatisfy { $0.count <= 256 && $0.wholeMatch(of: /[A-Za-z0-9+\/=]+/) != nil })
        var after = original
        after.layers = change.layers
        after.environment = change.environment
        let undo = try Instrumentation.uninstrument(after, tags: change.tagsToAdd.merging(["team": "payments"]) { a, _ in a })
        #expect(undo.layers == original.layers)
        #expect(undo.environment == original.environment)
        #expect(undo.tagsToRemove == change.tagsToAdd.keys.sorted())
    }

    @Test func longRecordsSpanSeveralTags() throws {
        let long = String(repeating: "x", count: 700)
        let change = try Instrumentation.instrument(Self.node([], ["OTEL_EXPORTER_OTLP_ENDPOINT": long]), tags: [:], endpoint: Self.endpoint, layer: nil, region: "eu-west-1")
        #expect(change.tagsToAdd.count >= 4)
        var after = Self.node()
        after.layers = change.layers
        after.environment = change.environment
        #expect(try Instrumentation.uninstrument(after, tags: change.tagsToAdd).environment == ["OTEL_EXPORTER_OTLP_ENDPOINT": long])
        var partial = change.tagsToAdd
        partial.removeValue(forKey: "firefly:restore:1")
        #expect(throws: InstrumentationRefusal.self) { try Instrumentation.uninstrument(after, tags: partial) }
    }

    @Test func limitsAndUnsupportedRuntimesAreRefused() {
        func refusal(_ f: LambdaFunction, tags: [String: String] = [:], region: String = "eu-west-1", layer: String? = nil) -> String {
            do {
                _ = try Instrumentation.instrument(f, tags: tags, endpoint: Self.endpoint, layer: layer, region: region)
                return "accepted"
            } catch {
                return error.reason
            }
        }
        let five = (1...5).map { "arn:aws:lambda:eu-west-1:1:layer:l\($0):1" }
        #expect(refusal(Self.node(five)) == "has 5 layers and Lambda allows 5")
        let big = ["BIG": String(repeating: "v", count: 4000)]
        #expect(refusal(Self.node([], big)).hasPrefix("its environment would be "))
        #expect(Instrumentation.environmentBytes(["A": "b"]) == 9)
        #expect(refusal(Self.node(runtime: "go1.x")).hasPrefix("runtime go1.x has no OpenTelemetry Lambda layer"))
        #expect(refusal(Self.node(runtime: nil)).contains("container image"))
        #expect(refusal(Self.node(), region: "me-central-1").contains("pass --layer ARN"))
        #expect(refusal(Self.node(), region: "me-central-1", layer: "arn:aws:lambda:me-central-1:1:layer:otel:3") == "accepted")
        #expect(refusal(Self.node([], ["AWS_LAMBDA_EXEC_WRAPPER": "/opt/datadog_wrapper"])).contains("another tool wraps"))
        #expect(refusal(Self.node(["arn:aws:lambda:eu-west-1:901920570463:layer:aws-otel-nodejs-arm64-ver-1-18-1:4"])).contains("already has the OpenTelemetry layer"))
        let many = Dictionary(uniqueKeysWithValues: (0..<49).map { ("t\($0)", "v") })
        #expect(refusal(Self.node(), tags: many).contains("Lambda allows 50"))
        #expect(refusal(Self.node(), tags: ["firefly:restore:0": "x"]).contains("already instrumented"))
    }

    @Test func diffHidesValuesItDoesNotChange() throws {
        let change = try Instrumentation.instrument(Self.node([], ["PASSWORD": "hunter2", "OTEL_PROPAGATORS": "b3"]), tags: [:], endpoint: Self.endpoint, layer: nil, region: "eu-west-1")
        #expect(change.diff.contains("   PASSWORD=…"))
        #expect(!change.diff.contains("hunter2"))
        #expect(change.diff.contains("-  OTEL_PROPAGATORS=b3\n+  OTEL_PROPAGATORS=tracecontext,baggage,xray"))
    }
}
