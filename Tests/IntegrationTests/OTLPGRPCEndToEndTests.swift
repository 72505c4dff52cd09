import FireflyModel
import FireflyTestSupport
import Foundation
import Testing

/// The OpenTelemetry Python SDK's OTLP/gRPC exporters, real clients, sending to `firefly serve`.
@Suite(.serialized) struct OTLPGRPCEndToEndTests {
    static func config(grpcPort: Int, token: String = "") -> String {
        """
        server:
          listen: 127.0.0.1:0
        plugins:
          paths: [plugins]
        receivers:
          otlp:
            bearer_token: "\(token)"
            grpc: {listen: 127.0.0.1:\(grpcPort)}
        exporters:
          debug:
            path: out.jsonl
        pipelines:
          metrics: {receivers: [otlp], exporters: [debug]}
          traces: {receivers: [otlp], exporters: [debug]}
        """
    }

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
        var results: [String]
    }

    struct ClientRun {
        var status: Int32
        var stdout: Data
        var stderr: String
    }

    /// Runs the Python SDK client to completion, off Swift concurrency's shared threads (it takes
    /// seconds, and the in-process tests of other suites need those threads meanwhile).
    func runClient(_ arguments: [String]) async throws -> ClientRun {
        let script = Build.packageRoot.appendingPathComponent("Tests/IntegrationTests/clients/otlp_grpc_client.py").path
        let r = try await offThePool { try run("/usr/bin/env", ["python3", script] + arguments) }
        return ClientRun(status: r.status, stdout: Data(r.stdout.utf8), stderr: r.stderr)
    }

    func records(_ ws: Workspace) throws -> [DebugRecord] {
        try jsonLines(ws.read("out.jsonl"), as: DebugRecord.self)
    }

    @Test(arguments: ["none", "gzip"])
    func thePythonSDKsGRPCSpansAndMetricsArriveIntact(compression: String) async throws {
        let ws = try Workspace(plugins: ["FireflyOTLPPlugin", "FireflyDebugPlugin"])
        let grpcPort = freePort()
        let server = try FireflyServer(workspace: ws, config: Self.config(grpcPort: grpcPort, token: "t0ken"))
        defer { server.stop() }
        let run = try await runClient(["127.0.0.1:\(grpcPort)", "t0ken", compression])
        #expect(run.status == 0, "\(run.stderr)\n\(server.logText)")
        let sent = try JSONDecoder().decode(Sent.self, from: run.stdout)
        #expect(sent.results == ["SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS"])  // three spans, one metrics export

        #expect(try await eventually(15) { try records(ws).compactMap(\.span).count == 3 && records(ws).compactMap(\.point).count == 2 })
        let spans = try records(ws).compactMap(\.span)
        #expect(spans.count == 3)
        #expect(sent.spans.count == 3)
        for s in sent.spans {
            let got = try #require(spans.first { $0.spanID.description == s.span_id }, "span \(s.name) missing")
            #expect(got.name == s.name)
            #expect(got.traceID.description == s.trace_id)
            #expect(got.parentSpanID.description == s.parent_span_id)
            #expect(got.startTimeUnixNano == s.start)
            #expect(got.endTimeUnixNano == s.end)
            #expect(got.function == "orders")
            #expect(got.service == "orders-svc")
            #expect(got.scopeName == "firefly-grpc-test")
            #expect(got.scopeVersion == "0.9.0")
            #expect(got.resourceAttributes[key: "cloud.region"] == .string("us-east-2"))
        }
        // The chain: root has no parent, child's parent is root, grandchild's parent is child.
        #expect(Set(sent.spans.map(\.trace_id)).count == 1)
        #expect(sent.spans[0].parent_span_id == "0000000000000000")
        #expect(sent.spans[1].parent_span_id == sent.spans[0].span_id)
        #expect(sent.spans[2].parent_span_id == sent.spans[1].span_id)
        let root = try #require(spans.first { $0.name == "POST /orders" })
        #expect(root.kind == .server)
        #expect(root.isColdStart)
        #expect(root.attributes[key: "http.status_code"] == .int(201))
        let child = try #require(spans.first { $0.name == "reserve stock" })
        #expect(child.kind == .client)
        #expect(child.statusCode == .error)
        #expect(child.statusMessage == "out of stock")
        #expect(child.attributes[key: "items"] == .int(3))
        let grandchild = try #require(spans.first { $0.name == "pick warehouse" })
        #expect(grandchild.kind == .internal)
        #expect(grandchild.attributes[key: "score"] == .double(0.75))
        #expect(grandchild.events.map(\.name) == ["chosen"])
        #expect(grandchild.events.first?.attributes[key: "warehouse"] == .string("w-7"))

        let points = try records(ws).compactMap(\.point)
        let orders = try #require(points.first { $0.name == "orders.placed" })
        #expect(orders.kind == .cumulativeSum)
        #expect(orders.isMonotonic)
        #expect(orders.value == 5)
        #expect(orders.unit == "{order}")
        #expect(orders.label("channel") == "web")
        #expect(orders.function == "orders")
        #expect(orders.timeUnixNano > orders.startTimeUnixNano && orders.startTimeUnixNano > 0)
        let duration = try #require(points.first { $0.name == "checkout.duration" })
        #expect(duration.kind == .histogram)
        #expect(duration.unit == "ms")
        #expect(duration.count == 4)
        #expect(duration.sum == 3333)
        #expect(duration.hasMinMax && duration.min == 3 && duration.max == 3000)
        // The SDK's default explicit bounds; 3, 30, 300 and 3000 fall in buckets 1, 4, 8 and 12.
        #expect(duration.bounds == [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000])
        #expect(duration.bucketCounts == [0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0])
    }

    @Test func aWrongTokenIsRefusedAndNothingIsStored() async throws {
        let ws = try Workspace(plugins: ["FireflyOTLPPlugin", "FireflyDebugPlugin"])
        let grpcPort = freePort()
        let server = try FireflyServer(workspace: ws, config: Self.config(grpcPort: grpcPort, token: "t0ken"))
        defer { server.stop() }
        let run = try await runClient(["127.0.0.1:\(grpcPort)", "wrong", "none"])
        #expect(run.status == 1)
        let sent = try JSONDecoder().decode(Sent.self, from: run.stdout)
        #expect(sent.results == ["FAILURE", "FAILURE", "FAILURE", "FAILURE"])
        #expect(run.stderr.contains("StatusCode.UNAUTHENTICATED"))
        try await Task.sleep(for: .milliseconds(300))
        #expect(try records(ws).isEmpty)
    }

    @Test func aTakenGRPCPortStopsTheCollectorFromStarting() throws {
        let ws = try Workspace(plugins: ["FireflyOTLPPlugin", "FireflyDebugPlugin"])
        let grpcPort = freePort()
        let first = try FireflyServer(workspace: ws, config: Self.config(grpcPort: grpcPort))
        defer { first.stop() }
        let other = try Workspace(plugins: ["FireflyOTLPPlugin", "FireflyDebugPlugin"])
        #expect {
            _ = try FireflyServer(workspace: other, config: Self.config(grpcPort: grpcPort))
        } throws: { error in
            "\(error)".contains("cannot listen for OTLP/gRPC on 127.0.0.1:\(grpcPort) (bind: Address already in use)")
        }
        #expect(first.isRunning)
    }
}
