// `make bench`: how fast the exporter writes points and spans to a real PostgreSQL.
import FireflyModel
import FireflyPluginKit
import PostgresExporter

/// Writes synthetic Lambda-like data through `PostgresExporter.export` into a throw-away schema and
/// measures rows per second; the schema is dropped afterwards.
public enum PostgresWriteBenchmark {
    public struct Result: Sendable, CustomStringConvertible {
        public var points: Int
        public var spans: Int
        public var pointsPerSecond: Double
        public var spansPerSecond: Double

        public var description: String {
            "postgres exporter: \(points) points at \(Int(pointsPerSecond)) points/s, "
                + "\(spans) spans at \(Int(spansPerSecond)) spans/s"
        }
    }

    /// - Parameters:
    ///   - url: a `postgres://` URL (its user must be allowed to create schemas).
    ///   - points: summary points to write, in batches of `batchSize`, over `series` series.
    ///   - spans: spans to write, in batches of `batchSize`.
    ///   - psql: the psql program that counts the rows written and drops the schema (a path, or a
    ///     name looked up on PATH).
    public static func run(
        url: String, psql: String = "psql", points: Int = 10_000, spans: Int = 10_000, batchSize: Int = 10_000, series: Int = 100
    ) async throws -> Result {
        let schema = "bench_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let context = PluginContext.standalone(instanceName: "postgres-bench")
        let exporter = try PostgresExporter(
            context: context, config: PluginConfig(["url": .string(url), "schema": .string(schema)]))
        let base: UInt64 = 1_700_000_000_000_000_000
        do {
            // Warm up: migrations and series ids are not what is measured.
            try PostgresBench.check(await exporter.export(TelemetryBatch(points: makePoints(series, series: series, base: base - 60_000_000_000))))
            let clock = ContinuousClock()
            var pointTime = Duration.zero
            var written = 0
            while written < points {
                let n = min(batchSize, points - written)
                let batch = TelemetryBatch(points: makePoints(n, series: series, base: base + UInt64(written / series) * 60_000_000_000))
                let start = clock.now
                try PostgresBench.check(await exporter.export(batch))
                pointTime += clock.now - start
                written += n
            }
            var spanTime = Duration.zero
            written = 0
            while written < spans {
                let n = min(batchSize, spans - written)
                let batch = TelemetryBatch(spans: makeSpans(n, offset: written, base: base))
                let start = clock.now
                try PostgresBench.check(await exporter.export(batch))
                spanTime += clock.now - start
                written += n
            }
            await exporter.shutdown()
            // What the database holds, not what was sent: the warm-up's points are before `base`.
            let stored = try await countRows(schema, since: base, psql: psql, url: url)
            try await PostgresBench.psql(psql, url, "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE")
            return Result(
                points: stored.points, spans: stored.spans, pointsPerSecond: Double(stored.points) / PostgresBench.seconds(pointTime),
                spansPerSecond: Double(stored.spans) / PostgresBench.seconds(spanTime))
        } catch {
            await exporter.shutdown()
            _ = try? await PostgresBench.psql(psql, url, "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE")
            throw error
        }
    }

    /// CloudWatch Metric Stream style: one Duration summary per function and minute.
    static func makePoints(_ n: Int, series: Int, base: UInt64) -> [MetricPoint] {
        (0..<n).map { i in
            let function = "function-\(i % series)"
            let time = base + UInt64(i / series) * 60_000_000_000
            let v = Double(i % 1000)
            return MetricPoint(
                name: "Duration", namespace: "AWS/Lambda", unit: "Milliseconds", function: function, kind: .summary,
                hasMinMax: true, isDelta: true,
                labels: [
                    Label("FunctionName", function), Label("account_id", "123456789012"), Label("region", "eu-west-1"),
                ],
                startTimeUnixNano: time - 60_000_000_000, timeUnixNano: time, count: 60, sum: v * 60, min: 1.25,
                max: v + 100,
                quantiles: [Quantile(0, 1.25), Quantile(0.5, v), Quantile(0.95, v + 50), Quantile(0.99, v + 90), Quantile(1, v + 100)])
        }
    }

    static func makeSpans(_ n: Int, offset: Int, base: UInt64) -> [Span] {
        (0..<n).map { j in
            let i = offset + j
            let start = base + UInt64(i) * 1_000_000
            return Span(
                traceID: TraceID(high: 0x0af7_6519_16cd_43dd, low: UInt64(i / 4 + 1)), spanID: SpanID(UInt64(i + 1)),
                parentSpanID: i % 4 == 0 ? .zero : SpanID(UInt64(i - i % 4 + 1)), name: i % 4 == 0 ? "checkout" : "GET /items",
                kind: i % 4 == 0 ? .server : .client, statusCode: i % 50 == 0 ? .error : .unset,
                startTimeUnixNano: start, endTimeUnixNano: start + UInt64(5_000_000 + i % 1000 * 1000),
                function: "function-\(i % 100)", service: "function-\(i % 100)", scopeName: "opentelemetry.instrumentation",
                scopeVersion: "0.48b0",
                attributes: [
                    Attribute("faas.coldstart", .bool(i % 100 == 0)), Attribute("http.method", .string("GET")),
                    Attribute("http.status_code", .int(200)), Attribute("http.url", .string("https://api.example.com/items/\(i)")),
                ],
                resourceAttributes: [
                    Attribute("service.name", .string("function-\(i % 100)")), Attribute("cloud.region", .string("eu-west-1")),
                    Attribute("faas.name", .string("function-\(i % 100)")),
                ],
                events: i % 4 == 0 ? [SpanEvent(timeUnixNano: start + 1000, name: "cache miss")] : [])
        }
    }

    /// Rows in the schema's points (at or after `since`) and spans tables.
    private static func countRows(_ schema: String, since: UInt64, psql: String, url: String) async throws -> (points: Int, spans: Int) {
        let row = try await PostgresBench.psql(psql, url, """
            SELECT (SELECT count(*) FROM "\(schema)".points WHERE time_unix_nano >= \(Int64(clamping: since))),
                   (SELECT count(*) FROM "\(schema)".spans)
            """).split(separator: "|").map { Int($0) ?? 0 }
        guard row.count == 2 else { throw PostgresBench.Failure(description: "could not count the rows written") }
        return (points: row[0], spans: row[1])
    }
}
