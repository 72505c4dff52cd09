import FireflyModel
import FireflyTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Firehose and OTLP through a running `firefly serve` into a real PostgreSQL, including crashes
/// (SIGKILL) and a PostgreSQL outage: every acknowledged record must end up stored exactly once.
@Suite(.serialized, .enabled(if: TestPostgres.available, "needs FIREFLY_TEST_POSTGRES_URL (make test sets it)"))
struct PostgresEndToEndTests {
    /// One Firehose delivery holding one CloudWatch JSON record identified by `seq`.
    static func firehoseBody(seq: Int, requestId: String) -> Data {
        let line = #"{"metric_stream_name":"s","account_id":"123456789012","region":"eu-west-1","namespace":"Firefly/Test","metric_name":"Sequence","dimensions":{"FunctionName":"kill-test","Seq":"\#(seq)"},"timestamp":1700000000000,"value":{"max":\#(seq),"min":0,"sum":\#(seq),"count":1},"unit":"Count"}"#
        let record = Data(line.utf8).base64EncodedString()
        return Data(#"{"requestId":"\#(requestId)","timestamp":1700000000000,"records":[{"data":"\#(record)"}]}"#.utf8)
    }

    /// One OTLP/JSON request holding one span named `seq-<seq>`.
    static func otlpBody(seq: Int) -> Data {
        let trace = String(format: "%032x", seq + 1), span = String(format: "%016x", seq + 1)
        let start = 1_700_000_000_000_000_000 + UInt64(seq) * 1000
        return Data("""
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"kill-test"}}]},
            "scopeSpans":[{"scope":{"name":"t"},"spans":[{"traceId":"\(trace)","spanId":"\(span)","name":"seq-\(seq)","kind":2,
            "startTimeUnixNano":"\(start)","endTimeUnixNano":"\(start + 5000)"}]}]}]}
            """.utf8)
    }

    static func stored(schema: String) throws -> (points: [String: Int], spans: [String: Int]) {
        var points: [String: Int] = [:], spans: [String: Int] = [:]
        for row in try TestPostgres.query("SELECT s.labels->>'Seq', count(*) FROM \(schema).points p JOIN \(schema).series s ON s.id = p.series_id WHERE s.name = 'Sequence' GROUP BY 1") {
            points[row[0]] = Int(row[1])
        }
        for row in try TestPostgres.query("SELECT name, count(*) FROM \(schema).spans GROUP BY 1") {
            spans[row[0]] = Int(row[1])
        }
        return (points, spans)
    }

    @Test func firehoseAndOTLPLandInPostgreSQLAndRedeliveryDoesNotDoubleCount() async throws {
        let schema = TestPostgres.freshSchema("e2e")
        defer { TestPostgres.drop(schema: schema) }
        let ws = try Workspace(plugins: TestPostgres.collectorPlugins)
        let server = try FireflyServer(workspace: ws, config: TestPostgres.collectorConfig(schema: schema))
        defer { server.stop() }
        let body = Self.firehoseBody(seq: 7, requestId: "same-request")
        for _ in 0..<3 {  // Firehose re-delivers with the same request id after a lost answer
            #expect(blockingPost(port: server.port, path: "/firehose", body: body, headers: ["X-Amz-Firehose-Request-Id": "same-request"]) == 200)
        }
        #expect(blockingPost(port: server.port, path: "/v1/traces", body: Self.otlpBody(seq: 1), headers: ["Content-Type": "application/json"]) == 200)
        #expect(await eventually(20) {
            guard let s = try? Self.stored(schema: schema) else { return false }
            return s.spans["seq-1"] == 1 && s.points["7"] != nil
        })
        let stored = try Self.stored(schema: schema)
        #expect(stored.points == ["7": 1])
        #expect(stored.spans == ["seq-1": 1])
        let row = try TestPostgres.query("SELECT s.function, s.namespace, p.sum, p.count, p.max FROM \(schema).points p JOIN \(schema).series s ON s.id = p.series_id")
        #expect(row == [["kill-test", "Firefly/Test", "7", "1", "7"]])
        let span = try TestPostgres.query("SELECT trace_id, span_id, function, kind, duration_ms FROM \(schema).spans")
        #expect(span == [[String(format: "%032x", 2), String(format: "%016x", 2), "kill-test", "server", "0.005"]])  // OTLP kind 2 is SPAN_KIND_SERVER
    }

    @Test func everyAcknowledgedRecordSurvivesTenSIGKILLsExactlyOnce() async throws {
        let schema = TestPostgres.freshSchema("kill")
        defer { TestPostgres.drop(schema: schema) }
        let ws = try Workspace(plugins: TestPostgres.collectorPlugins)
        let port = freePort()
        let config = TestPostgres.collectorConfig(schema: schema, port: port)
        var server = try FireflyServer(workspace: ws, config: config)

        final class Acks: @unchecked Sendable {
            let lock = NSLock()
            var firehose: [Int] = []
            var otlp: [Int] = []
            var statuses: [Int: Int] = [:]  // every answer that was not a 200, by status (0: no answer)
            var stop = false
        }
        let acks = Acks()
        // One connection per request and no client library in between: a request the kill cuts
        // short fails on its own and leaves nothing behind for the next one.
        let client = Thread {
            var seq = 0
            while !acks.lock.withLock({ acks.stop }) {
                let isFirehose = seq % 2 == 0
                let status = isFirehose
                    ? blockingPost(port: port, path: "/firehose", body: Self.firehoseBody(seq: seq, requestId: "r\(seq)"), timeout: 3)
                    : blockingPost(port: port, path: "/v1/traces", body: Self.otlpBody(seq: seq), headers: ["Content-Type": "application/json"], timeout: 3)
                acks.lock.withLock {
                    if status == 200 {
                        if isFirehose { acks.firehose.append(seq) } else { acks.otlp.append(seq) }
                    } else {
                        acks.statuses[status, default: 0] += 1
                    }
                }
                if status != 200 { usleep(20_000) }  // down, starting or busy: don't spin
                seq += 1
            }
        }
        client.start()
        var kills = 0
        while kills < 10 {
            // Each life of the collector acknowledges some requests before it is killed, however
            // slow the machine: the kill lands among acknowledged writes, not before the first.
            let before = acks.lock.withLock { acks.firehose.count + acks.otlp.count }
            let acknowledged = await eventually(60) { acks.lock.withLock { acks.firehose.count + acks.otlp.count } >= before + 5 }
            #expect(acknowledged, "no acknowledgement after restart \(kills); other answers so far: \(acks.lock.withLock { acks.statuses }); server log:\n\(server.logText.suffix(3000))")
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...300)))
            server.kill9()
            kills += 1
            server = try await offThePool { try FireflyServer(workspace: ws, config: config) }
        }
        try await Task.sleep(for: .milliseconds(500))
        acks.lock.withLock { acks.stop = true }
        while client.isExecuting { try await Task.sleep(for: .milliseconds(10)) }
        let (firehose, otlp, statuses) = acks.lock.withLock { (acks.firehose, acks.otlp, acks.statuses) }
        #expect(firehose.count + otlp.count >= 50, "too few acknowledged requests: \(firehose.count + otlp.count); other answers: \(statuses)")
        // Let the restarted collector drain its queue into PostgreSQL.
        let complete = await eventually(60) {
            guard let s = try? Self.stored(schema: schema) else { return false }
            return firehose.allSatisfy { s.points["\($0)"] != nil } && otlp.allSatisfy { s.spans["seq-\($0)"] != nil }
        }
        #expect(complete)
        let stored = try Self.stored(schema: schema)
        let missingPoints = firehose.filter { stored.points["\($0)"] != 1 }
        let missingSpans = otlp.filter { stored.spans["seq-\($0)"] != 1 }
        #expect(missingPoints.isEmpty, "acknowledged Firehose records not stored exactly once: \(missingPoints.prefix(20))")
        #expect(missingSpans.isEmpty, "acknowledged OTLP spans not stored exactly once: \(missingSpans.prefix(20))")
        #expect(stored.points.values.allSatisfy { $0 == 1 } && stored.spans.values.allSatisfy { $0 == 1 }, "duplicates stored")
        #expect(server.stop() == 0)
    }

    @Test func aPostgreSQLOutageFillsTheQueueThen503sAndTheBacklogDrainsAfterwards() async throws {
        // A PostgreSQL of its own, so stopping it disturbs no other test.
        let dir = NSTemporaryDirectory() + "firefly-outage-pg-\(UUID().uuidString)"
        let pgPort = freePort()
        @Sendable func pg(_ verb: String) throws -> String {
            // posix_spawn + waitpid: Foundation's Process was seen to hang waiting for a script that starts a daemon.
            let outPath = dir + ".\(verb).out"
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            let script = Build.packageRoot.appendingPathComponent("scripts/postgres.sh").path
            let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/bash"), strdup(script), strdup(verb), nil]
            var env = ProcessInfo.processInfo.environment
            env["FIREFLY_PG_DIR"] = dir
            env["FIREFLY_PG_PORT"] = "\(pgPort)"
            let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { for p in argv + envp { free(p) } }
            var pid: pid_t = 0
            guard posix_spawn(&pid, "/bin/bash", &actions, nil, argv, envp) == 0 else {
                throw FireflyServer.ServerError(message: "cannot run postgres.sh")
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            guard status == 0 else { throw FireflyServer.ServerError(message: "postgres.sh \(verb) failed") }
            return ((try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try await offThePool { try pg("start") }
        defer {
            _ = try? pg("stop")
            try? FileManager.default.removeItem(atPath: dir)
        }
        let url = try pg("url")
        let schema = "outage"
        let ws = try Workspace(plugins: TestPostgres.collectorPlugins)
        let server = try FireflyServer(workspace: ws, config: TestPostgres.collectorConfig(schema: schema, url: url, queueBytes: 1 << 20))
        defer { server.stop() }
        // Healthy: the first record goes through.
        #expect(blockingPost(port: server.port, path: "/firehose", body: Self.firehoseBody(seq: 0, requestId: "r0")) == 200)
        _ = try await offThePool { try pg("stop") }
        // Posting blocks on each answer: off Swift concurrency's shared threads.
        let port = server.port
        let (acked, firstBusy, unexpected, lateAcks) = try await offThePool { () -> ([Int], Int?, [Int], Int) in
            var acked: [Int] = [0]
            var seq = 1
            var firstBusy: Int?
            var unexpected: [Int] = []
            var lateAcks = 0  // 200s after the first 503
            while seq < 20_000 {
                let status = blockingPost(port: port, path: "/firehose", body: Self.firehoseBody(seq: seq, requestId: "r\(seq)"))
                if status == 200 {
                    if firstBusy != nil { lateAcks += 1 }
                    acked.append(seq)
                } else {
                    if status != 503 { unexpected.append(status) }
                    firstBusy = firstBusy ?? seq
                    if seq - firstBusy! >= 5 { break }
                }
                seq += 1
            }
            return (acked, firstBusy, unexpected, lateAcks)
        }
        #expect(lateAcks == 0, "a 200 after the queue was full")
        #expect(unexpected.isEmpty, "statuses other than 200 and 503: \(unexpected)")
        #expect(firstBusy != nil, "the queue never filled")
        #expect(acked.count > 100)
        #expect(server.isRunning)
        _ = try await offThePool { try pg("start") }
        let stored: () throws -> [String: Int] = {
            var out: [String: Int] = [:]
            let text = try run("/usr/bin/psql", [url, "-X", "-At", "-F", "\t", "-c", "SELECT s.labels->>'Seq', count(*) FROM \(schema).points p JOIN \(schema).series s ON s.id = p.series_id GROUP BY 1"]).stdout
            for line in text.split(separator: "\n") {
                let f = line.split(separator: "\t")
                if f.count == 2 { out[String(f[0])] = Int(f[1]) }
            }
            return out
        }
        #expect(await eventually(60) { ((try? stored()) ?? [:]).count >= acked.count })
        let rows = try stored()
        let missing = acked.filter { rows["\($0)"] != 1 }
        #expect(missing.isEmpty, "acknowledged but not stored exactly once: \(missing.prefix(20))")
        // Accepting again once the backlog drained.
        #expect(blockingPost(port: server.port, path: "/firehose", body: Self.firehoseBody(seq: 99_999, requestId: "after")) == 200)
    }
}
