import FireflyModel
import FireflyTestSupport
import Foundation
import Testing

/// The OpenTelemetry Python SDK, a real client, sending to a running `firefly serve`.
@Suite(.serialized) struct OTLPEndToEndTests {
    static let config = """
        server:
          listen: 127.0.0.1:0
        plugins:
          paths: [plugins]
        receivers:
          otlp:
            grpc: {listen: 127.0.0.1:0}
        exporters:
          debug:
            path: out.jsonl
        pipelines:
          metrics: {receivers: [otlp], exporters: [debug]}
          traces: {receivers: [otlp], exporters: [debug]}
        """

    struct Sent: Decodable {
        struct SentSpan: Decodable {
            var name: String
            var trace_id: String
            var span_id: String
            var parent_span_id: String
            var start: UInt64
            var end: UInt64
        }
        var spans: [SentSpan]
    }

    func records(_ ws: Workspace) throws -> [DebugRecord] {
        try jsonLines(ws.read("out.jsonl"), as: DebugRecord.self)
    }

    @Test func thePythonSDKsSpansAndMetricsArriveIntact() throws {
        let ws = try Workspace(plugins: ["FireflyOTLPPlugin", "FireflyDebugPlugin"])
        let server = try FireflyServer(workspace: ws, config: Self.config)
        defer { server.stop() }
        let script = Build.packageRoot.appendingPathComponent("Tests/IntegrationTests/clients/otlp_client.py").path
        let client = try run("/usr/bin/env", ["python3", script, server.baseURL])
        #expect(client.status == 0, "\(client.stderr)")
        let data = client.output
        let sent = try JSONDecoder().decode(Sent.self, from: data)
        #expect(try eventually(15) { try records(ws).compactMap(\.span).count == 3 && records(ws).compactMap(\.point).count >= 5 })
        let spans = try records(ws).compactMap(\.span)
        for s in sent.spans {
            let got = try #require(spans.first { $0.spanID.description == s.span_id }, "span \(s.name) missing")
            #expect(got.name == s.name)
            #expect(got.traceID.description == s.trace_id)
            #expect(got.parentSpanID.description == s.parent_span_id)
            #expect(got.startTimeUnixNano == s.start)
            #expect(got.endTimeUnixNano == s.end)
            #expect(got.function == "checkout")
            #expect(got.service == "checkout-svc")
            #expect(got.scopeName == "firefly-test")
            #expect(got.resourceAttributes[key: "cloud.region"] == .string("eu-west-1"))
        }
        let root = try #require(spans.first { $0.name == "POST /checkout" })
        #expect(root.kind == .server)
        #expect(root.isColdStart)
        #expect(root.attributes[key: "http.status_code"] == .int(200))
        #expect(root.attributes[key: "ratio"] == .double(0.5))
        let child = try #require(spans.first { $0.name == "charge card" })
        #expect(child.kind == .client)
        #expect(child.statusCode == .error)
        #expect(child.statusMessage == "card declined")
        #expect(child.events.map(\.name) == ["retry"])
        #expect(child.events.first?.attributes[key: "attempt"] == .int(2))
        #expect(child.attributes[key: "tags"] == .json(#"["a","b"]"#))

        let points = try records(ws).compactMap(\.point)
        let orders = try #require(points.first { $0.name == "orders" })
        #expect(orders.kind == .cumulativeSum && orders.isMonotonic && orders.value == 3 && orders.label("region") == "eu")
        #expect(orders.unit == "{order}")
        #expect(orders.function == "checkout")
        let inflight = try #require(points.first { $0.name == "inflight" })
        #expect(inflight.kind == .cumulativeSum && !inflight.isMonotonic && inflight.value == -2)
        let latency = try #require(points.first { $0.name == "latency" })
        #expect(latency.kind == .histogram && latency.count == 3 && latency.sum == 555 && latency.min == 5 && latency.max == 500)
        #expect(latency.bucketCounts.reduce(0, +) == 3)
        #expect(latency.bucketCounts.count == latency.bounds.count + 1)
        let size = try #require(points.first { $0.name == "payload.size" })
        #expect(size.kind == .histogram && size.count == 4 && size.sum == 15)
        #expect(size.bucketCounts.reduce(0, +) == 4)
        let temperature = try #require(points.first { $0.name == "temperature" })
        #expect(temperature.kind == .gauge && temperature.value == 21.5 && temperature.label("room") == "a")
    }
}
