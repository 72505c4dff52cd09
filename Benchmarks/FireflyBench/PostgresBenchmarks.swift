// PostgreSQL: the exporter's write rates, next to psql \copy of the very rows it wrote.
import FireflyBenchmarkKit
import FireflyDemo
import FireflyModel
import FireflyPluginKit
import FirehoseAdapter
import Foundation
import PostgresExporter

enum PostgresBenchmarks {
    static func run(arguments: Arguments, machine: Machine) async -> [BenchResult] {
        let m = machine.summary
        guard let url = arguments.postgresURL else {
            return [BenchResult(group: "postgres", name: "export", value: nil, unit: "rows/s", detail: "n/a (no --postgres-url)", target: nil, verdict: nil, machine: m)]
        }
        var results: [BenchResult] = []

        // 1. The plugin's own benchmark (its synthetic rows, schema created and dropped by it).
        do {
            let r = try await PostgresWriteBenchmark.run(url: url, points: 50_000, spans: 20_000, batchSize: 5000)
            results.append(
                BenchResult(
                    group: "postgres", name: "PostgresWriteBenchmark points", value: r.pointsPerSecond, unit: "points/s",
                    detail: "\(r.points) summary points in batches of 5000", target: nil, verdict: nil, machine: m))
            results.append(
                BenchResult(
                    group: "postgres", name: "PostgresWriteBenchmark spans", value: r.spansPerSecond, unit: "spans/s",
                    detail: "\(r.spans) spans in batches of 5000", target: nil, verdict: nil, machine: m))
        } catch {
            results.append(
                BenchResult(
                    group: "postgres", name: "PostgresWriteBenchmark", value: nil, unit: "rows/s", detail: "n/a (\(error))",
                    target: nil, verdict: nil, machine: m))
        }

        // 2. Log records (half with CloudWatch event ids, half keyed by content), beside psql \copy.
        do {
            let r = try await PostgresLogsBenchmark.run(
                url: url, psql: arguments.psql, workDirectory: arguments.workDir, logs: 50_000, batchSize: 5000)
            results.append(
                BenchResult(
                    group: "postgres", name: "logs export vs psql \\copy", value: r.ratio, unit: "×",
                    detail: "\(Int(r.logsPerSecond)) logs/s exported, \(Int(r.copyPerSecond)) rows/s by psql \\copy (binary) of the same rows; \(r.logs) records in batches of 5000",
                    target: "≥ 0.8", verdict: r.ratio >= 0.8 ? "met" : "missed", machine: m))
        } catch {
            results.append(
                BenchResult(
                    group: "postgres", name: "logs export vs psql \\copy", value: nil, unit: "×", detail: "n/a (\(error))",
                    target: "≥ 0.8", verdict: nil, machine: m))
        }

        // 3. Demo data through the exporter, then the same rows through psql \copy into identical tables.
        do {
            results += try await compareWithCopy(url: url, arguments: arguments, machine: machine)
        } catch {
            results.append(
                BenchResult(
                    group: "postgres", name: "export vs psql \\copy", value: nil, unit: "×", detail: "n/a (\(error))",
                    target: "≥ 0.8", verdict: nil, machine: m))
        }
        return results
    }


    /// Runs `compareWithCopy(url:schema:arguments:machine:)` in a throw-away schema.
    static func compareWithCopy(url: String, arguments: Arguments, machine: Machine) async throws -> [BenchResult] {
        let schema = "bench_copy_" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let results: Result<[BenchResult], any Error>
        do {
            results = .success(try await compareWithCopy(url: url, schema: schema, arguments: arguments, machine: machine))
        } catch {
            results = .failure(error)
        }
        _ = try? await PostgresBench.psql(arguments.psql, url, "DROP SCHEMA IF EXISTS \(schema) CASCADE")
        return try results.get()
    }

