// A running `firefly serve` exporting to the opentelemetry-proto receiver: the host's retries, queue and dead letters.
import FireflyOTLP
import FireflyModel
import FireflyTestSupport
import Foundation
import OTLPExporter
import Testing

/// What the collector does with the exporter's answers, end to end: a receiver that answers 503 /
/// UNAVAILABLE for a while gets everything once it recovers (the queue holds, the host backs off),
/// and one that answers 400 / INVALID_ARGUMENT has every item dead-lettered at once.
@Suite(.serialized) struct EdgeDeliveryEndToEndTests {
    static func config(endpoint: String, transport: String) -> String {
        """
        server:
          listen: 127.0.0.1:0
        plugins:
          paths: [plugins]
        queue:
          batch_max_wait: 20ms
          retry_initial: 100ms
          retry_max: 1s
        receivers:
          otlp:
            grpc: {enabled: false}
        exporters:
          upstream:
            plugin: otlp-exporter
            endpoint: \(endpoint)
            protocol: \(transport)
            timeout: 5s
        pipelines:
          traces: {receivers: [otlp], exporters: [upstream]}
        """
    }

    /// 4 requests of 5 spans, each span in a trace of its own.
    static let requests: [[Span]] = (0..<4).map { r in
        (0..<5).map { i in
            let n = UInt64(r * 5 + i + 1)
            return Span(
                traceID: TraceID(high: 0xFEED, low: n), spanID: SpanID(n), name: "edge-\(n)", startTimeUnixNano: n,
                endTimeUnixNano: n + 1)
        }
    }
    static var spanIDs: [String] { requests.joined().map(\.spanID.description).sorted() }

    func start(_ receiver: PythonReceiver, transport: String) async throws -> FireflyServer {
        let ws = try Workspace(plugins: ["FireflyOTLPPlugin", "FireflyOTLPExporterPlugin"])
        let config = Self.config(
            endpoint: transport == "grpc" ? receiver.grpcEndpoint : receiver.httpEndpoint, transport: transport)
        let server = try await offThePool { try FireflyServer(workspace: ws, config: config) }
        for spans in Self.requests {
            let answer = try await http(
                "POST", server.baseURL + "/v1/traces", body: Data(OTLPRequestEncoder.traces(spans)),
                headers: ["Content-Type": "application/x-protobuf"])
            #expect(answer.status == 200)
        }
        return server
    }

    struct DeadLetter: Decodable {
        var reason: String
        var batch: TelemetryBatch
    }

    @Test(arguments: ["http/protobuf", "grpc"])
    func aReceiverUnavailableForAWhileGetsEverySpanExactlyOnce(transport: String) async throws {
        let receiver = try await PythonReceiver.start()
        defer { receiver.stop() }
        try await receiver.control(["fail_next": 4, "http_status": 503, "grpc_code": "UNAVAILABLE", "retry_after": 1])
        let server = try await start(receiver, transport: transport)
        defer { server.stop() }
        var arrived = false
        let deadline = ContinuousClock.now + .seconds(30)
        while !arrived, ContinuousClock.now < deadline {
            arrived = try await receiver.received().spans.count == 20
            if !arrived { try await Task.sleep(for: .milliseconds(100)) }
        }
        let got = try await receiver.received()
        #expect(arrived, "\(got.answers)\n\(server.logText)")
        #expect(got.spans.map(\.span_id).sorted() == Self.spanIDs)
        #expect(got.answers[transport == "grpc" ? "grpc traces UNAVAILABLE" : "http traces 503"] == 4)
        #expect(server.workspace.read(".firefly/queue/dead-letters.jsonl").isEmpty)
    }

    @Test(arguments: ["http/protobuf", "grpc"])
    func aRefusingReceiverHasEverySpanDeadLetteredAtOnce(transport: String) async throws {
        let receiver = try await PythonReceiver.start()
        defer { receiver.stop() }
        try await receiver.control(["reject_all": true])
        let server = try await start(receiver, transport: transport)
        defer { server.stop() }
        func letters() -> [DeadLetter] {
            (try? jsonLines(server.workspace.read(".firefly/queue/dead-letters.jsonl"), as: DeadLetter.self)) ?? []
        }
        #expect(await eventually(30) { letters().flatMap(\.batch.spans).count == 20 }, "\(server.logText)")
        let dead = letters()
        #expect(dead.flatMap(\.batch.spans).map(\.spanID.description).sorted() == Self.spanIDs)
        #expect(
            dead.allSatisfy { $0.reason.contains(transport == "grpc" ? "INVALID_ARGUMENT" : "HTTP 400") },
            "\(dead.map(\.reason))")
        // Refused for good: no retries once everything is dead-lettered.
        let refusals = try await receiver.received().answers
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try await receiver.received().answers == refusals)
        #expect(try await receiver.received().spans.isEmpty)
    }

}
