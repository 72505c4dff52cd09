import FireflyModel
import FireflyTestSupport
import Foundation
import Testing

/// Over its disk budget the queue refuses new data, and every receiver's refusal tells the sender
/// when to retry: checked on a running `firefly serve` whose exporter cannot deliver.
@Suite(.serialized) struct RetryAfterTests {
    @Test func aQueueOverBudgetAnswers503And429WithRetryAfter() async throws {
        let ws = try Workspace(plugins: ["FireflyFirehosePlugin", "FireflyOTLPPlugin", "FireflyPostgresPlugin"])
        // Nothing listens on this port: every export fails as retryable and the queue only grows.
        let unreachable = "postgres://firefly@127.0.0.1:\(freePort())/firefly"
        let config = """
            server:
              listen: 127.0.0.1:0
            plugins:
              paths: [plugins]
            queue:
              max_bytes: 1048576
              retry_initial: 1s
              retry_max: 5s
            receivers:
              firehose:
              otlp:
                grpc: {enabled: false}
              otlp/throttled:
                traces_path: /throttled/v1/traces
                metrics_path: /throttled/v1/metrics
                logs_path: ""
                grpc: {enabled: false}
                busy_status: 429
                retry_after_seconds: 7
            exporters:
              postgres:
                url: \(unreachable)
            pipelines:
              metrics: {receivers: [firehose, otlp, otlp/throttled], exporters: [postgres]}
            """
        let server = try FireflyServer(workspace: ws, config: config)
        defer { server.stop() }
        // ~200 KiB per delivery: a handful fill the 1 MiB budget.
        let line = #"{"metric_stream_name":"s","account_id":"123456789012","region":"eu-west-1","namespace":"AWS/Lambda","metric_name":"Invocations","dimensions":{"FunctionName":"checkout"},"timestamp":1700000000000,"value":{"max":1.0,"min":1.0,"sum":3.0,"count":3.0},"unit":"Count"}"#
        let record = Data(Array(repeating: line, count: 800).joined(separator: "\n").utf8).base64EncodedString()
        func body(_ id: String) -> Data { Data(#"{"requestId":"\#(id)","timestamp":1700000000000,"records":[{"data":"\#(record)"}]}"#.utf8) }
        /// Sends until the receiver refuses (the queue is over its budget); every answer before is 200.
        func untilRefused(_ path: String, _ body: (Int) -> Data, _ headers: (Int) -> [String: String]) async throws -> HTTPResult? {
            for i in 0..<60 {
                let r = try await http("POST", server.baseURL + path, body: body(i), headers: headers(i))
                if r.status != 200 { return r }
            }
            return nil
        }
        let firehose = try #require(try await untilRefused("/firehose", { body("r-\($0)") }) {
            ["Content-Type": "application/json", "X-Amz-Firehose-Request-Id": "r-\($0)"]
        })
        #expect(firehose.status == 503, "\(firehose.body)")
        let seconds = try #require(firehose.headers["retry-after"].flatMap { Int($0) }, "\(firehose.headers)")
        #expect(seconds >= 1)
        #expect(firehose.body.contains("\"errorMessage\""))

        let point = #"{"name":"m","gauge":{"dataPoints":[{"asDouble":1,"timeUnixNano":"1700000000000000000"}]}}"#
        let metrics = Data(#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[\#(Array(repeating: point, count: 2000).joined(separator: ","))]}]}]}"#.utf8)
        let json = ["Content-Type": "application/json"]
        let otlp = try #require(try await untilRefused("/v1/metrics", { _ in metrics }) { _ in json })
        #expect(otlp.status == 503, "\(otlp.body)")
        #expect(otlp.headers["retry-after"].flatMap { Int($0) }.map { $0 >= 1 } == true, "\(otlp.headers)")
        let throttled = try #require(try await untilRefused("/throttled/v1/metrics", { _ in metrics }) { _ in json })
        #expect(throttled.status == 429, "\(throttled.body)")
        #expect(throttled.headers["retry-after"].flatMap { Int($0) }.map { $0 >= 1 } == true, "\(throttled.headers)")
    }
}
