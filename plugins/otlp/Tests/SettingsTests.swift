// Configuration of the otlp receiver: defaults, custom paths, and every problem reported at once.
import FireflyPluginKitTesting
import FireflyModel
import FireflyPluginKit
@testable import OTLPAdapter
import Testing

@Suite struct ConfigTests {
    @Test func defaultsServeTheStandardPaths() throws {
        let adapter = try makeAdapter()
        #expect(adapter.routes == [Route("POST", "/v1/traces"), Route("POST", "/v1/metrics"), Route("POST", "/v1/logs")])
        #expect(adapter.config == OTLPSettings.default)
        #expect(adapter.config.busyStatus == 503)
        #expect(adapter.config.retryAfterSeconds == 5)
    }

    @Test func customPathsAreServed() throws {
        let adapter = try makeAdapter([
            "traces_path": .string("/otlp/t"), "metrics_path": .string("/otlp/m"), "logs_path": .string(""),
        ])
        #expect(adapter.routes == [Route("POST", "/otlp/t"), Route("POST", "/otlp/m")])
        let sink = RecordingSink()
        let response = adapter.handle(post("/otlp/m", try fixture.bytes("metrics.pb")), sink: sink)
        #expect(response.status == 200)
        #expect(sink.batches.first?.points.count == 7)
    }

    @Test func everyProblemIsReportedAtOnce() {
        #expect(throws: PluginConfigError(problems: [
            "retry_after_seconds: must be between 1 and 3600, not 0",
            "busy_status: must be 503 or 429, not 500",
            "traces_path: must start with '/', not 'v1/traces'",
            "bearer_tokn: unknown key 'bearer_tokn' (did you mean 'bearer_token'?)",
        ])) {
            try makeAdapter([
                "busy_status": .number(500), "retry_after_seconds": .number(0), "traces_path": .string("v1/traces"),
                "bearer_tokn": .string("x"),
            ])
        }
    }

    @Test func pathsMustDiffer() {
        #expect(throws: PluginConfigError(problems: ["metrics_path: must differ from traces_path ('/v1/x')"])) {
            try makeAdapter(["traces_path": .string("/v1/x"), "metrics_path": .string("/v1/x")])
        }
        #expect(throws: PluginConfigError(problems: ["logs_path: must differ from traces_path and metrics_path"])) {
            try makeAdapter(["logs_path": .string("/v1/metrics")])
        }
        #expect(throws: PluginConfigError(problems: ["logs_path: must start with '/' or be empty, not 'v1/logs'"])) {
            try makeAdapter(["logs_path": .string("v1/logs")])
        }
    }

    @Test func aCustomLogsPathIsServed() throws {
        let adapter = try makeAdapter(["logs_path": .string("/otlp/l")])
        #expect(adapter.routes.contains(Route("POST", "/otlp/l")))
        let sink = RecordingSink()
        let response = adapter.handle(post("/otlp/l", LogsRequest.proto(records: [LogsRequest.fullRecord])), sink: sink)
        #expect(response.status == 200)
        #expect(sink.batches.first?.logs.count == 1)
    }
}
