// The exporter against a real PostgreSQL (scripts/postgres.sh): round trips, idempotency, odd values,
// values PostgreSQL cannot store, a server restart mid-stream, concurrent migrations and retention.
import FireflyBenchmarkKit
import FireflyModel
import FireflyPluginKit
import Foundation
@testable import PostgresExporter
import Testing

@Suite(.enabled(if: TestDatabase.isConfigured, TestDatabase.skipReason))
struct PostgresExporterTests {
    /// 2023-11-14T22:13:20.123456789Z: the sub-microsecond digits test the exact nanosecond column.
    static let t0: UInt64 = 1_700_000_000_123_456_789

    static func durationSummary(function: String, time: UInt64, labels extra: [Label] = []) -> MetricPoint {
        MetricPoint(
            name: "Duration", namespace: "AWS/Lambda", unit: "Milliseconds", function: function, kind: .summary,
            hasMinMax: true, isDelta: true,
            labels: [Label("FunctionName", function), Label("account_id", "123456789012"), Label("region", "eu-west-1")]
                + extra,
            startTimeUnixNano: time - 60_000_000_000, timeUnixNano: time, count: 12, sum: 345.25, min: 1.5,
            max: 99.75,
            quantiles: [Quantile(0, 1.5), Quantile(0.5, 20.125), Quantile(0.95, 88.5), Quantile(0.99, 97.1), Quantile(1, 99.75)])
    }

    /// Rebuilds points from SQL alone (series joined to points), for comparison with what was exported.
    static func readPoints(schema: String) async throws -> [MetricPoint] {
        let columns = [
            "s.name", "s.namespace", "s.unit", "s.function", "s.kind", "s.is_monotonic", "s.is_delta", "s.labels",
            "p.start_time_unix_nano", "p.time_unix_nano", "p.value", "p.count", "p.sum", "p.min", "p.max",
            "p.quantiles", "p.quantile_values", "p.bounds", "p.bucket_counts",
            "(extract(epoch FROM p.time) * 1000000)::bigint", "(extract(epoch FROM p.start_time) * 1000000)::bigint",
        ]
        let rows = try await TestDatabase.rows(
            columns, "FROM \(schema).points p JOIN \(schema).series s ON s.id = p.series_id ORDER BY p.time_unix_nano, s.id")
        return try rows.map { r in
            let kinds: [String: MetricKind] = [
                "gauge": .gauge, "cumulative_sum": .cumulativeSum, "delta_sum": .deltaSum, "summary": .summary,
                "histogram": .histogram,
            ]
            let labels = try JSONDecoder().decode([String: String].self, from: Data(r[7]!.utf8))
            let time = UInt64(r[9]!)!
            // The timestamptz columns hold the same instant, truncated to microseconds.
            #expect(r[19] == String(time / 1000))
            let start = UInt64(r[8]!)!
            #expect(r[20] == (start == 0 ? nil : String(start / 1000)))
            let quantiles = zip(doubles(r[15]), doubles(r[16])).map { Quantile($0, $1) }
            return MetricPoint(
                name: r[0]!, namespace: r[1]!, unit: r[2]!, function: r[3]!, kind: kinds[r[4]!]!,
                isMonotonic: r[5] == "true", hasMinMax: r[13] != nil, isDelta: r[6] == "true",
                labels: labels.map { Label($0.key, $0.value) }, startTimeUnixNano: UInt64(r[8]!)!, timeUnixNano: time,
                value: r[10].flatMap(Double.init) ?? 0, count: r[11].flatMap(Double.init) ?? 0,
                sum: r[12].flatMap(Double.init) ?? 0, min: r[13].flatMap(Double.init) ?? 0,
                max: r[14].flatMap(Double.init) ?? 0, quantiles: quantiles, bounds: doubles(r[17]),
                bucketCounts: doubles(r[18]).map { UInt64($0) })
        }
    }

    /// `{1.5,2,NaN}` → [1.5, 2, nan]; NULL → [].
    static func doubles(_ text: String?) -> [Double] {
        guard let text, text.count > 2 else { return [] }
        return text.dropFirst().dropLast().split(separator: ",").map { Double(String($0))! }
    }

