// An edge `firefly serve` exporting over OTLP to a gateway `firefly serve` that writes PostgreSQL.
import FireflyModel
import FireflyTestSupport
import FireflyWire
import Foundation
import Testing

/// The gateway topology of docs/scaling.md, with real processes: the OpenTelemetry Python SDK and
/// Firehose deliveries into the edge, OTLP (HTTP or gRPC) from edge to gateway, PostgreSQL behind the
/// gateway. Every span and point must be stored exactly once, also across a gateway outage.
@Suite(.serialized, .enabled(if: TestPostgres.available, "needs FIREFLY_TEST_POSTGRES_URL (make test sets it)"))
struct GatewayEndToEndTests {
    static func gatewayConfig(schema: String, httpPort: Int, grpcPort: Int) -> String {
        """
        server:
          listen: 127.0.0.1:\(httpPort)
        plugins:
          paths: [plugins]
        queue:
          batch_max_wait: 20ms
          retry_initial: 100ms
          retry_max: 1s
        receivers:
          otlp:
            grpc: {listen: 127.0.0.1:\(grpcPort)}
        exporters:
          postgres:
            url: \(TestPostgres.url ?? "")
            schema: \(schema)
        pipelines:
          metrics: {receivers: [otlp], exporters: [postgres]}
          traces: {receivers: [otlp], exporters: [postgres]}
          logs: {receivers: [otlp], exporters: [postgres]}
        """
    }

