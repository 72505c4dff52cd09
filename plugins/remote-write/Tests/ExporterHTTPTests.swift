import FireflyModel
import FireflyPluginKit
import Foundation
import RemoteWriteExporter
import Testing

@Suite struct ExporterHTTPTests {
    static let point = MetricPoint(
        name: "Invocations", namespace: "AWS/Lambda", kind: .summary,
        labels: [Label("FunctionName", "checkout"), Label("cloud.region", "us-east-1")],
        timeUnixNano: 1_700_000_000_000_000_000, count: 0, sum: 42)

    func exporter(_ server: CaptureServer, _ extra: [String: JSONValue] = [:]) throws -> RemoteWriteExporter {
        var config: [String: JSONValue] = ["url": .string(server.url)]
        config.merge(extra) { $1 }
        return try RemoteWriteExporter(context: .standalone(instanceName: "remote_write"), config: PluginConfig(config))
    }

    @Test func sendsSnappyProtobufWithTheRequiredHeaders() async throws {
        let server = CaptureServer(replies: [.init(status: 204)])
        try await server.start()
        let exporter = try exporter(server, ["headers": .object(["X-Scope-OrgID": .string("tenant-1")])])
        #expect(await exporter.export(TelemetryBatch(points: [Self.point])) == .ok)
        await exporter.shutdown()
        await server.stop()
        let request = try #require(server.requests.withLock { $0.first })
        #expect(request.method == "POST")
        #expect(request.uri == "/api/v1/write")
        #expect(request.header("Content-Encoding") == "snappy")
        #expect(request.header("Content-Type") == "application/x-protobuf")
        #expect(request.header("X-Prometheus-Remote-Write-Version") == "0.1.0")
        #expect(request.header("User-Agent") == "firefly/0.1.0")
        #expect(request.header("X-Scope-OrgID") == "tenant-1")
        #expect(request.header("Authorization") == nil)
        let expected = WriteRequestEncoder.encode([
            RemoteWriteSeries(labels: [Label("__name__", "aws_lambda_invocations_sum"), Label("dimension_FunctionName", "checkout"), Label("region", "us-east-1")],
                              samples: [RemoteWriteSample(value: 42, timestampMs: 1_700_000_000_000)]),
            RemoteWriteSeries(labels: [Label("__name__", "aws_lambda_invocations_sample_count"), Label("dimension_FunctionName", "checkout"), Label("region", "us-east-1")],
                              samples: [RemoteWriteSample(value: 0, timestampMs: 1_700_000_000_000)]),
        ])
        #expect(Snappy.uncompress(request.body) == expected)
    }

    @Test func basicAuthAndBearerTokenBecomeAuthorizationHeaders() async throws {
        let server = CaptureServer(replies: [.init(status: 200)])
        try await server.start()
        let basic = try exporter(server, ["basic_auth": .object(["username": .string("alice"), "password": .string("s3cret")])])
        #expect(await basic.export(TelemetryBatch(points: [Self.point])) == .ok)
        await basic.shutdown()
        let bearer = try exporter(server, ["bearer_token": .string("tok-123")])
        var later = Self.point
        later.timeUnixNano += 60_000_000_000
        #expect(await bearer.export(TelemetryBatch(points: [later])) == .ok)
        await bearer.shutdown()
        await server.stop()
        let auth = server.requests.withLock { $0.map { $0.header("Authorization") } }
        #expect(auth == ["Basic YWxpY2U6czNjcmV0", "Bearer tok-123"])
    }

    @Test func tooManyRequestsIsRetryableAfterRetryAfterAndSecretsStayOut() async throws {
        let server = CaptureServer(replies: [.init(status: 429, headers: [("Retry-After", "7")], body: "slow down tok-123")])
        try await server.start()
        let exporter = try exporter(server, ["bearer_token": .string("tok-123")])
        let result = await exporter.export(TelemetryBatch(points: [Self.point]))
        let url = server.url
        await exporter.shutdown()
        await server.stop()
        #expect(result == .retryable(after: .seconds(7), message: "remote write to \(url) got HTTP 429: slow down <redacted>"))
    }

