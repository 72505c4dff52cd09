// The example configurations of docs/scaling.md pass `firefly check` with the real plugins.
import FireflyTestSupport
import Foundation
import Testing

@Suite struct ScalingDocsTests {
    static let examples = ["edge.yaml", "gateway.yaml", "edge-to-collector.yaml"]
    static let plugins = [
        "FireflyFirehosePlugin", "FireflyOTLPPlugin", "FireflyOTLPExporterPlugin", "FireflyPostgresPlugin",
        "FireflyRemoteWritePlugin",
    ]

    /// A workspace whose default `plugins.paths` (`.firefly/plugins`) holds the built plugins, as
    /// `make plugins` stages them.
    static func workspace() throws -> Workspace {
        let ws = try Workspace(plugins: plugins)
        try FileManager.default.createDirectory(atPath: ws.path + "/.firefly", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: ws.path + "/.firefly/plugins", withDestinationPath: ws.path + "/plugins")
        return ws
    }

    static func example(_ name: String) throws -> String {
        try String(contentsOf: Build.packageRoot.appendingPathComponent("docs/scaling/\(name)"), encoding: .utf8)
    }

    @Test(arguments: examples)
    func theExampleConfigurationPassesFireflyCheck(_ name: String) async throws {
        let ws = try Self.workspace()
        _ = try ws.write(name, try Self.example(name))
        let result = try await offThePool { try runFirefly(["check", "--config", name], in: ws.path) }
        #expect(result.status == 0, "\(name): \(result.stderr)")
    }

    @Test func checkWouldCatchAMistakeInTheExamples() async throws {
        // The same check refuses a typo in the exporter's keys: the test above can fail.
        let ws = try Self.workspace()
        let broken = try Self.example("edge.yaml").replacingOccurrences(of: "protocol: grpc", with: "protocol: grcp")
        _ = try ws.write("edge.yaml", broken)
        let result = try await offThePool { try runFirefly(["check", "--config", "edge.yaml"], in: ws.path) }
        #expect(result.status == 1)
        #expect(
            result.stderr.contains("error: exporters.gateway.protocol: must be one of http/protobuf, grpc, not 'grcp'"),
            "\(result.stderr)")
    }
}
