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

    /// The GitHub example mapping as a `webhook/github` receiver on `/hooks/github`, exporting to
    /// `debug` (out.jsonl) and, with a schema, to the test PostgreSQL too.
    static func config(postgresSchema: String? = nil) throws -> String {
        let mapping = try String(contentsOf: testdata.appendingPathComponent("github.config.json"), encoding: .utf8)
        // JSON is YAML: the mapping goes into firefly.yaml as a flow mapping, plus the route.
        let withPath = mapping.replacingOccurrences(of: "{\n  \"auth\"", with: "{\n  \"path\": \"/hooks/github\",\n  \"auth\"")
        let indented = withPath.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
        let postgres = postgresSchema.map { "\n  postgres:\n    url: \(TestPostgres.url ?? "")\n    schema: \($0)" } ?? ""
        return """
            server:
              listen: 127.0.0.1:0
            plugins:
              paths: [plugins]
            queue:
              batch_max_wait: 20ms
            receivers:
              webhook/github:
            \(indented)
            exporters:
              debug:
                path: out.jsonl\(postgres)
            pipelines:
              metrics: {receivers: [webhook/github], exporters: [debug\(postgresSchema == nil ? "" : ", postgres")]}
            """
    }

    static func signedRequest() throws -> (body: Data, headers: [String: String]) {
        let body = try Data(contentsOf: testdata.appendingPathComponent("github-workflow_run.json"))
        let signature = try String(contentsOf: testdata.appendingPathComponent("github-workflow_run.json.sig"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return (body, ["Content-Type": "application/json", "X-Hub-Signature-256": signature])
    }

    static func expected() throws -> [Expected] {
        try JSONDecoder().decode([Expected].self, from: Data(contentsOf: testdata.appendingPathComponent("github-workflow_run.expected.json")))
    }

    @Test func aSignedWorkflowRunBecomesThePointsItsMappingDescribes() async throws {
        let config = try Self.config()
        let ws = try Workspace(plugins: ["FireflyWebhookPlugin", "FireflyDebugPlugin"])
        let server = try FireflyServer(workspace: ws, config: config)
        defer { server.stop() }
        let (body, headers) = try Self.signedRequest()
        let signature = headers["X-Hub-Signature-256"]!

        let unsigned = try await http("POST", server.baseURL + "/hooks/github", body: body, headers: ["Content-Type": "application/json"])
        #expect(unsigned.status == 401)
        let tampered = try await http("POST", server.baseURL + "/hooks/github", body: body + Data(" ".utf8),
                                      headers: ["Content-Type": "application/json", "X-Hub-Signature-256": signature])
        #expect(tampered.status == 401)

        let r = try await http("POST", server.baseURL + "/hooks/github", body: body,
                               headers: ["Content-Type": "application/json", "X-Hub-Signature-256": signature])
        #expect(r.status == 200 || r.status == 202)
        let expected = try Self.expected()
        #expect(r.body.contains("\(expected.count)"))
        #expect(await eventually { ws.read("out.jsonl").split(separator: "\n").count == expected.count })
        let points = ws.read("out.jsonl").split(separator: "\n").compactMap { try? JSONDecoder().decode(DebugRecord.self, from: Data($0.utf8)).point }
        #expect(points.map(\.name) == expected.map(\.name))
        #expect(points.map(\.value) == expected.map(\.value))
        #expect(points.map(\.timeUnixNano) == expected.map(\.time_unix_nano))
        #expect(points.map { Dictionary(uniqueKeysWithValues: $0.labels.map { ($0.key, $0.value) }) } == expected.map(\.labels))
    }

    @Test(.enabled(if: TestPostgres.available, "needs FIREFLY_TEST_POSTGRES_URL (make test sets it)"))
    func aSignedWorkflowRunLandsInPostgreSQLAsItsMappingDescribes() async throws {
        let schema = TestPostgres.freshSchema("webhook")
        defer { TestPostgres.drop(schema: schema) }
        let ws = try Workspace(plugins: ["FireflyWebhookPlugin", "FireflyDebugPlugin", "FireflyPostgresPlugin"])
        let server = try FireflyServer(workspace: ws, config: try Self.config(postgresSchema: schema))
        defer { server.stop() }
        let (body, headers) = try Self.signedRequest()
        let r = try await http("POST", server.baseURL + "/hooks/github", body: body, headers: headers)
        #expect(r.status == 200 || r.status == 202)
        let expected = try Self.expected()
        func stored() -> [[String]] {
            (try? TestPostgres.query(
                """
                SELECT s.name, p.value, p.time_unix_nano, s.labels::text FROM \(schema).points p
                JOIN \(schema).series s ON s.id = p.series_id ORDER BY s.name, p.time_unix_nano
                """)) ?? []
        }
        let arrived = await eventually(30) { stored().count == expected.count }
        #expect(arrived, "\(stored().count) of \(expected.count) points in PostgreSQL\n\(server.logText)")
        let rows = stored()
        let byName = expected.sorted { ($0.name, $0.time_unix_nano) < ($1.name, $1.time_unix_nano) }
        #expect(rows.map { $0[0] } == byName.map(\.name))
        #expect(rows.map { Double($0[1]) } == byName.map(\.value))
        #expect(rows.map { UInt64($0[2]) } == byName.map(\.time_unix_nano))
        let labels = rows.map { try? JSONDecoder().decode([String: String].self, from: Data($0[3].utf8)) }
        #expect(labels == byName.map(\.labels))
    }
}

extension WebhookEndToEndTests {
    /// A method no receiver registered on a receiver's path: 405 in the receiver's own format, with
    /// the `Allow` header RFC 9110 requires.
    @Test func aMethodTheReceiverDoesNotServeGets405InItsFormatWithAllow() async throws {
        let ws = try Workspace(plugins: ["FireflyWebhookPlugin", "FireflyFirehosePlugin", "FireflyDebugPlugin"])
        let config = try Self.config()
            .replacingOccurrences(of: "receivers:\n", with: "receivers:\n  firehose:\n")
            .replacingOccurrences(of: "{receivers: [webhook/github]", with: "{receivers: [webhook/github, firehose]")
        let server = try FireflyServer(workspace: ws, config: config)
        defer { server.stop() }
        for method in ["GET", "PUT", "DELETE"] {
            let r = try await http(method, server.baseURL + "/hooks/github")
            #expect(r.status == 405)
            #expect(r.headers["allow"] == "POST", "\(method): \(r.headers)")
            let json = try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any]
            #expect((json?["error"] as? String)?.contains("method \(method) not allowed") == true, "\(r.body)")
        }
        let put = try await http("PUT", server.baseURL + "/firehose", headers: ["X-Amz-Firehose-Request-Id": "put-1"])
        #expect(put.status == 405)
        #expect(put.headers["allow"] == "GET, HEAD, POST")
        let json = try JSONSerialization.jsonObject(with: Data(put.body.utf8)) as? [String: Any]
        #expect(json?["requestId"] as? String == "put-1", "\(put.body)")
        #expect((json?["errorMessage"] as? String)?.contains("not allowed") == true)
    }
}

