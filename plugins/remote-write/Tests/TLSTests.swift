import FireflyModel
import FireflyPluginKit
import Foundation
import RemoteWriteExporter
import Testing

/// HTTPS receivers: a private CA through `tls.ca_file`, or no verification at all.
@Suite struct TLSTests {
    static let testdata = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("testdata")
    static let cert = testdata.appendingPathComponent("tls-cert.pem").path
    static let key = testdata.appendingPathComponent("tls-key.pem").path
    static let point = MetricPoint(name: "g", kind: .gauge, timeUnixNano: 1_700_000_000_000_000_000, value: 1)

    func export(to server: CaptureServer, tls: [String: JSONValue]?) async throws -> ExportResult {
        var config: [String: JSONValue] = ["url": .string(server.url), "timeout": .string("2s")]
        if let tls { config["tls"] = .object(tls) }
        let exporter = try RemoteWriteExporter(context: .standalone(instanceName: "rw"), config: PluginConfig(config))
        let result = await exporter.export(TelemetryBatch(points: [Self.point]))
        await exporter.shutdown()
        return result
    }

    @Test func trustsTheCertificateAuthorityFromCAFile() async throws {
        let server = try CaptureServer(replies: [.init(status: 204)], tls: (Self.cert, Self.key))
        try await server.start()
        let trusted = try await export(to: server, tls: ["ca_file": .string(Self.cert)])
        let untrusted = try await export(to: server, tls: nil)
        let skipped = try await export(to: server, tls: ["insecure_skip_verify": .bool(true)])
        await server.stop()
        #expect(trusted == .ok)
        #expect(skipped == .ok)
        guard case .retryable(_, let message) = untrusted else {
            Issue.record("an unknown certificate authority must fail, got \(untrusted)")
            return
        }
        #expect(message.contains("failed"))
        #expect(server.requests.withLock { $0.count } == 2)
    }

    @Test func anUnreadableCAFileIsAConfigurationError() {
        #expect(throws: PluginConfigError(problems: ["tls.ca_file: cannot read '/nonexistent/ca.pem'"])) {
            try RemoteWriteSettings(PluginConfig([
                "url": .string("https://127.0.0.1:1/api/v1/write"), "tls": .object(["ca_file": .string("/nonexistent/ca.pem")]),
            ]))
        }
    }
}
