import FireflyModel
import FireflyTestSupport
import Foundation
import Testing

/// The permanent-failure path through a running `firefly serve` and a real PostgreSQL: a batch the
/// server rejects is split so only the rejected span is dead-lettered, `firefly dead-letters` shows it
/// on one line with PostgreSQL's whole hint, and `firefly dead-letters replay` delivers it once the
/// cause is fixed.
@Suite(.serialized, .enabled(if: TestPostgres.available, "needs FIREFLY_TEST_POSTGRES_URL (make test sets it)"))
struct DeadLetterEndToEndTests {
    /// A cause an operator can fix: a trigger refusing spans named `blocked`, with a two-line hint.
    static func blockSpans(schema: String) throws {
        _ = try TestPostgres.query("""
            CREATE FUNCTION \(schema).refuse_blocked() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.name = 'blocked' THEN
                RAISE EXCEPTION 'span % is blocked', NEW.name
                  USING ERRCODE = '23514', HINT = E'first line of the hint\\nsecond line of the hint';
              END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_blocked BEFORE INSERT ON \(schema).spans FOR EACH ROW EXECUTE FUNCTION \(schema).refuse_blocked();
            """)
    }

    static func unblockSpans(schema: String) throws {
        _ = try TestPostgres.query("DROP TRIGGER refuse_blocked ON \(schema).spans")
    }

    static func spanCounts(schema: String) -> [String: Int] {
        var out: [String: Int] = [:]
        for row in (try? TestPostgres.query("SELECT name, count(*) FROM \(schema).spans GROUP BY 1")) ?? [] {
            out[row[0]] = Int(row[1])
        }
        return out
    }

    @Test func onlyTheRejectedSpanIsDeadLetteredListedOnOneLineAndReplayedOnceTheCauseIsFixed() async throws {
        let schema = TestPostgres.freshSchema("deadletter")
        defer { TestPostgres.drop(schema: schema) }
        let ws = try Workspace(plugins: Poison.plugins)
        let server = try FireflyServer(workspace: ws, config: Poison.config(schema: schema, batchWait: "20ms"))
        defer { server.stop() }
        // The first write creates the schema.
        let warmUp = Poison.otlpSpans(resource: "[]", spans: [(#""warm-up""#, "[]")], seq: 0)
        #expect(await Poison.post(server.baseURL + "/v1/traces", warmUp) == 200)
        #expect(await eventually(30) { Self.spanCounts(schema: schema)["warm-up"] == 1 })
        try Self.blockSpans(schema: schema)

        // One request, one batch: six good spans around the one PostgreSQL refuses.
        let names = ["ok-1", "ok-2", "ok-3", "blocked", "ok-4", "ok-5", "ok-6"]
        let body = Poison.otlpSpans(resource: "[]", spans: names.map { (Poison.json($0), "[]") }, seq: 1)
        #expect(await Poison.post(server.baseURL + "/v1/traces", body) == 200)
        let good = names.filter { $0 != "blocked" }
        let arrived = await eventually(30) {
            let counts = Self.spanCounts(schema: schema)
            return good.allSatisfy { counts[$0] == 1 } && ((try? Poison.deadLetters(ws).count) ?? 0) == 1
        }
        #expect(arrived, "spans: \(Self.spanCounts(schema: schema)), dead letters: \(ws.read(".firefly/queue/dead-letters.jsonl"))\n\(server.logText)")
        #expect(Self.spanCounts(schema: schema)["blocked"] == nil)
        let letters = try Poison.deadLetters(ws)
        #expect(letters.count == 1)
        #expect(letters.first?.exporter == "postgres")
        #expect(letters.first?.batch.points.isEmpty == true)
        #expect(letters.first?.batch.spans.map(\.name) == ["blocked"])
        let reason = letters.first?.reason ?? ""
        #expect(reason.contains("PostgreSQL error 23514: span blocked is blocked"), "\(reason)")
        #expect(reason.contains("hint: first line of the hint second line of the hint"), "\(reason)")

        // Self-metrics count the splits and the one dead-lettered item.
        let metrics = try await http("GET", server.baseURL + "/metrics").body
        #expect(metrics.contains(#"firefly_dead_lettered_items_total{exporter="postgres"} 1"#), "\(metrics)")
        let splits = metrics.split(separator: "\n").first { $0.hasPrefix(#"firefly_export_splits_total{exporter="postgres"}"#) }
        #expect(splits.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 >= 1 } == true, "\(metrics)")

        // `firefly dead-letters`: one line per entry, the hint whole.
        let path = ws.path
        let listed = try await offThePool { try runFirefly(["dead-letters", "--config", "firefly.yaml"], in: path) }
        #expect(listed.status == 0)
        let lines = listed.stdout.split(separator: "\n")
        #expect(lines.count == 1, "\(listed.stdout)")
        #expect(lines.first?.contains("  postgres  0 points, 1 spans, 0 logs  ") == true, "\(listed.stdout)")
        #expect(lines.first?.contains("hint: first line of the hint second line of the hint") == true, "\(listed.stdout)")

        // Replaying while the cause is still there keeps the entry, with the new reason.
        let refused = try await offThePool { try runFirefly(["dead-letters", "replay", "--config", "firefly.yaml"], in: path) }
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("replayed 1 entries: 0 items delivered, 1 rejected again"), "\(refused.stdout)\(refused.stderr)")
        #expect(try Poison.deadLetters(ws).map { $0.batch.spans.map(\.name) } == [["blocked"]])
        let unknown = try await offThePool {
            try runFirefly(["dead-letters", "replay", "--config", "firefly.yaml", "--exporter", "nope"], in: path)
        }
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no exporter 'nope' in firefly.yaml"), "\(unknown.stderr)")

        // Fixed: the replay delivers it, exactly once, and the file is empty.
        try Self.unblockSpans(schema: schema)
        let replayed = try await offThePool {
            try runFirefly(["dead-letters", "replay", "--config", "firefly.yaml", "--exporter", "postgres"], in: path)
        }
        #expect(replayed.status == 0, "\(replayed.stdout)\(replayed.stderr)")
        #expect(replayed.stdout.contains("replayed 1 entries: 1 items delivered, 0 rejected again"), "\(replayed.stdout)")
        #expect(Self.spanCounts(schema: schema)["blocked"] == 1)
        #expect(try Poison.deadLetters(ws).isEmpty)
        let after = try await offThePool { try runFirefly(["dead-letters", "--config", "firefly.yaml"], in: path) }
        #expect(after.stdout.hasPrefix("no dead letters"), "\(after.stdout)")
        #expect(server.isRunning)
    }
}
