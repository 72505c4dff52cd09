import FireflyModel
import FireflyTestSupport
import Foundation
import Testing

/// A Firehose delivery through a running `firefly serve` into the debug exporter.
@Suite(.serialized) struct FirehoseEndToEndTests {
    static let config = """
        server:
          listen: 127.0.0.1:0
        plugins:
          paths: [plugins]
        receivers:
          firehose:
            path: /firehose
            access_keys: ["old-key", "${FIREHOSE_ACCESS_KEY}"]
        exporters:
          debug:
            path: out.jsonl
        pipelines:
          metrics: {receivers: [firehose], exporters: [debug]}
        """

    static func envelope(requestId: String, lines: [String]) -> Data {
        let record = Data(lines.joined(separator: "\n").utf8).base64EncodedString()
        return Data(#"{"requestId":"\#(requestId)","timestamp":1700000000000,"records":[{"data":"\#(record)"}]}"#.utf8)
    }

    static let duration = #"{"metric_stream_name":"s","account_id":"123456789012","region":"eu-west-1","namespace":"AWS/Lambda","metric_name":"Duration","dimensions":{"FunctionName":"checkout"},"timestamp":1700000000000,"value":{"max":812.5,"min":3.2,"sum":1530.0,"count":12.0,"p99":790.1},"unit":"Milliseconds"}"#
    static let invocations = #"{"metric_stream_name":"s","account_id":"123456789012","region":"eu-west-1","namespace":"AWS/Lambda","metric_name":"Invocations","dimensions":{"FunctionName":"checkout"},"timestamp":1700000000000,"value":{"max":1.0,"min":1.0,"sum":12.0,"count":12.0},"unit":"Count"}"#

    func points(_ ws: Workspace) -> [MetricPoint] {
        ws.read("out.jsonl").split(separator: "\n").compactMap { try? JSONDecoder().decode(DebugRecord.self, from: Data($0.utf8)).point }
    }

    @Test func aGzippedDeliveryBecomesSummaryPointsAndIsAcknowledgedWith200() async throws {
        let ws = try Workspace(plugins: ["FireflyFirehosePlugin", "FireflyDebugPlugin"])
        let server = try FireflyServer(workspace: ws, config: Self.config, environment: ["FIREHOSE_ACCESS_KEY": "new-key"])
        defer { server.stop() }
        let body = try gzip(Self.envelope(requestId: "req-1", lines: [Self.duration, Self.invocations]))
        let r = try await http("POST", server.baseURL + "/firehose", body: body, headers: [
            "Content-Encoding": "gzip", "Content-Type": "application/json",
            "X-Amz-Firehose-Request-Id": "req-1", "X-Amz-Firehose-Access-Key": "new-key",
        ])
        #expect(r.status == 200)
        #expect(r.headers["content-type"]?.hasPrefix("application/json") == true)
        let json = try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as! [String: Any]
        #expect(json["requestId"] as? String == "req-1")
        #expect(json["timestamp"] is Int)
        #expect(await eventually { points(ws).count == 2 })
        let got = points(ws)
        let duration = try #require(got.first { $0.name == "Duration" })
        #expect(duration.kind == .summary)
        #expect(duration.namespace == "AWS/Lambda")
        #expect(duration.function == "checkout")
        #expect(duration.unit == "Milliseconds")
        #expect(duration.count == 12 && duration.sum == 1530 && duration.min == 3.2 && duration.max == 812.5)
        #expect(duration.quantiles == [Quantile(0, 3.2), Quantile(0.99, 790.1), Quantile(1, 812.5)])
        #expect(duration.timeUnixNano == 1_700_000_000_000_000_000)
        #expect(duration.label("FunctionName") == "checkout")
        #expect(duration.label("cloud.region") == "eu-west-1")
        #expect(duration.label("cloud.account.id") == "123456789012")
        #expect(got.first { $0.name == "Invocations" }?.sum == 12)
    }

    @Test func wrongKeysAndBrokenEnvelopesGetProtocolErrors() async throws {
        let ws = try Workspace(plugins: ["FireflyFirehosePlugin", "FireflyDebugPlugin"])
        let server = try FireflyServer(workspace: ws, config: Self.config, environment: ["FIREHOSE_ACCESS_KEY": "new-key"])
        defer { server.stop() }
        let body = Self.envelope(requestId: "req-2", lines: [Self.duration])
        let wrong = try await http("POST", server.baseURL + "/firehose", body: body, headers: ["X-Amz-Firehose-Access-Key": "nope", "X-Amz-Firehose-Request-Id": "req-2"])
        #expect(wrong.status == 401)
        #expect(wrong.body.contains(#""errorMessage""#))
        #expect(wrong.body.contains(#""requestId":"req-2""#))
        let old = try await http("POST", server.baseURL + "/firehose", body: body, headers: ["X-Amz-Firehose-Access-Key": "old-key", "X-Amz-Firehose-Request-Id": "req-2"])
        #expect(old.status == 200)  // rotation: both keys work
        let broken = try await http("POST", server.baseURL + "/firehose", body: Data("{not json".utf8), headers: ["X-Amz-Firehose-Access-Key": "new-key"])
        #expect(broken.status == 400)
        #expect(broken.body.contains(#""errorMessage""#))
        let badGzip = try await http("POST", server.baseURL + "/firehose", body: Data("xx".utf8), headers: ["X-Amz-Firehose-Access-Key": "new-key", "Content-Encoding": "gzip", "X-Amz-Firehose-Request-Id": "req-3"])
        #expect(badGzip.status == 400)
        #expect(badGzip.body.contains(#""requestId":"req-3""#))
        #expect(try await http("GET", server.baseURL + "/firehose").status == 200)
        #expect(server.isRunning)
    }
}
