import FireflyModel
import FireflyTestSupport
import Foundation
import Testing

/// The OpenTelemetry Python SDK's logs (`LoggingHandler` on a `LoggerProvider` with
/// `OTLPLogExporter`), over OTLP/HTTP and OTLP/gRPC, into a running `firefly serve` with a `logs`
/// pipeline to the debug exporter.
@Suite(.serialized) struct OTLPLogsEndToEndTests {
    static func config(grpcPort: Int) -> String {
        """
        server:
          listen: 127.0.0.1:0
        plugins:
          paths: [plugins]
        receivers:
          otlp:
            grpc: {listen: 127.0.0.1:\(grpcPort)}
        exporters:
          debug:
            path: out.jsonl
        pipelines:
          logs: {receivers: [otlp], exporters: [debug]}
        """
    }

    struct Output: Decodable {
        var sent: [String: String]
        var results: [String]
    }

    func records(_ ws: Workspace) throws -> [DebugRecord] {
        try jsonLines(ws.read("out.jsonl"), as: DebugRecord.self)
    }

    /// Runs the client to completion off Swift concurrency's shared threads.
    func runClient(_ ws: Workspace, _ arguments: [String]) async throws -> (status: Int32, output: Output?, stderr: String) {
        // Modes: `app` logs through Python's `logging` (one record outside a span, one inside);
        // `report` emits two Lambda `platform.report` records the way an OpenTelemetry Lambda
        // extension forwards them.
        let script = Build.packageRoot.appendingPathComponent("Tests/IntegrationTests/clients/otlp_logs_client.py").path
        let r = try await offThePool { try run("/usr/bin/env", ["python3", script] + arguments) }
        return (r.status, try? JSONDecoder().decode(Output.self, from: Data(r.stdout.utf8)), r.stderr)
    }

    func target(_ transport: String, _ server: FireflyServer, grpcPort: Int) -> String {
        transport == "grpc" ? "127.0.0.1:\(grpcPort)" : server.baseURL
    }

    @Test(arguments: ["http", "grpc"])
    func thePythonSDKsLogRecordsArriveWithSeverityBodyAttributesAndTraceContext(transport: String) async throws {
        let ws = try Workspace(plugins: ["FireflyOTLPPlugin", "FireflyDebugPlugin"])
        let grpcPort = freePort()
        let server = try FireflyServer(workspace: ws, config: Self.config(grpcPort: grpcPort))
        defer { server.stop() }
        let run = try await runClient(ws, [transport, target(transport, server, grpcPort: grpcPort), "app"])
        #expect(run.status == 0, "\(run.stderr)\n\(server.logText)")
        let output = try #require(run.output, "\(run.stderr)")
        #expect(output.results == ["SUCCESS", "SUCCESS"])

        #expect(try await eventually(15) { try records(ws).compactMap(\.log).count == 2 })
        let logs = try records(ws).compactMap(\.log)
        #expect(logs.count == 2)
        #expect(try records(ws).compactMap(\.invocation).isEmpty)
        for log in logs {
            #expect(log.function == "payments")
            #expect(log.service == "payments-svc")
            #expect(log.scopeName == "payments.handler")
            #expect(log.resourceAttributes[key: "cloud.region"] == .string("eu-central-1"))
            #expect(log.timeUnixNano > 1_700_000_000_000_000_000)
            #expect(log.observedTimeUnixNano >= log.timeUnixNano)
            #expect(log.recordID == "")
        }
        let start = try #require(logs.first { $0.body == .string("cold start") })
        #expect(start.severityNumber == 9)
        #expect(start.severityText == "INFO")
        #expect(start.traceID == .zero && start.spanID == .zero)
        #expect(start.traceFlags == 0)

        let declined = try #require(logs.first { $0.body == .string("card visa declined") })
        #expect(declined.severityNumber == 17)
        #expect(declined.severityText == "ERROR")
        #expect(declined.traceID.description == output.sent["trace_id"])
        #expect(declined.spanID.description == output.sent["span_id"])
        #expect(declined.traceID.isValid && declined.spanID.isValid)
        #expect(declined.traceFlags & 1 == 1)  // sampled
        #expect(String(declined.traceFlags) == output.sent["trace_flags"])
        #expect(declined.attributes[key: "order.id"] == .string("o-42"))
        #expect(declined.attributes[key: "attempt"] == .int(2))
        #expect(declined.attributes[key: "amount"] == .double(12.5))
    }

    @Test(arguments: ["http", "grpc"])
    func aPlatformReportLogBecomesAnInvocationLine(transport: String) async throws {
        let ws = try Workspace(plugins: ["FireflyOTLPPlugin", "FireflyDebugPlugin"])
        let grpcPort = freePort()
        let server = try FireflyServer(workspace: ws, config: Self.config(grpcPort: grpcPort))
        defer { server.stop() }
        let run = try await runClient(ws, [transport, target(transport, server, grpcPort: grpcPort), "report"])
        #expect(run.status == 0, "\(run.stderr)\n\(server.logText)")
        #expect(run.output?.results == ["SUCCESS", "SUCCESS"])

        #expect(try await eventually(15) { try records(ws).compactMap(\.invocation).count == 2 })
        #expect(try records(ws).compactMap(\.log).count == 2)  // the reports are kept as log records too
        let invocations = try records(ws).compactMap(\.invocation)
        let report = try #require(invocations.first { $0.requestID == "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa" })
        #expect(report.function == "payments")
        #expect(report.version == "7")
        #expect(report.durationMs == 101.51)
        #expect(report.billedDurationMs == 102)
        #expect(report.memorySizeMB == 512 && report.maxMemoryUsedMB == 89)
        #expect(report.initDurationMs == 184.2 && report.isColdStart)
        #expect(report.status == .success)
        #expect(report.traceID.description == "5759e988bd862e3fe1be46a994272793")
        #expect(report.attributes[key: "cloud.region"] == .string("eu-central-1"))
        #expect(report.startTimeUnixNano > 1_700_000_000_000_000_000)

        let oom = try #require(invocations.first { $0.requestID == "req-oom" })
        #expect(oom.status == .outOfMemory)
        #expect(oom.errorType == "Runtime.OutOfMemory")
        #expect(oom.durationMs == 2000 && oom.memorySizeMB == 128 && oom.maxMemoryUsedMB == 128)
        #expect(oom.initDurationMs == nil)
        // 2026-01-01T00:00:10Z less two seconds.
        #expect(oom.startTimeUnixNano == 1_767_225_608_000_000_000)
    }
}