extension WebhookEndToEndTests {
    /// Receivers see who sent a request: the webhook receiver names the sender when it refuses one.
    @Test func aRefusedSenderIsNamedByItsAddress() async throws {
        let ws = try Workspace(plugins: ["FireflyWebhookPlugin", "FireflyDebugPlugin"])
        let server = try FireflyServer(workspace: ws, config: try Self.config(), environment: ["FIREFLY_LOG_LEVEL": "debug"])
        defer { server.stop() }
        let (body, _) = try Self.signedRequest()
        let unsigned = try await http("POST", server.baseURL + "/hooks/github", body: body, headers: ["Content-Type": "application/json"])
        #expect(unsigned.status == 401)
        #expect(await eventually { server.logText.contains("refused a request from 127.0.0.1:") }, "\(server.logText)")
    }
}

extension WebhookEndToEndTests {
    /// A request without the signature header is refused on its headers: the 401 arrives while its
    /// body is still unsent, and it never takes a request slot.
    @Test func anUnsignedUploadIsRefusedBeforeItsBodyArrives() async throws {
        let ws = try Workspace(plugins: ["FireflyWebhookPlugin", "FireflyDebugPlugin"])
        let server = try FireflyServer(workspace: ws, config: try Self.config())
        defer { server.stop() }
        let upload = try RawConnection(port: server.port)
        upload.send("POST /hooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{")
        let reply: String = try await offThePool {
            var text = ""
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, !text.contains("}") {
                text += upload.received()
                usleep(10_000)
            }
            return text
        }
        #expect(reply.hasPrefix("HTTP/1.1 401"), "\(reply)")
        #expect(reply.contains("missing X-Hub-Signature-256 header"), "\(reply)")
    }
}
