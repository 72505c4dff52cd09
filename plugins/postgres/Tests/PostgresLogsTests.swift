// Logs and invocations against a real PostgreSQL (scripts/postgres.sh): round trips, idempotency,
// values PostgreSQL cannot store, rejected rows, retention, the upgrade from schema 1, and the README's queries.
import FireflyBenchmarkKit
import FireflyModel
import FireflyPluginKit
import Foundation
@testable import PostgresExporter
import Testing

@Suite(.enabled(if: TestDatabase.isConfigured, TestDatabase.skipReason))
struct PostgresLogsTests {
    /// 2023-11-14T22:13:20.123456789Z.
    static let t0: UInt64 = 1_700_000_000_123_456_789
    static let traceID = TraceID(hex: "5759e988bd862e3fe1be46a994272793")!
    static let requestID = "8f5a1c2e-3b4d-4e6f-8a9b-0c1d2e3f4a5b"

    /// A CloudWatch Logs line (event id, request id, X-Ray trace), an OTLP record with a structured
    /// body, span id and trace flags, and a record with only an observed time and no request id.
    static func sampleLogs() -> [LogRecord] {
        [
            LogRecord(
                timeUnixNano: t0, observedTimeUnixNano: t0 + 2_000_000_001, severityNumber: 17, severityText: "ERROR",
                body: .string("TypeError: x is undefined\n    at handler (/var/task/index.js:3:9)\ttab \\ back"),
                attributes: [
                    Attribute("faas.invocation_id", .string(requestID)), Attribute("aws.log.stream.names", .string("2026/12/03/[$LATEST]abc")),
                ],
                resourceAttributes: [Attribute("cloud.region", .string("eu-west-1")), Attribute("faas.name", .string("checkout"))],
                traceID: traceID, function: "checkout", service: "checkout",
                recordID: "37812365429019184271883934127593829484093928837460099072"),
            LogRecord(
                timeUnixNano: t0 + 1000, observedTimeUnixNano: t0 + 5000, severityNumber: 9, severityText: "INFO",
                body: .json(#"{"msg":"paid","amount":12.5,"items":[1,2]}"#),
                attributes: [Attribute("faas.invocation_id", .string(requestID)), Attribute("retries", .int(2))],
                resourceAttributes: [Attribute("service.name", .string("checkout-svc"))], traceID: traceID,
                spanID: SpanID(hex: "eee19b7ec3c1b174")!, traceFlags: 1, function: "checkout", service: "checkout-svc",
                scopeName: "opentelemetry.sdk._logs", scopeVersion: "1.27.0"),
            LogRecord(
                timeUnixNano: 0, observedTimeUnixNano: t0 + 7000, body: .int(42), attributes: [Attribute("faas.invocation_id", .int(3))],
                function: "payments"),
        ]
    }

    static func sampleInvocations() -> [Invocation] {
        [
            Invocation(
                function: "checkout", version: "$LATEST", requestID: requestID, startTimeUnixNano: t0, durationMs: 1234.56,
                billedDurationMs: 1235, memorySizeMB: 512, maxMemoryUsedMB: 87, initDurationMs: 245.67, status: .success,
                traceID: traceID,
                attributes: [Attribute("cloud.account.id", .string("123456789012")), Attribute("cloud.region", .string("eu-west-1"))]),
            Invocation(
                function: "checkout", version: "7", requestID: "r-2", startTimeUnixNano: t0 + 60_000_000_000, durationMs: 3000.02,
                billedDurationMs: 3000, memorySizeMB: 512, maxMemoryUsedMB: 512, status: .timeout),
            Invocation(
                function: "payments", requestID: "r-3", startTimeUnixNano: t0 + 1, durationMs: 10, billedDurationMs: 10,
                memorySizeMB: 128, maxMemoryUsedMB: 128, status: .outOfMemory, errorType: "Runtime.OutOfMemory"),
            Invocation(
                function: "payments", requestID: "r-4", startTimeUnixNano: t0 + 2, durationMs: 5, billedDurationMs: 5,
                memorySizeMB: 128, maxMemoryUsedMB: 60, status: .error, errorType: "Runtime.ExitError"),
        ]
    }

    static let logColumns = [
        "time", "time_unix_nano", "observed_time", "observed_time_unix_nano", "severity_number", "severity_text", "body",
        "body_json", "attributes", "resource_attributes", "trace_id", "span_id", "trace_flags", "function", "service",
        "scope_name", "scope_version", "request_id", "record_id",
    ]

    @Test func logsRoundTripWithEveryColumn() async throws {
        try await TestDatabase.withExporter { (exporter: PostgresExporter, schema: String) async throws in
            let logs = Self.sampleLogs()
            #expect(await exporter.export(TelemetryBatch(logs: logs)) == .ok)
            let rows = try await TestDatabase.rows(Self.logColumns, "FROM \(schema).logs ORDER BY time_unix_nano")
            let contentKey = "content:" + Hex.encode(ContentDigest.sha256(TableRows.contentKey(logs[1])).prefix(16))
            let observedOnlyKey = "content:" + Hex.encode(ContentDigest.sha256(TableRows.contentKey(logs[2])).prefix(16))
            #expect(rows == [
                [
                    "2023-11-14 22:13:20.123456+00", "1700000000123456789", "2023-11-14 22:13:22.123456+00", "1700000002123456790",
                    "17", "ERROR", "TypeError: x is undefined\n    at handler (/var/task/index.js:3:9)\ttab \\ back", nil,
                    #"{"faas.invocation_id": "\#(Self.requestID)", "aws.log.stream.names": "2026/12/03/[$LATEST]abc"}"#,
                    #"{"faas.name": "checkout", "cloud.region": "eu-west-1"}"#, "5759e988bd862e3fe1be46a994272793", nil, "0",
                    "checkout", "checkout", "", "", Self.requestID, "37812365429019184271883934127593829484093928837460099072",
                ],
                [
                    "2023-11-14 22:13:20.123457+00", "1700000000123457789", "2023-11-14 22:13:20.123461+00", "1700000000123461789",
                    "9", "INFO", #"{"msg":"paid","amount":12.5,"items":[1,2]}"#, #"{"msg": "paid", "items": [1, 2], "amount": 12.5}"#,
                    #"{"retries": 2, "faas.invocation_id": "\#(Self.requestID)"}"#, #"{"service.name": "checkout-svc"}"#,
                    "5759e988bd862e3fe1be46a994272793", "eee19b7ec3c1b174", "1", "checkout", "checkout-svc",
                    "opentelemetry.sdk._logs", "1.27.0", Self.requestID, contentKey,
                ],
                [
                    // No time: the observed time stands in. A request id that is not a string is not one.
                    "2023-11-14 22:13:20.123463+00", "1700000000123463789", "2023-11-14 22:13:20.123463+00", "1700000000123463789",
                    "0", "", "42", nil, #"{"faas.invocation_id": 3}"#, "{}", nil, nil, "0", "payments", "", "", "", nil,
                    observedOnlyKey,
                ],
            ])
            #expect(contentKey.count == 40 && contentKey != observedOnlyKey)
        }
    }

    @Test func invocationsRoundTripWithEveryColumn() async throws {
        try await TestDatabase.withExporter { (exporter: PostgresExporter, schema: String) async throws in
            #expect(await exporter.export(TelemetryBatch(invocations: Self.sampleInvocations())) == .ok)
            let rows = try await TestDatabase.rows(
                [
                    "function", "version", "request_id", "start_time", "start_time_unix_nano", "duration_ms", "billed_duration_ms",
                    "memory_size_mb", "max_memory_used_mb", "init_duration_ms", "cold_start", "status", "error_type", "trace_id",
                    "attributes",
                ], "FROM \(schema).invocations ORDER BY start_time_unix_nano")
            #expect(rows == [
                [
                    "checkout", "$LATEST", Self.requestID, "2023-11-14 22:13:20.123456+00", "1700000000123456789", "1234.56", "1235",
                    "512", "87", "245.67", "true", "success", "", "5759e988bd862e3fe1be46a994272793",
                    #"{"cloud.region": "eu-west-1", "cloud.account.id": "123456789012"}"#,
                ],
                [
                    "payments", "", "r-3", "2023-11-14 22:13:20.123456+00", "1700000000123456790", "10", "10", "128", "128", nil,
                    "false", "out_of_memory", "Runtime.OutOfMemory", nil, "{}",
                ],
                [
                    "payments", "", "r-4", "2023-11-14 22:13:20.123456+00", "1700000000123456791", "5", "5", "128", "60", nil,
                    "false", "error", "Runtime.ExitError", nil, "{}",
                ],
                [
                    "checkout", "7", "r-2", "2023-11-14 22:14:20.123456+00", "1700000060123456789", "3000.02", "3000", "512", "512",
                    nil, "false", "timeout", "", nil, "{}",
                ],
            ])
        }
    }

    @Test func reExportingTheSameBatchAddsNoRows() async throws {
        try await TestDatabase.withExporter { (exporter: PostgresExporter, schema: String) async throws in
            let batch = TelemetryBatch(logs: Self.sampleLogs(), invocations: Self.sampleInvocations())
            #expect(await exporter.export(batch) == .ok)
            #expect(await exporter.export(batch) == .ok)
            #expect(try await TestDatabase.count("logs", schema: schema) == 3)
            #expect(try await TestDatabase.count("invocations", schema: schema) == 4)

            var logs = Self.sampleLogs()
            // A sender's retry of an OTLP record: only the observed time (set on receipt) differs.
            var retried = logs[1]
            retried.observedTimeUnixNano += 1_000_000_000
            // Different content, no id: a new record. Same content under a new CloudWatch id: a new record.
            var otherBody = logs[1]
            otherBody.body = .json(#"{"msg":"paid","amount":12.6,"items":[1,2]}"#)
            var otherID = logs[0]
            otherID.recordID = "37812365429019184271883934127593829484093928837460099073"
            // A string body "42" is not the integer body 42.
            var stringBody = logs[2]
            stringBody.body = .string("42")
            // Lambda retries an asynchronous invocation under the same request id: a second row. The
            // same report delivered again is not.
            var retry = Self.sampleInvocations()[0]
            retry.startTimeUnixNano += 60_000_000_000
            retry.initDurationMs = nil
            logs += [retried, otherBody, otherID, stringBody, otherBody]
            #expect(await exporter.export(TelemetryBatch(logs: logs, invocations: [retry, retry] + Self.sampleInvocations())) == .ok)
            #expect(try await TestDatabase.count("logs", schema: schema) == 6)
            #expect(try await TestDatabase.count("invocations", schema: schema) == 5)
            #expect(
                try await TestDatabase.psql("SELECT count(*), bool_or(cold_start), bool_and(cold_start) FROM \(schema).invocations WHERE request_id = '\(Self.requestID)'")
                    == ["2|t|f"])
        }
    }

    @Test func theContentKeyIsSHA256OfTheCanonicalTextAsPostgreSQLComputesIt() async throws {
        // PostgreSQL's sha256() as the oracle, on a content key with quotes, a tab, NUL, an emoji and two blocks' worth.
        var log = Self.sampleLogs()[1]
        log.body = .string("it's \"quoted\"\t\u{0} 🚀 " + String(repeating: "x", count: 300))
        let key = TableRows.contentKey(log)
        let text = String(decoding: key, as: UTF8.self)
        #expect(text.hasPrefix(#"[1700000000123457789,"checkout","checkout-svc","opentelemetry.sdk._logs","1.27.0",9,"INFO","s","it's \"quoted\"\t�"#))
        let fromPostgres = try await TestDatabase.psql("SELECT encode(sha256(convert_to($k$\(text)$k$, 'UTF8')), 'hex')")
        #expect(fromPostgres == [Hex.encode(ContentDigest.sha256(key))])
    }

    @Test func valuesPostgreSQLCannotStoreAreWrittenInTheirStorableForm() async throws {
        try await TestDatabase.withExporter { (exporter: PostgresExporter, schema: String) async throws in
            let long = PostgresExporterTests.incompressible(6000)
            var log = Self.sampleLogs()[1]
            log.body = .json(#"{"k\u0000":"a\u0000b","lone":"\udc00"}"#)
            log.severityText = "WA\u{0}RN"
            log.function = long
            log.recordID = long + "\u{0}"
            log.attributes = [Attribute("faas.invocation_id", .string(long)), Attribute("k\u{0}", .string("v\u{0}"))]
            var plain = Self.sampleLogs()[0]
            plain.body = .string("nul \u{0} here")
            plain.service = long
            var invocation = Self.sampleInvocations()[0]
            invocation.function = long
            invocation.requestID = long + "r"
            invocation.errorType = "E\u{0}"
            invocation.attributes = [Attribute("nested", .json(#"["\u0000"]"#))]
            let batch = TelemetryBatch(logs: [log, plain], invocations: [invocation])
            #expect(await exporter.export(batch) == .ok)
            let r = "\u{FFFD}"
            let logs = try await TestDatabase.rows(
                ["body", "body_json", "severity_text", "function", "record_id", "request_id", "attributes->>'k\(r)'", "service"],
                "FROM \(schema).logs ORDER BY severity_number DESC")
            #expect(logs == [
                ["nul \(r) here", nil, "ERROR", "checkout", "37812365429019184271883934127593829484093928837460099072", Self.requestID, nil, long],
                [
                    #"{"k\u0000":"a\u0000b","lone":"\udc00"}"#, #"{"k\#(r)": "a\#(r)b", "lone": "\#(r)"}"#, "WA\(r)RN",
                    StorableText.indexed(long), StorableText.indexed(long + r), StorableText.indexed(long), "v\(r)", "checkout-svc",
                ],
            ])
            let invocations = try await TestDatabase.rows(
                ["function", "request_id", "error_type", "attributes->>'nested'"], "FROM \(schema).invocations")
            #expect(invocations == [[StorableText.indexed(long), StorableText.indexed(long + "r"), "E\(r)", #"["\#(r)"]"#]])
            #expect(StorableText.indexed(long).utf8.count <= 1024)
            // The storable form is the same each time: a replay adds nothing.
            #expect(await exporter.export(batch) == .ok)
            #expect(try await TestDatabase.count("logs", schema: schema) == 2)
            #expect(try await TestDatabase.count("invocations", schema: schema) == 1)
        }
    }

    @Test func aRejectedLogOrInvocationIsPermanentAndRollsBackItsBatch() async throws {
        try await TestDatabase.withExporter { (exporter: PostgresExporter, schema: String) async throws in
            var broken = Self.sampleLogs()[1]
            broken.body = .json("{not json")
            let point = PostgresExporterTests.durationSummary(function: "f", time: Self.t0)
            let result = await exporter.export(
                TelemetryBatch(points: [point], logs: [Self.sampleLogs()[0], broken], invocations: Self.sampleInvocations()))
            guard case .permanent(let message) = result else {
                Issue.record("expected .permanent, got \(result)")
                return
            }
            #expect(message.contains("PostgreSQL error 22P02: invalid input syntax for type json"))
            #expect(message.contains("COPY logs, line 2, column body_json"))
            for table in ["points", "logs", "invocations"] {
                #expect(try await TestDatabase.count(table, schema: schema) == 0)
            }
            // The host splits the batch down to the rejected row; its neighbours go through.
            guard case .permanent = await exporter.export(TelemetryBatch(logs: [broken])) else {
                Issue.record("expected the rejected log record alone to be .permanent")
                return
            }
            #expect(await exporter.export(TelemetryBatch(points: [point], logs: [Self.sampleLogs()[0]])) == .ok)
            var badInvocation = Self.sampleInvocations()[1]
            badInvocation.attributes = [Attribute("x", .json("[1,"))]
            guard case .permanent(let second) = await exporter.export(TelemetryBatch(invocations: [badInvocation])) else {
                Issue.record("expected .permanent for an invocation with broken JSON")
                return
            }
            #expect(second.contains("COPY invocations, line 1, column attributes"))
            #expect(try await TestDatabase.count("logs", schema: schema) == 1)
            #expect(try await TestDatabase.count("points", schema: schema) == 1)
        }
    }

    @Test func retentionDeletesOldLogsAndInvocationsOnPlainPostgreSQL() async throws {
        try await TestDatabase.withExporter(extra: ["retention": .string("1h")]) { (exporter: PostgresExporter, schema: String) async throws in
            let now = UInt64(Date().timeIntervalSince1970) * 1_000_000_000
            let old = now - 2 * 86_400 * 1_000_000_000
            var logs = Self.sampleLogs()
            logs[0].timeUnixNano = old
            logs[1].timeUnixNano = now - 60_000_000_000
            logs[2].observedTimeUnixNano = old
            var invocations = Self.sampleInvocations()
            invocations[0].startTimeUnixNano = now - 60_000_000_000
            for i in 1..<invocations.count { invocations[i].startTimeUnixNano = old + UInt64(i) }
            #expect(await exporter.export(TelemetryBatch(logs: logs, invocations: invocations)) == .ok)
            #expect(try await TestDatabase.psql("SELECT time_unix_nano FROM \(schema).logs") == [String(now - 60_000_000_000)])
            #expect(try await TestDatabase.psql("SELECT request_id FROM \(schema).invocations") == [Self.requestID])
        }
    }

    @Test func aSchemaAtVersionOneIsUpgradedAndKeepsItsRows() async throws {
        try await TestDatabase.withExporter { (exporter: PostgresExporter, schema: String) async throws in
            let point = PostgresExporterTests.durationSummary(function: "f", time: Self.t0)
            #expect(await exporter.export(TelemetryBatch(points: [point], spans: PostgresExporterTests.checkoutSpans())) == .ok)
            // What a collector of the first release left behind: its tables, holding these rows.
            let old = TestDatabase.newSchemaName()
            try await TestDatabase.createSchema(old, atVersion: 1)
            try await TestDatabase.copyRows(from: schema, to: old, tables: ["series", "points", "spans"])
            #expect(try await TestDatabase.psql("SELECT version FROM \(old).firefly_schema_migrations") == ["1"])
            let upgraded = try TestDatabase.exporter(schema: old)
            #expect(await upgraded.export(TelemetryBatch(logs: Self.sampleLogs(), invocations: Self.sampleInvocations())) == .ok)
            await upgraded.shutdown()
            #expect(
                try await TestDatabase.psql("SELECT version, name FROM \(old).firefly_schema_migrations ORDER BY version")
                    == ["1|series, points and spans", "2|logs and invocations", "3|points, spans and logs partitioned by day"])
            #expect(try await TestDatabase.count("points", schema: old) == 1)
            #expect(try await TestDatabase.count("spans", schema: old) == 2)
            #expect(try await TestDatabase.count("logs", schema: old) == 3)
            #expect(try await TestDatabase.count("invocations", schema: old) == 4)
            let indexes = try await TestDatabase.psql(
                "SELECT indexname FROM pg_indexes WHERE schemaname = '\(old)' AND tablename IN ('logs', 'invocations')")
            #expect(indexes.sorted() == [
                "invocations_function_request_id_start_time_key", "invocations_function_start", "invocations_request",
                "invocations_start", "invocations_trace", "logs_function_time", "logs_record_id_time_function_key",
                "logs_request", "logs_time", "logs_trace",
            ])
            try await TestDatabase.psql("DROP SCHEMA \(old) CASCADE")
        }
    }

    /// The README's example queries, on rows the exporter wrote.
    @Test func theReadmeQueriesAnswerFromExporterWrittenRows() async throws {
        try await TestDatabase.withExporter { (exporter: PostgresExporter, schema: String) async throws in
            let now = UInt64(Date().timeIntervalSince1970) * 1_000_000_000
            var logs = Self.sampleLogs()
            var invocations = Self.sampleInvocations()
            for i in logs.indices {
                logs[i].timeUnixNano = logs[i].timeUnixNano == 0 ? 0 : now - 60_000_000_000 + UInt64(i)
                logs[i].observedTimeUnixNano = now - 30_000_000_000 + UInt64(i)
            }
            for i in invocations.indices { invocations[i].startTimeUnixNano = now - 120_000_000_000 + UInt64(i) }
            // 20 more warm checkout invocations of 1..20 ms, for the percentiles.
            for i in 1...20 {
                invocations.append(
                    Invocation(
                        function: "checkout", requestID: "warm-\(i)", startTimeUnixNano: now - 100_000_000_000 + UInt64(i),
                        durationMs: Double(i), billedDurationMs: Double(i), memorySizeMB: 512, maxMemoryUsedMB: 90))
            }
            #expect(await exporter.export(TelemetryBatch(logs: logs, invocations: invocations)) == .ok)
            let queries = try Self.readmeQueries(schema: schema)
            try #require(queries.count == 4)
            let minute = try await TestDatabase.psql("SELECT to_json(to_timestamp(\((now - 60_000_000_000) / 1_000_000_000))) #>> '{}'")[0]
            let typeError = Self.sampleLogs()[0].body
            guard case .string(let errorBody) = typeError else { return }
            // An invocation's logs.
            #expect(try await Self.rows(queries[0]) == [
                [minute, "ERROR", errorBody], [minute, "INFO", #"{"msg":"paid","amount":12.5,"items":[1,2]}"#],
            ])
            // Cold-start rate per function.
            #expect(try await Self.rows(queries[1]) == [["checkout", "22", "1", "4.5", "245.67"], ["payments", "2", "0", "0.0", nil]])
            // Exact p95 duration per function, timeouts, out-of-memory kills, peak memory. checkout's 22
            // durations are 1…20, 1234.56 and 3000.02: p95 = 20 + 0.95 × (1234.56 − 20) = 1173.832 (in float8).
            #expect(
                try await Self.rows(queries[2])
                    == [["checkout", "1173.8319999999992", "1", "0", "100"], ["payments", "9.75", "0", "1", "100"]])
            // The logs of a trace, each with its invocation.
            #expect(try await Self.rows(queries[3]) == [
                [minute, "ERROR", errorBody, Self.requestID, "1234.56", "true"],
                [minute, "INFO", #"{"msg":"paid","amount":12.5,"items":[1,2]}"#, Self.requestID, "1234.56", "true"],
            ])
        }
    }

    /// Each row of `query` as the text of its columns, in order (nil for NULL), whatever they hold.
    static func rows(_ query: String) async throws -> [[String?]] {
        let sql = """
            SELECT coalesce(json_agg((SELECT json_agg(value) FROM json_each_text(to_json(q)))), '[]')::text
            FROM (\(query.trimmingCharacters(in: .whitespacesAndNewlines).dropLast())) q
            """
        let text = try await TestDatabase.psql(sql).joined(separator: "\n")
        return try JSONDecoder().decode([[String?]].self, from: Data(text.utf8))
    }

    /// The README's SQL blocks on the logs and invocations tables, with the schema of the test.
    static func readmeQueries(schema: String) throws -> [String] {
        let readme = try String(
            contentsOf: TestDatabase.repositoryRoot.appendingPathComponent("plugins/postgres/README.md"), encoding: .utf8)
        return readme.components(separatedBy: "```sql\n").dropFirst()
            .compactMap { $0.components(separatedBy: "```").first }
            .filter { $0.contains("firefly.logs") || $0.contains("firefly.invocations") }
            .map { $0.replacingOccurrences(of: "firefly.", with: "\(schema).") }
    }

    @Test func theLogsBenchmarkWritesWhatItReports() async throws {
        let result = try await PostgresLogsBenchmark.run(
            url: TestDatabase.url!, psql: "psql", workDirectory: NSTemporaryDirectory(), logs: 700, batchSize: 300)
        #expect(result.logs == 700)
        #expect(result.logsPerSecond > 0 && result.copyPerSecond > 0)
        #expect(try await TestDatabase.psql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'bench\\_logs\\_%'") == ["0"])
        // Half the records carry a CloudWatch event id, half need a content key; none collide.
        let records = PostgresLogsBenchmark.makeLogs(700, offset: 0, base: Self.t0)
        #expect(Set(records.map(TableRows.recordID(of:))).count == 700)
        #expect(records.filter { $0.recordID.isEmpty }.count == 350)
    }
}