    @Test func serverErrorIsRetryableAndTheRetrySendsTheSameSamples() async throws {
        let server = CaptureServer(replies: [.init(status: 503, body: "overloaded"), .init(status: 200)])
        try await server.start()
        let exporter = try exporter(server)
        let batch = TelemetryBatch(points: [Self.point])
        #expect(await exporter.export(batch) == .retryable(after: nil, message: "remote write to \(server.url) got HTTP 503: overloaded"))
        #expect(await exporter.export(batch) == .ok)
        // Now accepted: a redelivery of the same batch sends nothing.
        #expect(await exporter.export(batch) == .ok)
        await exporter.shutdown()
        await server.stop()
        let bodies = server.requests.withLock { $0.map(\.body) }
        #expect(bodies.count == 2)
        #expect(bodies[0] == bodies[1])
    }

    @Test func badRequestIsPermanentWithTheReceiversMessage() async throws {
        let server = CaptureServer(replies: [.init(status: 400, body: "out of order sample\n")])
        try await server.start()
        let exporter = try exporter(server)
        let result = await exporter.export(TelemetryBatch(points: [Self.point]))
        let url = server.url
        await exporter.shutdown()
        await server.stop()
        #expect(result == .permanent(message: "remote write to \(url) rejected with HTTP 400: out of order sample"))
        #expect(server.requests.withLock { $0.count } == 1)
    }

    @Test func unreachableReceiverIsRetryable() async throws {
        let server = CaptureServer(replies: [.init(status: 200)])
        try await server.start()
        let url = server.url
        await server.stop()
        let exporter = try RemoteWriteExporter(context: .standalone(instanceName: "rw"), config: PluginConfig(["url": .string(url), "timeout": .string("1s")]))
        let result = await exporter.export(TelemetryBatch(points: [Self.point]))
        await exporter.shutdown()
        guard case .retryable(nil, let message) = result else {
            Issue.record("expected retryable, got \(result)")
            return
        }
        #expect(message.hasPrefix("remote write to \(url) failed: "))
    }

    @Test func configurationDefaultsAndEveryProblemAtOnce() throws {
        let config = try RemoteWriteSettings(PluginConfig(["url": .string("http://127.0.0.1:9090/api/v1/write")]))
        #expect(config.timeout == .seconds(30))
        #expect(config.maxSamplesPerRequest == 2000)
        #expect(config.shards == 1)
        #expect(config.externalLabels == [])
        #expect(throws: PluginConfigError(problems: [
            "url: must be an http:// or https:// URL with a host, not 'ftp://x'",
            "shards: must be between 1 and 64, not 0",
            "headers.Content-Type: is set by remote-write itself and cannot be overridden",
            "basic_auth.username: is required",
            "bearer_token: cannot be combined with basic_auth",
            "external_labels.bad-name: is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, no '__' prefix)",
            "max_sample_per_request: unknown key 'max_sample_per_request' (did you mean 'max_samples_per_request'?)",
        ])) {
            try RemoteWriteSettings(PluginConfig([
                "url": .string("ftp://x"), "shards": .number(0), "headers": .object(["Content-Type": .string("x")]),
                "basic_auth": .object(["password": .string("hunter2")]), "bearer_token": .string("t"),
                "external_labels": .object(["bad-name": .string("v")]), "max_sample_per_request": .number(5),
            ]))
        }
    }

    @Test func retryAfterAcceptsAnHTTPDate() async throws {
        let server = CaptureServer(replies: [.init(status: 503, headers: [("Retry-After", "Wed, 21 Oct 2099 07:28:00 GMT")])])
        try await server.start()
        let exporter = try exporter(server)
        let result = await exporter.export(TelemetryBatch(points: [Self.point]))
        await exporter.shutdown()
        await server.stop()
        guard case .retryable(let after?, _) = result else {
            Issue.record("expected retryable with a delay, got \(result)")
            return
        }
        let expected = Int64(4_096_250_880) - Int64(Date().timeIntervalSince1970)
        #expect(abs(after.components.seconds - expected) < 60)
    }
}
