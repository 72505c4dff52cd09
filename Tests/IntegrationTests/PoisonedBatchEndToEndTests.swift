import FireflyModel
import FireflyTestSupport
import Foundation
import Testing

/// One client's bad values must not cost other clients' data: three well-behaved clients send
/// through every receiver while a fourth sends each value PostgreSQL cannot store (NULs in every
/// position, over-long values in every indexed column, invalid UTF-8). Every acknowledged good item
/// is stored; every acknowledged bad one is stored in its storable form or dead-lettered alone with
/// its reason; a replay after the cause is fixed delivers what was dead-lettered.
@Suite(.serialized, .enabled(if: TestPostgres.available, "needs FIREFLY_TEST_POSTGRES_URL (make test sets it)"))
struct PoisonedBatchEndToEndTests {
    /// One bad request: where it goes, its body, and the marker that finds its one item again.
    struct BadRequest: Sendable {
        enum Kind: Sendable { case point, span }
        var marker: String
        var path: String
        var body: Data
        var kind: Kind
    }

    static let rounds = 12

    static func badRequests() -> [BadRequest] {
        let long = Poison.long(), nul = #""a\u0000b""#
        let resource = "[" + Poison.stringAttribute("service.name", #""poison-svc""#) + "]"
        var seq = 900  // distinct trace and span ids for every bad span
        func record(_ marker: String, namespace: String = #""Firefly/Poison""#, metric: String = #""Poisoned""#,
                    function: String = #""poison-fn""#, extra: String = "", invalidUTF8: Bool = false) -> BadRequest {
            let dims = #"{"FunctionName":\#(function),"Poison":"\#(marker)"\#(extra)}"#
            var data = Data(Poison.cloudWatchRecord(namespace: namespace, metric: metric, dimensions: dims, value: 1).utf8)
            if invalidUTF8 { data = Poison.invalidUTF8(in: data, replacing: #""PLACEHOLDER""#) }
            return BadRequest(marker: marker, path: "/firehose", body: Poison.firehose(records: [data]), kind: .point)
        }
        func span(_ marker: String, name: String = #""poisoned""#, resource: String = resource, attributes: [String] = [],
                  statusMessage: String = #""""#) -> BadRequest {
            let attrs = "[" + ([Poison.stringAttribute("poison", "\"\(marker)\"")] + attributes).joined(separator: ",") + "]"
            seq += 1
            return BadRequest(
                marker: marker, path: "/v1/traces",
                body: Poison.otlpSpans(resource: resource, spans: [(name, attrs)], seq: seq, statusMessage: statusMessage),
                kind: .span)
        }
        func gauge(_ marker: String, name: String = #""poisoned_gauge""#, resource: String = resource, attributes: [String] = []) -> BadRequest {
            let attrs = "[" + ([Poison.stringAttribute("poison", "\"\(marker)\"")] + attributes).joined(separator: ",") + "]"
            return BadRequest(
                marker: marker, path: "/v1/metrics", body: Poison.otlpGauge(resource: resource, name: name, attributes: attrs, seq: 1),
                kind: .point)
        }
        func event(_ marker: String, function: String = #""poison-fn""#, tag: String = #""t""#) -> BadRequest {
            BadRequest(
                marker: marker, path: "/hooks/events",
                body: Data(#"{"value":1,"client":"\#(marker)","seq":"0","fn":\#(function),"tag":\#(tag)}"#.utf8), kind: .point)
        }
        func withInvalidUTF8(_ request: BadRequest) -> BadRequest {
            var r = request
            r.body = Poison.invalidUTF8(in: r.body, replacing: #""PLACEHOLDER""#)
            return r
        }
        let nested = #"{"key":"nested","value":{"kvlistValue":{"values":[{"key":"inner","value":{"stringValue":"x\u0000y"}},{"key":"list","value":{"arrayValue":{"values":[{"stringValue":"\u0000"},{"kvlistValue":{"values":[{"key":"k\u0000","value":{"stringValue":"\u0000"}}]}}]}}}]}}}"#
        let array = #"{"key":"array","value":{"arrayValue":{"values":[{"stringValue":"\u0000"},{"intValue":"1"}]}}}"#
        return [
            // Firehose: CloudWatch metric stream records.
            record("fh-long-metric", metric: Poison.json(long)),
            record("fh-long-namespace", namespace: Poison.json(long)),
            record("fh-long-function", function: Poison.json(long)),
            record("fh-nul-metric", metric: nul),
            record("fh-nul-function", function: nul),
            record("fh-nul-namespace", namespace: nul),
            record("fh-nul-dimension", extra: #","Tag":\#(nul),"K\u0000ey":"v""#),
            record("fh-long-dimension", extra: #","Tag":\#(Poison.json(long))"#),
            record("fh-invalid-utf8", metric: #""PLACEHOLDER""#, invalidUTF8: true),
            // OTLP traces.
            span("otlp-nul-text", name: nul, attributes: [Poison.stringAttribute("text", nul)], statusMessage: nul),
            span("otlp-nul-key", attributes: [Poison.stringAttribute("k\\u0000ey", #""v""#)]),
            span("otlp-nul-kvlist-array", attributes: [nested, array]),
            span("otlp-nul-resource", resource: "[" + Poison.stringAttribute("service.name", nul) + "," + nested + "]"),
            span("otlp-long-service", resource: "[" + Poison.stringAttribute("service.name", Poison.json(long)) + "]"),
            span("otlp-long-faas", resource: "[" + Poison.stringAttribute("faas.name", Poison.json(long)) + "]"),
            span("otlp-long-name", name: Poison.json(long)),
            withInvalidUTF8(span("otlp-invalid-utf8", name: #""PLACEHOLDER""#)),
            // OTLP metrics.
            gauge("otlpm-long-name", name: Poison.json("g_" + long)),
            gauge("otlpm-nul-name", name: nul),
            gauge("otlpm-long-service", resource: "[" + Poison.stringAttribute("service.name", Poison.json(long)) + "]"),
            gauge("otlpm-nul-attributes", attributes: [Poison.stringAttribute("tag", nul), nested, array]),
            withInvalidUTF8(gauge("otlpm-invalid-utf8", name: #""PLACEHOLDER""#)),
            // Webhook.
            event("bad-long-function", function: Poison.json(long)),
            event("bad-nul-label", tag: nul),
            event("bad-nul-function", function: nul),
            withInvalidUTF8(event("bad-invalid-utf8", tag: #""PLACEHOLDER""#)),
            // Storable, but refused by a CHECK constraint the test adds and later drops.
            span("otlp-quarantined", name: #""quarantined""#),
        ]
    }

    /// How many rows hold the item a bad request's marker names.
    static func stored(_ request: BadRequest, schema: String) throws -> Int {
        let marker = request.marker.replacingOccurrences(of: "'", with: "''")
        let sql = switch request.kind {
        case .span: "SELECT count(*) FROM \(schema).spans WHERE attributes->>'poison' = '\(marker)'"
        case .point:
            """
            SELECT count(*) FROM \(schema).points p JOIN \(schema).series s ON s.id = p.series_id
            WHERE '\(marker)' IN (s.labels->>'Poison', s.labels->>'poison', s.labels->>'client')
            """
        }
        return Int(try TestPostgres.query(sql).first?.first ?? "") ?? -1
    }

    static func marker(of letter: Poison.DeadLetter) -> String? {
        if let span = letter.batch.spans.first {
            guard case .string(let s)? = span.attributes.first(where: { $0.key == "poison" })?.value else { return nil }
            return s
        }
        let labels = letter.batch.points.first?.labels ?? []
        return labels.first { ["Poison", "poison", "client"].contains($0.key) }?.value
    }

    /// What the good clients had acknowledged: firehose `Seq` dimensions, OTLP span names, webhook `seq` labels.
    final class Acks: @unchecked Sendable {
        let lock = NSLock()
        var firehose: [String] = []
        var spans: [String] = []
        var events: [String] = []
        var badStatuses: [String: Int] = [:]
        func add(_ path: ReferenceWritableKeyPath<Acks, [String]>, _ items: [String]) { lock.withLock { self[keyPath: path] += items } }
    }

    @Test func goodClientsLoseNothingWhileAFourthSendsValuesPostgreSQLCannotStore() async throws {
        let schema = TestPostgres.freshSchema("poison")
        defer { TestPostgres.drop(schema: schema) }
        let ws = try Workspace(plugins: Poison.plugins)
        let server = try FireflyServer(workspace: ws, config: Poison.config(schema: schema))
        defer { server.stop() }
        let base = server.baseURL
        let warmUp = Poison.otlpSpans(resource: "[]", spans: [(#""warm-up""#, "[]")], seq: 0)
        #expect(await Poison.post(base + "/v1/traces", warmUp) == 200)
        #expect(await eventually(30) { (try? TestPostgres.query("SELECT count(*) FROM \(schema).spans")) == [["1"]] })
        _ = try TestPostgres.query("ALTER TABLE \(schema).spans ADD CONSTRAINT not_quarantined CHECK (name <> 'quarantined')")

        let acks = Acks()
        let bad = Self.badRequests()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {  // Firehose: four records a request
                for k in 0..<Self.rounds {
                    let seqs = (0..<4).map { "\(k)-\($0)" }
                    let records = seqs.map {
                        Poison.cloudWatchRecord(metric: #""Sequence""#, dimensions: #"{"FunctionName":"good-firehose","Seq":"\#($0)"}"#, value: k)
                    }
                    if await Poison.post(base + "/firehose", Poison.firehose(records: records)) == 200 { acks.add(\.firehose, seqs) }
                }
            }
            group.addTask {  // OTLP/HTTP: three spans a request
                for k in 0..<Self.rounds {
                    let names = (0..<3).map { "good-\(k)-\($0)" }
                    let body = Poison.otlpSpans(
                        resource: "[" + Poison.stringAttribute("service.name", #""good-otlp""#) + "]",
                        spans: names.map { (Poison.json($0), "[]") }, seq: 100 + k)
                    if await Poison.post(base + "/v1/traces", body) == 200 { acks.add(\.spans, names) }
                }
            }
            group.addTask {  // Webhook: one point a request
                for k in 0..<Self.rounds {
                    let body = Data(#"{"value":\#(k),"client":"good","seq":"\#(k)","fn":"good-webhook"}"#.utf8)
                    let status = await Poison.post(base + "/hooks/events", body)
                    if status == 200 || status == 202 { acks.add(\.events, ["\(k)"]) }
                }
            }
            group.addTask {  // The fourth client, interleaved with the others
                for request in bad {
                    let status = await Poison.post(base + request.path, request.body)
                    acks.lock.withLock { acks.badStatuses[request.marker] = status }
                }
            }
        }
        let (firehose, spans, events, statuses) = acks.lock.withLock { (acks.firehose, acks.spans, acks.events, acks.badStatuses) }
        #expect(firehose.count == 4 * Self.rounds && spans.count == 3 * Self.rounds && events.count == Self.rounds)
        // Bad values are accepted (to be stored) or refused with a client error; never a server error.
        let serverErrors = statuses.filter { !(200..<300).contains($0.value) && !(400..<500).contains($0.value) }
        #expect(serverErrors.isEmpty, "\(serverErrors)")
        #expect(statuses["otlp-quarantined"] == 200)
        // Only bytes that are not UTF-8 may be refused; every other value has a storable form.
        let refused = statuses.filter { !(200..<300).contains($0.value) }.keys.sorted()
        #expect(refused.allSatisfy { $0.hasSuffix("invalid-utf8") }, "refused: \(statuses.filter { refused.contains($0.key) })")

        func goodStored() throws -> (firehose: [String: Int], spans: [String: Int], events: [String: Int]) {
            func counts(_ sql: String) throws -> [String: Int] {
                Dictionary(uniqueKeysWithValues: try TestPostgres.query(sql).map { ($0[0], Int($0[1]) ?? -1) })
            }
            return (
                try counts("SELECT s.labels->>'Seq', count(*) FROM \(schema).points p JOIN \(schema).series s ON s.id = p.series_id WHERE s.function = 'good-firehose' GROUP BY 1"),
                try counts("SELECT name, count(*) FROM \(schema).spans WHERE service = 'good-otlp' GROUP BY 1"),
                try counts("SELECT s.labels->>'seq', count(*) FROM \(schema).points p JOIN \(schema).series s ON s.id = p.series_id WHERE s.labels->>'client' = 'good' GROUP BY 1")
            )
        }
        let accepted = bad.filter { (200..<300).contains(statuses[$0.marker] ?? 0) }
        func settled() -> Bool {
            guard let good = try? goodStored(), good.firehose.count == firehose.count, good.spans.count == spans.count,
                  good.events.count == events.count, let letters = try? Poison.deadLetters(ws) else { return false }
            let lettered = Set(letters.compactMap(Self.marker))
            // A Firehose record that does not decode is skipped by the receiver (counted, checked below).
            return accepted.allSatisfy {
                $0.path == "/firehose" || lettered.contains($0.marker) || ((try? Self.stored($0, schema: schema)) ?? 0) > 0
            }
        }
        #expect(await eventually(60) { settled() }, "\(server.logText)")

        // Every acknowledged good item, exactly once.
        let good = try goodStored()
        #expect(good.firehose == Dictionary(uniqueKeysWithValues: firehose.map { ($0, 1) }))
        #expect(good.spans == Dictionary(uniqueKeysWithValues: spans.map { ($0, 1) }))
        #expect(good.events == Dictionary(uniqueKeysWithValues: events.map { ($0, 1) }))

        // Every acknowledged bad item: stored in its storable form, or dead-lettered alone with its reason.
        let letters = try Poison.deadLetters(ws)
        for letter in letters {
            #expect(letter.batch.points.count + letter.batch.spans.count == 1, "a dead letter holds more than the rejected item")
            #expect(!letter.reason.isEmpty)
        }
        let lettered = Dictionary(grouping: letters, by: { Self.marker(of: $0) ?? "" })
        var skippedRecords: [String] = []
        for request in accepted {
            let rows = try Self.stored(request, schema: schema)
            let deadLettered = lettered[request.marker]?.count ?? 0
            if request.path == "/firehose", rows + deadLettered == 0 {
                skippedRecords.append(request.marker)
                continue
            }
            #expect(rows + deadLettered == 1, "\(request.marker): \(rows) rows, \(deadLettered) dead letters")
        }
        // Firehose answers for a whole delivery: a record that does not decode is skipped before the
        // ack and counted; only the record that is not valid UTF-8 may be one of those.
        #expect(skippedRecords.allSatisfy { $0 == "fh-invalid-utf8" }, "\(skippedRecords)")
        let metrics = try await http("GET", base + "/metrics").body
        let rejectedRecords = metrics.split(separator: "\n")
            .filter { $0.hasPrefix("firefly_plugin_firehose_records_rejected_total{") }
            .compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
        #expect(rejectedRecords == Double(skippedRecords.count), "\(metrics)")
        // Only the item PostgreSQL still refuses is dead-lettered; the rest was made storable.
        #expect(Set(lettered.keys) == ["otlp-quarantined"], "\(letters.map { "\(Self.marker(of: $0) ?? "?"): \($0.reason)" })")
        #expect(lettered["otlp-quarantined"]?.first?.reason.contains("not_quarantined") == true)
        // The storable forms: no indexed value over the limit, long ones cut with a hash, NUL as U+FFFD.
        let longest = try TestPostgres.query("""
            SELECT max(greatest(octet_length(name), octet_length(namespace), octet_length(function))) FROM \(schema).series
            UNION ALL SELECT max(octet_length(function)) FROM \(schema).spans
            """)
        #expect(longest.allSatisfy { (Int($0[0]) ?? 0) <= 1024 } && longest.count == 2)
        let cut = try TestPostgres.query("SELECT function FROM \(schema).spans WHERE attributes->>'poison' = 'otlp-long-service'")
        #expect(cut.count == 1 && cut.first?.first?.range(of: "…[0-9a-f]{16}$", options: .regularExpression) != nil)
        if statuses["otlp-nul-text"] == 200 {
            let row = try TestPostgres.query("SELECT name, status_message, attributes->>'text' FROM \(schema).spans WHERE attributes->>'poison' = 'otlp-nul-text'")
            #expect(row == [["a\u{FFFD}b", "a\u{FFFD}b", "a\u{FFFD}b"]])
        }
        if statuses["otlp-nul-kvlist-array"] == 200 {
            let row = try TestPostgres.query("SELECT attributes->>'nested', attributes->>'array' FROM \(schema).spans WHERE attributes->>'poison' = 'otlp-nul-kvlist-array'")
            #expect(row.first?.joined().contains("\u{FFFD}") == true, "\(row)")
        }

        // Fixed: the replay delivers the dead-lettered item, and the file is left empty.
        _ = try TestPostgres.query("ALTER TABLE \(schema).spans DROP CONSTRAINT not_quarantined")
        let path = ws.path
        let replay = try await offThePool { try runFirefly(["dead-letters", "replay", "--config", "firefly.yaml"], in: path) }
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        #expect(try Self.stored(bad.first { $0.marker == "otlp-quarantined" }!, schema: schema) == 1)
        #expect(try Poison.deadLetters(ws).isEmpty)
        #expect(server.isRunning)
    }
}
