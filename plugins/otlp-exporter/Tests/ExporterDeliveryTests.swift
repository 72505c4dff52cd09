// The exporter against a real OTLP receiver built from opentelemetry-proto: content, retries, rejections.
import FireflyModel
import FireflyPluginKit
import FireflyTestSupport
import Foundation
import OTLPExporter
import Testing

/// Runs `export` as the host does: again after every retryable answer (no wait here: the host's
/// backoff is tested with the host), up to `attempts` times. Returns every answer.
func exportLikeTheHost(_ exporter: OTLPExporter, _ batch: TelemetryBatch, attempts: Int = 10) async -> [ExportResult] {
    var answers: [ExportResult] = []
    for _ in 0..<attempts {
        let result = await exporter.export(batch)
        answers.append(result)
        if case .retryable = result { continue }
        break
    }
    return answers
}

func makeExporter(_ config: [String: JSONValue]) throws -> OTLPExporter {
    try OTLPExporter(context: .standalone(instanceName: "otlp"), config: PluginConfig(config))
}

@Suite(.serialized) struct ExporterDeliveryTests {
    static let batch = TelemetryBatch(points: SampleBatch.points, spans: SampleBatch.spans, logs: SampleBatch.logs)

    @Test(arguments: ["http/protobuf", "grpc"])
    func theReceiverGetsEveryItemWithHeadersAndGzip(transport: String) async throws {
        let receiver = try await PythonReceiver.start()
        defer { receiver.stop() }
        let endpoint = transport == "grpc" ? receiver.grpcEndpoint : receiver.httpEndpoint
        let exporter = try makeExporter([
            "endpoint": .string(endpoint), "protocol": .string(transport),
            "headers": .object(["Authorization": .string("Bearer s3cret"), "X-Tenant": .string("edge-1")]),
        ])
        // As the host does: a retryable answer (a timeout on a loaded machine) is tried again.
        let answers = await exportLikeTheHost(exporter, Self.batch)
        await exporter.shutdown()
        #expect(answers.last == .ok, "\(answers)")
        let got = try await receiver.received()
        #expect(Set(got.spans.map(\.span_id)) == Set(SampleBatch.spans.map(\.spanID.description)))
        #expect(
            got.spans.first { $0.span_id == SampleBatch.spans[0].spanID.description }?.resource["faas.name"]
                == "checkout")
        #expect(got.points.count >= SampleBatch.points.count)
        #expect(Set(got.points.map(\.kind)) == ["gauge", "sum", "histogram", "summary"])
        #expect(got.logs.count >= 3)
        #expect(got.logs.first?.body == "payment failed")
        #expect(got.logs.last?.body == "")
        #expect(got.headers.count >= 3)
        for headers in got.headers {
            #expect(headers["authorization"] == "Bearer s3cret")
            #expect(headers["x-tenant"] == "edge-1")
            if transport == "grpc" {
                #expect(headers["grpc-encoding"] == nil || headers["grpc-encoding"] == "gzip")
            } else {
                #expect(headers["content-encoding"] == "gzip")
                #expect(headers["content-type"] == "application/x-protobuf")
            }
        }
    }

    @Test(arguments: ["http/protobuf", "grpc"])
    func unavailableIsRetriedWithTheDelayAskedForAndNothingIsLostOrDoubled(transport: String) async throws {
        let receiver = try await PythonReceiver.start()
        defer { receiver.stop() }
        try await receiver.control(["fail_next": 3, "http_status": 503, "grpc_code": "UNAVAILABLE", "retry_after": 2])
        let endpoint = transport == "grpc" ? receiver.grpcEndpoint : receiver.httpEndpoint
        let exporter = try makeExporter(["endpoint": .string(endpoint), "protocol": .string(transport)])
        let answers = await exportLikeTheHost(exporter, Self.batch)
        await exporter.shutdown()
        #expect(answers.last == .ok)
        // Three signals in one batch, sent at once: three failures may take one or more attempts.
        #expect(answers.count >= 2)
        for answer in answers.dropLast() {
            guard case .retryable(let after, let message) = answer else {
                Issue.record("expected retryable, got \(answer)")
                continue
            }
            #expect(after == .seconds(2))
            #expect(message.contains(transport == "grpc" ? "UNAVAILABLE" : "HTTP 503"))
        }
        let got = try await receiver.received()
        // Exactly once: parts accepted before a retry are not sent again.
        #expect(got.spans.map(\.span_id).sorted() == SampleBatch.spans.map(\.spanID.description).sorted())
        #expect(got.points.count == SampleBatch.points.count)
        #expect(got.logs.count == SampleBatch.logs.count)
    }

    @Test(arguments: ["http/protobuf", "grpc"])
    func badRequestIsAPermanentFailureAtOnce(transport: String) async throws {
        let receiver = try await PythonReceiver.start()
        defer { receiver.stop() }
        try await receiver.control(["reject_all": true])
        let endpoint = transport == "grpc" ? receiver.grpcEndpoint : receiver.httpEndpoint
        let exporter = try makeExporter(["endpoint": .string(endpoint), "protocol": .string(transport)])
        let answers = await exportLikeTheHost(exporter, TelemetryBatch(spans: SampleBatch.spans))
        await exporter.shutdown()
        #expect(answers.count == 1)
        guard case .permanent(let message) = answers.first else {
            Issue.record("expected permanent, got \(answers)")
            return
        }
        #expect(message.contains(transport == "grpc" ? "INVALID_ARGUMENT" : "HTTP 400"))
        #expect(try await receiver.received().spans.isEmpty)
    }

    @Test func partialSuccessIsAcceptedNotRetried() async throws {
        let receiver = try await PythonReceiver.start()
        defer { receiver.stop() }
        try await receiver.control(["partial": 2])
        let exporter = try makeExporter(["endpoint": .string(receiver.httpEndpoint)])
        let answers = await exportLikeTheHost(exporter, TelemetryBatch(spans: SampleBatch.spans))
        await exporter.shutdown()
        #expect(answers == [.ok])
        #expect(try await receiver.received().answers == ["http traces 200": 1])
    }

    @Test func aStoppedReceiverIsRetryable() async throws {
        let exporter = try makeExporter([
            "endpoint": .string("http://127.0.0.1:\(freePort())"), "timeout": .string("2s"),
        ])
        let result = await exporter.export(TelemetryBatch(spans: SampleBatch.spans))
        await exporter.shutdown()
        guard case .retryable = result else {
            Issue.record("expected retryable, got \(result)")
            return
        }
    }

    @Test func threeReceiversEachGetWholeTraces() async throws {
        let receivers = [
            try await PythonReceiver.start(), try await PythonReceiver.start(), try await PythonReceiver.start(),
        ]
        defer { for r in receivers { r.stop() } }
        let exporter = try makeExporter(["endpoints": .array(receivers.map { .string($0.httpEndpoint) })])
        var spans: [Span] = []
        var generator = SystemRandomNumberGenerator()
        for t in 0..<300 {
            let trace = TraceID(high: generator.next(), low: generator.next())
            for s in 0..<3 {
                spans.append(
                    Span(
                        traceID: trace, spanID: SpanID(UInt64(t * 4 + s + 1)), name: "s\(s)", startTimeUnixNano: 1,
                        endTimeUnixNano: 2))
            }
        }
        let answers = await exportLikeTheHost(exporter, TelemetryBatch(spans: spans))
        await exporter.shutdown()
        #expect(answers.last == .ok, "\(answers)")
        var owner: [String: Int] = [:]
        var total = 0
        for (i, receiver) in receivers.enumerated() {
            let got = try await receiver.received()
            #expect(!got.spans.isEmpty)
            total += got.spans.count
            for span in got.spans {
                #expect(
                    owner.updateValue(i, forKey: span.trace_id) ?? i == i, "trace \(span.trace_id) on two receivers")
            }
        }
        #expect(total >= spans.count)
        #expect(owner.count == 300)
    }
}
