import FireflyModel
import FireflyTestSupport
import Foundation
import Testing

/// A signed GitHub webhook through a running `firefly serve` into the debug exporter.
@Suite(.serialized) struct WebhookEndToEndTests {
    static let testdata = Build.packageRoot.appendingPathComponent("plugins/webhook/testdata")

    struct Expected: Decodable {
        var name: String
        var labels: [String: String]
        var time_unix_nano: UInt64
        var value: Double
    }

    @Test func aSignedWorkflowRunBecomesThePointsItsMappingDescribes() async throws {
        let mapping = try String(contentsOf: Self.testdata.appendingPathComponent("github.config.json"), encoding: .utf8)
        // JSON is YAML: the mapping goes into firefly.yaml as a flow mapping, plus the route.
        let withPath = mapping.replacingOccurrences(of: "{\n  \"auth\"", with: "{\n  \"path\": \"/hooks/github\",\n  \"auth\"")
        let indented = withPath.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
        let config = """
            server:
              listen: 127.0.0.1:0
            plugins:
              paths: [plugins]
            receivers:
              webhook/github:
            \(indented)
            exporters:
              debug:
                path: out.jsonl
            pipelines:
              metrics: {receivers: [webhook/github], exporters: [debug]}
            """
        let ws = try Workspace(plugins: ["FireflyWebhookPlugin", "FireflyDebugPlugin"])
        let server = try FireflyServer(workspace: ws, config: config)
        defer { server.stop() }
        let body = try Data(contentsOf: Self.testdata.appendingPathComponent("github-workflow_run.json"))
        let signature = try String(contentsOf: Self.testdata.appendingPathComponent("github-workflow_run.json.sig"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)

        let unsigned = try await http("POST", server.baseURL + "/hooks/github", body: body, headers: ["Content-Type": "application/json"])
        #expect(unsigned.status == 401)
        let tampered = try await http("POST", server.baseURL + "/hooks/github", body: body + Data(" ".utf8),
                                      headers: ["Content-Type": "application/json", "X-Hub-Signature-256": signature])
        #expect(tampered.status == 401)

        let r = try await http("POST", server.baseURL + "/hooks/github", body: body,
                               headers: ["Content-Type": "application/json", "X-Hub-Signature-256": signature])
        #expect(r.status == 200 || r.status == 202)
        let expected = try JSONDecoder().decode([Expected].self, from: Data(contentsOf: Self.testdata.appendingPathComponent("github-workflow_run.expected.json")))
        #expect(r.body.contains("\(expected.count)"))
        #expect(eventually { ws.read("out.jsonl").split(separator: "\n").count == expected.count })
        let points = ws.read("out.jsonl").split(separator: "\n").compactMap { try? JSONDecoder().decode(DebugRecord.self, from: Data($0.utf8)).point }
        #expect(points.map(\.name) == expected.map(\.name))
        #expect(points.map(\.value) == expected.map(\.value))
        #expect(points.map(\.timeUnixNano) == expected.map(\.time_unix_nano))
        #expect(points.map { Dictionary(uniqueKeysWithValues: $0.labels.map { ($0.key, $0.value) }) } == expected.map(\.labels))
    }
}