    @Test func summaryPointsRoundTripExactly() async throws {
        try await TestDatabase.withExporter { (exporter: PostgresExporter, schema: String) async throws in
            let points = [
                Self.durationSummary(function: "checkout", time: Self.t0),
                Self.durationSummary(function: "payments", time: Self.t0 + 60_000_000_000),
                MetricPoint(
                    name: "Invocations", namespace: "AWS/Lambda", unit: "Count", function: "checkout", kind: .summary,
                    hasMinMax: true, isDelta: true, labels: [Label("FunctionName", "checkout")],
                    startTimeUnixNano: Self.t0 + 60_000_000_001, timeUnixNano: Self.t0 + 120_000_000_001, count: 3,
                    sum: 3, min: 1, max: 1, quantiles: [Quantile(0, 1), Quantile(1, 1)]),
                MetricPoint(
                    name: "process.runtime.memory", unit: "By", function: "checkout", kind: .gauge,
                    labels: [Label("service.name", "checkout")], timeUnixNano: Self.t0 + 180_000_000_000,
                    value: 1.0e-7),
                MetricPoint(
                    name: "http.server.duration", unit: "ms", function: "checkout", kind: .histogram, hasMinMax: true,
                    isDelta: false, labels: [Label("http.route", "/cart")], startTimeUnixNano: Self.t0,
                    timeUnixNano: Self.t0 + 240_000_000_000, count: 7, sum: 1234.5678901234567, min: 0.25, max: 900,
                    bounds: [5, 10, 100, 1000], bucketCounts: [1, 2, 3, 1, 0]),
                MetricPoint(
                    name: "requests", function: "checkout", kind: .cumulativeSum, isMonotonic: true,
                    labels: [Label("code", "200")], startTimeUnixNano: Self.t0, timeUnixNano: Self.t0 + 300_000_000_000,
                    value: 42),
            ]
            #expect(await exporter.export(TelemetryBatch(points: points)) == .ok)
            #expect(try await Self.readPoints(schema: schema) == points)
            // The p95 the README's dashboard query computes, straight from the stored quantiles.
            let p95 = try await TestDatabase.psql(
                """
                SELECT s.function, p.quantile_values[array_position(p.quantiles, 0.95)]
                FROM \(schema).points p JOIN \(schema).series s ON s.id = p.series_id
                WHERE s.name = 'Duration' ORDER BY 1
                """)
            #expect(p95 == ["checkout|88.5", "payments|88.5"])
        }
    }

    static let traceID = TraceID(hex: "5b8efff798038103d269b633813fc60c")!

