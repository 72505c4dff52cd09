import FireflyAWS
import FireflyTestSupport
import Foundation
import Testing

/// `firefly aws functions / instrument / uninstrument` against moto's server playing the Lambda API.
@Suite(.enabled(if: MotoLambda.shouldRun, "moto[server] is not installed (pip install 'moto[server]')"))
struct LambdaMotoTests {
    static let endpoint = "https://firefly.example.com:4318"

    @Test func listsEveryFunctionAcrossPages() async throws {
        let moto = try await MotoLambda.shared.value
        let functions = try await moto.lambda().listFunctions()
        #expect(functions.count == moto.ready.functions.count)
        #expect(Set(functions.map(\.name)) == Set(moto.ready.functions.keys))
        #expect(functions.count > 50)
        // f-000 … f-059 belong to this test alone: nothing else changes them.
        for function in functions where function.name.hasPrefix("f-") {
            let created = try #require(moto.ready.functions[function.name])
            #expect(function.runtime == created.runtime)
            #expect(function.layers == created.layers)
            #expect(function.environment == created.variables)
            #expect(function.architecture == created.architecture)
            #expect(function.memorySize == created.memory)
        }
        let cli = try await offThePool { try moto.firefly(["aws", "functions"]) }
        #expect(cli.status == 0, "\(cli.stderr)")
        #expect(cli.stdout.contains("\(moto.ready.functions.count) functions in us-east-1"))
        #expect(cli.stdout.split(separator: "\n").filter { $0.hasPrefix("f-") }.count == 60)
        #expect(cli.stdout.contains(/f-001\s+python3\.12\s+arm64\s+192 MB\s+no/))
    }

    @Test func instrumentKeepsEverythingAndUninstrumentRestoresExactly() async throws {
        let moto = try await MotoLambda.shared.value
        let lambda = try moto.lambda()
        let before = [try await lambda.function("inst-a"), try await lambda.function("inst-b")]
        let otel = moto.ready.otel_layer
        let instrumented = try await offThePool {
            try moto.firefly(["aws", "instrument", "inst-a", "inst-b", "--endpoint", Self.endpoint, "--layer", otel])
        }
        #expect(instrumented.status == 0, "\(instrumented.stderr)")
        #expect(instrumented.stdout.contains("instrumented inst-a"))
        for original in before {
            let now = try await lambda.function(original.name)
            #expect(now.layers == original.layers + [otel])
            let wrapper = original.runtime!.hasPrefix("python") ? "/opt/otel-instrument" : "/opt/otel-handler"
            var expected = original.environment
            expected.merge(Instrumentation.variables(wrapper: wrapper, endpoint: Self.endpoint)) { $1 }
            #expect(now.environment == expected)
            #expect(now.environment["OTEL_PROPAGATORS"]?.contains("xray") == true)
            let tags = try await lambda.tags(now.arn)
            #expect(tags.keys.contains("firefly:restore:0"))
            #expect(!tags.values.contains { $0.contains("s3cr3t") })
        }
        let again = try await offThePool { try moto.firefly(["aws", "instrument", "inst-a", "--endpoint", Self.endpoint, "--layer", otel]) }
        #expect(again.status == 1)
        #expect(again.stderr.contains("inst-a: already instrumented by firefly"))

        let restored = try await offThePool { try moto.firefly(["aws", "uninstrument", "inst-a", "inst-b"]) }
        #expect(restored.status == 0, "\(restored.stderr)")
        for original in before {
            let now = try await lambda.function(original.name)
            #expect(now.layers == original.layers)
            #expect(now.environment == original.environment)
            #expect(try await lambda.tags(now.arn).keys.filter { $0.hasPrefix("firefly:") } == [])
        }
        #expect(before[0].environment["OTEL_PROPAGATORS"] == "tracecontext")
    }

    @Test func dryRunPrintsTheDiffAndChangesNothing() async throws {
        let moto = try await MotoLambda.shared.value
        let lambda = try moto.lambda()
        let before = try await lambda.function("dry-run")
        let otel = moto.ready.otel_layer
        let result = try await offThePool { try moto.firefly(["aws", "instrument", "dry-run", "--endpoint", Self.endpoint, "--layer", otel, "--dry-run"]) }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("+  \(otel)"))
        #expect(result.stdout.contains("   \(before.layers[0])"))
        #expect(result.stdout.contains("+  AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-handler"))
        #expect(result.stdout.contains("+  OTEL_EXPORTER_OTLP_ENDPOINT=\(Self.endpoint)"))
        #expect(result.stdout.contains("   KEEP=…"))
        #expect(!result.stdout.contains("KEEP=me"))
        #expect(try await lambda.function("dry-run") == before)
        #expect(try await lambda.tags(before.arn) == [:])
    }

    @Test func aFunctionAtTheLayerLimitIsRefusedAndLeftUntouched() async throws {
        let moto = try await MotoLambda.shared.value
        let lambda = try moto.lambda()
        let before = try await lambda.function("full-layers")
        #expect(before.layers.count == 5)
        let otel = moto.ready.otel_layer
        let result = try await offThePool { try moto.firefly(["aws", "instrument", "full-layers", "--endpoint", Self.endpoint, "--layer", otel]) }
        #expect(result.status == 1)
        #expect(result.stderr.contains("full-layers: has 5 layers and Lambda allows 5; nothing changed"), "\(result.stderr)")
        #expect(try await lambda.function("full-layers") == before)
        #expect(try await lambda.tags(before.arn) == [:])

        // A runtime without an OpenTelemetry layer wrapper (f-002 is Java) is refused even with --layer.
        let java = try await lambda.function("f-002")
        let refused = try await offThePool { try moto.firefly(["aws", "instrument", "f-002", "--endpoint", Self.endpoint, "--layer", otel]) }
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("f-002: runtime java21 has no OpenTelemetry Lambda layer"), "\(refused.stderr)")
        #expect(try await lambda.function("f-002") == java)
    }

    @Test func awsErrorsShowCodeAndMessageButNoSecret() async throws {
        let moto = try await MotoLambda.shared.value
        let result = try await offThePool { try moto.firefly(["aws", "uninstrument", "no-such-function"]) }
        #expect(result.status == 1)
        #expect(result.stderr.contains("ResourceNotFoundException"), "\(result.stderr)")
        #expect(!result.stderr.contains("test-secret"))
    }
}