    static func compareWithCopy(url: String, schema: String, arguments: Arguments, machine: Machine) async throws -> [BenchResult] {
        let exporter = try PostgresExporter(
            context: .standalone(instanceName: "bench"),
            config: PluginConfig(["url": .string(url), "schema": .string(schema), "tls": .string("disable")]))
        let points = try demoPoints(minutes: 20)
        let spans = demoSpans(count: 30_000)
        let batch = 5000

        // Warm-up: migrations run on the first export; the series get created (one point of each, a day
        // before the measured ones; deleted before the copy). Not measured: a running collector knows its series.
        let day: UInt64 = 86_400_000_000_000
        var seen: Set<String> = []
        var warmUp: [MetricPoint] = []
        for point in points where seen.insert("\(point.name)\u{0}\(point.namespace)\u{0}\(point.labels)").inserted {
            var early = point
            early.timeUnixNano -= day
            if early.startTimeUnixNano != 0 { early.startTimeUnixNano -= day }
            warmUp.append(early)
        }
        try PostgresBench.check(await exporter.export(TelemetryBatch(points: warmUp)))
        let firstMeasured = points.map(\.timeUnixNano).min() ?? 0
        let clock = ContinuousClock()
        var start = clock.now
        for i in stride(from: 0, to: points.count, by: batch) {
            try PostgresBench.check(await exporter.export(TelemetryBatch(points: Array(points[i..<min(i + batch, points.count)]))))
        }
        let pointSeconds = PostgresBench.seconds(clock.now - start)
        start = clock.now
        for i in stride(from: 0, to: spans.count, by: batch) {
            try PostgresBench.check(await exporter.export(TelemetryBatch(spans: Array(spans[i..<min(i + batch, spans.count)]))))
        }
        let spanSeconds = PostgresBench.seconds(clock.now - start)
        await exporter.shutdown()

        try await PostgresBench.psql(arguments.psql, url, "DELETE FROM \(schema).points WHERE time_unix_nano < \(Int64(clamping: firstMeasured))")
        let work = Arguments.absolute(arguments.workDir)
        var rows: [String: Int] = [:]
        var copySeconds: [String: Double] = [:]
        for table in ["points", "spans"] {
            let file = "\(work)/\(table).copy"
            try await PostgresBench.psql(arguments.psql, url, "\\copy (SELECT * FROM \(schema).\(table)) TO '\(file)' (FORMAT binary)")
            rows[table] = Int(try await PostgresBench.psql(arguments.psql, url, "SELECT count(*) FROM \(schema).\(table)")) ?? 0
            try await PostgresBench.psql(arguments.psql, url, "CREATE TABLE \(schema).\(table)_copy (LIKE \(schema).\(table) INCLUDING ALL)")
            let t0 = clock.now
            try await PostgresBench.psql(arguments.psql, url, "\\copy \(schema).\(table)_copy FROM '\(file)' (FORMAT binary)")
            copySeconds[table] = PostgresBench.seconds(clock.now - t0)
            try? FileManager.default.removeItem(atPath: file)
        }
        let pointRows = rows["points"] ?? 0
        let spanRows = rows["spans"] ?? 0
        guard pointRows == points.count, spanRows == spans.count else {
            throw PostgresBench.Failure(description: "the exporter wrote \(pointRows)/\(points.count) points and \(spanRows)/\(spans.count) spans")
        }
        let m = machine.summary
        func row(_ what: String, _ n: Int, _ exportSeconds: Double, _ copy: Double) -> BenchResult {
            let export = Double(n) / exportSeconds
            let baseline = Double(n) / copy
            let ratio = export / baseline
            return BenchResult(
                group: "postgres", name: "export \(what) (demo data) vs psql \\copy", value: ratio, unit: "×",
                detail: String(format: "exporter %.0f %@/s, psql \\copy (binary) of the same %d rows into an identical table %.0f rows/s", export, what, n, baseline),
                target: "≥ 0.8", verdict: ratio >= 0.8 ? "met" : "missed", machine: m,
                extra: ["export_per_s": export, "copy_per_s": baseline, "rows": Double(n)])
        }
        return [
            row("points", pointRows, pointSeconds, copySeconds["points"] ?? .infinity),
            row("spans", spanRows, spanSeconds, copySeconds["spans"] ?? .infinity),
        ]
    }

    /// CloudWatch data points as the firehose receiver makes them: demo JSON lines decoded by the
    /// receiver's own decoder (500 functions × `minutes`).
    static func demoPoints(minutes: Int) throws -> [MetricPoint] {
        let topology = DemoTopology(functions: 500, seed: 3)
        let metrics = LambdaMetricsSimulator(topology: topology, tracesPerSecond: 500, seed: 3)
        var points: [MetricPoint] = []
        for minute in 0..<minutes {
            let ms = UInt64(1_700_000_040_000 + minute * 60_000)
            let records = topology.functions.indices.map { CloudWatchJSONEncoder.record(metrics.points(function: $0, minuteStartMs: ms, streamName: "bench")) }
            let body = FirehoseRequest.envelope(requestId: "bench-\(minute)", timestampMs: ms, records: records)
            points += try FirehoseRequestDecoder().decode(body: body).points
        }
        return points
    }

    static func demoSpans(count: Int) -> [Span] {
        var sim = TraceSimulator(topology: DemoTopology(functions: 10, seed: 3), seed: 3)
        var spans: [Span] = []
        var t: UInt64 = 1_700_000_000_000_000_000
        while spans.count < count {
            t += 1_000_000_000
            spans += sim.advance(to: t, newTraces: 200)
        }
        return Array(spans.prefix(count))
    }
}