    static func checkoutSpans() -> [Span] {
        [
            Span(
                traceID: traceID, spanID: SpanID(hex: "eee19b7ec3c1b174")!, traceState: "rojo=00f067aa0ba902b7",
                name: "checkout", kind: .server, statusCode: .error, statusMessage: "card \"declined\"\n(retry)",
                startTimeUnixNano: t0, endTimeUnixNano: t0 + 1_234_567_891, function: "checkout", service: "checkout-svc",
                scopeName: "opentelemetry.instrumentation.aws_lambda", scopeVersion: "0.48b0",
                attributes: [
                    Attribute("faas.coldstart", .bool(true)), Attribute("http.status_code", .int(402)),
                    Attribute("big", .int(9_007_199_254_740_993)), Attribute("ratio", .double(0.1)),
                    Attribute("payload", .bytes([0, 1, 0xFE, 0xFF])), Attribute("tags", .json(#"["a","b",{"c":1}]"#)),
                    Attribute("path", .string("C:\\tmp\\x\t\"y\"")), Attribute("faas.coldstart", .bool(false)),
                ],
                resourceAttributes: [Attribute("service.name", .string("checkout-svc")), Attribute("faas.name", .string("checkout"))],
                events: [
                    SpanEvent(
                        timeUnixNano: t0 + 5, name: "exception",
                        attributes: [Attribute("exception.message", .string("Ünïcödé ✓ 🚀"))])
                ],
                links: [
                    SpanLink(
                        traceID: TraceID(hex: "0af7651916cd43dd8448eb211c80319c")!, spanID: SpanID(hex: "b7ad6b7169203331")!,
                        traceState: "congo=t61rcWkgMzE", attributes: [Attribute("link.kind", .string("queue"))])
                ]),
            Span(
                traceID: traceID, spanID: SpanID(hex: "00f067aa0ba902b7")!, parentSpanID: SpanID(hex: "eee19b7ec3c1b174")!,
                name: "GET /cart", kind: .client, startTimeUnixNano: t0 + 1000, endTimeUnixNano: t0 + 1000,
                function: "checkout"),
        ]
    }

    @Test func spansRoundTripExactly() async throws {
        try await TestDatabase.withExporter { (exporter: PostgresExporter, schema: String) async throws in
            let spans = Self.checkoutSpans()
            #expect(await exporter.export(TelemetryBatch(spans: spans)) == .ok)
            let columns = [
                "trace_id", "span_id", "parent_span_id", "trace_state", "name", "kind", "status_code", "status_message",
                "start_time_unix_nano", "end_time_unix_nano", "(extract(epoch FROM start_time) * 1000000)::bigint",
                "(extract(epoch FROM end_time) * 1000000)::bigint", "duration_ms", "function", "service", "scope_name",
                "scope_version", "cold_start",
            ]
            let rows = try await TestDatabase.rows(columns, "FROM \(schema).spans ORDER BY start_time_unix_nano")
            #expect(
                rows == [
                    [
                        "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", nil, "rojo=00f067aa0ba902b7", "checkout",
                        "server", "2", "card \"declined\"\n(retry)", String(Self.t0), String(Self.t0 + 1_234_567_891),
                        String(Self.t0 / 1000), String((Self.t0 + 1_234_567_891) / 1000), "1234.567891", "checkout",
                        "checkout-svc", "opentelemetry.instrumentation.aws_lambda", "0.48b0", "true",
                    ],
                    [
                        "5b8efff798038103d269b633813fc60c", "00f067aa0ba902b7", "eee19b7ec3c1b174", "", "GET /cart",
                        "client", "0", "", String(Self.t0 + 1000), String(Self.t0 + 1000), String((Self.t0 + 1000) / 1000),
                        String((Self.t0 + 1000) / 1000), "0", "checkout", "", "", "", "false",
                    ],
                ])
            // JSON columns compared as jsonb values (exact numbers, key order irrelevant). A repeated key
            // keeps its first value; bytes are base64; JSON-valued attributes are embedded as JSON.
            let json = try await TestDatabase.rows(
                [
                    #"attributes = '{"faas.coldstart": true, "http.status_code": 402, "big": 9007199254740993, "ratio": 0.1, "payload": "AAH+/w==", "tags": ["a", "b", {"c": 1}], "path": "C:\\tmp\\x\t\"y\""}'::jsonb"#,
                    #"resource_attributes = '{"service.name": "checkout-svc", "faas.name": "checkout"}'::jsonb"#,
                    #"events = '[{"time_unix_nano": 1700000000123456794, "name": "exception", "attributes": {"exception.message": "Ünïcödé ✓ 🚀"}}]'::jsonb"#,
                    #"links = '[{"trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": "b7ad6b7169203331", "trace_state": "congo=t61rcWkgMzE", "attributes": {"link.kind": "queue"}}]'::jsonb"#,
                    "attributes->>'big'", "attributes->>'path'",
                ], "FROM \(schema).spans WHERE parent_span_id IS NULL")
            #expect(json == [["true", "true", "true", "true", "9007199254740993", "C:\\tmp\\x\t\"y\""]])
            let child = try await TestDatabase.rows(
                ["attributes::text", "resource_attributes::text", "events::text", "links::text"],
                "FROM \(schema).spans WHERE parent_span_id IS NOT NULL")
            #expect(child == [["{}", "{}", "[]", "[]"]])
        }
    }

    @Test func theSameBatchWrittenTwiceLeavesOneCopy() async throws {
        try await TestDatabase.withExporter { (exporter: PostgresExporter, schema: String) async throws in
            let batch = TelemetryBatch(
                points: (0..<50).map { Self.durationSummary(function: "f\($0 % 5)", time: Self.t0 + UInt64($0 / 5) * 60_000_000_000) },
                spans: Self.checkoutSpans())
            #expect(await exporter.export(batch) == .ok)
            #expect(await exporter.export(batch) == .ok)
            // A second exporter has an empty series cache: it must find the same series, not add new ones.
            let second = try TestDatabase.exporter(schema: schema)
            #expect(await second.export(batch) == .ok)
            await second.shutdown()
            #expect(try await TestDatabase.count("points", schema: schema) == 50)
            #expect(try await TestDatabase.count("series", schema: schema) == 5)
            #expect(try await TestDatabase.count("spans", schema: schema) == 2)
            #expect(try await TestDatabase.psql("SELECT version FROM \(schema).firefly_schema_migrations ORDER BY version") == ["1", "2", "3"])
        }
    }

    @Test func aReplayMixedWithNewRowsKeepsEveryNewRowOnce() async throws {
        try await TestDatabase.withExporter { (exporter: PostgresExporter, schema: String) async throws in
            let points = (0..<50).map { Self.durationSummary(function: "f\($0 % 5)", time: Self.t0 + UInt64($0 / 5) * 60_000_000_000) }
            let spans = Self.checkoutSpans()
            #expect(await exporter.export(TelemetryBatch(points: Array(points[0..<30]), spans: [spans[0]])) == .ok)
            // Rows 20..<30 and the first span again, beside new rows: the duplicates are skipped, the rest kept.
            #expect(await exporter.export(TelemetryBatch(points: Array(points[20..<50]), spans: spans)) == .ok)
            // A row repeated inside one batch is stored once.
            let late = Self.durationSummary(function: "f0", time: Self.t0 + 100 * 60_000_000_000)
            #expect(await exporter.export(TelemetryBatch(points: [late, late])) == .ok)
            #expect(try await TestDatabase.count("points", schema: schema) == 51)
            #expect(try await TestDatabase.count("spans", schema: schema) == 2)
            #expect(try await Self.readPoints(schema: schema) == points + [late])
        }
    }

    @Test func quotesUnicodeAndLongLabelValuesAreStoredVerbatim() async throws {
        try await TestDatabase.withExporter { (exporter: PostgresExporter, schema: String) async throws in
            let long = String(repeating: "0123456789abcdef\\\t\n'\"é", count: 4500)
            let values = [
                "it's \"quoted\"", "back\\slash \\N \\\\", "tab\there\nnewline\r\n", "Ünïcödé ✓ 🚀 中文 e\u{301}",
                "{\"json\": [1, 2]}", "", long,
            ]
            let points = values.enumerated().map { i, v in
                MetricPoint(
                    name: "m", function: "f", kind: .gauge, labels: [Label("v", v), Label("i", String(i))],
                    timeUnixNano: Self.t0, value: Double(i))
            }
            #expect(long.utf8.count >= 100 * 1024)
            #expect(await exporter.export(TelemetryBatch(points: points)) == .ok)
            let stored = try await TestDatabase.rows(["labels->>'v'"], "FROM \(schema).series ORDER BY (labels->>'i')::int")
            #expect(stored == values.map { [$0] })
            #expect(try await Self.readPoints(schema: schema).sorted { $0.value < $1.value } == points)
            // Replaying finds the same series (key hash over the canonical text), long value included.
            #expect(await exporter.export(TelemetryBatch(points: points)) == .ok)
            #expect(try await TestDatabase.count("series", schema: schema) == values.count)
        }
    }

    /// Hex that compresses poorly: PostgreSQL compresses an index row before checking its size.
    static func incompressible(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<bytes).map { _ in "0123456789abcdef".randomElement(using: &generator)! })
    }

    @Test func valuesPostgreSQLCannotStoreAreWrittenInTheirStorableForm() async throws {
        try await TestDatabase.withExporter { (exporter: PostgresExporter, schema: String) async throws in
            let long = Self.incompressible(6000), longer = long + "x"
            var point = Self.durationSummary(function: long, time: Self.t0, labels: [Label("version", "1\u{0}2")])
            point.name = longer
            point.namespace = long
            point.unit = "m\u{0}s"
            var twin = Self.durationSummary(function: longer, time: Self.t0)  // distinct from `point` in the first 6 000 bytes' hash
            twin.name = long
            var span = Self.checkoutSpans()[1]
            span.name = "GET \u{0}/cart"
            span.statusMessage = "\u{0}"
            span.function = long
            span.service = long
            span.attributes = [
                Attribute("db.statement", .string("SELECT '\u{0}'")),
                Attribute("nested", .json(#"{"list":["a\u0000b",{"k\u0000":["\u0000"]}],"pair":"\ud83d\ude00","lone":"\udc00"}"#)),
            ]
            span.events = [SpanEvent(timeUnixNano: Self.t0, name: "e\u{0}", attributes: [Attribute("k\u{0}", .string("v"))])]
            #expect(await exporter.export(TelemetryBatch(points: [point, twin], spans: [span])) == .ok)
            #expect(try await TestDatabase.count("points", schema: schema) == 2)
            #expect(try await TestDatabase.count("series", schema: schema) == 2)
            #expect(try await TestDatabase.count("spans", schema: schema) == 1)
            let series = try await TestDatabase.rows(
                ["name", "namespace", "function", "unit", "labels->>'version'", "octet_length(name)"],
                "FROM \(schema).series ORDER BY octet_length(function), function")
            #expect(series.count == 2)
            for row in series {
                #expect(row[0]!.hasPrefix(String(long.prefix(900))) && row[0]!.contains("…"))
                #expect(Int(row[5]!)! <= 1024)
                #expect(row[1]! == StorableText.indexed(long) || row[1]! == "AWS/Lambda")
            }
            #expect(Set(series.map { $0[2]! }) == [StorableText.indexed(long), StorableText.indexed(longer)])
            #expect(series.contains { $0[3] == "m\u{FFFD}s" && $0[4] == "1\u{FFFD}2" })
            let spans = try await TestDatabase.rows(
                ["name", "status_message", "function", "service", "attributes->>'db.statement'", "attributes->'nested'",
                 "attributes->'nested'->>'lone'", "events->0->>'name'", "events->0->'attributes'"],
                "FROM \(schema).spans")
            let r = "\u{FFFD}"
            #expect(spans == [[
                "GET \u{FFFD}/cart", "\u{FFFD}", StorableText.indexed(long), long, "SELECT '\u{FFFD}'",
                #"{"list": ["a\#(r)b", {"k\#(r)": ["\#(r)"]}], "lone": "\#(r)", "pair": "😀"}"#, "\u{FFFD}", "e\u{FFFD}",
                #"{"k\#(r)": "v"}"#,
            ]])
            // A replay is a no-op: the storable form is the same each time.
            #expect(await exporter.export(TelemetryBatch(points: [point, twin], spans: [span])) == .ok)
            #expect(try await TestDatabase.count("points", schema: schema) == 2)
            #expect(try await TestDatabase.count("spans", schema: schema) == 1)
        }
    }

    @Test func aDataErrorFromTheServerIsPermanentWithItsMessageAndTheConnectionStaysUsable() async throws {
        try await TestDatabase.withExporter { (exporter: PostgresExporter, schema: String) async throws in
            var span = Self.checkoutSpans()[1]
            span.attributes = [Attribute("broken", .json("{not json"))]
            let result = await exporter.export(TelemetryBatch(points: [Self.durationSummary(function: "f", time: Self.t0)], spans: [span]))
            guard case .permanent(let message) = result else {
                Issue.record("expected .permanent, got \(result)")
                return
            }
            #expect(message.hasPrefix("postgres://firefly@127.0.0.1:"))
            #expect(message.contains("PostgreSQL error 22P02: invalid input syntax for type json"))
            #expect(message.contains("COPY spans, line 1, column attributes"))
            // The whole batch was rolled back, and the same exporter writes the next batch.
            #expect(try await TestDatabase.count("points", schema: schema) == 0)
            #expect(await exporter.export(TelemetryBatch(spans: Self.checkoutSpans())) == .ok)
            #expect(try await TestDatabase.count("spans", schema: schema) == 2)
        }
    }

    @Test func aWriteThatOutlivesItsTimeoutIsAbandonedAsRetryableAndTheCallerIsAnsweredAtOnce() async throws {
        let settings = try PostgresSettings(PluginConfig(["url": .string(TestDatabase.url!), "tls": .string("disable")]))
        let connection = try await PQConnection.connect(settings)
        let pid = try await connection.run { try $0.integer("SELECT pg_backend_pid()") }
        let clock = ContinuousClock()
        let began = clock.now
        await #expect(throws: WriteTimeout.self) {
            try await connection.run(timeout: .milliseconds(300)) { session in
                try session.execute("SELECT pg_sleep(30)")
                return 1
            }
        }
        // Answered by the 300 ms write timeout, not after the 30 s query.
        #expect(clock.now - began < .seconds(15))
        #expect(connection.isBroken)
        // The server was asked to cancel the statement, and the connection is closed: its backend goes.
        var gone = false
        for _ in 0..<100 where !gone {
            gone = try await TestDatabase.psql("SELECT count(*) FROM pg_stat_activity WHERE pid = \(pid)") == ["0"]
            if !gone { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(gone)
        let failure = PostgresFailure.classify(WriteTimeout(), server: "postgres://u@h/d")
        #expect(failure.kind == .retryable && failure.resetsConnection)
        #expect(failure.message == "export to postgres://u@h/d did not finish within 15.0 seconds of getting its connection")
        // A write that finishes in time returns its value.
        let fresh = try await PQConnection.connect(settings)
        let value = try await fresh.run(timeout: .seconds(10)) { try $0.integer("SELECT 7") }
        await fresh.closeAndWait()
        #expect(value == 7)
    }

    @Test func aMissingDatabaseIsRetryableAndSaysWhy() async throws {
        var url = URLComponents(string: TestDatabase.url!)!
        url.path = "/no_such_database"
        let exporter = try TestDatabase.exporter(schema: "firefly", url: url.string!, extra: ["connect_timeout": .string("1s")])
        let result = await exporter.export(TelemetryBatch(points: [Self.durationSummary(function: "f", time: Self.t0)]))
        await exporter.shutdown()
        guard case .retryable(_, let message) = result else {
            Issue.record("expected .retryable, got \(result)")
            return
        }
        #expect(message.contains("within connect_timeout: cannot connect: "))
        #expect(message.hasSuffix("database \"no_such_database\" does not exist"))
    }

    @Test func collectorsStartingTogetherMigrateOnce() async throws {
        let schema = TestDatabase.newSchemaName()
        let exporters = try (0..<4).map { _ in try TestDatabase.exporter(schema: schema) }
        let results = await withTaskGroup(of: ExportResult.self) { group in
            for (i, exporter) in exporters.enumerated() {
                group.addTask {
                    await exporter.export(TelemetryBatch(points: [Self.durationSummary(function: "f\(i)", time: Self.t0)]))
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        for exporter in exporters { await exporter.shutdown() }
        #expect(results == Array(repeating: .ok, count: 4))
        #expect(try await TestDatabase.psql("SELECT version, name FROM \(schema).firefly_schema_migrations ORDER BY version")
                == ["1|series, points and spans", "2|logs and invocations", "3|points, spans and logs partitioned by day"])
        #expect(try await TestDatabase.count("points", schema: schema) == 4)
        try await TestDatabase.psql("DROP SCHEMA \(schema) CASCADE")
    }

    @Test func retentionDeletesOldRowsOnPlainPostgreSQL() async throws {
        try await TestDatabase.withExporter(extra: ["retention": .string("1h")]) { (exporter: PostgresExporter, schema: String) async throws in
            let now = UInt64(Date().timeIntervalSince1970) * 1_000_000_000
            let old = now - 2 * 86_400 * 1_000_000_000
            var oldSpan = Self.checkoutSpans()[1]
            oldSpan.startTimeUnixNano = old
            oldSpan.endTimeUnixNano = old + 1
            var newSpan = Self.checkoutSpans()[0]
            newSpan.startTimeUnixNano = now - 60_000_000_000
            newSpan.endTimeUnixNano = now
            let batch = TelemetryBatch(
                points: [Self.durationSummary(function: "f", time: old), Self.durationSummary(function: "f", time: now - 60_000_000_000)],
                spans: [oldSpan, newSpan])
            #expect(await exporter.export(batch) == .ok)
            #expect(try await TestDatabase.psql("SELECT time_unix_nano FROM \(schema).points") == [String(now - 60_000_000_000)])
            #expect(try await TestDatabase.psql("SELECT span_id FROM \(schema).spans") == ["eee19b7ec3c1b174"])
        }
    }

    static func restartBatch(_ b: Int) -> TelemetryBatch {
        var points: [MetricPoint] = []
        for i in 0..<100 {
            let minute = UInt64(b * 10 + i / 10)
            points.append(durationSummary(function: "f\(i % 10)", time: t0 + minute * 60_000_000_000))
        }
        var spans: [Span] = []
        for i in 0..<10 {
            spans.append(
                Span(
                    traceID: TraceID(high: UInt64(b + 1), low: UInt64(i + 1)), spanID: SpanID(UInt64(i + 1)), name: "s",
                    startTimeUnixNano: t0, endTimeUnixNano: t0 + 1))
        }
        return TelemetryBatch(points: points, spans: spans)
    }

    @Test func exportsAreRetryableWhilePostgreSQLIsDownAndNothingIsLost() async throws {
        let port = try freeLoopbackPort()
        let cluster = ScriptCluster(directory: NSTemporaryDirectory() + "firefly-pg-restart-\(UUID().uuidString)", port: port)
        defer { cluster.remove() }
        try cluster.run("start")
        let schema = TestDatabase.newSchemaName()
        let exporter = try TestDatabase.exporter(schema: schema, url: cluster.url, extra: ["connect_timeout": .string("2s")])
        let batches = (0..<4).map(Self.restartBatch)
        // A cluster that has just started may still refuse its first connections on a busy machine.
        var first = await exporter.export(batches[0])
        for _ in 0..<20 where first != ExportResult.ok {
            try await Task.sleep(for: .milliseconds(500))
            first = await exporter.export(batches[0])
        }
        #expect(first == .ok)
        try cluster.run("stop")
        for batch in batches[1...2] {
            let result = await exporter.export(batch)
            guard case .retryable(_, let message) = result else {
                Issue.record("expected .retryable while PostgreSQL is stopped, got \(result)")
                continue
            }
            #expect(message.contains("127.0.0.1:\(port)"))
        }
        try cluster.run("start")
        // The host retries with backoff; the first attempts after a restart may still fail.
        for batch in batches[1...] {
            var result = await exporter.export(batch)
            for _ in 0..<20 where result != ExportResult.ok {
                try await Task.sleep(for: .milliseconds(500))
                result = await exporter.export(batch)
            }
            #expect(result == .ok)
        }
        await exporter.shutdown()
        #expect(try await TestDatabase.psql("SELECT count(*) FROM \(schema).points", url: cluster.url) == ["400"])
        #expect(try await TestDatabase.psql("SELECT count(*) FROM \(schema).spans", url: cluster.url) == ["40"])
    }

    @Test func theWriteBenchmarkWritesWhatItReports() async throws {
        let result = try await PostgresWriteBenchmark.run(url: TestDatabase.url!, points: 500, spans: 300, batchSize: 200, series: 10)
        #expect(result.points == 500)
        #expect(result.spans == 300)
        #expect(result.pointsPerSecond > 0 && result.spansPerSecond > 0)
        // It cleans up after itself (the logs benchmark's schemas, `bench_logs_…`, belong to a test
        // that may run at the same time).
        #expect(try await TestDatabase.psql(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'bench\\_%' AND nspname NOT LIKE 'bench\\_logs\\_%'") == ["0"])
    }
}
