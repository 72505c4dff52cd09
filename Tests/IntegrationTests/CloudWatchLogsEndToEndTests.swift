import FireflyTestSupport
import Foundation
import Testing

/// CloudWatch Logs subscription records through a running `firefly serve` into a real PostgreSQL:
/// the firehose plugin's fixtures (`plugins/firehose/testdata/make_cwlogs_fixtures.py` builds them
/// from the formats Lambda documents) — a Node.js function logging in the text format and a Python
/// function in the JSON format, each with a cold start traced by X-Ray, a timeout and an
/// out-of-memory kill, a multi-line stack trace, records concatenated in one Firehose record — and
/// a control message.
@Suite(.serialized, .enabled(if: TestPostgres.available, "needs FIREFLY_TEST_POSTGRES_URL (make test sets it)"))
struct CloudWatchLogsEndToEndTests {
    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: Build.packageRoot.appendingPathComponent("plugins/firehose/testdata/\(name)"))
    }

    /// One Firehose delivery of the given records (each a subscription record, already gzip'd).
    static func delivery(_ records: [Data], requestId: String) -> Data {
        let items = records.map { #"{"data":"\#($0.base64EncodedString())"}"# }.joined(separator: ",")
        return Data(#"{"requestId":"\#(requestId)","timestamp":1796292010000,"records":[\#(items)]}"#.utf8)
    }

    @Test func theFixturesAreWhatTheirScriptBuildsFromTheDocumentedFormats() async throws {
        let dir = NSTemporaryDirectory() + "firefly-cwlogs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let testdata = Build.packageRoot.appendingPathComponent("plugins/firehose/testdata").path
        try FileManager.default.copyItem(atPath: testdata + "/make_cwlogs_fixtures.py", toPath: dir + "/make_cwlogs_fixtures.py")
        let built = try await offThePool { try run("/usr/bin/env", ["python3", dir + "/make_cwlogs_fixtures.py"]) }
        #expect(built.status == 0, "\(built.stderr)")
        for name in ["cwlogs_node_text.gz", "cwlogs_python_json.gz", "cwlogs_control.gz"] {
            #expect(FileManager.default.contents(atPath: dir + "/" + name) == (try Self.fixture(name)), "\(name) differs from what the script builds")
        }
    }

    @Test func lambdaLogsLandAsLogsAndInvocationsOnceAndControlMessagesNowhere() async throws {
        let schema = TestPostgres.freshSchema("cwlogs")
        defer { TestPostgres.drop(schema: schema) }
        let ws = try Workspace(plugins: TestPostgres.collectorPlugins)
        let server = try FireflyServer(workspace: ws, config: TestPostgres.collectorConfig(schema: schema))
        defer { server.stop() }

        // A control message alone is acknowledged and stored nowhere.
        let control = Self.delivery([try Self.fixture("cwlogs_control.gz")], requestId: "control")
        #expect(blockingPost(port: server.port, path: "/firehose", body: control) == 200)

        let body = Self.delivery(
            [try Self.fixture("cwlogs_node_text.gz"), try Self.fixture("cwlogs_python_json.gz"), try Self.fixture("cwlogs_control.gz")],
            requestId: "logs-1")
        #expect(blockingPost(port: server.port, path: "/firehose", body: body) == 200)
        func counts() -> [String]? {
            try? TestPostgres.query("SELECT (SELECT count(*) FROM \(schema).logs), (SELECT count(*) FROM \(schema).invocations)").first
        }
        // 12 events of the Node.js function, 12 of the Python one; 3 invocations each.
        let arrived = await eventually(30) { counts() == ["24", "6"] }
        #expect(arrived, "stored \(String(describing: counts()))\n\(server.logText)")

        let invocations = try TestPostgres.query("""
            SELECT function, version, request_id, duration_ms, billed_duration_ms, memory_size_mb, max_memory_used_mb,
                   COALESCE(init_duration_ms::text, ''), cold_start, status, error_type, COALESCE(trace_id, '')
              FROM \(schema).invocations ORDER BY function, request_id
            """)
        #expect(invocations == [
            ["checkout", "$LATEST", "11111111-1111-4111-8111-111111111111", "12.34", "13", "128", "70", "200.12", "t", "success", "",
             "5759e988bd862e3fe1be46a994272793"],
            ["checkout", "$LATEST", "22222222-2222-4222-8222-222222222222", "3000", "3000", "128", "90", "", "f", "timeout", "", ""],
            ["checkout", "$LATEST", "33333333-3333-4333-8333-333333333333", "900.5", "901", "128", "128", "", "f", "out_of_memory",
             "Runtime.OutOfMemory", ""],
            ["resize", "7", "44444444-4444-4444-8444-444444444444", "98.76", "99", "512", "80", "295.5", "t", "success", "",
             "67891233abcdef012345678912345678"],
            ["resize", "7", "55555555-5555-4555-8555-555555555555", "3000", "3000", "512", "100", "", "f", "timeout", "", ""],
            ["resize", "7", "66666666-6666-4666-8666-666666666666", "700.25", "701", "512", "512", "", "f", "out_of_memory",
             "Runtime.OutOfMemory", ""],
        ])
        // The cold start began with its START line (2026-12-03T10:00:00Z).
        let start = try TestPostgres.query(
            "SELECT start_time_unix_nano FROM \(schema).invocations WHERE request_id = '11111111-1111-4111-8111-111111111111'")
        #expect(start == [["1796292000000000000"]])

        // The stack trace is one record, whole, at ERROR, with its invocation's request id.
        let stack = try TestPostgres.query("""
            SELECT severity_number, request_id FROM \(schema).logs
             WHERE function = 'checkout' AND body LIKE 'TypeError:%'
            """)
        #expect(stack.count == 1)
        #expect(stack == [["17", "22222222-2222-4222-8222-222222222222"]])
        // The X-Ray trace reaches the cold invocation's lines (psql prints the newlines of the body
        // as they are, so the stack is checked by its parts).
        let traced = try TestPostgres.query("""
            SELECT count(*) FROM \(schema).logs
             WHERE request_id = '11111111-1111-4111-8111-111111111111' AND trace_id = '5759e988bd862e3fe1be46a994272793'
            """)
        #expect(traced == [["4"]])
        let lines = try TestPostgres.query(
            "SELECT position(E'\\n    at charge (/var/task/index.js:10:20)' IN body) > 0 FROM \(schema).logs WHERE body LIKE 'TypeError:%'")
        #expect(lines == [["t"]])

        // The same delivery again (Firehose retrying after a lost answer) adds no rows.
        #expect(blockingPost(port: server.port, path: "/firehose", body: body) == 200)
        #expect(blockingPost(port: server.port, path: "/firehose", body: Self.delivery([try Self.fixture("cwlogs_node_text.gz")], requestId: "logs-2")) == 200)
        try await Task.sleep(for: .seconds(2))
        // 24 + 24 + 12 log records and 6 + 6 + 3 invocations went through the queue.
        let accepted = await eventually(10) {
            let text = (try? syncGet(server.baseURL + "/metrics")) ?? ""
            return text.contains(#"firefly_logs_accepted_total{receiver="firehose"} 60"#)
                && text.contains(#"firefly_invocations_accepted_total{receiver="firehose"} 15"#)
        }
        #expect(accepted, "the re-deliveries went through the queue: \((try? syncGet(server.baseURL + "/metrics")) ?? "")")
        #expect(counts() == ["24", "6"])
    }
}