    static func edgeConfig(endpoint: String, transport: String) -> String {
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
          firehose:
          otlp:
            grpc: {listen: 127.0.0.1:0}
        exporters:
          gateway:
            plugin: otlp-exporter
            endpoint: \(endpoint)
            protocol: \(transport)
            headers: {X-Edge: "${EDGE_NAME:-edge-1}"}
            timeout: 5s
        pipelines:
          metrics: {receivers: [firehose, otlp], exporters: [gateway]}
          traces: {receivers: [otlp], exporters: [gateway]}
          logs: {receivers: [firehose, otlp], exporters: [gateway]}
        """
    }

    /// One Firehose delivery of one CloudWatch metric stream JSON record, identified by `seq`.
    static func firehoseBody(seq: Int) -> Data {
        let line =
            #"{"metric_stream_name":"s","account_id":"123456789012","region":"eu-west-1","namespace":"AWS/Lambda","metric_name":"Invocations","dimensions":{"FunctionName":"gw-test","Seq":"\#(seq)"},"timestamp":1700000000000,"value":{"max":1,"min":1,"sum":\#(seq),"count":1},"unit":"Count"}"#
        let record = Data(line.utf8).base64EncodedString()
        return Data(#"{"requestId":"r-\#(seq)","timestamp":1700000000000,"records":[{"data":"\#(record)"}]}"#.utf8)
    }

    /// One Firehose delivery of a CloudWatch Logs subscription record: two invocations of `gw-logs`
    /// in Lambda's plain-text format (START, a line, REPORT each).
    static func cloudWatchLogsBody() throws -> Data {
        let now = Int(Date().timeIntervalSince1970 * 1000)
        var events: [String] = []
        for (i, id) in ["gw-r1", "gw-r2"].enumerated() {
            let lines = [
                "START RequestId: \(id) Version: $LATEST\n",
                "2026-12-03T10:00:00.000Z\t\(id)\tINFO\tcharging\n",
                "REPORT RequestId: \(id)\tDuration: \(10 + i).50 ms\tBilled Duration: \(11 + i) ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\t\n",
            ]
            for (j, line) in lines.enumerated() {
                let message = String(decoding: try JSONEncoder().encode(line), as: UTF8.self)
                events.append(#"{"id":"\#(i * 10 + j)","timestamp":\#(now + i * 10 + j),"message":\#(message)}"#)
            }
        }
        let document =
            #"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/gw-logs","logStream":"2026/12/03/[$LATEST]0123456789abcdef","subscriptionFilters":["firefly"],"logEvents":[\#(events.joined(separator: ","))]}"#
        let record = Data(try Gzip.compress(Array(document.utf8))).base64EncodedString()
        return Data(#"{"requestId":"logs-1","timestamp":\#(now),"records":[{"data":"\#(record)"}]}"#.utf8)
    }

    struct Sent: Decodable {
        struct SentSpan: Decodable {
            var name: String
            var span_id: String
        }
        var spans: [SentSpan]
    }

    /// Span id → rows, and Seq label → points, in the gateway's schema (empty until the gateway's
    /// exporter has created it).
    static func stored(_ schema: String) throws -> (spans: [String: Int], points: [String: Int]) {
        var spans: [String: Int] = [:]
        var points: [String: Int] = [:]
        guard
            try TestPostgres.query(
                "SELECT to_regclass('\(schema).points') IS NOT NULL AND to_regclass('\(schema).spans') IS NOT NULL")
                == [["t"]]
        else {
            return (spans, points)
        }
        for row in try TestPostgres.query("SELECT span_id, count(*) FROM \(schema).spans GROUP BY 1") {
            spans[row[0]] = Int(row[1])
        }
        for row in try TestPostgres.query(
            "SELECT s.labels->>'Seq', count(*) FROM \(schema).points p JOIN \(schema).series s ON s.id = p.series_id WHERE s.name = 'Invocations' GROUP BY 1"
        ) {
            points[row[0]] = Int(row[1])
        }
        return (spans, points)
    }

    @Test(arguments: ["http/protobuf", "grpc"])
    func spansAndFirehoseMetricsReachTheGatewaysDatabaseExactlyOnce(transport: String) async throws {
        let schema = TestPostgres.freshSchema("otlp_gateway")
        defer { TestPostgres.drop(schema: schema) }
        let (httpPort, grpcPort) = (freePort(), freePort())
        let gatewayConfig = Self.gatewayConfig(schema: schema, httpPort: httpPort, grpcPort: grpcPort)
        let gatewayWorkspace = try Workspace(plugins: ["FireflyOTLPPlugin", "FireflyPostgresPlugin"])
        var gateway = try await offThePool { try FireflyServer(workspace: gatewayWorkspace, config: gatewayConfig) }
        defer { gateway.stop() }
        let endpoint = "http://127.0.0.1:\(transport == "grpc" ? grpcPort : httpPort)"
        let edgeWorkspace = try Workspace(plugins: [
            "FireflyOTLPPlugin", "FireflyFirehosePlugin", "FireflyOTLPExporterPlugin",
        ])
        let edgeConfig = Self.edgeConfig(endpoint: endpoint, transport: transport)
        let edge = try await offThePool { try FireflyServer(workspace: edgeWorkspace, config: edgeConfig) }
        defer { edge.stop() }

        // The Python SDK's spans and metrics, and 20 Firehose deliveries.
        let script = Build.packageRoot.appendingPathComponent("Tests/IntegrationTests/clients/otlp_client.py").path
        let client = try await offThePool { try run("/usr/bin/env", ["python3", script, edge.baseURL]) }
        #expect(client.status == 0, "\(client.stderr)")
        let sent = try JSONDecoder().decode(Sent.self, from: client.output)
        for seq in 0..<10 {
            let answer = try await http(
                "POST", edge.baseURL + "/firehose", body: Self.firehoseBody(seq: seq),
                headers: ["Content-Type": "application/json"])
            #expect(answer.status == 200, "\(answer.body)")
        }
        let logs = try await http(
            "POST", edge.baseURL + "/firehose", body: try Self.cloudWatchLogsBody(), headers: ["Content-Type": "application/json"])
        #expect(logs.status == 200, "\(logs.body)")
        let sentIDs = Set(sent.spans.map(\.span_id))
        #expect(
            try await eventually(30) {
                let s = try Self.stored(schema)
                return Set(s.spans.keys) == sentIDs && s.points.count == 10
            },
            "edge log:\n\(edge.logText)\ngateway log:\n\(gateway.logText)")

        // The gateway goes away; the edge keeps accepting (its queue holds) and delivers when it is back.
        let stopping = gateway
        _ = try await offThePool { stopping.stop() }
        for seq in 10..<20 {
            let answer = try await http(
                "POST", edge.baseURL + "/firehose", body: Self.firehoseBody(seq: seq),
                headers: ["Content-Type": "application/json"])
            #expect(answer.status == 200, "\(answer.body)")
        }
        try await Task.sleep(for: .seconds(1))  // let the edge meet the outage (retryable failures)
        gateway = try await offThePool { try FireflyServer(workspace: gatewayWorkspace, config: gatewayConfig) }
        #expect(try await eventually(60) { try Self.stored(schema).points.count == 20 }, "edge log:\n\(edge.logText)")

        let stored = try Self.stored(schema)
        #expect(stored.spans.values.allSatisfy { $0 == 1 }, "\(stored.spans)")
        #expect(stored.points == Dictionary(uniqueKeysWithValues: (0..<20).map { ("\($0)", 1) }))
        // The CloudWatch points keep their namespace and function across the OTLP hop.
        let series = try TestPostgres.query(
            "SELECT DISTINCT namespace, function, kind FROM \(schema).series WHERE name = 'Invocations'")
        #expect(series == [["AWS/Lambda", "gw-test", "summary"]])
        let functions = try TestPostgres.query("SELECT DISTINCT function FROM \(schema).spans")
        #expect(functions == [["checkout"]])
        // CloudWatch Logs' REPORT lines arrive as log records and become the same invocations at the
        // gateway as at the edge, each once.
        let invocations = "SELECT function, request_id, duration_ms, billed_duration_ms FROM \(schema).invocations ORDER BY 2"
        #expect(
            try await eventually(30) { try TestPostgres.query(invocations).count == 2 }, "edge log:\n\(edge.logText)")
        #expect(try TestPostgres.query(invocations) == [["gw-logs", "gw-r1", "10.5", "11"], ["gw-logs", "gw-r2", "11.5", "12"]])
        #expect(try TestPostgres.query("SELECT count(*) FROM \(schema).logs WHERE function = 'gw-logs'") == [["6"]])
        #expect(edgeWorkspace.read(".firefly/queue/dead-letters.jsonl").isEmpty)
    }
}
